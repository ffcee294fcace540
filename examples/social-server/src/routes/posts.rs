//! Posts: create, get, replace, patch, delete; an author's posts with filters and sorting.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use keel_pagination::keyset::{Direction, Seek, Window};
use keel_pagination::{Page, QueryKey};
use keel_storage::page::List;
use keel_storage::{NewPost, Post, PostId, PostPatch, PostType, UserId, Visibility, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::{PostTypeDto, PostView, VisibilityDto};
use super::{Field, can_see, check, load_user, visible_post};
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
    pub content: String,
    /// Media URLs (at most 4).
    #[serde(default)]
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
    pub content: String,
    /// Media URLs.
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
    if let Some(e) = check(Field::Storage(validate::new_post(&new))) {
        return Err(ApiError::validation(vec![e]));
    }
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
    if let Some(e) = check(Field::Storage(validate::post_patch(&patch))) {
        return Err(ApiError::validation(vec![e]));
    }
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
    /// Creation time (the only sort).
    #[default]
    CreatedAt,
}

/// Filters and sort of `GET /posts` and `GET /users/{id}/posts`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PostFilter {
    /// Only this author's posts (required on `GET /posts`).
    pub author_id: Option<uuid::Uuid>,
    /// Only posts created after this RFC 3339 date or time (`2024-01-01`).
    pub created_after: Option<String>,
    /// Sort field: `created_at`.
    pub sort: Option<SortField>,
    /// `desc` (default) or `asc`.
    pub order: Option<Order>,
}

/// Posts of one author, filtered, sorted (`?author_id=&created_after=&sort=created_at&order=desc`).
#[utoipa::path(get, path = "/posts", tag = "posts", params(PostFilter, PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_posts(
    State(s): State<AppState>,
    me: MaybeUser,
    uri: Uri,
    Query(f): Query<PostFilter>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    let Some(author) = f.author_id else {
        return Err(ApiError::validation(vec![FieldError {
            field: "author_id".to_owned(),
            rule: "required: lists are per author (use /feed or /posts/search otherwise)"
                .to_owned(),
        }]));
    };
    author_posts(&s, me, uri, UserId(author), &f, &p).await
}

/// A user's posts that the caller may see.
#[utoipa::path(get, path = "/users/{id}/posts", tag = "posts", params(("id" = uuid::Uuid, Path), PostFilter, PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn user_posts(
    State(s): State<AppState>,
    me: MaybeUser,
    uri: Uri,
    Path(id): Path<uuid::Uuid>,
    Query(f): Query<PostFilter>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    author_posts(&s, me, uri, UserId(id), &f, &p).await
}

fn flip(d: Direction) -> Direction {
    match d {
        Direction::Forward => Direction::Backward,
        _ => Direction::Forward,
    }
}

async fn author_posts(
    s: &AppState,
    me: MaybeUser,
    uri: Uri,
    author: UserId,
    f: &PostFilter,
    p: &PageParams,
) -> ApiResult<Paged<PostView>> {
    load_user(s, author).await?;
    let after = match &f.created_after {
        Some(t) => Some(crate::time::parse(t).ok_or_else(|| {
            ApiError::validation(vec![FieldError {
                field: "created_after".to_owned(),
                rule: "an RFC 3339 UTC date or time, e.g. 2024-01-01 or 2024-01-01T00:00:00Z"
                    .to_owned(),
            }])
        })?),
        None => None,
    };
    let order = f.order.unwrap_or_default();
    let spec = List::PostsByAuthor.spec()?;
    let mut query = QueryKey::new(List::PostsByAuthor.resource(), &spec)
        .filter("author", &author.0.to_string())
        .filter("order", if order == Order::Asc { "asc" } else { "desc" });
    if let Some(t) = after {
        query = query.filter("created_after", &t.as_micros().to_string());
    }
    let seek = p.seek(s, &query)?;
    // The store lists newest first; oldest first reads it backwards and swaps the cursors.
    let window: Window<Post> = if order == Order::Asc {
        let w = s
            .store
            .posts_by_author(
                author,
                &Seek {
                    direction: flip(seek.direction),
                    ..seek
                },
            )
            .await?;
        let mut items = w.items;
        let mut values = w.item_values;
        items.reverse();
        values.reverse();
        Window {
            items,
            item_values: values,
            next: w.prev,
            prev: w.next,
            has_next: w.has_prev,
            has_prev: w.has_next,
            total: w.total,
        }
    } else {
        s.store.posts_by_author(author, &seek).await?
    };
    let mut page: Page<Post> = window.into_page(&s.codec, &query)?;
    if let Some(t) = after {
        let before = page.items.len();
        page.items.retain(|post| post.created_at > t);
        if order == Order::Desc && page.items.len() < before {
            page.has_next = false;
        }
    }
    let viewer = me.id();
    let mut items = Vec::with_capacity(page.items.len());
    for post in &page.items {
        if can_see(s, viewer, post).await? {
            items.push(PostView::from(post));
        }
    }
    Ok(Paged::new(super::replace_items(page, items), uri))
}
