//! RFC 8288 `Link` headers, as GitHub and Mastodon send them:
//! `<https://api.example/posts?limit=20&after=...>; rel="next", <...>; rel="prev"`.
//!
//! ```
//! use keel_pagination::Page;
//! use keel_pagination::link::page_links;
//! let page = Page::<u32> {
//!     items: vec![1, 2],
//!     next_cursor: Some("AbC".into()),
//!     prev_cursor: Some("XyZ".into()),
//!     has_next: true,
//!     has_prev: false,
//!     total: None,
//! };
//! let header = page_links("https://api.example/posts?limit=2&after=old", &page);
//! assert_eq!(header.to_string(), r#"<https://api.example/posts?limit=2&after=AbC>; rel="next""#);
//! let parsed = keel_pagination::link::LinkHeader::parse(&header.to_string());
//! assert_eq!(parsed.get("next"), Some("https://api.example/posts?limit=2&after=AbC"));
//! ```

use std::fmt;

use crate::page::Page;

/// A `Link` header value: target URLs with their relation types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkHeader {
    links: Vec<(String, String)>,
}

impl LinkHeader {
    /// An empty header (renders as an empty string: do not send it).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a link to `url` with relation `rel` (e.g. `next`, `prev`, `first`, `last`).
    #[must_use]
    pub fn with(mut self, rel: &str, url: impl Into<String>) -> Self {
        self.links.push((rel.to_owned(), url.into()));
        self
    }

    /// Whether there are no links.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The URL of the first link with relation `rel`.
    pub fn get(&self, rel: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(rel))
            .map(|(_, u)| u.as_str())
    }

    /// Parses a `Link` header value leniently (what a client does with GitHub's or
    /// Mastodon's): `<url>; rel="x"` entries separated by commas; entries it cannot read are
    /// skipped. A `rel` with several space-separated types yields one link per type.
    pub fn parse(value: &str) -> Self {
        let mut links = Vec::new();
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let after = rest.get(start + 1..).unwrap_or_default();
            let Some(end) = after.find('>') else { break };
            let url = after.get(..end).unwrap_or_default();
            let tail = after.get(end + 1..).unwrap_or_default();
            let params_end = tail.find('<').unwrap_or(tail.len());
            let params = tail.get(..params_end).unwrap_or_default();
            for param in params.split(';') {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case("rel") {
                    let v = v.trim().trim_end_matches(',').trim().trim_matches('"');
                    for rel in v.split_ascii_whitespace() {
                        links.push((rel.to_owned(), url.to_owned()));
                    }
                }
            }
            rest = tail.get(params_end..).unwrap_or_default();
        }
        Self { links }
    }
}

impl fmt::Display for LinkHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (rel, url)) in self.links.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "<{url}>; rel=\"{rel}\"")?;
        }
        Ok(())
    }
}

/// `next` (when `has_next`) and `prev` (when `has_prev`) links for a cursor page: `base` with
/// its `after`/`before` parameters replaced, other parameters (such as `limit`) kept.
pub fn page_links<T>(base: &str, page: &Page<T>) -> LinkHeader {
    let mut header = LinkHeader::new();
    if page.has_next
        && let Some(c) = &page.next_cursor
    {
        header = header.with(
            "next",
            with_params(base, &["after", "before"], &[("after", c)]),
        );
    }
    if page.has_prev
        && let Some(c) = &page.prev_cursor
    {
        header = header.with(
            "prev",
            with_params(base, &["after", "before"], &[("before", c)]),
        );
    }
    header
}

/// `base` with the query parameters named in `remove` dropped and `add` appended
/// (percent-encoded). Fragments are dropped.
pub fn with_params(base: &str, remove: &[&str], add: &[(&str, &str)]) -> String {
    let base = base.split('#').next().unwrap_or(base);
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    let mut out = String::with_capacity(base.len() + 64);
    out.push_str(path);
    let mut sep = '?';
    let skip: Vec<&str> = remove
        .iter()
        .chain(add.iter().map(|(k, _)| k))
        .copied()
        .collect();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap_or(pair);
        if !skip.contains(&key) {
            out.push(sep);
            out.push_str(pair);
            sep = '&';
        }
    }
    for (k, v) in add {
        out.push(sep);
        percent_encode(k, &mut out);
        out.push('=');
        percent_encode(v, &mut out);
        sep = '&';
    }
    out
}

/// Percent-encodes all but RFC 3986 unreserved characters.
fn percent_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}
