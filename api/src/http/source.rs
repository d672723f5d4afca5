//! Where a request comes from: the TCP peer, or behind trusted reverse
//! proxies the address they vouch for in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::app::AppState;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Where a request comes from: its peer, unless the peer is a trusted proxy;
/// then the right-most address of `X-Forwarded-For` that is not a trusted
/// proxy itself, the last one a proxy of ours vouches for. Addresses left of
/// it are whatever the client wrote, so they are never believed.
pub fn client_source(headers: &HeaderMap, peer: IpAddr, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut source = peer.to_canonical();
    if !is_trusted(&source) {
        return source;
    }
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or_default().split(','))
        .collect();
    for hop in hops.iter().rev() {
        // Past a hop that is not an address, nothing is known: keep the proxy that wrote it.
        let Some(ip) = forwarded_address(hop) else {
            break;
        };
        source = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    source
}

/// An address as proxies write it in `X-Forwarded-For`, with or without a port.
fn forwarded_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The source of a request, also written into its log span.
pub(crate) fn request_source(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    let source = client_source(headers, peer.ip(), &state.limits.trusted_proxies);
    tracing::Span::current().record("source", tracing::field::display(source));
    source
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                X_FORWARDED_FOR,
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn nets(texts: &[&str]) -> Vec<IpNet> {
        texts
            .iter()
            .map(|t| t.parse().expect("a network"))
            .collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_source_whatever_it_forwards() {
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(
            client_source(&headers, ip("203.0.113.9"), &nets(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
        assert_eq!(client_source(&headers, ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_source() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.1/32"]);
        // The client wrote the first address itself; our proxies added the rest.
        let headers = forwarded(&["1.1.1.1, 198.51.100.7", "10.1.2.3:4711"]);
        assert_eq!(
            client_source(&headers, ip("192.0.2.1"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_source(&forwarded(&[]), ip("10.0.0.5"), &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_source(&forwarded(&["10.0.0.7"]), ip("10.0.0.5"), &trusted),
            ip("10.0.0.7"),
            "every hop trusted: the farthest one"
        );
        assert_eq!(
            client_source(
                &forwarded(&["198.51.100.7, junk"]),
                ip("10.0.0.5"),
                &trusted
            ),
            ip("10.0.0.5"),
            "a hop that is no address ends what is known"
        );
        assert_eq!(
            client_source(
                &forwarded(&["[2001:db8::1]:443"]),
                ip("::ffff:10.0.0.5"),
                &trusted
            ),
            ip("2001:db8::1")
        );
    }
}
