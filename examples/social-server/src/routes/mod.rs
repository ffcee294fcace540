//! The HTTP API: one module per resource, and the helpers they share (loading through the
//! caches, visibility, validation).

pub mod admin;
pub mod auth;
pub mod comments;
pub mod feed;
pub mod ops;
pub mod posts;
pub mod social;
pub mod users;
pub mod views;

use axum::Router;
use axum::routing::{delete, get, post, put};
use keel_pagination::{Page, QueryKey};
use keel_storage::page::List;
use keel_storage::{Post, PostId, StorageError, User, UserId, Visibility};
use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, ApiResult, FieldError};
use crate::state::AppState;
use views::UserView;

/// The API routes (rate limited), without the operational ones.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/users", post(users::register))
        .route("/users/search", get(users::search_users))
        .route(
            "/users/{id}",
            get(users::get_user)
                .put(users::put_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route("/users/{id}/posts", get(posts::user_posts))
        .route(
            "/users/{id}/follow",
            post(social::follow).delete(social::unfollow),
        )
        .route("/users/{id}/followers", get(social::followers))
        .route("/users/{id}/following", get(social::following))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route(
            "/auth/api-keys",
            post(auth::create_api_key).get(auth::list_api_keys),
        )
        .route("/auth/api-keys/{id}", delete(auth::revoke_api_key))
        .route("/posts", post(posts::create_post).get(posts::list_posts))
        .route("/posts/search", get(feed::search_posts))
        .route("/posts/trending", get(feed::trending))
        .route(
            "/posts/{id}",
            get(posts::get_post)
                .put(posts::put_post)
                .patch(posts::patch_post)
                .delete(posts::delete_post),
        )
        .route(
            "/posts/{id}/like",
            post(social::like).delete(social::unlike),
        )
        .route(
            "/posts/{id}/comments",
            post(comments::add_comment).get(comments::list_comments),
        )
        .route("/comments/{id}", delete(comments::delete_comment))
        .route("/feed", get(feed::feed))
        .route("/notifications", get(feed::notifications))
        .route("/admin/users/{id}/verified", put(admin::set_verified))
}

/// A validation outcome to turn into field errors.
pub(crate) enum Field {
    Storage(Result<(), StorageError>),
}

/// The field errors of one check: every field the check found at fault.
pub(crate) fn check(f: Field) -> Vec<FieldError> {
    match f {
        Field::Storage(Err(e)) => e.violations().iter().map(FieldError::from).collect(),
        Field::Storage(Ok(())) => Vec::new(),
    }
}

/// `Ok` when the check passed, else 422 listing every field at fault.
pub(crate) fn valid(f: Field) -> ApiResult<()> {
    let errors = check(f);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
pub(crate) fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A user through the profile cache.
pub(crate) async fn load_user(s: &AppState, id: UserId) -> ApiResult<User> {
    let store = s.store.clone();
    s.users_cache
        .get_or_load(&id.0.to_string(), async move { store.user(id).await })
        .await
        .map_err(ApiError::from)
}

/// A post through the post cache.
pub(crate) async fn load_post(s: &AppState, id: PostId) -> ApiResult<Post> {
    let store = s.store.clone();
    s.posts_cache
        .get_or_load(&id.0.to_string(), async move { store.post(id).await })
        .await
        .map_err(ApiError::from)
}

/// A user's view with follow counts.
pub(crate) async fn user_view(s: &AppState, u: &User, owner: bool) -> ApiResult<UserView> {
    let counts = s.store.follow_counts(u.id).await?;
    Ok(UserView::new(u, counts, owner))
}

/// Whether `viewer` may see `post`: public to all, followers-only to followers and the
/// author, private to the author.
pub(crate) async fn can_see(s: &AppState, viewer: Option<UserId>, post: &Post) -> ApiResult<bool> {
    Ok(match post.visibility {
        Visibility::Public => true,
        Visibility::Followers => match viewer {
            Some(v) if v == post.author => true,
            Some(v) => s.store.is_following(v, post.author).await?,
            None => false,
        },
        _ => viewer == Some(post.author),
    })
}

/// A post `viewer` may see, or 404 (never 403: existence does not leak).
pub(crate) async fn visible_post(
    s: &AppState,
    viewer: Option<UserId>,
    id: PostId,
) -> ApiResult<Post> {
    let post = load_post(s, id).await?;
    if can_see(s, viewer, &post).await? {
        Ok(post)
    } else {
        Err(ApiError::not_found("post"))
    }
}

/// The cursor scope of a search: the list's sort and the query text.
pub(crate) fn search_query(list: List, q: &str) -> ApiResult<QueryKey> {
    let q = q.trim();
    if q.is_empty() || q.chars().count() > 200 {
        return Err(ApiError::validation(vec![FieldError {
            field: "q".to_owned(),
            rule: "1 to 200 characters".to_owned(),
        }]));
    }
    let spec = list.spec()?;
    Ok(QueryKey::new(list.resource(), &spec).filter("q", q))
}

/// `page` with other items (same cursors).
pub(crate) fn replace_items<T, U>(page: Page<T>, items: Vec<U>) -> Page<U> {
    Page {
        items,
        next_cursor: page.next_cursor,
        prev_cursor: page.prev_cursor,
        has_next: page.has_next,
        has_prev: page.has_prev,
        total: page.total,
    }
}
