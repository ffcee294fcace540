//! RFC 3339 dates and times without a date library: formatting [`Timestamp`]s for responses
//! and parsing `created_after` filters (`2024-01-01` or `2024-01-01T12:00:00Z`).

use keel_storage::Timestamp;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-01-01T00:00:00.000000Z`.
pub fn format(t: Timestamp) -> String {
    let us = t.as_micros();
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.frac]Z` (UTC only).
pub fn parse(s: &str) -> Option<Timestamp> {
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut it = date.split('-');
    let (y, m, d) = (num(it.next()?)?, num(it.next()?)?, num(it.next()?)?);
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || date.len() != 10 {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut micros = 0;
    if let Some(t) = time {
        let t = t.strip_suffix(['Z', 'z'])?;
        let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
        let mut p = hms.split(':');
        let (h, mi, se) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
        if p.next().is_some() || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + se;
        if !frac.is_empty() {
            let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            micros = num(&digits)?;
        }
    }
    Some(Timestamp::from_micros(
        secs.checked_mul(1_000_000)?.checked_add(micros)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let t = Timestamp::from_millis(1_767_225_600_123);
        assert_eq!(format(t), "2026-01-01T00:00:00.123000Z");
        assert_eq!(parse("2026-01-01T00:00:00.123Z"), Some(t));
        assert_eq!(
            parse("2026-01-01"),
            Some(Timestamp::from_millis(1_767_225_600_000))
        );
        assert_eq!(format(Timestamp::EPOCH), "1970-01-01T00:00:00.000000Z");
        for bad in [
            "",
            "2026-13-01",
            "yesterday",
            "2026-01-01T25:00:00Z",
            "2026-1-1",
            "2026-01-01T00:00:00+02:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
