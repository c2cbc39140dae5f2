//! The address guard for article page fetches.
//!
//! Page URLs come from feed items, that is from other people, so a page
//! fetch must not become a way into our own network: loopback, private,
//! link-local (which holds the cloud metadata service at
//! 169.254.169.254), shared (CGNAT), unique-local, multicast and
//! unspecified addresses are refused unless an allowlist entry covers
//! them.
//!
//! The check runs where the connection is made: page requests resolve
//! names through [`GuardedResolver`], which drops forbidden addresses
//! before the client connects, so a name cannot resolve one way for the
//! check and another for the connection. Literal IP hosts never reach a
//! resolver and are checked on every hop of the redirect chain.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// An address or CIDR range on the allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Whether `ip` falls in this range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(
            address
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("`{text}` is not an IP address or CIDR range"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)
                .ok_or_else(|| format!("`{text}` has a bad prefix length (0 to {max})"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Why an address may not be fetched, or `None` when it may.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("cloud metadata service")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        Some("cloud metadata service")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique local")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast or reserved")
    } else {
        None
    }
}

/// The guard: which addresses page fetches may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressGuard {
    allow: Vec<AddressRange>,
}

/// A refused address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} resolves to {ip}, a {reason} address, and the allowlist does not cover it")]
pub struct ForbiddenAddress {
    /// The host asked for.
    pub host: String,
    /// The address it resolved to.
    pub ip: IpAddr,
    /// Why the address is refused.
    pub reason: &'static str,
}

impl AddressGuard {
    /// A guard that allows the ranges in `allow` besides public addresses.
    pub fn new(allow: Vec<AddressRange>) -> Self {
        Self { allow }
    }

    /// Checks one address of `host`.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), ForbiddenAddress> {
        match forbidden_reason(ip) {
            Some(reason) if !self.allow.iter().any(|range| range.contains(ip)) => {
                Err(ForbiddenAddress {
                    host: host.to_owned(),
                    ip,
                    reason,
                })
            }
            _ => Ok(()),
        }
    }
}

/// A DNS resolver for page fetches that drops forbidden addresses; when
/// every address of a name is forbidden, resolution fails with
/// [`ForbiddenAddress`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: Arc<AddressGuard>,
}

impl GuardedResolver {
    /// A resolver applying `guard`.
    pub fn new(guard: Arc<AddressGuard>) -> Self {
        Self { guard }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match guard.check(&host, addr.ip()) {
                    Ok(()) => true,
                    Err(err) => {
                        refused.get_or_insert(err);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(forbidden) => Box::new(forbidden),
                    None => format!("{host} has no address").into(),
                };
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Finds a [`ForbiddenAddress`] in an error's source chain.
pub fn find_forbidden(error: &(dyn std::error::Error + 'static)) -> Option<ForbiddenAddress> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(forbidden) = err.downcast_ref::<ForbiddenAddress>() {
            return Some(forbidden.clone());
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn internal_addresses_are_refused() {
        for (address, reason) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata service"),
            ("169.254.10.1", "link-local"),
            ("100.64.0.1", "shared address space"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("fd12::1", "unique local"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("fd00:ec2::254", "cloud metadata service"),
        ] {
            assert_eq!(forbidden_reason(ip(address)), Some(reason), "{address}");
        }
        for address in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert_eq!(forbidden_reason(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn the_allowlist_opens_exactly_its_ranges() {
        let guard = AddressGuard::new(vec![
            "127.0.0.1".parse().expect("range"),
            "10.20.0.0/16".parse().expect("range"),
        ]);
        assert!(guard.check("localhost", ip("127.0.0.1")).is_ok());
        assert!(guard.check("localhost", ip("127.0.0.2")).is_err());
        assert!(guard.check("wire.internal", ip("10.20.9.9")).is_ok());
        let err = guard
            .check("wire.internal", ip("10.21.0.1"))
            .expect_err("outside the range");
        assert_eq!(
            err.to_string(),
            "wire.internal resolves to 10.21.0.1, a private address, and the allowlist does not cover it"
        );
        assert!("10.0.0.0/33".parse::<AddressRange>().is_err());
        assert!("example.com".parse::<AddressRange>().is_err());
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost() {
        use reqwest::dns::Resolve;
        let resolver = GuardedResolver::new(Arc::new(AddressGuard::default()));
        let name = reqwest::dns::Name::from_str("localhost").expect("name");
        let err = match resolver.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(err) => err,
        };
        let forbidden = find_forbidden(err.as_ref()).expect("a forbidden address");
        assert_eq!(forbidden.reason, "loopback");
    }
}
