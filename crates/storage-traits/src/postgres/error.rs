//! Mapping sqlx errors to [`StorageError`] at the backend boundary.

use crate::error::{Entity, StorageError};

/// SQLSTATE classes and codes that mean "try again".
fn retriable(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "55P03" | "57014" | "53300")
        || code.starts_with("08")
        || code.starts_with("57P")
        || code.starts_with("53")
}

/// Converts a sqlx error; the driver error itself never leaves this function.
pub(crate) fn map(err: sqlx::Error) -> StorageError {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let constraint = db.constraint().unwrap_or_default();
            match code.as_str() {
                "23505" => match constraint {
                    "users_username_lower_key" => StorageError::conflict("username", ""),
                    "users_email_lower_key" => StorageError::conflict("email", ""),
                    other => StorageError::conflict("id", other),
                },
                "23503" => {
                    let entity = if constraint.contains("post_id") {
                        Entity::Post
                    } else if constraint.contains("parent_id") {
                        Entity::Comment
                    } else {
                        Entity::User
                    };
                    StorageError::not_found(entity, "(referenced row)")
                }
                "23514" => StorageError::invalid("row", format!("check {constraint} failed")),
                c if retriable(c) => StorageError::Unavailable {
                    reason: format!("database error {c}"),
                },
                c => StorageError::Unavailable {
                    reason: format!("unexpected database error {c}"),
                },
            }
        }
        sqlx::Error::ColumnDecode { index, .. } => StorageError::Corrupt {
            detail: format!("column {index} could not be decoded"),
        },
        sqlx::Error::ColumnNotFound(c) => StorageError::Corrupt {
            detail: format!("column {c} is missing"),
        },
        sqlx::Error::Decode(_) | sqlx::Error::TypeNotFound { .. } => StorageError::Corrupt {
            detail: "a value could not be decoded".into(),
        },
        sqlx::Error::PoolTimedOut => StorageError::Unavailable {
            reason: "no database connection became free in time (pool exhausted)".into(),
        },
        sqlx::Error::PoolClosed => StorageError::Unavailable {
            reason: "the connection pool is closed".into(),
        },
        sqlx::Error::Io(e) => StorageError::Unavailable {
            reason: format!("database connection failed: {}", e.kind()),
        },
        sqlx::Error::Configuration(_) => StorageError::Unavailable {
            reason: "invalid database URL or options".into(),
        },
        _ => StorageError::Unavailable {
            reason: "database communication failed".into(),
        },
    }
}

/// `.db()` on sqlx results.
pub(crate) trait DbResultExt<T> {
    /// Maps the error with [`map`].
    fn db(self) -> Result<T, StorageError>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StorageError> {
        self.map_err(map)
    }
}
