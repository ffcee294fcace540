//! The server's native `GCRA` command (Redis 8.8 and later), when it has one.
//!
//! `GCRA key max-burst tokens-per-period period [TOKENS n]` keeps its own state (so its keys
//! are named apart from the script's), takes `max-burst` as the tokens *beyond* the first (our
//! burst minus one) and a period in seconds (at least 1.0), and answers
//! `[limited, limit, remaining, retry-after ms or -1, reset-after ms]`.

use redis::aio::ConnectionLike;

use super::RedisLimitError;
use crate::{Decision, Quota};

/// Whether the server knows the `GCRA` command.
pub(crate) async fn detect(conn: &mut impl ConnectionLike) -> Result<bool, RedisLimitError> {
    let info: Vec<redis::Value> = redis::cmd("COMMAND")
        .arg("INFO")
        .arg("GCRA")
        .query_async(conn)
        .await?;
    Ok(matches!(info.first(), Some(v) if *v != redis::Value::Nil))
}

/// One check with the native command.
pub(crate) async fn check(
    conn: &mut impl ConnectionLike,
    key: &str,
    quota: Quota,
    cost: u64,
) -> Result<Decision, RedisLimitError> {
    let period = quota.period().as_secs_f64();
    let reply: Vec<i64> = redis::cmd("GCRA")
        .arg(key)
        .arg(quota.max_burst().saturating_sub(1))
        .arg(quota.count())
        .arg(period)
        .arg("TOKENS")
        .arg(cost)
        .query_async(conn)
        .await?;
    decode(&reply)
}

fn decode(reply: &[i64]) -> Result<Decision, RedisLimitError> {
    let [limited, limit, remaining, retry_ms, reset_ms] = *reply else {
        return Err(RedisLimitError::Reply(format!(
            "GCRA answered {} integers, expected 5",
            reply.len()
        )));
    };
    let ms = |v: i64| u64::try_from(v).unwrap_or(0).saturating_mul(1_000_000);
    let limit = u64::try_from(limit).unwrap_or(0);
    let remaining = u64::try_from(remaining).unwrap_or(0);
    Ok(if limited == 0 {
        Decision::allow(limit, remaining, ms(reset_ms))
    } else {
        Decision::deny(limit, remaining, ms(reset_ms), ms(retry_ms))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_replies() {
        let d = decode(&[0, 6, 5, -1, 30]).unwrap();
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining), (6, 5));
        let d = decode(&[1, 6, 0, 6000, 36000]).unwrap();
        assert!(!d.allowed);
        assert_eq!(d.retry_after.as_secs(), 6);
        assert!(decode(&[1, 2]).is_err());
    }
}
