//! The backend-neutral error: [`StorageError`].
//!
//! Every backend maps its native failures here at its boundary (a PostgreSQL unique violation on
//! `users.username` becomes [`StorageError::Conflict`] with field `username`); raw driver errors
//! never cross it. Callers and tests match on the variant.

use std::fmt;

/// The kind of row an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A user.
    User,
    /// A post.
    Post,
    /// A comment.
    Comment,
    /// An outbox event.
    OutboxEvent,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "user",
            Entity::Post => "post",
            Entity::Comment => "comment",
            Entity::OutboxEvent => "outbox event",
        })
    }
}

/// One broken validation rule: the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Violation {
    /// The field at fault (`username`, `content`...).
    pub field: &'static str,
    /// The rule it breaks, for example "3 to 30 characters".
    pub rule: String,
}

impl Violation {
    /// A violation of `rule` by `field`.
    pub fn new(field: &'static str, rule: impl Into<String>) -> Self {
        Self {
            field,
            rule: rule.into(),
        }
    }

    /// `invalid a: rule; invalid b: rule`.
    fn describe(violations: &[Violation]) -> String {
        let parts: Vec<String> = violations
            .iter()
            .map(|v| format!("invalid {}: {}", v.field, v.rule))
            .collect();
        parts.join("; ")
    }
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The row the operation needs does not exist (or was deleted).
    #[error("{entity} {id} not found: check the id, or create it first")]
    NotFound {
        /// What kind of row was missing.
        entity: Entity,
        /// The id (or username/email) that was looked up.
        id: String,
    },
    /// The write would break a uniqueness rule, for example a username already taken.
    #[error("conflict on {field}: {value:?} is already taken; choose another")]
    Conflict {
        /// The unique field (`username`, `email`).
        field: &'static str,
        /// The value that collided.
        value: String,
    },
    /// The input breaks validation rules; nothing was written. Every broken rule is in
    /// `violations`; `field` and `rule` repeat the first.
    #[error("{}; fix the input and retry", Violation::describe(violations))]
    InvalidInput {
        /// The first field at fault (`username`, `content`, `followee`...).
        field: &'static str,
        /// The rule it breaks, for example "at most 30 characters".
        rule: String,
        /// Every field at fault with the rule it breaks, in the input's field order (the
        /// first is `field` and `rule`); one entry per field.
        violations: Vec<Violation>,
    },
    /// The backend could not be reached or gave up (connection lost, pool exhausted, timeout,
    /// serialization failure). Nothing was committed; the operation is safe to retry.
    #[error("storage unavailable: {reason}; retry later")]
    Unavailable {
        /// What failed, without driver internals.
        reason: String,
    },
    /// Stored data could not be read back (a schema mismatch or a manual edit); not retriable.
    #[error("stored data is corrupt: {detail}; check migrations and the row")]
    Corrupt {
        /// What could not be decoded.
        detail: String,
    },
}

impl StorageError {
    /// A [`StorageError::NotFound`].
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// A [`StorageError::InvalidInput`] with one violation.
    pub fn invalid(field: &'static str, rule: impl Into<String>) -> Self {
        let rule = rule.into();
        Self::InvalidInput {
            field,
            rule: rule.clone(),
            violations: vec![Violation { field, rule }],
        }
    }

    /// A [`StorageError::InvalidInput`] with every violation in `violations`, or `None` when
    /// there is none.
    pub fn invalid_all(violations: Vec<Violation>) -> Option<Self> {
        let first = violations.first()?.clone();
        Some(Self::InvalidInput {
            field: first.field,
            rule: first.rule,
            violations,
        })
    }

    /// The broken validation rules of an [`StorageError::InvalidInput`] (empty for any other
    /// error).
    pub fn violations(&self) -> &[Violation] {
        match self {
            Self::InvalidInput { violations, .. } => violations,
            _ => &[],
        }
    }

    /// A [`StorageError::Conflict`].
    pub fn conflict(field: &'static str, value: impl Into<String>) -> Self {
        Self::Conflict {
            field,
            value: value.into(),
        }
    }

    /// Whether retrying the same call may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// `Result` with [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_what_to_do() {
        let e = StorageError::conflict("username", "Ada");
        assert_eq!(
            e.to_string(),
            "conflict on username: \"Ada\" is already taken; choose another"
        );
        assert!(!e.is_retriable());
        let e = StorageError::Unavailable {
            reason: "pool timed out".into(),
        };
        assert!(e.is_retriable());
        assert!(e.to_string().contains("retry later"));
        let e = StorageError::invalid_all(vec![
            Violation::new("username", "3 to 30 characters"),
            Violation::new("email", "an address"),
        ])
        .unwrap();
        assert_eq!(
            e.to_string(),
            "invalid username: 3 to 30 characters; invalid email: an address; fix the input and retry"
        );
        assert_eq!(e.violations().len(), 2);
        assert!(StorageError::invalid_all(Vec::new()).is_none());
        assert_eq!(
            StorageError::invalid("content", "must not be empty").to_string(),
            "invalid content: must not be empty; fix the input and retry"
        );
        assert_eq!(
            StorageError::not_found(Entity::Post, "x").to_string(),
            "post x not found: check the id, or create it first"
        );
    }
}
