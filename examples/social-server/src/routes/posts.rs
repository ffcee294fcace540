//! Posts: create, get, replace, patch, delete; post lists (every author or one) with filters
//! and sorting.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use keel_pagination::{Page, QueryKey};
use keel_storage::{
    NewPost, Post, PostId, PostPatch, PostQuery, PostType, Timestamp, UserId, Visibility, validate,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::{PostTypeDto, PostView, VisibilityDto};
use super::{Field, load_user, valid, visible_post};
use crate::auth::{AuthUser, MaybeUser};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{Json, Path, Query};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// `POST /posts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePost {
    /// Text (1 to 5000 characters).
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub content: String,
    /// Media URLs (at most 4).
    #[serde(default)]
    #[schema(max_items = 4)]
    pub media: Vec<String>,
    /// Kind (default `text`).
    #[serde(default)]
    pub post_type: Option<PostTypeDto>,
    /// Who may see it (default `public`).
    #[serde(default)]
    pub visibility: Option<VisibilityDto>,
}

/// `PUT /posts/{id}`: every editable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacePost {
    /// Text.
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub content: String,
    /// Media URLs.
    #[schema(max_items = 4)]
    pub media: Vec<String>,
    /// Kind.
    pub post_type: PostTypeDto,
    /// Who may see it.
    pub visibility: VisibilityDto,
}

/// `PATCH /posts/{id}`: any subset.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPost {
    /// Text.
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub content: Option<String>,
    /// Media URLs.
    pub media: Option<Vec<String>>,
    /// Kind.
    pub post_type: Option<PostTypeDto>,
    /// Who may see it.
    pub visibility: Option<VisibilityDto>,
}

fn created(view: PostView) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/posts/{}", view.id)) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::CREATED, headers, axum::Json(view)).into_response()
}

/// Creates a post.
#[utoipa::path(post, path = "/posts", request_body = CreatePost, tag = "posts",
    responses((status = 201, body = PostView), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_post(
    State(s): State<AppState>,
    me: AuthUser,
    Json(r): Json<CreatePost>,
) -> ApiResult<Response> {
    let new = NewPost {
        author: me.user,
        content: r.content,
        media: r.media,
        kind: r.post_type.map_or(PostType::Text, Into::into),
        visibility: r.visibility.map_or(Visibility::Public, Into::into),
    };
    valid(Field::Storage(validate::new_post(&new)))?;
    let post = s.store.create_post(new).await?;
    Ok(created(PostView::from(&post)))
}

/// A post (404 when the caller may not see it).
#[utoipa::path(get, path = "/posts/{id}", tag = "posts", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PostView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_post(
    State(s): State<AppState>,
    me: MaybeUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<Json<PostView>> {
    let post = visible_post(&s, me.id(), PostId(id)).await?;
    Ok(Json(PostView::from(&post)))
}

async fn edit(
    s: &AppState,
    me: AuthUser,
    id: PostId,
    patch: PostPatch,
) -> ApiResult<Json<PostView>> {
    let post = visible_post(s, Some(me.user), id).await?;
    if post.author != me.user {
        return Err(ApiError::forbidden("only the author may edit this post"));
    }
    valid(Field::Storage(validate::post_patch(&patch)))?;
    let post = s.store.update_post(id, patch).await?;
    s.posts_cache.invalidate(&id.0.to_string()).await;
    Ok(Json(PostView::from(&post)))
}

/// Replaces a post (author only).
#[utoipa::path(put, path = "/posts/{id}", request_body = ReplacePost, tag = "posts", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PostView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_post(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<ReplacePost>,
) -> ApiResult<Json<PostView>> {
    let patch = PostPatch {
        content: Some(r.content),
        media: Some(r.media),
        kind: Some(r.post_type.into()),
        visibility: Some(r.visibility.into()),
    };
    edit(&s, me, PostId(id), patch).await
}

/// Changes some fields of a post (author only).
#[utoipa::path(patch, path = "/posts/{id}", request_body = PatchPost, tag = "posts", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PostView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_post(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<PatchPost>,
) -> ApiResult<Json<PostView>> {
    let patch = PostPatch {
        content: r.content,
        media: r.media,
        kind: r.post_type.map(Into::into),
        visibility: r.visibility.map(Into::into),
    };
    edit(&s, me, PostId(id), patch).await
}

/// Deletes a post with its likes and comments (author only).
#[utoipa::path(delete, path = "/posts/{id}", tag = "posts", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_post(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    let id = PostId(id);
    let post = visible_post(&s, Some(me.user), id).await?;
    if post.author != me.user {
        return Err(ApiError::forbidden("only the author may delete this post"));
    }
    s.store.delete_post(id).await?;
    s.posts_cache.invalidate(&id.0.to_string()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Sort order of post lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Newest first.
    #[default]
    Desc,
    /// Oldest first.
    Asc,
}

/// Sort field of post lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// Creation time (the only sort; the post id breaks ties).
    #[default]
    CreatedAt,
}

/// Filters and sort of `GET /posts` and `GET /users/{id}/posts`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PostFilter {
    /// Only this author's posts (absent on `GET /posts`: every author).
    pub author_id: Option<uuid::Uuid>,
    /// Only posts created strictly after this RFC 3339 UTC date or time (`2024-01-01`,
    /// `2024-01-01T12:00:00Z`).
    pub created_after: Option<String>,
    /// Only posts created strictly before this RFC 3339 UTC date or time.
    pub created_before: Option<String>,
    /// Sort field: `created_at`.
    pub sort: Option<SortField>,
    /// `desc` (newest first, default) or `asc` (oldest first).
    pub order: Option<Order>,
}

/// Posts the caller may see, of every author or one (`?author_id=`), filtered by time
/// (`?created_after=&created_before=`) and sorted (`?sort=created_at&order=asc|desc`),
/// cursor-paginated with `Link` headers.
#[utoipa::path(get, path = "/posts", tag = "posts", params(PostFilter, PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_posts(
    State(s): State<AppState>,
    me: MaybeUser,
    uri: Uri,
    Query(f): Query<PostFilter>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    let author = f.author_id.map(UserId);
    filtered_posts(&s, me, uri, author, &f, &p).await
}

/// A user's posts that the caller may see, with the same filters and sort as `GET /posts`.
#[utoipa::path(get, path = "/users/{id}/posts", tag = "posts", params(("id" = uuid::Uuid, Path), PostFilter, PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn user_posts(
    State(s): State<AppState>,
    me: MaybeUser,
    uri: Uri,
    Path(id): Path<uuid::Uuid>,
    Query(f): Query<PostFilter>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    filtered_posts(&s, me, uri, Some(UserId(id)), &f, &p).await
}

/// A time filter parsed, or the field error naming it.
fn time_filter(field: &str, value: Option<&String>) -> Result<Option<Timestamp>, FieldError> {
    value
        .map(|t| {
            crate::time::parse(t).ok_or_else(|| FieldError {
                field: field.to_owned(),
                rule: "an RFC 3339 UTC date or time, e.g. 2024-01-01 or 2024-01-01T00:00:00Z"
                    .to_owned(),
            })
        })
        .transpose()
}

async fn filtered_posts(
    s: &AppState,
    me: MaybeUser,
    uri: Uri,
    author: Option<UserId>,
    f: &PostFilter,
    p: &PageParams,
) -> ApiResult<Paged<PostView>> {
    let after = time_filter("created_after", f.created_after.as_ref());
    let before = time_filter("created_before", f.created_before.as_ref());
    let bad: Vec<FieldError> = [&after, &before]
        .into_iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::validation(bad));
    }
    if let Some(a) = author {
        load_user(s, a).await?;
    }
    let mut query = PostQuery::all().seen_by(me.id());
    if let Some(a) = author {
        query = query.by(a);
    }
    if let Ok(Some(t)) = after {
        query = query.created_after(t);
    }
    if let Ok(Some(t)) = before {
        query = query.created_before(t);
    }
    if f.order == Some(Order::Asc) {
        query = query.oldest_first();
    }
    let list = query.list();
    let spec = list.spec()?;
    let mut key = QueryKey::new(list.resource(), &spec);
    if let Some(a) = query.author {
        key = key.filter("author", &a.0.to_string());
    }
    if let Some(t) = query.created_after {
        key = key.filter("created_after", &t.as_micros().to_string());
    }
    if let Some(t) = query.created_before {
        key = key.filter("created_before", &t.as_micros().to_string());
    }
    let seek = p.seek(s, &key)?;
    let window = s.store.list_posts(&query, &seek).await?;
    let page: Page<Post> = window.into_page(&s.codec, &key)?;
    let items = page.items.iter().map(PostView::from).collect();
    Ok(Paged::new(super::replace_items(page, items), uri))
}
