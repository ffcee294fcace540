//! The client IP of a request, as far as it can be trusted, and the key it is limited by.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use http::request::Parts;

use super::LayerError;
use super::key::KeyExtractor;

/// A network, `address/prefix` (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The network `addr/prefix`.
    ///
    /// # Errors
    /// [`LayerError::InvalidNetwork`] when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, LayerError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(LayerError::InvalidNetwork(format!("{addr}/{prefix}")));
        }
        Ok(Self {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

impl FromStr for IpNet {
    type Err = LayerError;

    fn from_str(s: &str) -> Result<Self, LayerError> {
        let bad = || LayerError::InvalidNetwork(s.chars().take(64).collect());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let prefix = prefix.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
        Self::new(addr, prefix).map_err(|_| bad())
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// Which forwarding header a trusted proxy writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

type PeerFn = Arc<dyn Fn(&Parts) -> Option<IpAddr> + Send + Sync>;

/// Keys a request by its client IP.
///
/// - The peer address comes from a closure over the request (axum puts
///   `ConnectInfo<SocketAddr>` in the extensions; see the example), by default a
///   [`SocketAddr`] in the extensions.
/// - Only when the peer is a **trusted proxy** is the forwarding header read, and then from the
///   right: the rightmost address that is not a trusted proxy is the client. Addresses to its left
///   were written by the client and are ignored, so a client cannot choose its own key.
/// - IPv6 clients are keyed by their network (default /64), since one host usually holds a
///   whole /64; IPv4 clients by their address (default /32).
///
/// ```
/// use keel_ratelimit::tower::ClientIp;
/// let ip = ClientIp::new().trust("10.0.0.0/8")?.ipv6_prefix(56)?;
/// # let _ = ip;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientIp {
    trusted: Vec<IpNet>,
    header: ForwardedHeader,
    v4_prefix: u8,
    v6_prefix: u8,
    peer: PeerFn,
}

impl std::fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIp")
            .field("trusted", &self.trusted)
            .field("header", &self.header)
            .field("v4_prefix", &self.v4_prefix)
            .field("v6_prefix", &self.v6_prefix)
            .finish_non_exhaustive()
    }
}

impl Default for ClientIp {
    fn default() -> Self {
        Self::new()
    }
}

/// Forwarding headers longer than this many entries are read only in their last entries.
const MAX_HOPS: usize = 32;

impl ClientIp {
    /// No trusted proxy (the peer address is the client), `X-Forwarded-For`, IPv6 by /64.
    pub fn new() -> Self {
        Self {
            trusted: Vec::new(),
            header: ForwardedHeader::XForwardedFor,
            v4_prefix: 32,
            v6_prefix: 64,
            peer: Arc::new(|parts: &Parts| {
                parts.extensions.get::<SocketAddr>().map(SocketAddr::ip)
            }),
        }
    }

    /// Trusts the proxies in `network` (`"10.0.0.0/8"`, `"::1"`).
    ///
    /// # Errors
    /// [`LayerError::InvalidNetwork`] when `network` does not parse.
    pub fn trust(mut self, network: &str) -> Result<Self, LayerError> {
        self.trusted.push(network.parse()?);
        Ok(self)
    }

    /// Reads `header` from trusted proxies (default `X-Forwarded-For`).
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Keys IPv6 clients by their `/prefix` network (default 64).
    ///
    /// # Errors
    /// [`LayerError::InvalidNetwork`] for a prefix over 128.
    pub fn ipv6_prefix(mut self, prefix: u8) -> Result<Self, LayerError> {
        if prefix > 128 {
            return Err(LayerError::InvalidNetwork(format!("::/{prefix}")));
        }
        self.v6_prefix = prefix;
        Ok(self)
    }

    /// Keys IPv4 clients by their `/prefix` network (default 32).
    ///
    /// # Errors
    /// [`LayerError::InvalidNetwork`] for a prefix over 32.
    pub fn ipv4_prefix(mut self, prefix: u8) -> Result<Self, LayerError> {
        if prefix > 32 {
            return Err(LayerError::InvalidNetwork(format!("0.0.0.0/{prefix}")));
        }
        self.v4_prefix = prefix;
        Ok(self)
    }

    /// Where the peer (TCP) address comes from.
    pub fn peer(mut self, peer: impl Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static) -> Self {
        self.peer = Arc::new(peer);
        self
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request, or `None` when the peer address is unknown.
    pub fn client(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = canonical((self.peer)(parts)?);
        if !self.trusted(peer) {
            return Some(peer);
        }
        let hops = self.hops(parts);
        // Right to left: the first address that is not a trusted proxy is the client. When
        // every hop is trusted, the leftmost is the best we know.
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop else {
                // An unparseable hop (`unknown`, obfuscated): stop; what is left of it is not
                // trustworthy.
                return Some(client);
            };
            client = ip;
            if !self.trusted(ip) {
                return Some(ip);
            }
        }
        Some(client)
    }

    /// The addresses in the forwarding header, in order (`None` for one that does not parse).
    fn hops(&self, parts: &Parts) -> Vec<Option<IpAddr>> {
        let name = match self.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        };
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in parts.headers.get_all(name) {
            let Ok(value) = value.to_str() else {
                hops.push(None);
                continue;
            };
            for element in value.split(',') {
                let addr = match self.header {
                    ForwardedHeader::XForwardedFor => parse_addr(element),
                    ForwardedHeader::Forwarded => element
                        .split(';')
                        .filter_map(|pair| pair.split_once('='))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                        .and_then(|(_, v)| parse_addr(v)),
                };
                hops.push(addr.map(canonical));
            }
        }
        let skip = hops.len().saturating_sub(MAX_HOPS);
        hops.split_off(skip)
    }

    /// The key of `ip`: the address, or its network for IPv6 (`2001:db8:1:2::/64`).
    pub fn key_of(&self, ip: IpAddr) -> String {
        let ip = canonical(ip);
        match ip {
            IpAddr::V4(_) if self.v4_prefix == 32 => ip.to_string(),
            IpAddr::V4(_) => format!("{}/{}", mask(ip, self.v4_prefix), self.v4_prefix),
            IpAddr::V6(_) => format!("{}/{}", mask(ip, self.v6_prefix), self.v6_prefix),
        }
    }
}

/// An address with an optional port, quotes and brackets: `1.2.3.4`, `1.2.3.4:80`,
/// `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

impl KeyExtractor for ClientIp {
    fn class(&self) -> &'static str {
        "ip"
    }

    fn extract(&self, parts: &Parts) -> Option<String> {
        self.client(parts).map(|ip| self.key_of(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, xff: &[&str]) -> Parts {
        let mut b = http::Request::builder();
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        parts
    }

    #[test]
    fn networks_parse_and_contain() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        let n: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(n.contains("2001:db8:ffff::1".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "x", "::/129", "1.2.3.4/-1"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header() {
        let ip = ClientIp::new();
        let p = parts("203.0.113.9:5000", &["1.1.1.1"]);
        assert_eq!(ip.extract(&p).unwrap(), "203.0.113.9");
    }

    #[test]
    fn rightmost_untrusted_hop_is_the_client() {
        let ip = ClientIp::new().trust("10.0.0.0/8").unwrap();
        // The client forged "6.6.6.6"; the trusted proxy appended the real address.
        let p = parts("10.0.0.2:443", &["6.6.6.6, 198.51.100.7", "10.0.0.1"]);
        assert_eq!(ip.extract(&p).unwrap(), "198.51.100.7");
        // No header: the proxy itself.
        let p = parts("10.0.0.2:443", &[]);
        assert_eq!(ip.extract(&p).unwrap(), "10.0.0.2");
        // Garbage stops the walk at the last trusted hop.
        let p = parts("10.0.0.2:443", &["6.6.6.6, nonsense"]);
        assert_eq!(ip.extract(&p).unwrap(), "10.0.0.2");
    }

    #[test]
    fn forwarded_header_and_ipv6_prefix() {
        let ip = ClientIp::new()
            .trust("::1")
            .unwrap()
            .header(ForwardedHeader::Forwarded);
        let (mut p, ()) = http::Request::builder()
            .header(
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8:1:2:3:4:5:6]:4711\";proto=https",
            )
            .body(())
            .unwrap()
            .into_parts();
        p.extensions
            .insert("[::1]:443".parse::<SocketAddr>().unwrap());
        assert_eq!(ip.extract(&p).unwrap(), "2001:db8:1:2::/64");
        let ip = ip.ipv6_prefix(48).unwrap();
        assert_eq!(ip.extract(&p).unwrap(), "2001:db8:1::/48");
    }

    #[test]
    fn no_peer_no_key() {
        let (p, ()) = http::Request::new(()).into_parts();
        assert!(ClientIp::new().extract(&p).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Whatever a client writes in `X-Forwarded-For`, behind any chain of trusted proxies its
        /// key is the address the first trusted proxy saw.
        #[test]
        fn a_client_never_picks_its_key(
            forged in proptest::collection::vec(proptest::prelude::any::<[u8; 4]>(), 0..5),
            client in proptest::prelude::any::<[u8; 4]>(),
            proxies in proptest::collection::vec(proptest::prelude::any::<[u8; 3]>(), 0..4),
        ) {
            let mut client = client;
            if client[0] == 10 {
                client[0] = 11;
            }
            let client = std::net::Ipv4Addr::from(client);
            let proxies: Vec<std::net::Ipv4Addr> = proxies
                .iter()
                .map(|p| std::net::Ipv4Addr::new(10, p[0], p[1], p[2]))
                .collect();
            let mut hops: Vec<String> = forged
                .iter()
                .map(|f| std::net::Ipv4Addr::from(*f).to_string())
                .collect();
            let peer = match proxies.split_last() {
                None => client,
                Some((last, before)) => {
                    hops.push(client.to_string());
                    hops.extend(before.iter().map(ToString::to_string));
                    *last
                }
            };
            let header = hops.join(", ");
            let p = parts(&format!("{peer}:1"), &[header.as_str()][..usize::from(!hops.is_empty())]);
            let ip = ClientIp::new().trust("10.0.0.0/8").unwrap();
            proptest::prop_assert_eq!(ip.extract(&p).unwrap(), client.to_string());
        }
    }
}
