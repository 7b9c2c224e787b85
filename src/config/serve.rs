//! The `[serve]` table: what `smtpsend serve` allows its local clients. The local logins (a
//! salted hash each, never a password, and never the upstream server's credentials), the
//! domains it relays to, where bounces go, the certificate for STARTTLS and the limits.
//!
//! ```toml
//! [serve]
//! listen = ["127.0.0.1:2525", "/run/smtpsend/smtp.sock"]
//! relay_domains = ["example.org"]
//! bounce_to = "admin@example.org"
//! tls_cert = "/etc/smtpsend/relay.pem"
//! tls_key = "/etc/smtpsend/relay.key"
//!
//! [serve.users.grafana]
//! password_hash = "pbkdf2-sha256$600000$..."   # smtpsend serve --hash-password
//! account = "alerts"                           # its mail goes through this account
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::address::parse_mailbox;
use crate::credentials::PasswordHash;
use crate::error::Error;

/// Where `serve` listens: a TCP address, or a unix socket's path (`/...` or `unix:PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl ListenAddr {
    /// 127.0.0.1:2525: 25 is the MTA's, 587 the submission server's, and a port above 1024
    /// needs no privilege.
    pub fn loopback_default() -> ListenAddr {
        ListenAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 2525)))
    }

    pub fn parse(value: &str) -> Result<ListenAddr, String> {
        if let Some(path) = value.strip_prefix("unix:") {
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        if value.starts_with('/') {
            return Ok(ListenAddr::Unix(PathBuf::from(value)));
        }
        value.parse().map(ListenAddr::Tcp).map_err(|_| {
            format!(
                "{value:?} is neither ADDRESS:PORT (127.0.0.1:2525, [::1]:2525) nor a socket path"
            )
        })
    }
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Tcp(addr) => write!(f, "{addr}"),
            ListenAddr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A local login of `serve`.
#[derive(Debug, Clone)]
pub struct LocalUser {
    pub password_hash: PasswordHash,
    /// The account its mail goes out through; without it, the sender's or the default.
    pub account: Option<String>,
}

/// The `[serve]` table, validated, defaults filled in.
#[derive(Debug, Clone)]
pub struct Serve {
    pub listen: Vec<ListenAddr>,
    pub users: BTreeMap<String, LocalUser>,
    /// Lowercase; empty: any domain.
    pub relay_domains: Vec<String>,
    /// Where a permanent failure upstream is reported; without it, a dead letter and a log line.
    pub bounce_to: Option<String>,
    /// The name in the greeting; the machine's host name without it.
    pub hostname: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_connections: usize,
    pub max_message_size: usize,
    pub max_recipients: usize,
    pub max_commands: usize,
    pub idle_timeout: Duration,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            listen: Vec::new(),
            users: BTreeMap::new(),
            relay_domains: Vec::new(),
            bounce_to: None,
            hostname: None,
            tls_cert: None,
            tls_key: None,
            max_connections: 100,
            // Gmail's and Microsoft 365's limit for a submitted message.
            max_message_size: 35 * 1024 * 1024,
            // RFC 5321 section 4.5.3.1.8 asks a server to take at least 100.
            max_recipients: 100,
            max_commands: 10_000,
            // RFC 5321 section 4.5.3.2.7 asks for 5 minutes before closing an idle client.
            idle_timeout: Duration::from_secs(300),
        }
    }
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ServeSyntax {
    listen: Option<Vec<String>>,
    #[serde(default)]
    users: BTreeMap<String, UserSyntax>,
    relay_domains: Option<Vec<String>>,
    bounce_to: Option<String>,
    hostname: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_connections: Option<usize>,
    max_message_size: Option<usize>,
    max_recipients: Option<usize>,
    max_commands: Option<usize>,
    idle_timeout: Option<u64>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct UserSyntax {
    password_hash: String,
    account: Option<String>,
}

/// The table as the file has it, checked against the accounts it names.
pub(super) fn validate(
    syntax: ServeSyntax,
    has_account: &dyn Fn(&str) -> bool,
    file: &std::path::Path,
) -> Result<Serve, Error> {
    let bad = |key: &str, reason: String| {
        Error::config(format!("{}: [serve] {key}: {reason}", file.display()))
    };
    let defaults = Serve::default();
    let listen = syntax
        .listen
        .unwrap_or_default()
        .iter()
        .map(|value| ListenAddr::parse(value).map_err(|reason| bad("listen", reason)))
        .collect::<Result<_, _>>()?;
    let mut users = BTreeMap::new();
    for (name, user) in syntax.users {
        let key = format!("users.{name}");
        let password_hash = PasswordHash::parse(&user.password_hash).map_err(|reason| {
            bad(&format!("{key}.password_hash"), reason)
                .with_hint("make one with `smtpsend serve --hash-password`")
        })?;
        if let Some(account) = user.account.as_deref().filter(|a| !has_account(a)) {
            return Err(bad(
                &format!("{key}.account"),
                format!("no account named {account:?}"),
            ));
        }
        users.insert(
            name,
            LocalUser {
                password_hash,
                account: user.account,
            },
        );
    }
    if let Some(to) = &syntax.bounce_to {
        parse_mailbox(to, "bounce_to").map_err(|err| bad("bounce_to", err.message))?;
    }
    if syntax.tls_cert.is_some() != syntax.tls_key.is_some() {
        return Err(bad(
            "tls_cert",
            "tls_cert and tls_key go together".to_string(),
        ));
    }
    let positive = |key: &str, value: Option<usize>, default: usize| match value {
        Some(0) => Err(bad(key, "must be at least 1".to_string())),
        Some(value) => Ok(value),
        None => Ok(default),
    };
    Ok(Serve {
        listen,
        users,
        relay_domains: syntax
            .relay_domains
            .unwrap_or_default()
            .iter()
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
            .collect(),
        bounce_to: syntax.bounce_to,
        hostname: syntax.hostname,
        tls_cert: syntax.tls_cert,
        tls_key: syntax.tls_key,
        max_connections: positive(
            "max_connections",
            syntax.max_connections,
            defaults.max_connections,
        )?,
        max_message_size: positive(
            "max_message_size",
            syntax.max_message_size,
            defaults.max_message_size,
        )?,
        max_recipients: positive(
            "max_recipients",
            syntax.max_recipients,
            defaults.max_recipients,
        )?,
        max_commands: positive("max_commands", syntax.max_commands, defaults.max_commands)?,
        idle_timeout: syntax
            .idle_timeout
            .map_or(defaults.idle_timeout, Duration::from_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_tcp_or_unix_sockets() {
        assert_eq!(
            ListenAddr::parse("[::1]:2525").unwrap(),
            ListenAddr::Tcp("[::1]:2525".parse().unwrap())
        );
        for unix in ["/run/smtpsend/smtp.sock", "unix:/run/smtpsend/smtp.sock"] {
            assert_eq!(
                ListenAddr::parse(unix).unwrap(),
                ListenAddr::Unix("/run/smtpsend/smtp.sock".into())
            );
        }
        assert!(ListenAddr::parse("localhost:2525").is_err());
        assert_eq!(ListenAddr::loopback_default().to_string(), "127.0.0.1:2525");
    }

    #[test]
    fn the_table_is_checked_against_the_accounts_and_itself() {
        let parse = |text: &str| {
            let syntax: ServeSyntax = toml::from_str(text).unwrap();
            validate(
                syntax,
                &|name| name == "work",
                std::path::Path::new("c.toml"),
            )
        };
        let serve = parse("relay_domains = [\".Example.ORG\"]\nidle_timeout = 5\n").unwrap();
        assert_eq!(serve.relay_domains, ["example.org"]);
        assert_eq!(serve.idle_timeout, Duration::from_secs(5));
        assert_eq!(serve.max_recipients, 100);
        for (bad, culprit) in [
            ("tls_cert = \"/c.pem\"\n", "tls_cert"),
            ("max_connections = 0\n", "max_connections"),
            ("bounce_to = \"not an address\"\n", "bounce_to"),
            ("listen = [\"2525\"]\n", "listen"),
            (
                "[users.a]\npassword_hash = \"pbkdf2-sha256$1000$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\naccount = \"home\"\n",
                "users.a.account",
            ),
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.message.contains(culprit), "{bad}: {}", error.message);
        }
    }
}
