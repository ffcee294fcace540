//! Cursor pagination at the edge: query parameters to a keel-pagination [`Seek`], and pages
//! answered as JSON with an RFC 8288 `Link` header.

use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use keel_pagination::link::page_links;
use keel_pagination::{Page, PageRequest, QueryKey, Seek};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::state::AppState;

/// `?limit=&after=&before=` (limit: default 20, at most 100).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// Items per page (default 20, max 100).
    pub limit: Option<u32>,
    /// A `next_cursor` to read on from.
    pub after: Option<String>,
    /// A `prev_cursor` to read back from.
    pub before: Option<String>,
}

impl PageParams {
    /// These parameters as keel-pagination's request (cursors not yet verified).
    pub fn request(&self) -> PageRequest {
        PageRequest {
            limit: self.limit,
            after: self.after.clone(),
            before: self.before.clone(),
        }
    }

    /// The seek these parameters ask for, the cursor verified against `query`.
    ///
    /// # Errors
    /// 400 for a bad or foreign cursor, or both cursors.
    pub fn seek(&self, state: &AppState, query: &QueryKey) -> ApiResult<Seek> {
        Ok(self
            .request()
            .seek(&state.codec, query, &state.page_policy)?)
    }
}

/// A page as answered: `{items, next_cursor, prev_cursor, has_next, has_prev}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageBody<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<String>,
    /// Pass as `before` for the previous page.
    pub prev_cursor: Option<String>,
    /// Whether a next page exists now.
    pub has_next: bool,
    /// Whether a previous page exists now.
    pub has_prev: bool,
}

/// A page with its `Link` header, relative to the request URI.
#[derive(Debug)]
pub struct Paged<T> {
    page: Page<T>,
    uri: Uri,
}

impl<T> Paged<T> {
    /// `page`, linked from `uri`.
    pub fn new(page: Page<T>, uri: Uri) -> Self {
        Self { page, uri }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let base = self
            .uri
            .path_and_query()
            .map_or_else(|| self.uri.path().to_owned(), |p| p.as_str().to_owned());
        let links = page_links(&base, &self.page);
        let body = PageBody {
            items: self.page.items,
            next_cursor: self.page.next_cursor,
            prev_cursor: self.page.prev_cursor,
            has_next: self.page.has_next,
            has_prev: self.page.has_prev,
        };
        let mut response = axum::Json(body).into_response();
        if !links.is_empty()
            && let Ok(v) = HeaderValue::from_str(&links.to_string())
        {
            response.headers_mut().insert(header::LINK, v);
        }
        response
    }
}
