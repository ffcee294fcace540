//! Rules: which requests a limit applies to, by what key, under which quota (per route, per
//! tier).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;

use super::LayerError;
use super::key::KeyExtractor;
use crate::Quota;

type Predicate = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;
type Classifier = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

#[derive(Clone)]
enum Quotas {
    Fixed(Quota),
    Tiered {
        classify: Classifier,
        tiers: HashMap<String, Quota>,
    },
}

/// One named limit: a quota (or a quota per tier), a key extractor, and the requests it applies
/// to. Every rule that applies to a request must admit it.
///
/// ```
/// use keel_ratelimit::tower::{ClientIp, Route, Rule};
/// let per_ip = Rule::new("per-ip", "100/m".parse()?, ClientIp::new())?;
/// let search = Rule::new("search", "5/s".parse()?, Route)?.route_prefix("/search");
/// # let _ = (per_ip, search);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Rule {
    pub(crate) name: String,
    quotas: Quotas,
    pub(crate) key: Arc<dyn KeyExtractor>,
    applies: Vec<Predicate>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("key", &self.key.class())
            .finish_non_exhaustive()
    }
}

fn valid_name(name: &str) -> Result<String, LayerError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(LayerError::InvalidPolicyName(
            name.chars().take(80).collect(),
        ))
    }
}

impl Rule {
    /// A rule named `name` (sent in the headers) limiting every request to `quota` per key.
    ///
    /// # Errors
    /// [`LayerError::InvalidPolicyName`] unless `name` is 1 to 64 of `[A-Za-z0-9._-]`.
    pub fn new(name: &str, quota: Quota, key: impl KeyExtractor) -> Result<Self, LayerError> {
        Ok(Self {
            name: valid_name(name)?,
            quotas: Quotas::Fixed(quota),
            key: Arc::new(key),
            applies: Vec::new(),
        })
    }

    /// A rule whose quota depends on the request's tier: `classify` names the tier (from a
    /// claim, a header, an extension), `tiers` gives each tier's quota. A request whose tier is
    /// unknown or unlisted is not limited by this rule.
    ///
    /// # Errors
    /// [`LayerError::InvalidPolicyName`] as for [`Rule::new`]; [`LayerError::NoTier`] when
    /// `tiers` is empty.
    pub fn tiered<T: Into<String>>(
        name: &str,
        key: impl KeyExtractor,
        classify: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static,
        tiers: impl IntoIterator<Item = (T, Quota)>,
    ) -> Result<Self, LayerError> {
        let name = valid_name(name)?;
        let tiers: HashMap<String, Quota> = tiers.into_iter().map(|(t, q)| (t.into(), q)).collect();
        if tiers.is_empty() {
            return Err(LayerError::NoTier(name));
        }
        Ok(Self {
            name,
            quotas: Quotas::Tiered {
                classify: Arc::new(classify),
                tiers,
            },
            key: Arc::new(key),
            applies: Vec::new(),
        })
    }

    /// Applies the rule only to paths starting with `prefix` (per-route limits).
    pub fn route_prefix(self, prefix: &str) -> Self {
        let prefix = prefix.to_owned();
        self.when(move |parts| parts.uri.path().starts_with(&prefix))
    }

    /// Applies the rule only to requests for which `predicate` holds (methods, hosts, ...).
    pub fn when(mut self, predicate: impl Fn(&Parts) -> bool + Send + Sync + 'static) -> Self {
        self.applies.push(Arc::new(predicate));
        self
    }

    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quota and key of this request under this rule, if the rule applies to it.
    pub(crate) fn resolve(&self, parts: &Parts) -> Option<(Quota, String)> {
        if !self.applies.iter().all(|p| p(parts)) {
            return None;
        }
        let quota = match &self.quotas {
            Quotas::Fixed(q) => *q,
            Quotas::Tiered { classify, tiers } => {
                let tier = classify(parts)?;
                *tiers.get(&tier)?
            }
        };
        let key = super::key::bounded(self.key.extract(parts)?);
        Some((quota, key))
    }
}
