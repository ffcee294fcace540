//! Key extractors: what a request is limited by.

use std::fmt::Display;
use std::hash::BuildHasher;
use std::marker::PhantomData;

use http::HeaderName;
use http::request::Parts;

/// Longest key kept as is; longer keys are cut and suffixed with a hash of the whole.
pub const MAX_KEY_LEN: usize = 128;

/// Turns a request into the key it is limited by, or `None` when the rule does not apply to it
/// (no authenticated user, no API key header).
///
/// Implemented for closures `Fn(&Parts) -> Option<String>` (class `custom`).
pub trait KeyExtractor: Send + Sync + 'static {
    /// The kind of key (`ip`, `user`, `api_key`, `route`, `custom`): logged and traced in place
    /// of the key itself, which may be personal data.
    fn class(&self) -> &'static str;

    /// The key of this request.
    fn extract(&self, parts: &Parts) -> Option<String>;
}

impl<F> KeyExtractor for F
where
    F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
{
    fn class(&self) -> &'static str {
        "custom"
    }

    fn extract(&self, parts: &Parts) -> Option<String> {
        self(parts)
    }
}

/// Bounds a key: keys up to [`MAX_KEY_LEN`] bytes are kept; longer ones become their first
/// bytes plus a hash of the whole, so a client cannot make the limiter store huge keys.
pub(crate) fn bounded(key: String) -> String {
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    let hash = foldhash::quality::FixedState::with_seed(0x6b65_656c).hash_one(key.as_bytes());
    let mut cut = MAX_KEY_LEN - 17;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{hash:016x}", key.get(..cut).unwrap_or_default())
}

/// The authenticated user: a value of type `T` that an authentication layer put in the request
/// extensions, keyed by its `Display` form. Anonymous requests (no `T`) are not limited by
/// this rule: pair it with a [`ClientIp`](super::ClientIp) rule.
pub struct User<T>(PhantomData<fn() -> T>);

impl<T> User<T> {
    /// Keys by the `T` in the extensions.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for User<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for User<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for User<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("User")
    }
}

impl<T: Display + Send + Sync + 'static> KeyExtractor for User<T> {
    fn class(&self) -> &'static str {
        "user"
    }

    fn extract(&self, parts: &Parts) -> Option<String> {
        parts.extensions.get::<T>().map(ToString::to_string)
    }
}

/// An API key from a request header (`x-api-key`). Requests without it are not limited by this
/// rule. The key is stored as sent (bounded to [`MAX_KEY_LEN`] bytes): validate keys in your
/// authentication layer, before the limiter, if unknown keys should not get an allowance.
#[derive(Debug, Clone)]
pub struct ApiKey {
    header: HeaderName,
}

impl ApiKey {
    /// Keys by the value of `header`.
    pub fn header(header: HeaderName) -> Self {
        Self { header }
    }
}

impl KeyExtractor for ApiKey {
    fn class(&self) -> &'static str {
        "api_key"
    }

    fn extract(&self, parts: &Parts) -> Option<String> {
        let value = parts.headers.get(&self.header)?.to_str().ok()?.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }
}

/// The route: method and path (`GET /search`), so each endpoint has its own allowance.
///
/// The raw path has unbounded cardinality (`/users/1`, `/users/2`, ...); to key by the route
/// template, use a closure over your router's matched path (axum: `MatchedPath`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Route;

impl KeyExtractor for Route {
    fn class(&self) -> &'static str {
        "route"
    }

    fn extract(&self, parts: &Parts) -> Option<String> {
        Some(format!("{} {}", parts.method, parts.uri.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractors() {
        let (mut p, ()) = http::Request::builder()
            .uri("/a/b?q=1")
            .header("x-api-key", " k1 ")
            .body(())
            .unwrap()
            .into_parts();
        p.extensions.insert(42u64);
        assert_eq!(User::<u64>::new().extract(&p).unwrap(), "42");
        assert!(User::<String>::new().extract(&p).is_none());
        let api = ApiKey::header(HeaderName::from_static("x-api-key"));
        assert_eq!(api.extract(&p).unwrap(), "k1");
        assert_eq!(Route.extract(&p).unwrap(), "GET /a/b");
        let custom = |parts: &Parts| Some(parts.uri.path().to_owned());
        assert_eq!(custom.class(), "custom");
    }

    #[test]
    fn long_keys_are_bounded_and_distinct() {
        let a = bounded("é".repeat(200));
        let b = bounded(format!("{}x", "é".repeat(199)));
        assert!(a.len() <= MAX_KEY_LEN && b.len() <= MAX_KEY_LEN);
        assert_ne!(a, b);
        assert_eq!(bounded("short".into()), "short");
    }
}
