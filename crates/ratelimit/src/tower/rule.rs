//! Rules: which requests a limit applies to, by what key, under which quota (per route, per
//! tier).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;

use super::LayerError;
use super::key::KeyExtractor;
use crate::{PolicyBuilder, Quota};

type Predicate = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;
type Classifier = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

#[derive(Clone)]
enum Quotas {
    Fixed(Quota),
    Tiered {
        classify: Classifier,
        tiers: HashMap<String, Quota>,
    },
    /// A core policy: the request's scope selects several quotas, all of which must admit.
    Scoped {
        classify: Classifier,
        policy: Arc<PolicyBuilder<String>>,
    },
}

/// One limit a rule puts on one request: the policy name for the headers, the quota, the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) policy: String,
    pub(crate) quota: Quota,
    pub(crate) key: String,
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

    /// A rule enforcing a core [`Policy`](crate::Policy)'s description: `classify` names the
    /// request's scope (a tier, an endpoint class, `"anonymous"`, or a combination such as
    /// `"free:search"`), and every quota of that scope in `policy` must admit. A request whose
    /// scope has no rule and no default is not limited by this rule.
    ///
    /// Counts stay separate per scope, as in the core policy (the scope is part of each key).
    /// With one quota the scope's limit is reported under `name`; with several, under
    /// `name.1`, `name.2`, ... in the order given, each with its own `RateLimit-Policy` item.
    ///
    /// ```
    /// use keel_ratelimit::PolicyBuilder;
    /// use keel_ratelimit::tower::{Rule, User};
    /// let policy = PolicyBuilder::new()
    ///     .rule("free".to_owned(), &["10/s".parse()?, "1000/h".parse()?])
    ///     .rule("premium".to_owned(), &["100/s".parse()?]);
    /// let rule = Rule::from_policy("api", User::<u64>::new(), |parts| {
    ///     parts.headers.get("x-tier")?.to_str().ok().map(str::to_owned)
    /// }, policy)?;
    /// # let _ = rule;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`LayerError::InvalidPolicyName`] as for [`Rule::new`] (also when `name.N` would be too
    /// long); [`LayerError::NoTier`] when `policy` has no rule and no default.
    pub fn from_policy(
        name: &str,
        key: impl KeyExtractor,
        classify: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static,
        policy: PolicyBuilder<String>,
    ) -> Result<Self, LayerError> {
        let name = valid_name(name)?;
        let widest = policy.max_quotas();
        if widest == 0 {
            return Err(LayerError::NoTier(name));
        }
        if widest > 1 {
            valid_name(&format!("{name}.{widest}"))?;
        }
        Ok(Self {
            name,
            quotas: Quotas::Scoped {
                classify: Arc::new(classify),
                policy: Arc::new(policy),
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

    /// The limits this rule puts on this request (none when it does not apply), appended to
    /// `out`.
    pub(crate) fn resolve(&self, parts: &Parts, out: &mut Vec<Resolved>) {
        if !self.applies.iter().all(|p| p(parts)) {
            return;
        }
        let single = |quota: Quota, key: String| Resolved {
            policy: self.name.clone(),
            quota,
            key,
        };
        match &self.quotas {
            Quotas::Fixed(q) => {
                if let Some(key) = self.key.extract(parts) {
                    out.push(single(*q, super::key::bounded(key)));
                }
            }
            Quotas::Tiered { classify, tiers } => {
                let quota = classify(parts).and_then(|tier| tiers.get(&tier).copied());
                if let (Some(quota), Some(key)) = (quota, self.key.extract(parts)) {
                    out.push(single(quota, super::key::bounded(key)));
                }
            }
            Quotas::Scoped { classify, policy } => {
                let Some(scope) = classify(parts) else { return };
                let Some(quotas) = policy.quotas(&scope) else {
                    return;
                };
                let Some(key) = self.key.extract(parts) else {
                    return;
                };
                // The scope is part of the key: counts never mix across scopes.
                let key = super::key::bounded(format!("{scope}\u{1f}{key}"));
                for (i, quota) in quotas.iter().enumerate() {
                    let policy = if quotas.len() == 1 {
                        self.name.clone()
                    } else {
                        format!("{}.{}", self.name, i + 1)
                    };
                    out.push(Resolved {
                        policy,
                        quota: *quota,
                        key: key.clone(),
                    });
                }
            }
        }
    }
}
