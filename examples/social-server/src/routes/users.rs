//! Users: register, get, replace (PUT), patch, delete, search.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use keel_storage::page::List;
use keel_storage::{NewUser, UserId, UserPatch, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::UserView;
use super::{Field, check, load_user, user_view};
use crate::auth::{AuthUser, MaybeUser};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Json, Path, Query};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// Passwords: 8 to 128 characters.
pub const PASSWORD_CHARS: (usize, usize) = (8, 128);

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// 3 to 30 letters, digits or `_`.
    #[schema(pattern = "^[A-Za-z0-9_]{3,30}$", min_length = 3, max_length = 30)]
    pub username: String,
    /// An email address.
    #[schema(pattern = "^[!-?A-~]+@[!-?A-~]+$", max_length = 254)]
    pub email: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Display name (defaults to the username).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Bio.
    #[serde(default)]
    pub bio: Option<String>,
}

/// `PUT /users/{id}`: every editable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceUser {
    /// Username.
    #[schema(pattern = "^[A-Za-z0-9_]{3,30}$", min_length = 3, max_length = 30)]
    pub username: String,
    /// Email.
    #[schema(pattern = "^[!-?A-~]+@[!-?A-~]+$", max_length = 254)]
    pub email: String,
    /// Display name.
    #[schema(max_length = 50)]
    pub display_name: String,
    /// Bio (null clears it).
    pub bio: Option<String>,
    /// Avatar URL (null clears it).
    pub avatar_url: Option<String>,
}

/// `PATCH /users/{id}`: any subset of fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    /// Username.
    #[schema(pattern = "^[A-Za-z0-9_]{3,30}$", min_length = 3, max_length = 30)]
    pub username: Option<String>,
    /// Email.
    #[schema(pattern = "^[!-?A-~]+@[!-?A-~]+$", max_length = 254)]
    pub email: Option<String>,
    /// New password.
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Display name.
    #[schema(max_length = 50)]
    pub display_name: Option<String>,
    /// Bio (null clears it).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    /// Avatar URL (null clears it).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
}

fn password_rule(p: &str) -> Option<FieldError> {
    let n = p.chars().count();
    (n < PASSWORD_CHARS.0 || n > PASSWORD_CHARS.1).then(|| FieldError {
        field: "password".to_owned(),
        rule: format!("{} to {} characters", PASSWORD_CHARS.0, PASSWORD_CHARS.1),
    })
}

fn patch_rules(p: &UserPatch, password: Option<&str>) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(u) = &p.username {
        errors.extend(check(Field::Storage(validate::username(u))));
    }
    if let Some(e) = &p.email {
        errors.extend(check(Field::Storage(validate::email(e))));
    }
    let rest = UserPatch {
        username: None,
        email: None,
        ..p.clone()
    };
    errors.extend(check(Field::Storage(validate::user_patch(&rest))));
    errors.extend(password.and_then(password_rule));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Registers a user.
#[utoipa::path(post, path = "/users", request_body = Register, tag = "users",
    responses((status = 201, body = UserView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register(State(s): State<AppState>, Json(r): Json<Register>) -> ApiResult<Response> {
    let new = NewUser {
        username: r.username.clone(),
        email: r.email.clone(),
        password_hash: "x".to_owned(),
        display_name: r.display_name.clone().unwrap_or_else(|| r.username.clone()),
        bio: r.bio.clone(),
        avatar_url: None,
    };
    let mut errors = Vec::new();
    errors.extend(check(Field::Storage(validate::username(&new.username))));
    errors.extend(check(Field::Storage(validate::email(&new.email))));
    errors.extend(password_rule(&r.password));
    let rest = UserPatch {
        display_name: Some(new.display_name.clone()),
        bio: Some(new.bio.clone()),
        ..UserPatch::default()
    };
    errors.extend(check(Field::Storage(validate::user_patch(&rest))));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // Cheap conflict checks first, so a taken name costs no hash.
    for (field, taken) in [
        (
            "username",
            s.store.user_by_username(&new.username).await.is_ok(),
        ),
        ("email", s.store.user_by_email(&new.email).await.is_ok()),
    ] {
        if taken {
            return Err(ApiError::conflict(
                field,
                format!("{field} is already taken; choose another"),
            ));
        }
    }
    let hash = s
        .hasher
        .hash(&r.password)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let user = s
        .store
        .create_user(NewUser {
            password_hash: hash,
            ..new
        })
        .await?;
    let view = UserView::new(&user, keel_storage::FollowCounts::default(), true);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/users/{}", user.id.0)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((StatusCode::CREATED, headers, Json(view)).into_response())
}

/// A user's profile.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = UserView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    me: MaybeUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<Json<UserView>> {
    let user = load_user(&s, UserId(id)).await?;
    Ok(Json(user_view(&s, &user, me.id() == Some(user.id)).await?))
}

fn owner(me: AuthUser, id: UserId) -> ApiResult<()> {
    if me.user == id {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the owner may change this profile",
        ))
    }
}

async fn apply(
    s: &AppState,
    me: AuthUser,
    id: UserId,
    patch: UserPatch,
    password: Option<String>,
) -> ApiResult<Json<UserView>> {
    load_user(s, id).await?;
    owner(me, id)?;
    patch_rules(&patch, password.as_deref())?;
    let mut patch = patch;
    if let Some(p) = password {
        patch.password_hash = Some(
            s.hasher
                .hash(&p)
                .await
                .map_err(|e| ApiError::unavailable(e.to_string()))?,
        );
    }
    let user = s.store.update_user(id, patch).await?;
    s.users_cache.invalidate(&id.0.to_string()).await;
    Ok(Json(user_view(s, &user, true).await?))
}

/// Replaces a profile (owner only).
#[utoipa::path(put, path = "/users/{id}", request_body = ReplaceUser, tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_user(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<ReplaceUser>,
) -> ApiResult<Json<UserView>> {
    let patch = UserPatch {
        username: Some(r.username),
        email: Some(r.email),
        display_name: Some(r.display_name),
        bio: Some(r.bio),
        avatar_url: Some(r.avatar_url),
        ..UserPatch::default()
    };
    apply(&s, me, UserId(id), patch, None).await
}

/// Changes some profile fields (owner only).
#[utoipa::path(patch, path = "/users/{id}", request_body = PatchUser, tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_user(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<PatchUser>,
) -> ApiResult<Json<UserView>> {
    let patch = UserPatch {
        username: r.username,
        email: r.email,
        display_name: r.display_name,
        bio: r.bio,
        avatar_url: r.avatar_url,
        ..UserPatch::default()
    };
    apply(&s, me, UserId(id), patch, r.password).await
}

/// Deletes an account with its posts, follows, likes and comments (owner only).
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_user(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    let id = UserId(id);
    load_user(&s, id).await?;
    owner(me, id)?;
    // The store deletes the user's refresh tokens and API keys with the account.
    s.store.delete_user(id).await?;
    s.users_cache.invalidate(&id.0.to_string()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `?q=` search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// The words to look for.
    pub q: String,
}

/// Searches users by username and display name.
#[utoipa::path(get, path = "/users/search", tag = "users", params(SearchParams, PageParams),
    responses((status = 200, body = crate::paging::PageBody<UserView>), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn search_users(
    State(s): State<AppState>,
    uri: Uri,
    Query(q): Query<SearchParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<UserView>> {
    let query = super::search_query(List::SearchUsers, &q.q)?;
    let seek = p.seek(&s, &query)?;
    let window = s.store.search_users(&q.q, &seek).await?;
    let page = window.into_page(&s.codec, &query)?;
    let mut items = Vec::with_capacity(page.items.len());
    for hit in &page.items {
        items.push(user_view(&s, &hit.item, false).await?);
    }
    Ok(Paged::new(super::replace_items(page, items), uri))
}
