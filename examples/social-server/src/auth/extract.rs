//! Who is calling: a `Bearer` access token or an `X-Api-Key` header.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use keel_storage::UserId;

use super::jwt::Tier;
use crate::error::ApiError;
use crate::state::AppState;

/// The API-key header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    /// The user.
    pub user: UserId,
    /// Their tier.
    pub tier: Tier,
}

/// The caller if credentials were sent and are valid; an error for bad ones.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<AuthUser>, ApiError> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer <access_token>"))?;
        let claims = state
            .jwt
            .verify(token.trim())
            .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        return Ok(Some(AuthUser {
            user: claims.sub,
            tier: claims.tier,
        }));
    }
    if let Some(v) = headers.get(API_KEY_HEADER) {
        let key = v.to_str().unwrap_or_default();
        let info = state
            .tokens
            .api_key(key)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        return Ok(Some(AuthUser {
            user: info.user,
            tier: Tier::Free,
        }));
    }
    Ok(None)
}

/// The caller, ignoring bad credentials (for rate-limit keys).
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Option<AuthUser> {
    authenticate(state, headers).await.ok().flatten()
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers).await?.ok_or_else(|| {
            ApiError::unauthorized("authentication required: send Authorization: Bearer <token>")
        })
    }
}

/// The caller when authenticated, `None` when anonymous; bad credentials are still 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    /// The caller's id.
    pub fn id(&self) -> Option<UserId> {
        self.0.map(|a| a.user)
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(authenticate(state, &parts.headers).await?))
    }
}
