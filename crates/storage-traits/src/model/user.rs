//! Users.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::UserId;

/// A stored user. `username` and `email` are unique, compared ASCII case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id (UUIDv7, sorts by creation).
    pub id: UserId,
    /// Handle as typed at sign-up (`[A-Za-z0-9_]`, 3 to 30 characters).
    pub username: String,
    /// Email address as typed (ASCII).
    pub email: String,
    /// Password hash (the caller hashes; storage never sees a password).
    pub password_hash: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Short biography.
    pub bio: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Verified badge.
    pub verified: bool,
    /// Creation time (from the backend's clock).
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// What a sign-up provides.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewUser {
    /// Handle (`[A-Za-z0-9_]`, 3 to 30 characters).
    pub username: String,
    /// Email address (ASCII, one `@`, at most 254 characters).
    pub email: String,
    /// Password hash (non-empty).
    pub password_hash: String,
    /// Name shown in the UI (at most 50 characters; empty means the username).
    pub display_name: String,
    /// Short biography (at most 160 characters).
    pub bio: Option<String>,
    /// Avatar image URL (at most 2,048 characters).
    pub avatar_url: Option<String>,
}

impl NewUser {
    /// A sign-up with the required fields; the display name defaults to the username.
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        password_hash: impl Into<String>,
    ) -> Self {
        Self {
            username: username.into(),
            email: email.into(),
            password_hash: password_hash.into(),
            ..Self::default()
        }
    }
}

/// A partial update: `None` leaves a field unchanged. For the optional fields, `Some(None)`
/// clears the value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserPatch {
    /// New handle.
    pub username: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New biography (`Some(None)` clears it).
    pub bio: Option<Option<String>>,
    /// New avatar URL (`Some(None)` clears it).
    pub avatar_url: Option<Option<String>>,
    /// New verified flag.
    pub verified: Option<bool>,
}

impl UserPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Applies `patch` to `user` (already validated), stamping `updated_at`.
pub(crate) fn apply_user_patch(user: &mut User, patch: UserPatch, now: Timestamp) {
    let UserPatch {
        username,
        email,
        password_hash,
        display_name,
        bio,
        avatar_url,
        verified,
    } = patch;
    if let Some(v) = username {
        user.username = v;
    }
    if let Some(v) = email {
        user.email = v;
    }
    if let Some(v) = password_hash {
        user.password_hash = v;
    }
    if let Some(v) = display_name {
        user.display_name = v;
    }
    if let Some(v) = bio {
        user.bio = v;
    }
    if let Some(v) = avatar_url {
        user.avatar_url = v;
    }
    if let Some(v) = verified {
        user.verified = v;
    }
    user.updated_at = now;
}

/// The search terms of a user: username and display name.
pub(crate) fn user_terms(u: &User) -> Vec<String> {
    let mut t = crate::text::tokens(&u.username);
    t.extend(crate::text::tokens(&u.display_name));
    t
}
