//! How a server is reached beyond its URL: the name smtpsend gives in EHLO, the IP family it
//! connects over and the local address it connects from. Plain values, checked and spelled
//! here for the flags, the environment and the account file alike; the connecting is
//! `submit`'s.

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
    fn families_are_4_or_6() {
        assert_eq!(IpFamily::parse("4"), Ok(IpFamily::V4));
        assert_eq!(IpFamily::parse("6"), Ok(IpFamily::V6));
        assert!(IpFamily::parse("5").is_err());
    }
}
