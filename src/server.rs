//! The vocabulary of "which server, and how": the TLS mode, the endpoint and its URL forms,
//! the SASL mechanism asked for, and the host rules (names, loopback). Each has one spelling,
//! parsed and printed here for flags, environment variables, the account file and the outbox
//! alike. Nothing here does I/O.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Security {
    /// Plain TCP upgraded by STARTTLS, which is required (RFC 3207).
    StartTls,
    /// TLS from the first byte (RFC 8314).
    Implicit,
    /// No TLS, by explicit request.
    Plain,
}

impl Security {
    const ALL: [Security; 3] = [Security::StartTls, Security::Implicit, Security::Plain];

    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::Plain => 25,
        }
    }

    /// The name `--tls`, `SMTPSEND_TLS` and the `tls` key take.
    pub fn name(self) -> &'static str {
        match self {
            Security::StartTls => "starttls",
            Security::Implicit => "implicit",
            Security::Plain => "none",
        }
    }

    /// The URL scheme that means this mode.
    pub fn scheme(self) -> &'static str {
        match self {
            Security::StartTls => "smtp",
            Security::Implicit => "smtps",
            Security::Plain => "smtp+plain",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Security::StartTls => {
                "Plain connection upgraded with STARTTLS, which the server must offer (port 587)"
            }
            Security::Implicit => "TLS from the first byte (port 465)",
            Security::Plain => {
                "No encryption at all (port 25). Passwords are only sent this way to a loopback \
                 address"
            }
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Security {
    type Err = String;

    /// The names, in any case; the error says what was expected.
    fn from_str(text: &str) -> Result<Self, String> {
        Security::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("expected starttls, implicit or none, got {text:?}"))
    }
}

impl ValueEnum for Security {
    fn value_variants<'a>() -> &'a [Self] {
        &Security::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.help()))
    }
}

/// What the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// SMTP (RFC 5321), for submission and relay.
    Smtp,
    /// LMTP (RFC 2033): the final delivery into mailboxes, which greets with LHLO and answers
    /// the message once per recipient. No queue behind it, so no default port either; 24 is
    /// the one everyone uses.
    Lmtp,
}

impl Protocol {
    /// The scheme's first word: `smtp` or `lmtp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Lmtp => "lmtp",
        }
    }

    fn default_port(self, security: Security) -> u16 {
        match self {
            Protocol::Smtp => security.default_port(),
            Protocol::Lmtp => 24,
        }
    }
}

/// A server: where, what it speaks, and how protected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The host connected to, the name TLS verifies and the keyring files a password under;
    /// `localhost` for a unix socket, which is on this machine.
    pub host: String,
    /// The TCP port; for a unix socket, the protocol's usual port, never used.
    pub port: u16,
    pub security: Security,
    pub protocol: Protocol,
    /// A unix-domain socket to connect to in place of `host` and `port`: `smtp+unix:///path`,
    /// `lmtp+unix:///path`. Always without TLS: nobody is between the two ends of a socket on
    /// this machine.
    pub socket: Option<PathBuf>,
}

impl Endpoint {
    /// `smtp://host[:port]`, `smtps://host[:port]` or `smtp+plain://host[:port]`, the same for
    /// LMTP (`lmtp://`, `lmtps://`, `lmtp+plain://`), or a unix socket, `smtp+unix:///path` or
    /// `lmtp+unix:///path`; `what` names where the URL came from (`--server`,
    /// `SMTPSEND_SERVER`, `server`) in any error.
    pub fn parse_url(url: &str, what: &str) -> Result<Endpoint, Error> {
        let bad = |reason: &str| {
            Error::usage(format!("{what}: {reason}: {:?}", redact_url(url))).with_hint(
                "expected smtp://HOST[:PORT], smtps://HOST[:PORT], smtp+plain://HOST[:PORT], \
                 smtp+unix:///PATH, or the same with lmtp",
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        let (protocol, mode) = match scheme.split_once('+') {
            Some((protocol, mode)) => (protocol, Some(mode)),
            None => (scheme.as_str(), None),
        };
        let (protocol, implicit) = match protocol {
            "smtp" => (Protocol::Smtp, false),
            "smtps" => (Protocol::Smtp, true),
            "lmtp" => (Protocol::Lmtp, false),
            "lmtps" => (Protocol::Lmtp, true),
            _ => return Err(bad("unknown scheme")),
        };
        let security = match (implicit, mode) {
            (false, None) => Security::StartTls,
            (true, None) => Security::Implicit,
            (false, Some("plain")) => Security::Plain,
            (false, Some("unix")) => {
                let path = rest
                    .strip_prefix('/')
                    .map(|_| PathBuf::from(rest))
                    .ok_or_else(|| {
                        bad("a unix socket is an absolute path, as in smtp+unix:///run/smtp.sock")
                    })?;
                return Ok(Endpoint::unix_socket(protocol, path));
            }
            _ => return Err(bad("unknown scheme")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(bad(
                "user or password in the URL (use --user; passwords never go on the command line)",
            ));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(bad("unexpected path"));
        }
        let (host, port) =
            host_and_port(authority, protocol.default_port(security)).map_err(bad)?;
        Ok(Endpoint {
            protocol,
            ..Endpoint::new(host, Some(port), security, what)?
        })
    }

    /// An SMTP or LMTP server listening on a unix-domain socket at `path`.
    pub fn unix_socket(protocol: Protocol, path: PathBuf) -> Endpoint {
        Endpoint {
            host: "localhost".to_string(),
            port: protocol.default_port(Security::Plain),
            security: Security::Plain,
            protocol,
            socket: Some(path),
        }
    }

    /// The endpoint from a host, a port (else the mode's default) and a mode, as `--host`,
    /// `--port` and `--tls` (or the account's `host`, `port` and `tls`) give them.
    pub fn new(
        host: &str,
        port: Option<u16>,
        security: Security,
        what: &str,
    ) -> Result<Endpoint, Error> {
        Ok(Endpoint {
            host: validate_host(host, what)?,
            port: port.unwrap_or(security.default_port()),
            security,
            protocol: Protocol::Smtp,
            socket: None,
        })
    }

    /// The endpoint as a `--server` URL.
    pub fn url(&self) -> String {
        let protocol = self.protocol.name();
        if let Some(path) = &self.socket {
            return format!("{protocol}+unix://{}", path.display());
        }
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let scheme = self.security.scheme().replacen("smtp", protocol, 1);
        format!("{scheme}://{host}:{}", self.port)
    }

    /// Where the connection goes, for messages: `host:port`, or the socket's path.
    pub fn place(&self) -> String {
        match &self.socket {
            Some(path) => path.display().to_string(),
            None if self.host.contains(':') => format!("[{}]:{}", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Stored (in the outbox) as its URL, so an entry reads as the command line would say it.
impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url())
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let url = String::deserialize(deserializer)?;
        Endpoint::parse_url(&url, "server").map_err(|err| serde::de::Error::custom(err.message))
    }
}

/// Which SASL mechanism to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthChoice {
    Auto,
    Plain,
    Login,
    Xoauth2,
    /// RFC 7628; lettre does not know it, so its response is built in `submit`.
    OAuthBearer,
    /// RFC 4422 appendix A: the TLS client certificate is the credential; no password.
    External,
    /// RFC 7677, bound to the TLS channel (RFC 5056).
    ScramSha256Plus,
    /// RFC 7677.
    ScramSha256,
    /// RFC 5802, bound to the TLS channel.
    ScramSha1Plus,
    /// RFC 5802.
    ScramSha1,
}

impl AuthChoice {
    const ALL: [AuthChoice; 10] = [
        AuthChoice::Auto,
        AuthChoice::ScramSha256Plus,
        AuthChoice::ScramSha256,
        AuthChoice::ScramSha1Plus,
        AuthChoice::ScramSha1,
        AuthChoice::Plain,
        AuthChoice::Login,
        AuthChoice::Xoauth2,
        AuthChoice::OAuthBearer,
        AuthChoice::External,
    ];

    /// The name `--auth`, `SMTPSEND_AUTH` and the `auth` key take.
    pub fn name(self) -> &'static str {
        match self {
            AuthChoice::Auto => "auto",
            AuthChoice::Plain => "plain",
            AuthChoice::Login => "login",
            AuthChoice::Xoauth2 => "xoauth2",
            AuthChoice::OAuthBearer => "oauthbearer",
            AuthChoice::External => "external",
            AuthChoice::ScramSha256Plus => "scram-sha-256-plus",
            AuthChoice::ScramSha256 => "scram-sha-256",
            AuthChoice::ScramSha1Plus => "scram-sha-1-plus",
            AuthChoice::ScramSha1 => "scram-sha-1",
        }
    }

    fn help(self) -> Option<&'static str> {
        match self {
            AuthChoice::Auto => Some(
                "the strongest the server offers: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, \
                 SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN, LOGIN",
            ),
            AuthChoice::ScramSha256Plus | AuthChoice::ScramSha1Plus => {
                Some("SCRAM bound to the TLS connection: a man in the middle cannot relay it")
            }
            AuthChoice::ScramSha256 | AuthChoice::ScramSha1 => {
                Some("the password is never sent, and the server proves it knows it")
            }
            AuthChoice::Plain | AuthChoice::Login => None,
            AuthChoice::Xoauth2 => {
                Some("OAuth2 bearer token in place of the password (Google, Microsoft)")
            }
            AuthChoice::OAuthBearer => {
                Some("OAuth2 bearer token in place of the password, the standard way (RFC 7628)")
            }
            AuthChoice::External => {
                Some("The TLS client certificate (--client-cert) is the login; no password")
            }
        }
    }
}

impl fmt::Display for AuthChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AuthChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        AuthChoice::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<&str> = AuthChoice::ALL.iter().map(|a| a.name()).collect();
                format!("expected one of {}, got {text:?}", names.join(", "))
            })
    }
}

impl ValueEnum for AuthChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &AuthChoice::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let value = PossibleValue::new(self.name());
        Some(match self.help() {
            Some(help) => value.help(help),
            None => value,
        })
    }
}

impl Serialize for AuthChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AuthChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `text` with every password that a URL among `words` carries (`smtp://alice:PW@host`, also
/// inside `--server=...`) replaced by `<redacted>`: for messages, like clap's, that may quote
/// a word of the command line whole or in part.
pub fn redact_passwords<'w>(text: &str, words: impl IntoIterator<Item = &'w str>) -> String {
    let mut text = text.to_string();
    for word in words {
        let Some((_, rest)) = word.split_once("://") else {
            continue;
        };
        let Some((_, password)) = rest.rsplit_once('@').and_then(|(u, _)| u.split_once(':')) else {
            continue;
        };
        text = text.replace(&format!(":{password}@"), ":<redacted>@");
    }
    text
}

/// `url` with the password of its userinfo hidden, `smtp://alice:<redacted>@host`, for any
/// message that repeats a URL the user gave. The userinfo runs to the last `@`, so a password
/// with a raw `/` or `@` in it (RFC 3986 section 3.2.1 wants them percent-encoded) is hidden
/// whole too.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}{user}:<redacted>@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A URL's `host[:port]` or `[v6]:port`: the host without brackets, and the port, else
/// `default_port`; the error is what is wrong (a missing `]`, a port that is not one).
pub fn host_and_port(authority: &str, default_port: u16) -> Result<(&str, u16), &'static str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').ok_or("missing ']'")?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("bad port")?,
        None => default_port,
    };
    Ok((host, port))
}

/// An IP address as given, or a host name in its ASCII (IDNA) form.
fn validate_host(host: &str, what: &str) -> Result<String, Error> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(host.to_string());
    }
    let ascii = idna::domain_to_ascii(host).unwrap_or_default();
    if ascii.is_empty()
        || ascii.len() > 253
        || !ascii.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    {
        return Err(Error::usage(format!("{what}: not a host name: {host:?}")));
    }
    Ok(ascii)
}

/// This machine: where a password may travel without TLS, since it never leaves the host.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_security_and_default_ports() {
        let cases = [
            ("smtp://mail.example.com", Security::StartTls, 587),
            ("smtps://mail.example.com", Security::Implicit, 465),
            ("smtp+plain://mail.example.com", Security::Plain, 25),
            ("SMTP://mail.example.com:2525/", Security::StartTls, 2525),
            ("smtps://[::1]:1465", Security::Implicit, 1465),
        ];
        for (url, security, port) in cases {
            let e = Endpoint::parse_url(url, "--server").unwrap();
            assert_eq!((e.security, e.port), (security, port), "{url}");
        }
        for (url, protocol, security, port) in [
            (
                "lmtp://mx.example.com",
                Protocol::Lmtp,
                Security::StartTls,
                24,
            ),
            (
                "LMTP+plain://mx.example.com:2424",
                Protocol::Lmtp,
                Security::Plain,
                2424,
            ),
            (
                "lmtps://mx.example.com:1024",
                Protocol::Lmtp,
                Security::Implicit,
                1024,
            ),
        ] {
            let e = Endpoint::parse_url(url, "--server").unwrap();
            assert_eq!(
                (e.protocol, e.security, e.port),
                (protocol, security, port),
                "{url}"
            );
            assert_eq!(Endpoint::parse_url(&e.url(), "x").unwrap(), e, "{url}");
        }
        for (url, protocol) in [
            (
                "smtp+unix:///var/spool/postfix/public/smtpd",
                Protocol::Smtp,
            ),
            ("lmtp+unix:///run/dovecot/lmtp", Protocol::Lmtp),
        ] {
            let e = Endpoint::parse_url(url, "--server").unwrap();
            assert_eq!(e.protocol, protocol);
            assert_eq!(
                e.security,
                Security::Plain,
                "nothing to encrypt on one machine"
            );
            assert!(is_loopback(&e.host), "a password may go over a socket");
            assert_eq!(e.url(), url);
            assert_eq!(e.place(), url.split_once("://").unwrap().1);
        }
        let v6 = Endpoint::parse_url("smtps://[::1]:1465", "x").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.url(), "smtps://[::1]:1465");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("smtp://alice:secret@mail.example.com:587"),
            "smtp://alice:<redacted>@mail.example.com:587"
        );
        assert_eq!(
            redact_url("smtps://alice:p@ss/w:rd@host"),
            "smtps://alice:<redacted>@host"
        );
        assert_eq!(redact_url("alice:secret@host"), "alice:<redacted>@host");
        assert_eq!(redact_url("smtp://alice@host"), "smtp://alice@host");
        assert_eq!(redact_url("smtp://host:587"), "smtp://host:587");
        let said =
            "unexpected value 'smtp://alice:p@ss@host' for '--server=smtp://alice:p@ss@host'";
        assert_eq!(
            redact_passwords(said, ["--server=smtp://alice:p@ss@host", "-v"]),
            "unexpected value 'smtp://alice:<redacted>@host' for \
             '--server=smtp://alice:<redacted>@host'"
        );
        let err = Endpoint::parse_url("smtp://alice:secret@host", "--server").unwrap_err();
        assert!(!err.message.contains("secret"), "{}", err.message);
    }

    #[test]
    fn bad_urls_are_usage_errors() {
        for url in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://user:pw@mail.example.com",
            "smtp://mail.example.com:0",
            "smtp://mail.example.com:99999",
            "smtp://mail.example.com/path",
            "smtp://bad host",
            "smtp+unix://relative/path",
            "smtps+unix:///run/smtp.sock",
            "lmtps+plain://host",
        ] {
            let err = Endpoint::parse_url(url, "--server").unwrap_err();
            assert_eq!(err.exit_code(), 64, "{url}");
        }
    }

    #[test]
    fn each_name_parses_back_and_is_stored_as_written() {
        for security in Security::ALL {
            assert_eq!(security.name().parse::<Security>(), Ok(security));
            assert_eq!(
                security.to_possible_value().unwrap().get_name(),
                security.name()
            );
        }
        for auth in AuthChoice::ALL {
            assert_eq!(auth.name().to_uppercase().parse::<AuthChoice>(), Ok(auth));
            assert_eq!(serde_json::to_string(&auth).unwrap(), format!("\"{auth}\""));
        }
        assert!(
            "sometimes"
                .parse::<Security>()
                .unwrap_err()
                .contains("starttls")
        );
        let endpoint = Endpoint::parse_url("smtps://mail.example.com", "x").unwrap();
        let stored = serde_json::to_string(&endpoint).unwrap();
        assert_eq!(stored, "\"smtps://mail.example.com:465\"");
        assert_eq!(serde_json::from_str::<Endpoint>(&stored).unwrap(), endpoint);
    }

    #[test]
    fn loopback_is_this_machine_only() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.1", "::1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["localhost.example.com", "10.0.0.1", "::2", "example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
