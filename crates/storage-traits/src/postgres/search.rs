//! Full-text search in PostgreSQL: `tsvector` columns, GIN indexes, `ts_rank`.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use super::error::DbResultExt;
use super::rows::{self, POST_COLS, USER_COLS};
use crate::error::Result;
use crate::model::{Post, User};
use crate::page::{Page, PageRequest, Position};
use crate::repo::{SearchHit, SearchRepo};
use crate::text;

/// The query's terms ORed as a `tsquery` text. Terms hold only letters and digits, so the text
/// cannot carry `tsquery` operators; `None` when the query has no term.
fn or_query(query: &str) -> Option<String> {
    let terms = text::query_terms(query);
    (!terms.is_empty()).then(|| terms.join(" | "))
}

impl PgStore {
    async fn ranked<T>(
        &self,
        sql: &str,
        query: &str,
        page: &PageRequest,
        decode: fn(&PgRow) -> Result<T>,
    ) -> Result<Page<SearchHit<T>>> {
        let limit = page.checked_limit()?;
        let offset = page.offset()?;
        let Some(q) = or_query(query) else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let rows = sqlx::query(sql)
            .bind(q)
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(SearchHit {
                    item: decode(r)?,
                    score: r.try_get("score").db()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = offset.saturating_add(limit as u64);
        Ok(Page::from_overfetch(items, limit, |_| Position::Offset {
            offset: next,
        }))
    }
}

#[async_trait]
impl SearchRepo for PgStore {
    async fn search_posts(&self, query: &str, page: PageRequest) -> Result<Page<SearchHit<Post>>> {
        let sql = format!(
            "SELECT {POST_COLS}, ts_rank(search, q) AS score \
             FROM posts, to_tsquery('simple', $1) q \
             WHERE visibility = 'public' AND search @@ q \
             ORDER BY score DESC, id DESC OFFSET $2 LIMIT $3"
        );
        self.ranked(&sql, query, &page, rows::post).await
    }

    async fn search_users(&self, query: &str, page: PageRequest) -> Result<Page<SearchHit<User>>> {
        let sql = format!(
            "SELECT {USER_COLS}, ts_rank(search, q) AS score \
             FROM users, to_tsquery('simple', $1) q \
             WHERE search @@ q \
             ORDER BY score DESC, id DESC OFFSET $2 LIMIT $3"
        );
        self.ranked(&sql, query, &page, rows::user).await
    }
}
