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

/// OpenAPI links from the responses that create or list resources to the operations on them,
/// so clients and stateful testers (schemathesis) reach real users, posts, comments and keys.
struct Links;

/// `(path, method, status, link name, target operation id, target parameter, value)`.
const LINKS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "/users",
        "post",
        "201",
        "GetUser",
        "get_user",
        "id",
        "$response.body#/id",
    ),
    (
        "/users",
        "post",
        "201",
        "UserPosts",
        "user_posts",
        "id",
        "$response.body#/id",
    ),
    (
        "/users",
        "post",
        "201",
        "Followers",
        "followers",
        "id",
        "$response.body#/id",
    ),
    (
        "/users",
        "post",
        "201",
        "Following",
        "following",
        "id",
        "$response.body#/id",
    ),
    (
        "/users",
        "post",
        "201",
        "Follow",
        "follow",
        "id",
        "$response.body#/id",
    ),
    (
        "/users",
        "post",
        "201",
        "Unfollow",
        "unfollow",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "GetPost",
        "get_post",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "PatchPost",
        "patch_post",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "PutPost",
        "put_post",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "DeletePost",
        "delete_post",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "Like",
        "like",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "Unlike",
        "unlike",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "AddComment",
        "add_comment",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "post",
        "201",
        "ListComments",
        "list_comments",
        "id",
        "$response.body#/id",
    ),
    (
        "/posts",
        "get",
        "200",
        "GetFirstPost",
        "get_post",
        "id",
        "$response.body#/items/0/id",
    ),
    (
        "/posts",
        "get",
        "200",
        "FirstPostAuthor",
        "get_user",
        "id",
        "$response.body#/items/0/author_id",
    ),
    (
        "/posts/{id}/comments",
        "post",
        "201",
        "DeleteComment",
        "delete_comment",
        "id",
        "$response.body#/id",
    ),
    (
        "/auth/api-keys",
        "post",
        "201",
        "RevokeApiKey",
        "revoke_api_key",
        "id",
        "$response.body#/id",
    ),
];

impl Modify for Links {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::LinkBuilder;
        for (path, method, status, name, target, param, value) in LINKS {
            let Some(item) = api.paths.paths.get_mut(*path) else {
                continue;
            };
            let op = match *method {
                "get" => item.get.as_mut(),
                "post" => item.post.as_mut(),
                _ => None,
            };
            let Some(RefOr::T(response)) = op.and_then(|o| o.responses.responses.get_mut(*status))
            else {
                continue;
            };
            let link = LinkBuilder::new()
                .operation_id(*target)
                .parameter(*param, *value)
                .build();
            response.links.insert((*name).to_owned(), RefOr::T(link));
        }
    }
}

/// The OpenAPI document of the social API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Keel social API", description = "Every Keel crate assembled into a social REST service."),
    paths(
        users::register, users::get_user, users::put_user, users::patch_user, users::delete_user,
        users::search_users,
        auth::login, auth::refresh, auth::logout, auth::create_api_key, auth::list_api_keys,
        auth::revoke_api_key,
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
    modifiers(&Security, &Links),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The OpenAPI document as JSON. utoipa 5 writes a link's `operationId` as `operation_id`;
/// this renames it (and `request_body`) as OpenAPI spells them.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        let responses = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
            .flat_map(|r| r.values_mut());
        for response in responses {
            let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut()) else {
                continue;
            };
            for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
                for (from, to) in [
                    ("operation_id", "operationId"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(v) = link.remove(from) {
                        link.insert(to.to_owned(), v);
                    }
                }
            }
        }
    }
    doc
}

/// `GET /openapi.json`.
pub async fn json() -> Json<serde_json::Value> {
    Json(document())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_attached_and_targets_an_operation() {
        let doc = document();
        let mut ids = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                    ids.push(id.to_owned());
                }
            }
        }
        for (path, method, status, name, target, _, _) in LINKS {
            let link = &doc["paths"][path][method]["responses"][status]["links"][name];
            assert_eq!(
                link["operationId"], *target,
                "{path} {method} {status} {name}"
            );
            assert!(ids.iter().any(|i| i == target), "no operation {target}");
        }
    }
}
