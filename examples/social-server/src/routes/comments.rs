//! Comments: add, list (one thread level), delete.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use keel_pagination::QueryKey;
use keel_storage::page::List;
use keel_storage::{CommentId, NewComment, PostId, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::CommentView;
use super::{Field, valid, visible_post};
use crate::auth::{AuthUser, MaybeUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// `POST /posts/{id}/comments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddComment {
    /// Text (1 to 2000 characters).
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub content: String,
    /// The comment this one answers.
    #[serde(default)]
    pub parent_id: Option<uuid::Uuid>,
}

/// Adds a comment to a post the caller can see.
#[utoipa::path(post, path = "/posts/{id}/comments", request_body = AddComment, tag = "comments", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = CommentView), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_comment(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(r): Json<AddComment>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let post = visible_post(&s, Some(me.user), PostId(id)).await?;
    let new = NewComment {
        post: post.id,
        author: me.user,
        parent: r.parent_id.map(CommentId),
        content: r.content,
    };
    valid(Field::Storage(validate::new_comment(&new)))?;
    let c = s.store.add_comment(new).await?;
    s.posts_cache.invalidate(&id.to_string()).await;
    Ok((StatusCode::CREATED, Json(CommentView::from(&c))))
}

/// `?parent_id=` of a comment list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CommentFilter {
    /// Replies to this comment; top-level comments when absent.
    pub parent_id: Option<uuid::Uuid>,
}

/// A post's comments, oldest first.
#[utoipa::path(get, path = "/posts/{id}/comments", tag = "comments", params(("id" = uuid::Uuid, Path), CommentFilter, PageParams),
    responses((status = 200, body = crate::paging::PageBody<CommentView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_comments(
    State(s): State<AppState>,
    me: MaybeUser,
    uri: Uri,
    Path(id): Path<uuid::Uuid>,
    Query(f): Query<CommentFilter>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<CommentView>> {
    let post = visible_post(&s, me.id(), PostId(id)).await?;
    let spec = List::Comments.spec()?;
    let query = QueryKey::new(List::Comments.resource(), &spec)
        .filter("post", &id.to_string())
        .filter(
            "parent",
            &f.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        );
    let seek = p.seek(&s, &query)?;
    let window = s
        .store
        .comments(post.id, f.parent_id.map(CommentId), &seek)
        .await?;
    let page = window
        .into_page(&s.codec, &query)?
        .map(|c| CommentView::from(&c));
    Ok(Paged::new(page, uri))
}

/// Deletes a comment and its replies (its author or the post's author).
#[utoipa::path(delete, path = "/comments/{id}", tag = "comments", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_comment(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    let c = s.store.comment(CommentId(id)).await?;
    let post = visible_post(&s, Some(me.user), c.post)
        .await
        .map_err(|_| ApiError::not_found("comment"))?;
    if c.author != me.user && post.author != me.user {
        return Err(ApiError::forbidden(
            "only the comment's author or the post's author may delete it",
        ));
    }
    s.store.delete_comment(c.id).await?;
    s.posts_cache.invalidate(&post.id.0.to_string()).await;
    Ok(StatusCode::NO_CONTENT)
}
