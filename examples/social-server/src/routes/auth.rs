//! Log in, refresh, log out, API keys.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use keel_pagination::QueryKey;
use keel_storage::User;
use keel_storage::page::List;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, Tier};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Json, Path, Query};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Username or email.
    pub login: String,
    /// Password.
    pub password: String,
}

/// Tokens issued at log-in or refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Trade for a new pair at `/auth/refresh` (single use).
    pub refresh_token: String,
    /// The user.
    pub user_id: uuid::Uuid,
}

/// `POST /auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// A refresh token.
    pub refresh_token: String,
}

/// `POST /auth/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// A label (1 to 64 characters).
    #[schema(min_length = 1, max_length = 64, pattern = "\\S")]
    pub name: String,
}

/// A new API key, shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// Its id (to revoke it).
    pub id: uuid::Uuid,
    /// Its label.
    pub name: String,
    /// The key: send as `X-Api-Key`. Only its hash is stored; it cannot be shown again.
    pub key: String,
}

/// One of the caller's API keys (never the key: only its hash is stored).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyView {
    /// Its id (to revoke it).
    pub id: uuid::Uuid,
    /// Its label.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// Lists the caller's API keys, newest first.
#[utoipa::path(get, path = "/auth/api-keys", tag = "auth", params(PageParams),
    responses((status = 200, body = crate::paging::PageBody<ApiKeyView>), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_api_keys(
    State(s): State<AppState>,
    me: AuthUser,
    uri: Uri,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<ApiKeyView>> {
    let list = List::ApiKeys;
    let spec = list.spec()?;
    let query = QueryKey::new(list.resource(), &spec).filter("user", &me.user.0.to_string());
    let seek = p.seek(&s, &query)?;
    let page = s
        .store
        .api_keys(me.user, &seek)
        .await?
        .into_page(&s.codec, &query)?;
    let items = page
        .items
        .iter()
        .map(|k| ApiKeyView {
            id: k.id,
            name: k.name.clone(),
            created_at: crate::time::format(k.created_at),
        })
        .collect();
    Ok(Paged::new(super::replace_items(page, items), uri))
}

fn tier(u: &User) -> Tier {
    if u.verified {
        Tier::Verified
    } else {
        Tier::Free
    }
}

async fn pair(s: &AppState, user: &User) -> ApiResult<TokenPair> {
    Ok(TokenPair {
        access_token: s.jwt.issue(user.id, tier(user)),
        token_type: "Bearer".to_owned(),
        expires_in: s.jwt.ttl_secs(),
        refresh_token: s.tokens.issue_refresh(user.id).await?,
        user_id: user.id.0,
    })
}

/// Logs in with username or email and password.
#[utoipa::path(post, path = "/auth/login", request_body = Login, tag = "auth",
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(State(s): State<AppState>, Json(r): Json<Login>) -> ApiResult<Json<TokenPair>> {
    if r.password.len() > 1024 || r.login.len() > 254 {
        return Err(ApiError::unauthorized("wrong login or password"));
    }
    let user = match s.store.user_by_username(&r.login).await {
        Ok(u) => Some(u),
        Err(keel_storage::StorageError::NotFound { .. }) => {
            match s.store.user_by_email(&r.login).await {
                Ok(u) => Some(u),
                Err(keel_storage::StorageError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            }
        }
        Err(keel_storage::StorageError::InvalidInput { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let ok = s
        .hasher
        .verify(&r.password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    match user {
        Some(u) if ok => Ok(Json(pair(&s, &u).await?)),
        _ => Err(ApiError::unauthorized("wrong login or password")),
    }
}

/// Trades a refresh token for a new pair (the old one is revoked).
#[utoipa::path(post, path = "/auth/refresh", request_body = RefreshRequest, tag = "auth",
    responses((status = 200, body = TokenPair), (status = 401, body = crate::error::ErrorBody)))]
pub async fn refresh(
    State(s): State<AppState>,
    Json(r): Json<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let user = s
        .tokens
        .take_refresh(&r.refresh_token)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized("unknown, used, revoked or expired refresh token; log in again")
        })?;
    let user = s
        .store
        .user(user)
        .await
        .map_err(|_| ApiError::unauthorized("account no longer exists"))?;
    Ok(Json(pair(&s, &user).await?))
}

/// Revokes a refresh token.
#[utoipa::path(post, path = "/auth/logout", request_body = RefreshRequest, tag = "auth",
    responses((status = 204), (status = 503, body = crate::error::ErrorBody)))]
pub async fn logout(
    State(s): State<AppState>,
    Json(r): Json<RefreshRequest>,
) -> ApiResult<StatusCode> {
    s.tokens.revoke_refresh(&r.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an API key for server-to-server calls.
#[utoipa::path(post, path = "/auth/api-keys", request_body = NewApiKey, tag = "auth",
    responses((status = 201, body = ApiKeyCreated), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_api_key(
    State(s): State<AppState>,
    me: AuthUser,
    Json(r): Json<NewApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreated>)> {
    let n = r.name.trim().chars().count();
    if n == 0 || n > 64 {
        return Err(ApiError::validation(vec![FieldError {
            field: "name".to_owned(),
            rule: "1 to 64 characters".to_owned(),
        }]));
    }
    let (key, info) = s.tokens.issue_api_key(me.user, r.name.trim()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            id: info.id,
            name: info.name,
            key,
        }),
    ))
}

/// Revokes one of the caller's API keys.
#[utoipa::path(delete, path = "/auth/api-keys/{id}", tag = "auth", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_api_key(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    if s.tokens.revoke_api_key(me.user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}
