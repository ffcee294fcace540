//! Validation rules, checked by every backend before it writes, so bad input gets the same
//! [`StorageError::InvalidInput`] everywhere.
//!
//! A check of a whole input (a sign-up, a patch, a post) reports every field at fault, one
//! [`Violation`] per field (the first rule it breaks), so a client can fix them all at once.

use crate::error::{Result, StorageError, Violation};
use crate::id::{PostId, UserId};
use crate::model::{NewComment, NewPost, NewUser, PostPatch, PostType, UserPatch};

/// Username length bounds, in characters.
pub const USERNAME_CHARS: (usize, usize) = (3, 30);
/// Longest email, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 50;
/// Longest biography, in characters.
pub const MAX_BIO_CHARS: usize = 160;
/// Longest URL (avatar, media), in characters.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest post content, in characters.
pub const MAX_POST_CHARS: usize = 5000;
/// Most media URLs on one post.
pub const MAX_MEDIA: usize = 4;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Longest password hash, in characters.
pub const MAX_PASSWORD_HASH_CHARS: usize = 1024;

/// Collects the violations of several checks.
#[derive(Debug, Default)]
struct Report(Vec<Violation>);

impl Report {
    fn check(&mut self, r: Result<()>) {
        if let Err(StorageError::InvalidInput { violations, .. }) = r {
            self.0.extend(violations);
        }
    }

    fn finish(self) -> Result<()> {
        StorageError::invalid_all(self.0).map_or(Ok(()), Err)
    }
}

fn max_chars(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(StorageError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

fn non_blank(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(StorageError::invalid(field, "must not be empty"));
    }
    max_chars(field, value, max)
}

/// Checks a username: 3 to 30 of `[A-Za-z0-9_]`.
pub fn username(value: &str) -> Result<()> {
    let (min, max) = USERNAME_CHARS;
    let n = value.chars().count();
    if n < min || n > max {
        return Err(StorageError::invalid(
            "username",
            format!("{min} to {max} characters"),
        ));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StorageError::invalid(
            "username",
            "only ASCII letters, digits and '_'",
        ));
    }
    Ok(())
}

/// Checks an email: ASCII, no whitespace, one `@` with text on both sides, at most 254 chars.
pub fn email(value: &str) -> Result<()> {
    max_chars("email", value, MAX_EMAIL_CHARS)?;
    let ok = value.is_ascii()
        && !value
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        && value
            .split_once('@')
            .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty() && !r.contains('@'));
    if !ok {
        return Err(StorageError::invalid(
            "email",
            "an ASCII address of the form local@domain",
        ));
    }
    Ok(())
}

fn url(field: &'static str, value: &str) -> Result<()> {
    non_blank(field, value, MAX_URL_CHARS)
}

/// Checks a sign-up; reports every field at fault.
pub fn new_user(u: &NewUser) -> Result<()> {
    let mut r = Report::default();
    r.check(username(&u.username));
    r.check(email(&u.email));
    r.check(non_blank(
        "password_hash",
        &u.password_hash,
        MAX_PASSWORD_HASH_CHARS,
    ));
    r.check(max_chars(
        "display_name",
        &u.display_name,
        MAX_DISPLAY_NAME_CHARS,
    ));
    if let Some(bio) = &u.bio {
        r.check(max_chars("bio", bio, MAX_BIO_CHARS));
    }
    if let Some(a) = &u.avatar_url {
        r.check(url("avatar_url", a));
    }
    r.finish()
}

/// Checks a user patch; reports every field at fault.
pub fn user_patch(p: &UserPatch) -> Result<()> {
    let mut r = Report::default();
    if let Some(v) = &p.username {
        r.check(username(v));
    }
    if let Some(v) = &p.email {
        r.check(email(v));
    }
    if let Some(v) = &p.password_hash {
        r.check(non_blank("password_hash", v, MAX_PASSWORD_HASH_CHARS));
    }
    if let Some(v) = &p.display_name {
        r.check(max_chars("display_name", v, MAX_DISPLAY_NAME_CHARS));
    }
    if let Some(Some(v)) = &p.bio {
        r.check(max_chars("bio", v, MAX_BIO_CHARS));
    }
    if let Some(Some(v)) = &p.avatar_url {
        r.check(url("avatar_url", v));
    }
    r.finish()
}

fn media(media: &[String], kind: PostType) -> Result<()> {
    if media.len() > MAX_MEDIA {
        return Err(StorageError::invalid(
            "media",
            format!("at most {MAX_MEDIA} items"),
        ));
    }
    for m in media {
        url("media", m)?;
    }
    if matches!(kind, PostType::Image | PostType::Video) && media.is_empty() {
        return Err(StorageError::invalid(
            "media",
            format!("a {kind} post needs at least one media URL"),
        ));
    }
    Ok(())
}

fn post_body(content: &str, media_urls: &[String], kind: PostType) -> Result<()> {
    let mut r = Report::default();
    r.check(non_blank("content", content, MAX_POST_CHARS));
    r.check(media(media_urls, kind));
    r.finish()
}

/// Checks a new post.
pub fn new_post(p: &NewPost) -> Result<()> {
    post_body(&p.content, &p.media, p.kind)
}

/// Checks a post after a patch is applied to it (the merged content, media and kind).
pub fn patched_post(content: &str, media: &[String], kind: PostType) -> Result<()> {
    post_body(content, media, kind)
}

/// Checks that a patch is internally valid before it is merged; reports every field at fault
/// (media against the patch's kind when both are given).
pub fn post_patch(p: &PostPatch) -> Result<()> {
    let mut r = Report::default();
    if let Some(c) = &p.content {
        r.check(non_blank("content", c, MAX_POST_CHARS));
    }
    if let Some(m) = &p.media {
        r.check(media(m, p.kind.unwrap_or(PostType::Text)));
    }
    r.finish()
}

/// Checks a new comment.
pub fn new_comment(c: &NewComment) -> Result<()> {
    non_blank("content", &c.content, MAX_COMMENT_CHARS)
}

/// API key label length bounds, in characters.
pub const API_KEY_NAME_CHARS: (usize, usize) = (1, 64);

/// Checks an API key's label: 1 to 64 characters, not only whitespace.
pub fn api_key_name(name: &str) -> Result<()> {
    let (min, max) = API_KEY_NAME_CHARS;
    let n = name.trim().chars().count();
    if n < min || name.chars().count() > max {
        return Err(StorageError::invalid(
            "name",
            format!("{min} to {max} characters"),
        ));
    }
    Ok(())
}

/// Most ids one [`posts_by_ids`](crate::PostRepo::posts_by_ids) call accepts.
pub const MAX_IDS_PER_CALL: usize = 1000;
/// Most records one outbox claim returns.
pub const MAX_CLAIM: u32 = 1000;

/// Checks a batch of post ids.
pub fn post_ids(ids: &[PostId]) -> Result<()> {
    if ids.len() > MAX_IDS_PER_CALL {
        return Err(StorageError::invalid(
            "ids",
            format!("at most {MAX_IDS_PER_CALL} ids per call; split the batch"),
        ));
    }
    Ok(())
}

/// Checks a follow: nobody follows themselves.
pub fn follow(follower: UserId, followee: UserId) -> Result<()> {
    if follower == followee {
        return Err(StorageError::invalid(
            "followee",
            "a user cannot follow themselves",
        ));
    }
    Ok(())
}

/// Checks an outbox claim size (1 to [`MAX_CLAIM`]) and returns it.
pub fn claim_limit(limit: u32) -> Result<usize> {
    if limit == 0 || limit > MAX_CLAIM {
        return Err(StorageError::invalid(
            "limit",
            format!("claim 1 to {MAX_CLAIM} records at a time"),
        ));
    }
    Ok(limit as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<()>) -> &'static str {
        match r {
            Err(StorageError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut u = NewUser::new("a b", "nope", "hash");
        u.bio = Some("x".repeat(MAX_BIO_CHARS + 1));
        let e = new_user(&u).unwrap_err();
        let fields: Vec<&str> = e.violations().iter().map(|v| v.field).collect();
        assert_eq!(fields, ["username", "email", "bio"]);
        assert!(matches!(
            e,
            StorageError::InvalidInput {
                field: "username",
                ..
            }
        ));
        let mut p = NewPost::text(UserId::from(uuid::Uuid::nil()), " ");
        p.kind = PostType::Video;
        let fields: Vec<&str> = new_post(&p)
            .unwrap_err()
            .violations()
            .iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["content", "media"]);
        let patch = UserPatch {
            email: Some("x".into()),
            display_name: Some("d".repeat(MAX_DISPLAY_NAME_CHARS + 1)),
            ..UserPatch::default()
        };
        assert_eq!(user_patch(&patch).unwrap_err().violations().len(), 2);
        assert!(new_user(&NewUser::new("ada", "a@b.c", "h")).is_ok());
    }

    #[test]
    fn rules_name_their_field() {
        assert_eq!(field(username("ab")), "username");
        assert_eq!(field(username("has space")), "username");
        assert!(username("ada_99").is_ok());
        assert_eq!(field(email("nope")), "email");
        assert_eq!(field(email("a@b@c")), "email");
        assert!(email("a@b.c").is_ok());
        let p = NewPost::text(UserId::from(uuid::Uuid::nil()), "   ");
        assert_eq!(field(new_post(&p)), "content");
        let mut p = NewPost::text(UserId::from(uuid::Uuid::nil()), "x");
        p.kind = PostType::Image;
        assert_eq!(field(new_post(&p)), "media");
        p.content = "x".repeat(MAX_POST_CHARS + 1);
        assert_eq!(field(new_post(&p)), "content");
    }
}
