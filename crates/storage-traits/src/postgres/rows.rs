//! Decoding rows into model types.

use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::clock::Timestamp;
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

fn ts(row: &PgRow, col: &str) -> Result<Timestamp, sqlx::Error> {
    Ok(Timestamp::from_micros(row.try_get(col)?))
}

pub(crate) fn user(row: &PgRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        display_name: row.try_get("display_name")?,
        bio: row.try_get("bio")?,
        avatar_url: row.try_get("avatar_url")?,
        verified: row.try_get("verified")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn post(row: &PgRow) -> Result<Post, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let visibility: String = row.try_get("visibility")?;
    let Json(media): Json<Vec<String>> = row.try_get("media")?;
    Ok(Post {
        id: PostId(row.try_get("id")?),
        author: UserId(row.try_get("author_id")?),
        content: row.try_get("content")?,
        media,
        kind: kind.parse().map_err(|_| corrupt("posts.kind"))?,
        visibility: visibility
            .parse()
            .map_err(|_| corrupt("posts.visibility"))?,
        like_count: row.try_get("like_count")?,
        comment_count: row.try_get("comment_count")?,
        hashtags: row.try_get("hashtags")?,
        mentions: row.try_get("mentions")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn comment(row: &PgRow) -> Result<Comment, sqlx::Error> {
    let parent: Option<Uuid> = row.try_get("parent_id")?;
    Ok(Comment {
        id: CommentId(row.try_get("id")?),
        post: PostId(row.try_get("post_id")?),
        author: UserId(row.try_get("author_id")?),
        parent: parent.map(CommentId),
        content: row.try_get("content")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn follow(row: &PgRow) -> Result<Follow, sqlx::Error> {
    Ok(Follow {
        follower: UserId(row.try_get("follower_id")?),
        followee: UserId(row.try_get("followee_id")?),
        created_at: ts(row, "created_at")?,
    })
}

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what} holds an unknown value").into())
}
