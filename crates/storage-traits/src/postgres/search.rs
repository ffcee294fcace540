//! Full-text search in PostgreSQL: `tsvector` columns, GIN indexes, `ts_rank`.
//!
//! One query ranks the matches (ids and scores only, at most
//! [`MAX_SEARCH_HITS`](crate::page::MAX_SEARCH_HITS)); the window is cut from that ranking by
//! `keel-pagination`'s in-memory keyset, exactly as in the memory backend, and a second query
//! loads the rows of the page.

use std::collections::HashMap;

use async_trait::async_trait;
use uuid::Uuid;

use super::PgStore;
use super::error::DbResultExt;
use super::rows::{self, POST_COLS, USER_COLS};
use crate::error::Result;
use crate::id::{PostId, UserId};
use crate::model::{Post, User};
use crate::page::{List, MAX_SEARCH_HITS, Seek, SortValue, Window, check_seek, paginate_keys};
use crate::repo::{SearchHit, SearchRepo};
use crate::text;

/// The query's terms ORed as a `tsquery` text. Terms hold only letters and digits, so the text
/// cannot carry `tsquery` operators; `None` when the query has no term.
fn or_query(query: &str) -> Option<String> {
    let terms = text::query_terms(query);
    (!terms.is_empty()).then(|| terms.join(" | "))
}

/// What one search ranks: a table, its columns, a visibility condition and its row decoder.
struct Target<T> {
    table: &'static str,
    cols: &'static str,
    /// A condition ending in `AND`, or empty.
    visible: &'static str,
    list: List,
    decode: fn(&sqlx::postgres::PgRow) -> Result<T, sqlx::Error>,
    id_of: fn(&T) -> Uuid,
}

/// The ranking query of a search: ids and scores of the best matches (`$1` the `tsquery`
/// text, `$2` the cap).
pub(crate) fn rank_sql(table: &str, visible: &str) -> String {
    format!(
        "SELECT ts_rank(search, q)::float8 AS score, id \
         FROM {table}, to_tsquery('simple', $1) q \
         WHERE {visible} search @@ q \
         ORDER BY score DESC, id DESC LIMIT $2"
    )
}

impl PgStore {
    async fn ranked<T>(
        &self,
        target: Target<T>,
        query: &str,
        seek: &Seek,
    ) -> Result<Window<SearchHit<T>>> {
        check_seek(seek)?;
        let Target {
            table,
            cols,
            visible,
            list,
            decode,
            id_of,
        } = target;
        let hits: Vec<(f64, Uuid)> = match or_query(query) {
            None => Vec::new(),
            Some(q) => sqlx::query_as(&rank_sql(table, visible))
                .bind(q)
                .bind(MAX_SEARCH_HITS as i64)
                .fetch_all(&self.pool)
                .await
                .db()?,
        };
        let window = paginate_keys(
            &hits,
            list,
            seek,
            |(score, id)| vec![SortValue::F64(*score), SortValue::Uuid(*id)],
            |k| Some(*k),
        )?;
        let ids: Vec<Uuid> = window.items.iter().map(|(_, id)| *id).collect();
        let mut rows: HashMap<Uuid, T> = if ids.is_empty() {
            HashMap::new()
        } else {
            let sql = format!("SELECT {cols} FROM {table} WHERE id = ANY($1)");
            sqlx::query(&sql)
                .bind(&ids)
                .fetch_all(&self.pool)
                .await
                .db()?
                .iter()
                .map(|r| decode(r).db().map(|t| (id_of(&t), t)))
                .collect::<Result<_>>()?
        };
        // A row deleted between the two queries drops out of the page.
        let (items, item_values) = window
            .items
            .iter()
            .zip(window.item_values)
            .filter_map(|((score, id), v)| {
                rows.remove(id).map(|item| {
                    (
                        SearchHit {
                            item,
                            score: *score,
                        },
                        v,
                    )
                })
            })
            .unzip();
        Ok(Window {
            items,
            item_values,
            next: window.next,
            prev: window.prev,
            has_next: window.has_next,
            has_prev: window.has_prev,
            total: window.total,
        })
    }
}

#[async_trait]
impl SearchRepo for PgStore {
    async fn search_posts(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<Post>>> {
        let target = Target {
            table: "posts",
            cols: POST_COLS,
            visible: "visibility = 'public' AND",
            list: List::SearchPosts,
            decode: rows::post,
            id_of: |p| p.id.0,
        };
        self.ranked(target, query, seek).await
    }

    async fn search_users(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<User>>> {
        let target = Target {
            table: "users",
            cols: USER_COLS,
            visible: "",
            list: List::SearchUsers,
            decode: rows::user,
            id_of: |u| u.id.0,
        };
        self.ranked(target, query, seek).await
    }

    async fn reindex_post(&self, post: PostId) -> Result<()> {
        self.reindex("posts", post.0).await
    }

    async fn reindex_user(&self, user: UserId) -> Result<()> {
        self.reindex("users", user.0).await
    }
}

impl PgStore {
    /// Recomputes one row's search vector from its stored text (nothing when the row is gone:
    /// its index entry went with it). Skips the write when the vector is already current, so
    /// a redelivered event costs one read.
    async fn reindex(&self, table: &str, id: Uuid) -> Result<()> {
        let sql = format!(
            "UPDATE {table} SET search = to_tsvector('simple', search_text) \
             WHERE id = $1 AND search IS DISTINCT FROM to_tsvector('simple', search_text)"
        );
        sqlx::query(&sql).bind(id).execute(&self.pool).await.db()?;
        Ok(())
    }
}
