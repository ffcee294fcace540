//! The versioned envelope every event travels in, and the [`Event`] trait for typed payloads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::EnvelopeError;

/// Largest encoded envelope accepted from the wire (1 MiB, NATS's default maximum payload).
pub const MAX_ENCODED_LEN: usize = 1024 * 1024;

/// A typed event. Its family names the stream it travels on (`posts`, `social`...), its type
/// names the kind of change, and its version lets a consumer refuse payloads it cannot read.
pub trait Event: Serialize + DeserializeOwned {
    /// The event family: one stream per family. Lowercase letters, digits, `_` and `-`.
    const FAMILY: &'static str;
    /// The event type within the family, such as `PostCreated`.
    const TYPE: &'static str;
    /// The payload schema version; bump it when the payload changes incompatibly.
    const VERSION: u32 = 1;
    /// The aggregate this event belongs to (a post id, an author id): order is kept per aggregate.
    fn aggregate_id(&self) -> String;
}

/// One event on the wire: identity, type, time and a JSON payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique event id (UUIDv7): the broker's de-duplication id and the consumer's dedup key.
    pub id: Uuid,
    /// The event family (see [`Event::FAMILY`]).
    pub family: String,
    /// The event type (see [`Event::TYPE`]).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload schema version.
    pub version: u32,
    /// The aggregate the event belongs to.
    pub aggregate_id: String,
    /// When the change happened, in milliseconds since the UNIX epoch.
    pub occurred_at_ms: i64,
    /// The event itself.
    pub payload: serde_json::Value,
}

impl Envelope {
    /// Wraps `event`, stamping a fresh id and the clock's time.
    ///
    /// # Errors
    /// [`EnvelopeError::Encode`] when the payload does not serialize to JSON;
    /// [`EnvelopeError::InvalidFamily`] when `E::FAMILY` is not a valid family name.
    pub fn new<E: Event>(event: &E, clock: &dyn Clock) -> Result<Self, EnvelopeError> {
        validate_family(E::FAMILY)?;
        Ok(Self {
            id: Uuid::now_v7(),
            family: E::FAMILY.to_owned(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            aggregate_id: event.aggregate_id(),
            occurred_at_ms: clock.now_ms(),
            payload: serde_json::to_value(event).map_err(EnvelopeError::Encode)?,
        })
    }

    /// Whether this envelope carries an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.family == E::FAMILY && self.event_type == E::TYPE
    }

    /// The typed payload.
    ///
    /// # Errors
    /// [`EnvelopeError::WrongType`] when the envelope holds another type,
    /// [`EnvelopeError::UnsupportedVersion`] when its version is newer than `E::VERSION`,
    /// [`EnvelopeError::Decode`] when the payload does not match `E`.
    pub fn decode<E: Event>(&self) -> Result<E, EnvelopeError> {
        if !self.is::<E>() {
            return Err(EnvelopeError::WrongType {
                expected: format!("{}.{}", E::FAMILY, E::TYPE),
                found: format!("{}.{}", self.family, self.event_type),
            });
        }
        if self.version > E::VERSION {
            return Err(EnvelopeError::UnsupportedVersion {
                event_type: self.event_type.clone(),
                version: self.version,
                supported: E::VERSION,
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(EnvelopeError::Decode)
    }

    /// The envelope as JSON bytes.
    ///
    /// # Errors
    /// [`EnvelopeError::Encode`] if serialization fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        serde_json::to_vec(self).map_err(EnvelopeError::Encode)
    }

    /// Parses an envelope from JSON bytes received from a broker.
    ///
    /// # Errors
    /// [`EnvelopeError::TooLarge`] over [`MAX_ENCODED_LEN`], [`EnvelopeError::Decode`] when the
    /// bytes are not an envelope, [`EnvelopeError::InvalidFamily`] for a bad family name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENCODED_LEN {
            return Err(EnvelopeError::TooLarge {
                len: bytes.len(),
                max: MAX_ENCODED_LEN,
            });
        }
        let envelope: Self = serde_json::from_slice(bytes).map_err(EnvelopeError::Decode)?;
        validate_family(&envelope.family)?;
        Ok(envelope)
    }
}

/// Checks a family name: 1 to 64 of lowercase ASCII letters, digits, `_` and `-`, so it is safe
/// as a NATS subject token and a stream name.
///
/// # Errors
/// [`EnvelopeError::InvalidFamily`] naming the rule.
pub fn validate_family(family: &str) -> Result<(), EnvelopeError> {
    let ok = !family.is_empty()
        && family.len() <= 64
        && family
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EnvelopeError::InvalidFamily {
            family: family.chars().take(80).collect(),
        })
    }
}
