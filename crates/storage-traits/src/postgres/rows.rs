//! Decoding rows into model types.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use uuid::Uuid;

use super::error::DbResultExt;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::id::{CommentId, PostId, UserId};
use crate::model::{Comment, Follow, Post, User};

/// Columns selected for a user.
pub(crate) const USER_COLS: &str = "id, username, email, password_hash, display_name, bio, \
     avatar_url, verified, created_at, updated_at";

/// Columns selected for a post.
pub(crate) const POST_COLS: &str = "id, author_id, content, media, kind, visibility, like_count, \
     comment_count, hashtags, mentions, created_at, updated_at";

/// Columns selected for a comment.
pub(crate) const COMMENT_COLS: &str = "id, post_id, author_id, parent_id, content, created_at";

fn ts(row: &PgRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_micros(row.try_get(col).db()?))
}

pub(crate) fn user(row: &PgRow) -> Result<User> {
    Ok(User {
        id: UserId(row.try_get("id").db()?),
        username: row.try_get("username").db()?,
        email: row.try_get("email").db()?,
        password_hash: row.try_get("password_hash").db()?,
        display_name: row.try_get("display_name").db()?,
        bio: row.try_get("bio").db()?,
        avatar_url: row.try_get("avatar_url").db()?,
        verified: row.try_get("verified").db()?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn post(row: &PgRow) -> Result<Post> {
    let kind: String = row.try_get("kind").db()?;
    let visibility: String = row.try_get("visibility").db()?;
    let Json(media): Json<Vec<String>> = row.try_get("media").db()?;
    Ok(Post {
        id: PostId(row.try_get("id").db()?),
        author: UserId(row.try_get("author_id").db()?),
        content: row.try_get("content").db()?,
        media,
        kind: kind.parse().map_err(|_| corrupt("posts.kind"))?,
        visibility: visibility
            .parse()
            .map_err(|_| corrupt("posts.visibility"))?,
        like_count: row.try_get("like_count").db()?,
        comment_count: row.try_get("comment_count").db()?,
        hashtags: row.try_get("hashtags").db()?,
        mentions: row.try_get("mentions").db()?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn comment(row: &PgRow) -> Result<Comment> {
    let parent: Option<Uuid> = row.try_get("parent_id").db()?;
    Ok(Comment {
        id: CommentId(row.try_get("id").db()?),
        post: PostId(row.try_get("post_id").db()?),
        author: UserId(row.try_get("author_id").db()?),
        parent: parent.map(CommentId),
        content: row.try_get("content").db()?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn follow(row: &PgRow) -> Result<Follow> {
    Ok(Follow {
        follower: UserId(row.try_get("follower_id").db()?),
        followee: UserId(row.try_get("followee_id").db()?),
        created_at: ts(row, "created_at")?,
    })
}

fn corrupt(what: &str) -> crate::StorageError {
    crate::StorageError::Corrupt {
        detail: format!("{what} holds an unknown value"),
    }
}

/// Sentinels standing for "no position" in keyset queries (descending and ascending lists).
pub(crate) const TOP: (i64, Uuid) = (i64::MAX, Uuid::max());
pub(crate) const BOTTOM: (i64, Uuid) = (i64::MIN, Uuid::nil());
