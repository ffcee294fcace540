//! The API description: `/openapi.json`, generated from the handlers' `#[utoipa::path]`
//! annotations and the request/response types, and `/docs`, an interactive page that works
//! offline (its script is served by this server, no CDN).

use axum::Json;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, auth, comments, feed, posts, social, users, views};

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Admin-Token"))),
        );
    }
}

/// The OpenAPI document of the social API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Keel social API", description = "Every Keel crate assembled into a social REST service."),
    paths(
        users::register, users::get_user, users::put_user, users::patch_user, users::delete_user,
        users::search_users,
        auth::login, auth::refresh, auth::logout, auth::create_api_key, auth::revoke_api_key,
        posts::create_post, posts::get_post, posts::put_post, posts::patch_post, posts::delete_post,
        posts::list_posts, posts::user_posts,
        social::follow, social::unfollow, social::followers, social::following, social::like,
        social::unlike,
        comments::add_comment, comments::list_comments, comments::delete_comment,
        feed::feed, feed::notifications, feed::trending, feed::search_posts,
        admin::set_verified,
    ),
    components(schemas(
        views::UserView, views::PostView, views::CommentView, views::FollowView, views::LikeView,
        crate::error::ErrorBody, crate::notify::Notification, posts::SortField, posts::Order,
    )),
    modifiers(&Security),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `GET /docs`.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../assets/docs.html"))
}

/// `GET /docs/app.js`.
pub async fn docs_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/docs.js"),
    )
        .into_response()
}
