//! Quotas: how many requests per period, with what burst.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::clock::duration_nanos;
use crate::error::QuotaError;

const NANOS_PER_SEC: u64 = 1_000_000_000;
/// Longest accepted period: 100 years.
const MAX_PERIOD: u64 = 100 * 365 * 24 * 3600 * NANOS_PER_SEC;
/// Largest accepted burst x emission interval, so time sums never overflow.
const MAX_SPAN: u64 = 1 << 62;

/// A rate: `count` requests per `period`, of which up to `burst` may arrive at once.
///
/// For GCRA and the token bucket, one unit of allowance comes back every `period / count`
/// (the emission interval, in whole nanoseconds, exactly as governor computes it) and `burst`
/// is the bucket's capacity (default: `count`). The window algorithms admit `count` per window of
/// length `period` and ignore `burst`.
///
/// ```
/// use keel_ratelimit::Quota;
/// let q = Quota::per_hour(1000)?.burst(50)?;
/// assert_eq!(q, "1000/h burst 50".parse()?);
/// assert_eq!(q.to_string(), "1000/h burst 50");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Quota {
    count: u64,
    period: u64,
    burst: u64,
}

impl Quota {
    /// `count` requests per `period`, burst `count`.
    ///
    /// # Errors
    /// [`QuotaError`] when the count or period is zero, more than one request per nanosecond is
    /// asked, or the period exceeds 100 years.
    pub fn new(count: u64, period: Duration) -> Result<Self, QuotaError> {
        Self::build(count, duration_nanos(period), count)
    }

    /// `count` requests per second.
    ///
    /// # Errors
    /// As [`Quota::new`].
    pub fn per_second(count: u64) -> Result<Self, QuotaError> {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    ///
    /// # Errors
    /// As [`Quota::new`].
    pub fn per_minute(count: u64) -> Result<Self, QuotaError> {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` requests per hour.
    ///
    /// # Errors
    /// As [`Quota::new`].
    pub fn per_hour(count: u64) -> Result<Self, QuotaError> {
        Self::new(count, Duration::from_secs(3600))
    }

    /// The same rate with a different burst (bucket capacity).
    ///
    /// # Errors
    /// [`QuotaError::ZeroBurst`] for 0, [`QuotaError::TooLarge`] when the burst times the
    /// emission interval exceeds 2^62 ns.
    pub fn burst(self, burst: u64) -> Result<Self, QuotaError> {
        Self::build(self.count, self.period, burst)
    }

    fn build(count: u64, period: u64, burst: u64) -> Result<Self, QuotaError> {
        if count == 0 {
            return Err(QuotaError::ZeroCount);
        }
        if period == 0 {
            return Err(QuotaError::ZeroPeriod);
        }
        if burst == 0 {
            return Err(QuotaError::ZeroBurst);
        }
        if period / count == 0 {
            return Err(QuotaError::TooFine {
                count,
                period_nanos: period,
            });
        }
        let too_large = QuotaError::TooLarge {
            period_nanos: period,
            burst,
        };
        if period > MAX_PERIOD {
            return Err(too_large);
        }
        match (period / count).checked_mul(burst) {
            Some(span) if span <= MAX_SPAN => Ok(Self {
                count,
                period,
                burst,
            }),
            _ => Err(too_large),
        }
    }

    /// Requests per period.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The period.
    pub fn period(&self) -> Duration {
        Duration::from_nanos(self.period)
    }

    /// The period in nanoseconds.
    pub fn period_nanos(&self) -> u64 {
        self.period
    }

    /// The burst: the most admitted at once, the bucket's capacity.
    pub fn max_burst(&self) -> u64 {
        self.burst
    }

    /// Nanoseconds between two units of allowance coming back (`period / count`, at least 1).
    pub fn emission_interval_nanos(&self) -> u64 {
        (self.period / self.count).max(1)
    }

    /// The `RateLimit-Policy` header value (draft-ietf-httpapi-ratelimit-headers), e.g.
    /// `"default";q=100;w=60`.
    pub fn policy_header(&self, name: &str) -> String {
        format!(
            "\"{name}\";q={};w={}",
            self.count,
            self.period.div_ceil(NANOS_PER_SEC)
        )
    }
}

const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", NANOS_PER_SEC),
    ("sec", NANOS_PER_SEC),
    ("second", NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("min", 60 * NANOS_PER_SEC),
    ("minute", 60 * NANOS_PER_SEC),
    ("h", 3600 * NANOS_PER_SEC),
    ("hour", 3600 * NANOS_PER_SEC),
    ("d", 86_400 * NANOS_PER_SEC),
    ("day", 86_400 * NANOS_PER_SEC),
];

fn unit_nanos(unit: &str) -> Option<u64> {
    let unit = unit.trim();
    let unit = unit
        .strip_suffix('s')
        .filter(|u| u.len() > 1)
        .unwrap_or(unit);
    UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|&(_, n)| n)
}

/// Longest input accepted by the parser; anything longer is rejected before parsing.
const MAX_INPUT: usize = 128;

impl FromStr for Quota {
    type Err = QuotaError;

    /// Parses `"<count>/<period>[ burst <b>]"` where period is a unit (`s`, `m`/`min`, `h`, `d`,
    /// `ms`, ...) optionally preceded by a number (`"5/30s"`).
    fn from_str(input: &str) -> Result<Self, QuotaError> {
        let err = |reason| QuotaError::Parse {
            input: input.chars().take(MAX_INPUT).collect(),
            reason,
        };
        if input.len() > MAX_INPUT {
            return Err(err("input longer than 128 bytes"));
        }
        let mut words = input.split_whitespace();
        let rate = words.next().ok_or_else(|| err("empty input"))?;
        let burst = match (words.next(), words.next(), words.next()) {
            (None, _, _) => None,
            (Some(w), Some(b), None) if w.eq_ignore_ascii_case("burst") => Some(
                b.parse::<u64>()
                    .map_err(|_| err("burst is not a whole number"))?,
            ),
            _ => return Err(err("after the rate only \"burst <n>\" may follow")),
        };
        let (count, per) = rate.split_once('/').ok_or_else(|| err("missing '/'"))?;
        let count: u64 = count
            .parse()
            .map_err(|_| err("count is not a whole number"))?;
        let digits = per.find(|c: char| !c.is_ascii_digit()).unwrap_or(per.len());
        let (mult, unit) = per.split_at(digits);
        let mult: u64 = if mult.is_empty() {
            1
        } else {
            mult.parse()
                .map_err(|_| err("period multiplier is not a whole number"))?
        };
        let unit = unit_nanos(unit).ok_or_else(|| err("unknown time unit"))?;
        let period = mult
            .checked_mul(unit)
            .ok_or_else(|| err("period overflows"))?;
        Self::build(count, period, burst.unwrap_or(count))
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mult, unit) = [
            (86_400 * NANOS_PER_SEC, "d"),
            (3600 * NANOS_PER_SEC, "h"),
            (60 * NANOS_PER_SEC, "m"),
            (NANOS_PER_SEC, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
        ]
        .into_iter()
        .find(|(n, _)| self.period.is_multiple_of(*n))
        .map_or((self.period, "ns"), |(n, u)| (self.period / n, u));
        write!(f, "{}/", self.count)?;
        if mult != 1 {
            write!(f, "{mult}")?;
        }
        write!(f, "{unit}")?;
        if self.burst != self.count {
            write!(f, " burst {}", self.burst)?;
        }
        Ok(())
    }
}

impl TryFrom<String> for Quota {
    type Error = QuotaError;
    fn try_from(s: String) -> Result<Self, QuotaError> {
        s.parse()
    }
}

impl From<Quota> for String {
    fn from(q: Quota) -> String {
        q.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_zero_and_absurd() {
        assert_eq!(Quota::per_second(0), Err(QuotaError::ZeroCount));
        assert_eq!(Quota::new(1, Duration::ZERO), Err(QuotaError::ZeroPeriod));
        assert!(matches!(
            Quota::per_second(2_000_000_000),
            Err(QuotaError::TooFine { .. })
        ));
        assert_eq!(
            Quota::per_second(1).and_then(|q| q.burst(0)),
            Err(QuotaError::ZeroBurst)
        );
        assert!(matches!(
            Quota::per_hour(1).and_then(|q| q.burst(u64::MAX)),
            Err(QuotaError::TooLarge { .. })
        ));
        assert!(matches!(
            Quota::new(1, Duration::MAX),
            Err(QuotaError::TooLarge { .. })
        ));
    }

    #[test]
    fn parses_forms() {
        let q: Quota = "1000/h burst 50".parse().unwrap();
        assert_eq!(q, Quota::per_hour(1000).unwrap().burst(50).unwrap());
        let q: Quota = "10/s".parse().unwrap();
        assert_eq!(q, Quota::per_second(10).unwrap());
        let q: Quota = "5/30s".parse().unwrap();
        assert_eq!(q.period(), Duration::from_secs(30));
        assert_eq!(q.to_string(), "5/30s");
        let q: Quota = "100/minute BURST 7".parse().unwrap();
        assert_eq!(q.to_string(), "100/m burst 7");
        for bad in [
            "",
            "10",
            "x/s",
            "10/parsec",
            "10/s burst",
            "10/s burst x",
            "10/s cap 3",
            "0/s",
            "10/0s",
            "99999999999999999999/s",
        ] {
            assert!(bad.parse::<Quota>().is_err(), "{bad}");
        }
        let long = "1".repeat(10_000);
        assert!(long.parse::<Quota>().is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_round_trip() {
        let q: Quota = serde_json::from_str("\"1000/h burst 50\"").unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), "\"1000/h burst 50\"");
        assert!(serde_json::from_str::<Quota>("\"0/h\"").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn display_parse_round_trip(count in 1u64..1_000_000, secs in 1u64..100_000, burst in 1u64..10_000) {
            if let Ok(q) = Quota::new(count, Duration::from_secs(secs)).and_then(|q| q.burst(burst)) {
                prop_assert_eq!(q.to_string().parse::<Quota>().unwrap(), q);
            }
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Quota>();
        }
    }
}
