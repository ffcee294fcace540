//! Text analysis shared by every backend: hashtags, mentions and search tokens.
//!
//! Backends never parse text themselves; they store what these functions return, so a post has
//! the same hashtags, mentions and search terms whichever backend holds it.

/// Longest hashtag or mention kept, in characters; longer ones are cut.
pub const MAX_TAG_CHARS: usize = 64;

/// Hashtags in `text`: `#` at the start or after a non-word character, followed by word
/// characters (letters, digits, `_`). Lowercased, without `#`, deduplicated in first-occurrence
/// order.
pub fn hashtags(text: &str) -> Vec<String> {
    sigils(text, '#')
}

/// Mentions in `text`: `@` at the start or after a non-word character, followed by username
/// characters. Lowercased, without `@`, deduplicated in first-occurrence order.
pub fn mentions(text: &str) -> Vec<String> {
    sigils(text, '@')
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn sigils(text: &str, sigil: char) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == sigil && !prev.is_some_and(is_word) {
            let mut tag = String::new();
            let mut len = 0usize;
            while let Some(&n) = chars.peek() {
                if !is_word(n) {
                    break;
                }
                if len < MAX_TAG_CHARS {
                    tag.extend(n.to_lowercase());
                    len += 1;
                }
                prev = Some(n);
                chars.next();
            }
            if !tag.is_empty() && !out.contains(&tag) {
                out.push(tag);
            }
            if len == 0 {
                prev = Some(c);
            }
            continue;
        }
        prev = Some(c);
    }
    out
}

/// Search terms of `text`: maximal runs of letters and digits, lowercased, each at most
/// [`MAX_TAG_CHARS`] characters. `_`, `#`, `@` and punctuation separate terms.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.chars()
                .take(MAX_TAG_CHARS)
                .flat_map(char::to_lowercase)
                .collect()
        })
        .collect()
}

/// The distinct search terms of a query, in first-occurrence order (at most 16).
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(query) {
        if !out.contains(&t) && out.len() < 16 {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_and_mentions() {
        let t = "Hi @Ada and @bob_1! #Rust #rust #Async-io mail@example.com a#b #";
        assert_eq!(hashtags(t), ["rust", "async"]);
        assert_eq!(mentions(t), ["ada", "bob_1"]);
        assert_eq!(hashtags("#Ünïcode"), ["ünïcode"]);
        assert!(hashtags("").is_empty());
    }

    #[test]
    fn tokens_split_on_non_alphanumerics() {
        assert_eq!(
            tokens("Hello, #Rust_lang world!"),
            ["hello", "rust", "lang", "world"]
        );
        assert_eq!(query_terms("a A b"), ["a", "b"]);
    }
}
