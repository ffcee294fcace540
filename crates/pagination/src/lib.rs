//! # keel-pagination
//!
//! Pagination for Rust services that never skips or repeats: signed opaque cursors, keyset
//! (seek) pages over any sort, in memory and in PostgreSQL.
//!
//! ```
//! use keel_pagination::keyset::memory;
//! use keel_pagination::{
//!     CursorCodec, KeyRing, LimitPolicy, PageRequest, QueryKey, SortSpec, SortValue, ValueKind,
//! };
//!
//! #[derive(Clone, Debug, PartialEq)]
//! struct Post { id: i64, created_at: i64 }
//!
//! // Once, at startup: the key ring (load 32+ random bytes from your secret store).
//! let codec = CursorCodec::new(KeyRing::new(1, &[7u8; 32])?);
//! // Newest first; the unique tiebreaker `id` is appended and follows the last direction.
//! let spec = SortSpec::builder().desc("created_at", ValueKind::I64).tiebreaker("id", ValueKind::I64)?;
//! let key = |p: &Post| vec![SortValue::I64(p.created_at), SortValue::I64(p.id)];
//!
//! let mut posts: Vec<Post> = (1..=5).map(|id| Post { id, created_at: 100 + id / 2 }).collect();
//! spec.sort_by_key(&mut posts, key);
//!
//! // Per request: the query the cursor is bound to (sort + filters), then the page.
//! let query = QueryKey::new("posts", &spec).filter("author", "42");
//! let request = PageRequest::with_limit(2);
//! let seek = request.seek(&codec, &query, &LimitPolicy::default())?;
//! let page = memory::paginate(&posts, &spec, &seek, key)?.into_page(&codec, &query)?;
//! assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), [5, 4]);
//! assert!(page.has_next && !page.has_prev);
//!
//! // The client sends `next_cursor` back as `after`.
//! let request = PageRequest::with_limit(2).after(page.next_cursor.unwrap_or_default());
//! let seek = request.seek(&codec, &query, &LimitPolicy::default())?;
//! let page = memory::paginate(&posts, &spec, &seek, key)?.into_page(&codec, &query)?;
//! assert_eq!(page.items.iter().map(|p| p.id).collect::<Vec<_>>(), [3, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How a repository uses it
//!
//! 1. Build the [`CursorCodec`] once from a [`KeyRing`] (rotate by adding a newer key).
//! 2. Per list query, build its [`SortSpec`] (fields plus tiebreaker) and a [`QueryKey`] naming
//!    the resource and every filter, so a cursor cannot be replayed against another query.
//! 3. Deserialize the client's [`PageRequest`]; [`PageRequest::seek`] clamps the limit with a
//!    [`LimitPolicy`] and verifies the cursor into a [`Seek`]. Map its [`PageError`] with
//!    [`PageError::http_status`] (400 for any bad cursor).
//! 4. Fetch the [`Window`] with [`keyset::memory::paginate`] (or `keyset::postgres::PgKeyset::fetch`
//!    with feature `postgres`: same semantics, one SQL statement), then [`Window::into_page`]
//!    signs the resume cursors ([`Window::into_connection`] for Relay).
//! 5. Shape the response: the [`Page`] as is, [`shapes::StripeList`], [`relay::Connection`],
//!    and a `Link` header from [`link::page_links`].
//!
//! Cursors are untrusted input: see [`cursor`] for what decoding bounds and rejects.
//!
//! # Layout
//! - [`request`]: [`PageRequest`] and [`LimitPolicy`] (limits clamped, never trusted).
//! - [`page`]: [`Page`], [`CountPolicy`] and [`Total`].
//! - [`cursor`]: [`CursorCodec`], [`KeyRing`], [`QueryKey`], [`CursorError`]; the byte format.
//! - [`sort`]: [`SortSpec`], [`SortField`], [`Order`], [`Nulls`].
//! - [`value`]: [`SortValue`] and [`ValueKind`].
//! - [`keyset`]: [`Position`], [`Seek`], [`Window`]; `memory` and `postgres` backends.
//! - [`relay`]: Relay connections ([`relay::Connection`], edges, `pageInfo`) and their arguments.
//! - [`link`]: RFC 8288 `Link` headers (`rel="next"`, `rel="prev"`), built and parsed.
//! - [`shapes`]: Stripe-style `{data, has_more}` lists and `starting_after` id parameters.
//! - [`offset`]: page-number pagination for admin screens, with its drawbacks.
//! - [`since_id`]: Twitter/Mastodon `max_id` / `since_id` / `min_id` windows.
//! - [`clock`]: the injected [`Clock`] for cursor expiry.
//! - [`error`]: [`PageError`], [`KeysetError`], [`RequestError`].
//!
//! # Features
//! | feature | enables | default |
//! |---|---|---|
//! | `postgres` | keyset SQL for PostgreSQL (sqlx `QueryBuilder`, bound parameters) | no |

pub mod clock;
pub mod cursor;
pub mod error;
pub mod keyset;
pub mod link;
pub mod offset;
pub mod page;
pub mod relay;
pub mod request;
pub mod shapes;
pub mod since_id;
pub mod sort;
pub mod value;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cursor::{CursorCodec, CursorError, KeyError, KeyRing, QueryKey};
pub use error::{KeysetError, PageError, RequestError};
pub use keyset::{Direction, Position, Seek, Window};
pub use page::{CountPolicy, Page, Total};
pub use request::{LimitPolicy, PageRequest};
pub use sort::{MAX_SORT_FIELDS, Nulls, Order, SortField, SortSpec};
pub use value::{SortValue, ValueKind};
