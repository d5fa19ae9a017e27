//! Who is calling, as far as the network tells: the peer's IP address, or — when the peer is a
//! reverse proxy the deployment trusts (`limits.trusted_proxies`) — the address that proxy saw,
//! from the header it sets (`limits.client_address_header`). Many sources reach the office
//! through one proxy; without this, one abuser behind it would count as every source at once.
//!
//! The header is honoured only from a trusted peer: anyone else could write any address in it
//! and escape whatever is kept per address. Of a list such as `X-Forwarded-For: a, b, c` the
//! last entry is taken, the one the trusted proxy itself appended; earlier ones are the
//! client's to forge.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderName;
use serde::Deserialize;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::settings::LimitSettings;

/// The calling client's address, put in every request's extensions by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The address the host attached to `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<IpAddr> {
        request.extensions().get::<ClientAddress>().map(|c| c.0)
    }
}

/// An address or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl TryFrom<String> for AddressRange {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let bad = || format!("`{text}` is neither an IP address nor a CIDR range");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.as_str(), None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| bad())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().map_err(|_| bad())?,
            None => bits,
        };
        if prefix > bits {
            return Err(bad());
        }
        Ok(Self { network, prefix })
    }
}

impl AddressRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// How a host tells its clients' addresses; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct ClientAddresses {
    header: Option<HeaderName>,
    trusted: Arc<[AddressRange]>,
}

impl ClientAddresses {
    /// As `limits` say. A header with no trusted proxy is never honoured, and said so.
    pub fn from_settings(limits: &LimitSettings) -> Self {
        let header = limits.client_address_header.as_deref().and_then(|name| {
            HeaderName::try_from(name.trim().to_ascii_lowercase())
                .inspect_err(|_| tracing::warn!(%name, "`limits.client_address_header` is not a header name; ignored"))
                .ok()
        });
        if header.is_some() && limits.trusted_proxies.is_empty() {
            tracing::warn!(
                "`limits.client_address_header` is set but `limits.trusted_proxies` is empty: \
                 the header is never honoured"
            );
        }
        Self {
            header,
            trusted: limits.trusted_proxies.clone().into(),
        }
    }

    /// The client's address: the peer's, or the one a trusted proxy put in the header.
    pub fn of<B>(&self, request: &http::Request<B>) -> Option<IpAddr> {
        let peer = peer(request)?;
        let Some(header) = &self.header else {
            return Some(peer);
        };
        if !self.trusted.iter().any(|range| range.contains(peer)) {
            return Some(peer);
        }
        // The last line of the header, its last entry: what the trusted proxy appended.
        let forwarded = request
            .headers()
            .get_all(header)
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(parse_forwarded);
        // A trusted proxy that sent no usable address: its own stands for the client, so that
        // such calls share one budget rather than escape it.
        Some(forwarded.unwrap_or(peer))
    }

    /// `request` with its [`ClientAddress`] attached.
    pub fn tag<B>(&self, mut request: http::Request<B>) -> http::Request<B> {
        if let Some(address) = self.of(&request) {
            request.extensions_mut().insert(ClientAddress(address));
        }
        request
    }
}

/// An address as proxies write it: bare, or with a port (`192.0.2.7:5123`, `[2001:db8::1]:443`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// The TCP peer of `request`, over plaintext or TLS.
fn peer<B>(request: &http::Request<B>) -> Option<IpAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|tls| tls.get_ref().remote_addr())
        })
        .map(|addr| canonical(addr.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> AddressRange {
        AddressRange::try_from(text.to_owned()).unwrap()
    }

    #[test]
    fn ranges_hold_the_addresses_of_their_prefix() {
        let private = range("10.0.0.0/8");
        assert!(private.contains("10.1.2.3".parse().unwrap()));
        assert!(private.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!private.contains("11.0.0.1".parse().unwrap()));
        assert!(range("0.0.0.0/0").contains("203.0.113.9".parse().unwrap()));
        assert!(range("192.0.2.7").contains("192.0.2.7".parse().unwrap()));
        assert!(!range("192.0.2.7").contains("192.0.2.8".parse().unwrap()));
        assert!(range("fd00::/8").contains("fd12::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0.0/x", "::/129"] {
            assert!(AddressRange::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    fn request_from(peer: &str, forwarded: &[&str]) -> http::Request<()> {
        let mut request = http::Request::builder().uri("/x.v1.X/Call");
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let mut request = request.body(()).unwrap();
        let connect_info = TcpConnectInfo {
            local_addr: None,
            remote_addr: Some(peer.parse().unwrap()),
        };
        request.extensions_mut().insert(connect_info);
        request
    }

    fn limits(header: Option<&str>, trusted: &[&str]) -> LimitSettings {
        let mut limits = crate::Settings::defaults().unwrap().limits;
        limits.client_address_header = header.map(str::to_owned);
        limits.trusted_proxies = trusted.iter().map(|t| range(t)).collect();
        limits
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy_and_only_its_last_entry() {
        let behind_proxy =
            ClientAddresses::from_settings(&limits(Some("X-Forwarded-For"), &["10.0.0.0/8"]));
        let from_proxy = request_from("10.0.0.5:4000", &["6.6.6.6, 203.0.113.9"]);
        assert_eq!(
            behind_proxy.of(&from_proxy),
            Some("203.0.113.9".parse().unwrap())
        );
        let two_lines = request_from("10.0.0.5:4000", &["6.6.6.6", "203.0.113.10:5123"]);
        assert_eq!(
            behind_proxy.of(&two_lines),
            Some("203.0.113.10".parse().unwrap())
        );
        let garbage = request_from("10.0.0.5:4000", &["not an address"]);
        assert_eq!(behind_proxy.of(&garbage), Some("10.0.0.5".parse().unwrap()));
        let direct = request_from("198.51.100.1:4000", &["203.0.113.9"]);
        assert_eq!(
            behind_proxy.of(&direct),
            Some("198.51.100.1".parse().unwrap())
        );

        let off = ClientAddresses::from_settings(&limits(None, &["10.0.0.0/8"]));
        assert_eq!(off.of(&from_proxy), Some("10.0.0.5".parse().unwrap()));
        let untrusted = ClientAddresses::from_settings(&limits(Some("x-forwarded-for"), &[]));
        assert_eq!(untrusted.of(&from_proxy), Some("10.0.0.5".parse().unwrap()));
    }
}
