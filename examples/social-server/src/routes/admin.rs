//! Administration: marking a user verified. Enabled only when an admin token is configured
//! (`--admin-token` / `KEEL_ADMIN_TOKEN`); otherwise every admin route answers 404.

use axum::extract::State;
use axum::http::HeaderMap;
use keel_storage::{UserId, UserPatch};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::user_view;
use super::views::UserView;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// The header carrying the admin token.
pub const ADMIN_TOKEN_HEADER: &str = "x-admin-token";

/// `PUT /admin/users/{id}/verified`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVerified {
    /// Whether the account is verified (verified users get the higher rate-limit tier at their
    /// next log-in).
    pub verified: bool,
}

/// 404 when administration is disabled, 401 without the right token. The tokens are compared
/// as SHA-256 digests, so the comparison's time says nothing about the token.
fn admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = &s.config.admin_token else {
        return Err(ApiError::not_found("route"));
    };
    let given = headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "send the admin token as X-Admin-Token",
        ))
    }
}

/// Marks a user verified or not (admin token required; 404 when administration is disabled).
#[utoipa::path(put, path = "/admin/users/{id}/verified", request_body = SetVerified, tag = "admin",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = UserView), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("admin_token" = [])))]
pub async fn set_verified(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<SetVerified>,
) -> ApiResult<Json<UserView>> {
    admin(&s, &headers)?;
    let id = UserId(id);
    let patch = UserPatch {
        verified: Some(r.verified),
        ..UserPatch::default()
    };
    let user = s.store.update_user(id, patch).await?;
    s.users_cache.invalidate(&id.0.to_string()).await;
    Ok(Json(user_view(&s, &user, false).await?))
}
