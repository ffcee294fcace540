//! [`ApiError`]: the one JSON error shape of every response, framework rejections included.
//!
//! ```json
//! {"error": {"status": 422, "code": "validation_failed", "message": "...",
//!            "fields": [{"field": "username", "rule": "3 to 30 characters"}],
//!            "request_id": "..."}}
//! ```

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keel_pagination::PageError;
use keel_storage::StorageError;
use serde::Serialize;

use crate::request_id;

/// One invalid field and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field (`username`, `email`, `content`...).
    pub field: String,
    /// The rule it breaks.
    pub rule: String,
}

impl From<&keel_storage::Violation> for FieldError {
    fn from(v: &keel_storage::Violation) -> Self {
        Self {
            field: v.field.to_owned(),
            rule: v.rule.clone(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status.
    pub status: u16,
    /// A stable machine-readable code (`not_found`, `conflict`, `validation_failed`...).
    pub code: String,
    /// What went wrong and what to do, for humans.
    pub message: String,
    /// Invalid fields (422) or the conflicting field (409).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// The request id, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered to the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no or bad credentials (answered with `WWW-Authenticate`).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: no such resource (or one the caller may not see).
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found", what.into()),
        )
    }

    /// 409: a unique field is taken.
    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "conflict", message);
        e.fields.push(FieldError {
            field: field.to_owned(),
            rule: "already taken".to_owned(),
        });
        e
    }

    /// 422: these fields break these rules.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("invalid fields: {}; fix them and retry", names.join(", ")),
        );
        e.fields = fields;
        e
    }

    /// 429: over a rate limit; retry after this many seconds.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry after {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 503: a backend or the password hasher is saturated or down; safe to retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// 500: a server fault. The detail goes to the log with the request id, never to the
    /// client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(request_id = %request_id::current().unwrap_or_default(), %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error; quote the request id when reporting it",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                code: self.code.to_owned(),
                message: self.message.clone(),
                fields: self.fields.clone(),
                request_id: request_id::current(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"keel\""),
            );
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound { entity, .. } => Self::not_found(entity.to_string()),
            StorageError::Conflict { field, .. } => {
                Self::conflict(field, format!("{field} is already taken; choose another"))
            }
            StorageError::InvalidInput { violations, .. } => {
                Self::validation(violations.iter().map(FieldError::from).collect())
            }
            StorageError::Unavailable { reason } => {
                tracing::warn!(%reason, "storage unavailable");
                Self::unavailable("storage unavailable; retry later")
            }
            other => Self::internal(other),
        }
    }
}

impl From<PageError> for ApiError {
    fn from(e: PageError) -> Self {
        if e.is_client_error() {
            Self::new(StatusCode::BAD_REQUEST, "bad_cursor", e.to_string())
        } else {
            Self::internal(e)
        }
    }
}

impl From<keel_pagination::CursorError> for ApiError {
    fn from(e: keel_pagination::CursorError) -> Self {
        Self::internal(e)
    }
}

impl From<keel_feed::FeedError> for ApiError {
    fn from(e: keel_feed::FeedError) -> Self {
        Self::internal(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(status, "payload_too_large", "request body too large");
        }
        if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            return Self::new(
                status,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            );
        }
        Self::new(StatusCode::BAD_REQUEST, "bad_json", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_query", r.body_text())
    }
}

/// `Result` with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use keel_storage::Entity;

    use super::*;

    #[tokio::test]
    async fn server_errors_carry_the_request_id_and_never_internals() {
        let body = request_id::scope("req-1".to_owned(), async {
            ApiError::internal("connection to 10.0.0.5 refused, password hunter2").body()
        })
        .await;
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(body.error.status, 500);
        assert_eq!(body.error.request_id.as_deref(), Some("req-1"));
        assert!(
            !json.contains("hunter2") && !json.contains("10.0.0.5"),
            "{json}"
        );
        let corrupt = ApiError::from(StorageError::Corrupt {
            detail: "row 7 column secret".into(),
        });
        assert_eq!(corrupt.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!corrupt.body().error.message.contains("secret"));
    }

    #[test]
    fn storage_errors_map_to_statuses_naming_fields() {
        let e = ApiError::from(StorageError::conflict("email", "a@b.c"));
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.body().error.fields[0].field, "email");
        let e = ApiError::from(StorageError::invalid("content", "1 to 5000 characters"));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body().error.fields[0].rule, "1 to 5000 characters");
        let e = ApiError::from(
            StorageError::invalid_all(vec![
                keel_storage::Violation::new("content", "must not be empty"),
                keel_storage::Violation::new("media", "at most 4 items"),
            ])
            .unwrap(),
        );
        let body = e.body();
        let fields: Vec<&str> = body.error.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["content", "media"]);
        let e = ApiError::from(StorageError::not_found(Entity::Post, "x"));
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        let e = ApiError::from(StorageError::Unavailable {
            reason: "pool timed out".into(),
        });
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let r = ApiError::unauthorized("x").into_response();
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"keel\""
        );
        let r = ApiError::too_many_requests(3).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
    }
}
