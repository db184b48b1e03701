//! Who is calling: the client address that failed logins are counted against
//! (SPEC §11).
//!
//! The TCP peer is the client, unless the peer is one of our own proxies
//! (`TRUSTED_PROXIES`). Then the client is the right-most `X-Forwarded-For`
//! entry that is not itself a trusted proxy: every hop appends the address
//! it saw, so entries left of the last one our proxies wrote were written by
//! the client and prove nothing. An `X-Forwarded-For` sent by an untrusted
//! peer is ignored, so it cannot be used to dodge the count.

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// Entries of `X-Forwarded-For` looked at, from the right: more hops than any
/// real chain of proxies, few enough that a hostile header costs nothing.
const MAX_HOPS: usize = 32;

/// The networks whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare
    /// address means that one host. Names every entry that is not one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        let mut bad = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)) {
                Ok(network) => networks.push(network),
                Err(_) => bad.push(format!("{entry:?}")),
            }
        }
        if !bad.is_empty() {
            return Err(format!(
                "TRUSTED_PROXIES must be comma-separated CIDRs like 10.0.0.0/8 (not a CIDR: {})",
                bad.join(", ")
            ));
        }
        Ok(TrustedProxies(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client of `req`, as failed logins are counted.
    pub fn client_of(&self, req: &HttpRequest) -> String {
        match self.client(req.peer_addr(), req.headers()) {
            Some(address) => address.to_string(),
            None => "unknown".to_string(),
        }
    }

    /// The client address for a connection from `peer` carrying `headers`.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip().to_canonical();
        if !self.contains(peer) {
            return Some(peer);
        }
        // Several X-Forwarded-For headers read as one list, in order.
        let values: Vec<&str> = headers.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
        let entries = values.iter().rev().flat_map(|v| v.rsplit(',')).take(MAX_HOPS);
        // The nearest hop that reported an entry: the client as far as we can
        // tell when the entry it reported is unusable.
        let mut reporter = peer;
        for entry in entries {
            match parse_entry(entry) {
                Some(address) if self.contains(address) => reporter = address,
                Some(address) => return Some(address),
                None => return Some(reporter),
            }
        }
        Some(reporter)
    }
}

/// One `X-Forwarded-For` entry: an address, optionally bracketed or with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse::<IpAddr>().ok())
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in forwarded {
            map.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn client(trusted: &str, peer: &str, forwarded: &[&str]) -> String {
        let proxies = TrustedProxies::parse(trusted).unwrap();
        let peer = SocketAddr::new(peer.parse().unwrap(), 4000);
        proxies.client(Some(peer), &headers(forwarded)).unwrap().to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client("", "127.0.0.2", &["10.9.9.9"]), "127.0.0.2");
        assert_eq!(client("10.0.0.0/8", "127.0.0.2", &["10.9.9.9"]), "127.0.0.2");
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_entry_is_the_client() {
        assert_eq!(client("127.0.0.1/32", "127.0.0.1", &["203.0.113.7"]), "203.0.113.7");
        // The client prepended a lie; the proxy appended the truth.
        assert_eq!(client("127.0.0.1/32", "127.0.0.1", &["198.51.100.1, 203.0.113.7"]), "203.0.113.7");
        // Two proxies of ours: the inner one's entry is skipped.
        assert_eq!(
            client("127.0.0.1/32, 10.1.0.0/16", "127.0.0.1", &["198.51.100.1, 203.0.113.7, 10.1.2.3"]),
            "203.0.113.7"
        );
        // Split over two headers, read as one list.
        assert_eq!(
            client("127.0.0.1, 10.1.0.0/16", "127.0.0.1", &["198.51.100.1", "203.0.113.7, 10.1.2.3"]),
            "203.0.113.7"
        );
        assert_eq!(client("::1/128", "::1", &["[2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(client("127.0.0.1/32", "127.0.0.1", &["::ffff:203.0.113.7"]), "203.0.113.7");
    }

    #[test]
    fn a_trusted_peer_without_a_usable_entry_is_itself_the_client() {
        assert_eq!(client("127.0.0.1/32", "127.0.0.1", &[]), "127.0.0.1");
        assert_eq!(client("127.0.0.1/32", "127.0.0.1", &["not-an-address"]), "127.0.0.1");
        assert_eq!(client("127.0.0.1/32, 10.1.0.0/16", "127.0.0.1", &["garbage, 10.1.2.3"]), "10.1.2.3");
        let enormous = vec!["10.1.1.1"; 5000].join(",");
        assert_eq!(client("127.0.0.1/32, 10.1.0.0/16", "127.0.0.1", &[&enormous]), "10.1.1.1");
    }

    #[test]
    fn invalid_cidrs_are_named() {
        let err = TrustedProxies::parse("10.0.0.0/8, 10.0.0.0/33, nginx").unwrap_err();
        assert!(err.contains("TRUSTED_PROXIES") && err.contains("10.0.0.0/33") && err.contains("nginx"), "{err}");
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("192.168.1.1").is_ok());
    }
}
