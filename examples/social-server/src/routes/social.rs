//! Follows and likes.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use keel_pagination::QueryKey;
use keel_storage::page::List;
use keel_storage::{Follow, PostId, UserId};

use super::views::{FollowView, LikeView};
use super::{load_user, visible_post};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// Follows a user (idempotent).
#[utoipa::path(post, path = "/users/{id}/follow", tag = "social", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn follow(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    s.store.follow(me.user, UserId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unfollows a user (idempotent).
#[utoipa::path(delete, path = "/users/{id}/follow", tag = "social", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unfollow(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<StatusCode> {
    load_user(&s, UserId(id)).await?;
    s.store.unfollow(me.user, UserId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn follow_list(
    s: &AppState,
    uri: Uri,
    user: UserId,
    list: List,
    p: &PageParams,
) -> ApiResult<Paged<FollowView>> {
    load_user(s, user).await?;
    let query = QueryKey::new(list.resource(), &list.spec()?).filter("user", &user.0.to_string());
    let seek = p.seek(s, &query)?;
    let window = if list == List::Followers {
        s.store.followers(user, &seek).await?
    } else {
        s.store.following(user, &seek).await?
    };
    let page = window.into_page(&s.codec, &query)?;
    let mut items = Vec::with_capacity(page.items.len());
    for f in &page.items {
        let Follow {
            follower,
            followee,
            created_at,
        } = *f;
        let other = if list == List::Followers {
            follower
        } else {
            followee
        };
        let username = load_user(s, other).await.ok().map(|u| u.username);
        items.push(FollowView {
            user_id: other.0,
            username,
            followed_at: crate::time::format(created_at),
        });
    }
    Ok(Paged::new(super::replace_items(page, items), uri))
}

/// Who follows a user, most recent first.
#[utoipa::path(get, path = "/users/{id}/followers", tag = "social", params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = crate::paging::PageBody<FollowView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn followers(
    State(s): State<AppState>,
    uri: Uri,
    Path(id): Path<uuid::Uuid>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<FollowView>> {
    follow_list(&s, uri, UserId(id), List::Followers, &p).await
}

/// Whom a user follows, most recent first.
#[utoipa::path(get, path = "/users/{id}/following", tag = "social", params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = crate::paging::PageBody<FollowView>), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn following(
    State(s): State<AppState>,
    uri: Uri,
    Path(id): Path<uuid::Uuid>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<FollowView>> {
    follow_list(&s, uri, UserId(id), List::Following, &p).await
}

/// Likes a post (idempotent).
#[utoipa::path(post, path = "/posts/{id}/like", tag = "social", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = LikeView), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn like(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<Json<LikeView>> {
    let post = visible_post(&s, Some(me.user), PostId(id)).await?;
    let outcome = s.store.like(me.user, post.id).await?;
    s.posts_cache.invalidate(&id.to_string()).await;
    Ok(Json(LikeView {
        liked: true,
        like_count: outcome.like_count,
    }))
}

/// Takes a like back (idempotent).
#[utoipa::path(delete, path = "/posts/{id}/like", tag = "social", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = LikeView), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unlike(
    State(s): State<AppState>,
    me: AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> ApiResult<Json<LikeView>> {
    let post = visible_post(&s, Some(me.user), PostId(id)).await?;
    let outcome = s.store.unlike(me.user, post.id).await?;
    s.posts_cache.invalidate(&id.to_string()).await;
    Ok(Json(LikeView {
        liked: false,
        like_count: outcome.like_count,
    }))
}
