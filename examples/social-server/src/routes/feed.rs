//! The personalised feed, notifications, trending posts and post search.

use axum::extract::State;
use axum::http::Uri;
use keel_pagination::keyset::memory;
use keel_pagination::{QueryKey, SortSpec, SortValue, ValueKind};
use keel_storage::PostId;
use keel_storage::page::List;
use serde::Serialize;

use super::views::PostView;
use super::{can_see, replace_items, search_query};
use crate::auth::{AuthUser, MaybeUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::notify::Notification;
use crate::paging::{PageParams, Paged};
use crate::state::AppState;

/// The caller's home timeline (keel-feed, hybrid delivery, its signed cursors), newest first.
/// Forward only: `before` is a 400.
#[utoipa::path(get, path = "/feed", tag = "feed", params(PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn feed(
    State(s): State<AppState>,
    me: AuthUser,
    uri: Uri,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    let timeline = s
        .timelines
        .read_page(me.user, &p.request(), &s.codec, &s.page_policy)
        .await
        .map_err(|e| match e {
            keel_feed::FeedError::Page(e) => ApiError::from(e),
            keel_feed::FeedError::InvalidCursor(why) => ApiError::bad_request(why),
            other => ApiError::internal(other),
        })?;
    let ids: Vec<PostId> = timeline
        .page
        .items
        .iter()
        .map(|e| e.post().into())
        .collect();
    let posts = s.store.posts_by_ids(&ids).await?;
    let mut items = Vec::with_capacity(posts.len());
    for post in &posts {
        if can_see(&s, Some(me.user), post).await? {
            items.push(PostView::from(post));
        }
    }
    let page = replace_items(timeline.page, items);
    Ok(Paged::new(page, uri))
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "feed", params(PageParams),
    responses((status = 200, body = crate::paging::PageBody<Notification>), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn notifications(
    State(s): State<AppState>,
    me: AuthUser,
    uri: Uri,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<Notification>> {
    let list = List::Notifications;
    let spec = list.spec()?;
    let query = QueryKey::new(list.resource(), &spec).filter("user", &me.user.0.to_string());
    let seek = p.seek(&s, &query)?;
    let page = s
        .store
        .notifications(me.user, &seek)
        .await?
        .into_page(&s.codec, &query)?;
    let items = page.items.iter().map(Notification::from).collect();
    Ok(Paged::new(replace_items(page, items), uri))
}

#[derive(Debug, Clone, Serialize)]
struct Ranked(f64, uuid::Uuid);

/// Public posts with the most engagement lately, best first.
#[utoipa::path(get, path = "/posts/trending", tag = "feed", params(PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody)))]
pub async fn trending(
    State(s): State<AppState>,
    uri: Uri,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    let spec = SortSpec::builder()
        .desc("score", ValueKind::F64)
        .tiebreaker("id", ValueKind::Uuid)
        .map_err(ApiError::internal)?;
    let query = QueryKey::new("trending", &spec);
    let seek = p.seek(&s, &query)?;
    let ranked: Vec<Ranked> = s
        .trending
        .ranked(s.clock.now())
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?
        .into_iter()
        .map(|(score, id)| Ranked(score, id.0))
        .collect();
    let window = memory::paginate(&ranked, &spec, &seek, |r: &Ranked| {
        vec![SortValue::F64(r.0), SortValue::Uuid(r.1)]
    })
    .map_err(|e| ApiError::bad_request(format!("{e}; pass a cursor from this list")))?;
    let page = window.into_page(&s.codec, &query)?;
    let ids: Vec<PostId> = page.items.iter().map(|r| PostId(r.1)).collect();
    let posts = s.store.posts_by_ids(&ids).await?;
    let items = posts
        .iter()
        .filter(|p| p.visibility == keel_storage::Visibility::Public)
        .map(PostView::from)
        .collect();
    Ok(Paged::new(replace_items(page, items), uri))
}

/// Searches public posts (content and hashtags), best first.
#[utoipa::path(get, path = "/posts/search", tag = "feed", params(super::users::SearchParams, PageParams),
    responses((status = 200, body = crate::paging::PageBody<PostView>), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn search_posts(
    State(s): State<AppState>,
    _me: MaybeUser,
    uri: Uri,
    Query(q): Query<super::users::SearchParams>,
    Query(p): Query<PageParams>,
) -> ApiResult<Paged<PostView>> {
    let query = search_query(List::SearchPosts, &q.q)?;
    let seek = p.seek(&s, &query)?;
    let window = s.store.search_posts(&q.q, &seek).await?;
    let page = window.into_page(&s.codec, &query)?;
    Ok(Paged::new(page.map(|h| PostView::from(&h.item)), uri))
}
