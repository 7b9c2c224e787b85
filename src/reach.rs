//! How a server is reached beyond its URL: the name smtpsend gives in EHLO, the IP family it
//! connects over, the local address it connects from and the SOCKS proxy it goes through.
//! Plain values, checked and spelled here for the flags, the environment and the account file
//! alike; the connecting is `submit`'s.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Everything about reaching a server that its URL does not say; the defaults are what a
/// send does when nothing is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reach {
    /// The EHLO (and HELO) argument; this host's name or address literal when None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello_name: Option<String>,
    /// Only this family; both, raced (RFC 8305), when None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family: Option<IpFamily>,
    /// The local address the connection is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<IpAddr>,
    /// The SOCKS5 proxy the connection goes through; kept with a queued message, so that a
    /// message meant to leave through Tor never leaves any other way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Proxy>,
}

/// A SOCKS5 proxy (RFC 1928): `socks5h://HOST[:PORT]`, where the proxy resolves the server's
/// name (as Tor needs: no DNS query leaves this machine), or `socks5://HOST[:PORT]`, where
/// smtpsend resolves it and hands the proxy an address.
///
/// No user or password: the proxies smtpsend is for (Tor, an SSH `-D` tunnel, a dante on the
/// bastion) take none, and a password in a URL would be one on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// socks5h: the name goes to the proxy, which resolves it.
    pub remote_dns: bool,
}

impl Proxy {
    /// Port 1080 is SOCKS's (RFC 1928 section 3); Tor's is 9050, and says so.
    const DEFAULT_PORT: u16 = 1080;

    pub fn parse(url: &str) -> Result<Proxy, String> {
        let expected = "expected socks5h://HOST[:PORT] or socks5://HOST[:PORT]";
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?}: no scheme; {expected}"))?;
        let remote_dns = match scheme.to_ascii_lowercase().as_str() {
            "socks5h" => true,
            "socks5" => false,
            _ => return Err(format!("{url:?}: not a SOCKS5 proxy; {expected}")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(format!(
                "{scheme}://...: a user or password for the proxy, which smtpsend does not send \
                 (SOCKS5 without authentication only)"
            ));
        }
        let (host, port) = crate::server::host_and_port(authority, Proxy::DEFAULT_PORT)
            .map_err(|reason| format!("{url:?}: {reason}"))?;
        let host_ok = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
        if !host_ok || authority.contains(['/', '?', '#']) {
            return Err(format!("{url:?}: not a proxy address; {expected}"));
        }
        Ok(Proxy {
            host: host.to_string(),
            port,
            remote_dns,
        })
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.remote_dns { "socks5h" } else { "socks5" };
        match self.host.contains(':') {
            true => write!(f, "{scheme}://[{}]:{}", self.host, self.port),
            false => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

/// Kept in the outbox as its URL.
impl Serialize for Proxy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Proxy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let url = String::deserialize(deserializer)?;
        Proxy::parse(&url).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    /// `4` or `6`, as `ip_family` and SMTPSEND_IP_FAMILY are written.
    pub fn parse(value: &str) -> Result<IpFamily, String> {
        match value.trim() {
            "4" | "ipv4" => Ok(IpFamily::V4),
            "6" | "ipv6" => Ok(IpFamily::V6),
            other => Err(format!("expected 4 or 6, not {other:?}")),
        }
    }

    pub fn of(ip: IpAddr) -> IpFamily {
        match ip {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        })
    }
}

/// A name for EHLO: a domain (RFC 5321 section 4.1.2, `Domain`, letters, digits, hyphens and
/// dots) or an address literal in brackets (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
pub fn parse_hello_name(value: &str) -> Result<String, String> {
    let domain = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    let literal = |s: &str| {
        s.strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .is_some_and(|inner| match inner.strip_prefix("IPv6:") {
                Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
                None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
            })
    };
    if domain(value) || literal(value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is neither a domain name nor an address literal such as [192.0.2.1]"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_names_are_domains_or_address_literals() {
        for good in [
            "mail.example.org",
            "host",
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
        ] {
            assert_eq!(parse_hello_name(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "a b",
            "a..b",
            "-a.example",
            "[300.1.1.1]",
            "[2001:db8::1]",
            "x\r\nMAIL",
        ] {
            assert!(parse_hello_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn proxies_are_socks5_urls_without_passwords() {
        let tor = Proxy::parse("socks5h://127.0.0.1:9050").unwrap();
        assert_eq!(
            (tor.host.as_str(), tor.port, tor.remote_dns),
            ("127.0.0.1", 9050, true)
        );
        let local = Proxy::parse("SOCKS5://[::1]").unwrap();
        assert_eq!(
            (local.host.as_str(), local.port, local.remote_dns),
            ("::1", 1080, false)
        );
        assert_eq!(local.to_string(), "socks5://[::1]:1080");
        for proxy in [tor, local] {
            let stored = serde_json::to_string(&proxy).unwrap();
            assert_eq!(serde_json::from_str::<Proxy>(&stored).unwrap(), proxy);
        }
        for bad in [
            "127.0.0.1:9050",
            "http://proxy:8080",
            "socks4://proxy",
            "socks5h://proxy:0",
            "socks5h://proxy/path",
            "socks5h://bad host",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
        let err = Proxy::parse("socks5h://tor:hunter2@127.0.0.1:9050").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn families_are_4_or_6() {
        assert_eq!(IpFamily::parse("4"), Ok(IpFamily::V4));
        assert_eq!(IpFamily::parse("6"), Ok(IpFamily::V6));
        assert!(IpFamily::parse("5").is_err());
    }
}
