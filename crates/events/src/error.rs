//! Error types. A handler's failure is not an error of this crate: it is a retry, then a
//! dead letter.

/// Building or reading an [`Envelope`](crate::Envelope) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The payload could not be serialized to JSON.
    #[error("cannot encode the event as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The bytes or payload are not valid JSON of the expected shape.
    #[error("cannot decode the event: {0}; check the producer's schema and version")]
    Decode(#[source] serde_json::Error),
    /// The envelope holds another event type than the one asked for.
    #[error("expected a {expected} event, found {found}; match on the envelope's type first")]
    WrongType {
        /// `family.Type` asked for.
        expected: String,
        /// `family.Type` found.
        found: String,
    },
    /// The payload version is newer than this consumer understands.
    #[error(
        "{event_type} version {version} is newer than the supported {supported}; upgrade this consumer"
    )]
    UnsupportedVersion {
        /// The event type.
        event_type: String,
        /// The version received.
        version: u32,
        /// The newest version this consumer reads.
        supported: u32,
    },
    /// The family name breaks the naming rule.
    #[error(
        "invalid event family {family:?}: use 1 to 64 lowercase ASCII letters, digits, '_' or '-'"
    )]
    InvalidFamily {
        /// The offending name (truncated).
        family: String,
    },
    /// The encoded envelope is larger than accepted.
    #[error(
        "encoded event of {len} bytes exceeds the {max}-byte limit; store large data elsewhere and send a reference"
    )]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The bus could not publish, subscribe or acknowledge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The broker is unreachable or did not answer in time. Retriable.
    #[error("event broker unavailable: {reason}; the operation can be retried")]
    Unavailable {
        /// What failed.
        reason: String,
    },
    /// The bus was shut down.
    #[error("the event bus is shut down")]
    Closed,
    /// An envelope could not be encoded or decoded.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A name (consumer, family) is invalid.
    #[error("invalid name {name:?}: {rule}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A dead letter to replay was not found.
    #[error("no dead letter with event id {0}")]
    DeadLetterNotFound(uuid::Uuid),
}

/// The outbox source failed while the relay claimed or marked events.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The outbox's store is unreachable. Retriable: the relay tries again next round.
    #[error("outbox store unavailable: {reason}")]
    Unavailable {
        /// What failed.
        reason: String,
    },
}

/// What a relay round could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// Claiming or marking in the outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Publishing failed; the unpublished events stay in the outbox for the next round.
    #[error(transparent)]
    Bus(#[from] BusError),
}
