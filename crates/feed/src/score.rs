//! Exact timeline scores that survive Redis doubles.
//!
//! Redis sorted-set scores are IEEE doubles: integers are exact only below 2^53. A raw 64-bit
//! post id (a Snowflake, say) silently loses its low bits and two posts swap places. A [`Score`]
//! is therefore built as `(milliseconds since 2020-01-01) << 10 | sequence`: 43 bits of time
//! (good until the year 2298) and 10 bits of sequence (1,024 posts per millisecond), 53 bits in
//! all. Entries with equal scores are ordered by post id, so the order is total and exact.

use crate::error::{FeedError, Result};

/// 2020-01-01T00:00:00Z in milliseconds since the Unix epoch: the zero of every [`Score`].
pub const SCORE_EPOCH_MS: u64 = 1_577_836_800_000;
/// Bits of sequence below the milliseconds.
pub const SEQUENCE_BITS: u32 = 10;
/// The largest sequence a score can carry.
pub const MAX_SEQUENCE: u64 = (1 << SEQUENCE_BITS) - 1;
/// The largest score: 2^53 - 1, the largest integer a double holds exactly.
pub const MAX_SCORE: u64 = (1 << 53) - 1;

/// A timeline score below 2^53, ordering entries by time then sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Score(u64);

impl Score {
    /// The score of a post created at `unix_ms` with sequence `seq` within that millisecond.
    ///
    /// # Errors
    /// [`FeedError::ScoreOutOfRange`] when `unix_ms` is before 2020 or after 2298, or `seq`
    /// is above [`MAX_SEQUENCE`].
    pub fn from_parts(unix_ms: u64, seq: u64) -> Result<Self> {
        let ms = unix_ms
            .checked_sub(SCORE_EPOCH_MS)
            .ok_or(FeedError::ScoreOutOfRange {
                what: "time before 2020-01-01",
            })?;
        if seq > MAX_SEQUENCE {
            return Err(FeedError::ScoreOutOfRange {
                what: "sequence above 1023",
            });
        }
        if ms > (MAX_SCORE >> SEQUENCE_BITS) {
            return Err(FeedError::ScoreOutOfRange {
                what: "time after the year 2298",
            });
        }
        Ok(Self((ms << SEQUENCE_BITS) | seq))
    }

    /// A score from its raw value.
    ///
    /// # Errors
    /// [`FeedError::ScoreOutOfRange`] when `raw` is 2^53 or more.
    pub fn from_raw(raw: u64) -> Result<Self> {
        if raw > MAX_SCORE {
            return Err(FeedError::ScoreOutOfRange {
                what: "raw score at or above 2^53",
            });
        }
        Ok(Self(raw))
    }

    /// A score from a double read back from Redis.
    ///
    /// # Errors
    /// [`FeedError::Corrupt`] when `value` is negative, fractional or not below 2^53.
    pub fn from_f64(value: f64) -> Result<Self> {
        #[allow(clippy::cast_precision_loss)]
        let max = MAX_SCORE as f64;
        if !(0.0..=max).contains(&value) || value.fract() != 0.0 {
            return Err(FeedError::Corrupt(format!(
                "score {value} is not a Keel score"
            )));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(Self(value as u64))
    }

    /// The raw value, below 2^53.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The score as a double: exact, because it is below 2^53.
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        self.0 as f64
    }

    /// The creation time in milliseconds since the Unix epoch.
    pub fn unix_ms(self) -> u64 {
        (self.0 >> SEQUENCE_BITS) + SCORE_EPOCH_MS
    }

    /// The sequence within the millisecond.
    pub fn sequence(self) -> u64 {
        self.0 & MAX_SEQUENCE
    }
}
