//! The configuration file: `$XDG_CONFIG_HOME/smtpsend/config.toml`, or the one `--config` or
//! `SMTPSEND_CONFIG` names. TOML with `default = "NAME"` and one `[accounts.NAME]` table per
//! account; an account may inherit the keys it does not set from another (`extends`).
//!
//! This module reads and validates the file and resolves inheritance; every error names the file,
//! the line and the key, and exits 78, and an unknown key gets the closest known one as a hint.
//! [`AccountKey`] is the one list of the account keys' names. It does not decide precedence against flags and the
//! environment (that is `settings`), and it never touches the network or the keyring.

pub mod edit;
mod keys;
pub mod msmtprc;
pub mod serve;

pub use keys::AccountKey;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::address::{Mailbox, parse_mailbox};
use crate::credentials::Secret;
use crate::dirs;
use crate::dkim::Selector;
use crate::error::{Error, Kind, io_reason};
use crate::server::{AuthChoice, Endpoint, Security};
use crate::trust::{Pin, TlsOptions, TlsVersion};

/// One account, inheritance resolved and every value validated.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub name: String,
    /// The file that defines it.
    pub file: PathBuf,
    pub endpoint: Option<Endpoint>,
    pub user: Option<String>,
    pub from: Option<Mailbox>,
    pub auth: Option<AuthChoice>,
    pub ca_file: Option<PathBuf>,
    /// `tls_pin`, `tls_pin_only`, `tls_min`, `tls_server_name`, `client_cert`, `client_key`.
    pub tls: TlsOptions,
    pub password_command: Option<String>,
    pub password: Option<Secret>,
    /// A command printing an OAuth2 access token, bare or as JSON with its lifetime.
    pub oauth2_token_command: Option<String>,
    /// Built-in OAuth2: the `oauth2_*` keys (`oauth2_provider` and the rest).
    pub oauth2: crate::credentials::oauth2::AccountKeys,
    pub timeout: Option<u64>,
    /// sendmail mode: an aliases file for local recipients (`/etc/aliases` syntax).
    pub aliases: Option<PathBuf>,
    /// sendmail mode: the domain added to a local name that has no alias.
    pub local_domain: Option<String>,
    /// Keep messages that fail temporarily in the outbox (`queue = "on-failure"`); sendmail
    /// mode does so unless `queue = "never"`.
    pub queue: Option<bool>,
    /// A delivery log: a file, or "syslog".
    pub log: Option<LogTarget>,
    /// Send with REQUIRETLS (RFC 8689): TLS on every hop to the recipient, or no delivery.
    pub require_tls: Option<bool>,
    /// `hello_name`, `ip_family`, `source_address`, `proxy`.
    pub reach: crate::reach::Reach,
    /// `dkim_key`, `dkim_selector`, `dkim_domain`.
    pub dkim: DkimKeys,
}

/// DKIM signing keys of an account: the private key's file (read only when a message is
/// signed), the selector, the signing domain.
#[derive(Debug, Clone, Default)]
pub struct DkimKeys {
    pub key: Option<PathBuf>,
    pub selector: Option<Selector>,
    pub domain: Option<String>,
}

#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub default: Option<String>,
    pub accounts: BTreeMap<String, Account>,
    /// The `[serve]` table; its defaults when the file has none.
    pub serve: serve::Serve,
}

/// Where the delivery log goes: `log = "PATH"`, `log = "syslog"` or `log = "stderr"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    File(PathBuf),
    /// The local syslog daemon, facility mail.
    Syslog,
    /// Standard error, which a service manager's journal keeps with its own timestamps.
    Stderr,
}

impl LogTarget {
    pub fn parse(value: &str) -> LogTarget {
        match value {
            "syslog" => LogTarget::Syslog,
            "stderr" => LogTarget::Stderr,
            _ => LogTarget::File(PathBuf::from(value)),
        }
    }
}

/// The keys outside the account tables, as [`FileSyntax`] has them.
const FILE_KEYS: [&str; 3] = ["default", "accounts", "serve"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSyntax {
    default: Option<Spanned<String>>,
    #[serde(default)]
    accounts: BTreeMap<String, Spanned<AccountSyntax>>,
    #[serde(default)]
    serve: serve::ServeSyntax,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct AccountSyntax {
    extends: Option<Spanned<String>>,
    server: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    tls: Option<Spanned<String>>,
    user: Option<String>,
    from: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    ca_file: Option<PathBuf>,
    tls_pin: Option<Spanned<OneOrMore>>,
    tls_pin_only: Option<Spanned<bool>>,
    tls_min: Option<Spanned<TextOrNumber>>,
    tls_server_name: Option<Spanned<String>>,
    client_cert: Option<PathBuf>,
    client_key: Option<Spanned<PathBuf>>,
    password_command: Option<String>,
    password: Option<Spanned<String>>,
    oauth2_token_command: Option<String>,
    oauth2_provider: Option<Spanned<String>>,
    oauth2_tenant: Option<String>,
    oauth2_client_id: Option<String>,
    oauth2_client_secret_command: Option<String>,
    oauth2_authorize_url: Option<Spanned<String>>,
    oauth2_token_url: Option<Spanned<String>>,
    oauth2_device_authorization_url: Option<Spanned<String>>,
    oauth2_revocation_url: Option<Spanned<String>>,
    oauth2_scopes: Option<Vec<String>>,
    oauth2_token_store: Option<Spanned<String>>,
    timeout: Option<Spanned<u64>>,
    aliases: Option<PathBuf>,
    local_domain: Option<Spanned<String>>,
    queue: Option<Spanned<String>>,
    log: Option<String>,
    hello_name: Option<Spanned<String>>,
    ip_family: Option<Spanned<String>>,
    source_address: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    require_tls: Option<bool>,
    dkim_key: Option<PathBuf>,
    dkim_selector: Option<Spanned<String>>,
    dkim_domain: Option<Spanned<String>>,
}

/// `tls_pin = "sha256//..."` or a list of them.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMore {
    One(String),
    More(Vec<String>),
}

/// `tls_min = "1.3"`, or written as a number, `tls_min = 1.3`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(f64),
}

/// Where the configuration file is when nobody says otherwise.
pub fn default_path(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    Some(dirs::config_home(var)?.join("smtpsend").join("config.toml"))
}

/// Reads the file. An explicitly named file must exist; the default one may be absent.
pub fn load(
    explicit: Option<&Path>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Config>, Error> {
    let (path, required) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => match default_path(var) {
            Some(path) => (path, false),
            None => return Ok(None),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(err) => {
            return Err(Error::config(format!(
                "cannot read the configuration file {}: {}",
                path.display(),
                io_reason(&err)
            )));
        }
    };
    let config = parse(&text, &path)?;
    if config.accounts.values().any(|a| a.password.is_some()) {
        refuse_readable_password_file(&path)?;
    }
    Ok(Some(config))
}

/// The account names in the configuration file (`SMTPSEND_CONFIG`, else the default one), for
/// shell completion. Whatever goes wrong gives no names: completion must never fail loudly.
pub fn account_names(var: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let explicit = var("SMTPSEND_CONFIG").filter(|path| !path.is_empty());
    match load(explicit.as_deref().map(Path::new), var) {
        Ok(Some(config)) => config.accounts.into_keys().collect(),
        Ok(None) | Err(_) => Vec::new(),
    }
}

/// A password in a file others can read is no secret (msmtp refuses the same).
fn refuse_readable_password_file(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|err| Error::config(format!("{}: {}", path.display(), io_reason(&err))))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::config(format!(
                "{} holds a password but can be read by others (mode {:o}); refusing to use it",
                path.display(),
                mode & 0o777
            ))
            .with_hint(format!(
                "chmod 600 {}, or better, replace `password` with password_command or `smtpsend login`",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Parses and validates the text of a configuration file.
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let at = |span: std::ops::Range<usize>, message: String| -> Error {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        Error::new(
            Kind::Config,
            format!("{}:{line}: {message}", path.display()),
        )
    };
    let syntax: FileSyntax = toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let key = key_on_line(text, span.start);
        let mut message = err.message().trim().to_string();
        let hint = closest_key(&message).map(|known| format!("did you mean `{known}`?"));
        if let Some((unknown, _)) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
        {
            // serde's list of every expected key buries the one that matters, the hint.
            message = match enclosing_account(text, span.start) {
                Some(account) => format!("unknown key `{unknown}` in account `{account}`"),
                None => format!("unknown key `{unknown}`"),
            };
        }
        let error = match key {
            Some(key) if !message.contains(&format!("`{key}`")) => {
                at(span, format!("{key}: {message}"))
            }
            _ => at(span, message),
        };
        match hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    })?;

    let mut accounts = BTreeMap::new();
    for name in syntax.accounts.keys() {
        let chain = inheritance_chain(&syntax, name, &at)?;
        let merged = chain
            .iter()
            .rev()
            .fold(AccountSyntax::default(), |base, child| overlay(base, child));
        let mut account = validate(name, merged, &at)?;
        account.file = path.to_path_buf();
        accounts.insert(name.clone(), account);
    }
    let default = match syntax.default {
        Some(default) if !accounts.contains_key(default.get_ref()) => {
            return Err(at(
                default.span(),
                format!("default: no account named {:?}", default.get_ref()),
            ));
        }
        other => other.map(Spanned::into_inner),
    };
    let serve = serve::validate(syntax.serve, &|name| accounts.contains_key(name), path)?;
    Ok(Config {
        path: path.to_path_buf(),
        default,
        accounts,
        serve,
    })
}

/// For serde's "unknown field `KEY`, expected ...": the valid key KEY is most likely a typo of,
/// if one is close enough. An account's keys when the error is about an account table, the
/// file's own otherwise.
fn closest_key(message: &str) -> Option<&'static str> {
    let (unknown, expected) = message.strip_prefix("unknown field `")?.split_once('`')?;
    let top_level = FILE_KEYS
        .iter()
        .all(|key| expected.contains(&format!("`{key}`")));
    let known: Vec<&'static str> = if top_level {
        FILE_KEYS.to_vec()
    } else {
        AccountKey::ALL.map(AccountKey::name).to_vec()
    };
    let (score, closest) = known
        .into_iter()
        .map(|key| (strsim::jaro_winkler(unknown, key), key))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    (score > 0.8).then_some(closest)
}

/// The account whose table holds `offset`: the last `[accounts.NAME]` header before it.
fn enclosing_account(text: &str, offset: usize) -> Option<String> {
    let header = text[..offset.min(text.len())]
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))?;
    let name = header
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim()
        .strip_prefix("accounts.")?;
    Some(name.trim().trim_matches('"').to_string())
}

/// The key written at the start of the line holding `offset`, for errors about a value.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// The account and its ancestors, child first.
fn inheritance_chain<'a>(
    syntax: &'a FileSyntax,
    name: &str,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<Vec<&'a AccountSyntax>, Error> {
    let mut chain: Vec<&AccountSyntax> = Vec::new();
    let mut names = vec![name.to_string()];
    let mut current = syntax.accounts[name].get_ref();
    chain.push(current);
    while let Some(parent) = &current.extends {
        let parent_name = parent.get_ref();
        if names.contains(parent_name) {
            return Err(at(
                parent.span(),
                format!("extends: {} inherit from each other", names.join(" → ")),
            ));
        }
        current = syntax
            .accounts
            .get(parent_name)
            .ok_or_else(|| {
                at(
                    parent.span(),
                    format!("extends: no account named {parent_name:?}"),
                )
            })?
            .get_ref();
        names.push(parent_name.clone());
        chain.push(current);
    }
    Ok(chain)
}

/// `child`'s keys over `base`'s. The server location is one setting: a child that names its
/// server any way replaces all of the parent's.
fn overlay(base: AccountSyntax, child: &AccountSyntax) -> AccountSyntax {
    let child = child.clone();
    let own_location = child.server.is_some() || child.host.is_some();
    AccountSyntax {
        extends: None,
        server: if own_location {
            child.server
        } else {
            base.server
        },
        host: if own_location { child.host } else { base.host },
        port: child.port.or(if own_location { None } else { base.port }),
        tls: child.tls.or(if own_location { None } else { base.tls }),
        user: child.user.or(base.user),
        from: child.from.or(base.from),
        auth: child.auth.or(base.auth),
        ca_file: child.ca_file.or(base.ca_file),
        tls_pin: child.tls_pin.or(base.tls_pin),
        tls_pin_only: child.tls_pin_only.or(base.tls_pin_only),
        tls_min: child.tls_min.or(base.tls_min),
        tls_server_name: child.tls_server_name.or(base.tls_server_name),
        client_cert: child.client_cert.or(base.client_cert),
        client_key: child.client_key.or(base.client_key),
        password_command: child.password_command.or(base.password_command),
        password: child.password.or(base.password),
        oauth2_token_command: child.oauth2_token_command.or(base.oauth2_token_command),
        oauth2_provider: child.oauth2_provider.or(base.oauth2_provider),
        oauth2_tenant: child.oauth2_tenant.or(base.oauth2_tenant),
        oauth2_client_id: child.oauth2_client_id.or(base.oauth2_client_id),
        oauth2_client_secret_command: child
            .oauth2_client_secret_command
            .or(base.oauth2_client_secret_command),
        oauth2_authorize_url: child.oauth2_authorize_url.or(base.oauth2_authorize_url),
        oauth2_token_url: child.oauth2_token_url.or(base.oauth2_token_url),
        oauth2_device_authorization_url: child
            .oauth2_device_authorization_url
            .or(base.oauth2_device_authorization_url),
        oauth2_revocation_url: child.oauth2_revocation_url.or(base.oauth2_revocation_url),
        oauth2_scopes: child.oauth2_scopes.or(base.oauth2_scopes),
        oauth2_token_store: child.oauth2_token_store.or(base.oauth2_token_store),
        timeout: child.timeout.or(base.timeout),
        aliases: child.aliases.or(base.aliases),
        local_domain: child.local_domain.or(base.local_domain),
        queue: child.queue.or(base.queue),
        log: child.log.or(base.log),
        require_tls: child.require_tls.or(base.require_tls),
        hello_name: child.hello_name.or(base.hello_name),
        ip_family: child.ip_family.or(base.ip_family),
        source_address: child.source_address.or(base.source_address),
        proxy: child.proxy.or(base.proxy),
        dkim_key: child.dkim_key.or(base.dkim_key),
        dkim_selector: child.dkim_selector.or(base.dkim_selector),
        dkim_domain: child.dkim_domain.or(base.dkim_domain),
    }
}

fn validate(
    name: &str,
    raw: AccountSyntax,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<Account, Error> {
    let endpoint = match (&raw.server, &raw.host) {
        (Some(server), Some(host)) => {
            return Err(at(
                host.span().start.min(server.span().start)..host.span().end,
                format!("accounts.{name}: give server or host, not both"),
            ));
        }
        (Some(server), None) => {
            if let Some(port) = &raw.port {
                return Err(at(port.span(), "port: give it in the server URL".into()));
            }
            Some(
                Endpoint::parse_url(server.get_ref(), "server")
                    .map_err(|err| at(server.span(), err.message))?,
            )
        }
        (None, Some(host)) => {
            let security = match &raw.tls {
                None => Security::StartTls,
                Some(tls) => tls
                    .get_ref()
                    .parse()
                    .map_err(|reason| at(tls.span(), format!("tls: {reason}")))?,
            };
            let port = raw.port.as_ref().map(|p| *p.get_ref());
            Some(
                Endpoint::new(host.get_ref(), port, security, "host")
                    .map_err(|err| at(host.span(), err.message))?,
            )
        }
        (None, None) => None,
    };
    let from = match &raw.from {
        Some(from) => Some(
            parse_mailbox(from.get_ref(), "from").map_err(|err| at(from.span(), err.message))?,
        ),
        None => None,
    };
    let auth = match &raw.auth {
        Some(auth) => Some(
            auth.get_ref()
                .parse::<AuthChoice>()
                .map_err(|reason| at(auth.span(), format!("auth: {reason}")))?,
        ),
        None => None,
    };
    let oauth2 = oauth2_keys(&raw, at)?;
    if let (Some(provider), Some(_)) = (&raw.oauth2_provider, &raw.oauth2_token_command) {
        return Err(at(
            provider.span(),
            "oauth2_provider: give it or oauth2_token_command, not both".into(),
        ));
    }
    // A provider's preset server and mechanism, unless the account names its own.
    let endpoint = endpoint.or_else(|| oauth2.preset_server());
    let auth = auth.or_else(|| oauth2.preset_mechanism());
    if let Some(timeout) = &raw.timeout
        && *timeout.get_ref() == 0
    {
        return Err(at(
            timeout.span(),
            "timeout: must be at least 1 second".into(),
        ));
    }
    let tls = tls_keys(&raw, at)?;
    let reach = reach_keys(&raw, at)?;
    Ok(Account {
        name: name.to_string(),
        reach,
        file: PathBuf::new(),
        endpoint,
        user: raw.user,
        from,
        auth,
        ca_file: raw.ca_file,
        tls,
        password_command: raw.password_command,
        password: raw.password.map(|p| Secret::new(p.into_inner())),
        oauth2_token_command: raw.oauth2_token_command,
        oauth2,
        timeout: raw.timeout.map(Spanned::into_inner),
        queue: match &raw.queue {
            Some(queue) => Some(
                parse_queue(queue.get_ref())
                    .map_err(|reason| at(queue.span(), format!("queue: {reason}")))?,
            ),
            None => None,
        },
        log: raw.log.as_deref().map(LogTarget::parse),
        require_tls: raw.require_tls,
        dkim: DkimKeys {
            key: raw.dkim_key.clone(),
            selector: key_value(raw.dkim_selector.as_ref(), "dkim_selector", str::parse, at)?,
            domain: key_value(
                raw.dkim_domain.as_ref(),
                "dkim_domain",
                |v| parse_domain(v).ok_or_else(|| format!("not a domain: {v:?}")),
                at,
            )?,
        },
        aliases: raw.aliases,
        local_domain: match raw.local_domain {
            Some(domain) => Some(parse_domain(domain.get_ref()).ok_or_else(|| {
                at(
                    domain.span(),
                    format!("local_domain: not a domain: {:?}", domain.get_ref()),
                )
            })?),
            None => None,
        },
    })
}

/// The `tls_*` keys, checked; an error points at the key's value.
fn tls_keys(
    raw: &AccountSyntax,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<TlsOptions, Error> {
    let pins = match &raw.tls_pin {
        Some(pins) => {
            let texts = match pins.get_ref() {
                OneOrMore::One(pin) => std::slice::from_ref(pin),
                OneOrMore::More(pins) => pins.as_slice(),
            };
            texts
                .iter()
                .map(|pin| pin.parse::<Pin>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| at(pins.span(), format!("tls_pin: {reason}")))?
        }
        None => Vec::new(),
    };
    let pin_only = raw
        .tls_pin_only
        .as_ref()
        .is_some_and(|only| *only.get_ref());
    if let Some(only) = raw
        .tls_pin_only
        .as_ref()
        .filter(|_| pin_only && pins.is_empty())
    {
        return Err(at(
            only.span(),
            "tls_pin_only: there is no tls_pin to trust".into(),
        ));
    }
    let min_version = match &raw.tls_min {
        Some(min) => {
            let text = match min.get_ref() {
                TextOrNumber::Text(text) => text.clone(),
                TextOrNumber::Number(number) => format!("{number:?}"),
            };
            Some(
                text.parse::<TlsVersion>()
                    .map_err(|reason| at(min.span(), format!("tls_min: {reason}")))?,
            )
        }
        None => None,
    };
    let server_name = match &raw.tls_server_name {
        Some(name) => Some(
            crate::trust::parse_server_name(name.get_ref())
                .map_err(|reason| at(name.span(), format!("tls_server_name: {reason}")))?,
        ),
        None => None,
    };
    if let (Some(key), None) = (&raw.client_key, &raw.client_cert) {
        return Err(at(
            key.span(),
            "client_key: there is no client_cert it belongs to".into(),
        ));
    }
    Ok(TlsOptions {
        pins,
        pin_only,
        min_version,
        server_name,
        client_cert: raw.client_cert.clone(),
        client_key: raw.client_key.as_ref().map(|key| key.get_ref().clone()),
    })
}

/// `hello_name`, `ip_family`, `source_address` and `proxy`, each checked where it is written.
fn reach_keys(
    raw: &AccountSyntax,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<crate::reach::Reach, Error> {
    use crate::reach::{IpFamily, Proxy, Reach, parse_hello_name};
    Ok(Reach {
        hello_name: key_value(raw.hello_name.as_ref(), "hello_name", parse_hello_name, at)?,
        ip_family: key_value(raw.ip_family.as_ref(), "ip_family", IpFamily::parse, at)?,
        source_address: key_value(
            raw.source_address.as_ref(),
            "source_address",
            |v| v.parse().map_err(|_| format!("not an IP address: {v:?}")),
            at,
        )?,
        proxy: key_value(raw.proxy.as_ref(), "proxy", Proxy::parse, at)?,
    })
}

/// A key's value parsed, or an error naming the key and pointing at the value.
fn key_value<T>(
    value: Option<&Spanned<String>>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<Option<T>, Error> {
    value
        .map(|v| parse(v.get_ref()).map_err(|reason| at(v.span(), format!("{key}: {reason}"))))
        .transpose()
}

/// `queue`: whether a message that fails temporarily is kept in the outbox.
pub fn parse_queue(value: &str) -> Result<bool, String> {
    match value {
        "on-failure" => Ok(true),
        "never" => Ok(false),
        other => Err(format!(
            "expected \"on-failure\" or \"never\", got {other:?}"
        )),
    }
}

/// `local_domain`: a domain an address could end in.
pub fn parse_domain(value: &str) -> Option<String> {
    parse_mailbox(&format!("x@{value}"), "local_domain")
        .ok()
        .map(|m| m.domain().to_string())
}

/// The `oauth2_*` keys, checked; an error points at the key's value.
fn oauth2_keys(
    raw: &AccountSyntax,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<crate::credentials::oauth2::AccountKeys, Error> {
    let text = |value: &Option<Spanned<String>>| value.as_ref().map(|v| v.get_ref().clone());
    let keys = crate::credentials::oauth2::AccountKeys {
        provider: text(&raw.oauth2_provider),
        tenant: raw.oauth2_tenant.clone(),
        client_id: raw.oauth2_client_id.clone(),
        client_secret_command: raw.oauth2_client_secret_command.clone(),
        authorize_url: text(&raw.oauth2_authorize_url),
        token_url: text(&raw.oauth2_token_url),
        device_authorization_url: text(&raw.oauth2_device_authorization_url),
        revocation_url: text(&raw.oauth2_revocation_url),
        scopes: raw.oauth2_scopes.clone(),
        token_store: text(&raw.oauth2_token_store),
    };
    keys.check().map_err(|(key, reason)| {
        let span = match key {
            "oauth2_provider" => &raw.oauth2_provider,
            "oauth2_token_store" => &raw.oauth2_token_store,
            "oauth2_authorize_url" => &raw.oauth2_authorize_url,
            "oauth2_token_url" => &raw.oauth2_token_url,
            "oauth2_device_authorization_url" => &raw.oauth2_device_authorization_url,
            _ => &raw.oauth2_revocation_url,
        };
        at(
            span.as_ref().map_or(0..0, Spanned::span),
            format!("{key}: {reason}"),
        )
    })?;
    Ok(keys)
}

impl Config {
    /// The account for a command: the one named, else the one whose `from` address is the
    /// sender, else the default; none when the file names no default.
    pub fn select(
        &self,
        named: Option<&str>,
        sender: Option<&Mailbox>,
    ) -> Result<Option<&Account>, Error> {
        if let Some(name) = named {
            return self
                .accounts
                .get(name)
                .map(Some)
                .ok_or_else(|| self.no_such_account(name));
        }
        if let Some(sender) = sender
            && let Some(account) = self.accounts.values().find(|a| {
                a.from
                    .as_ref()
                    .is_some_and(|from| from.address.eq_ignore_ascii_case(&sender.address))
            })
        {
            return Ok(Some(account));
        }
        Ok(self
            .default
            .as_ref()
            .and_then(|name| self.accounts.get(name)))
    }

    fn no_such_account(&self, name: &str) -> Error {
        let known = self.accounts.keys().cloned().collect::<Vec<_>>().join(", ");
        Error::config(format!("no account {name:?} in {}", self.path.display())).with_hint(
            if known.is_empty() {
                "the file defines no [accounts.NAME] table".to_string()
            } else {
                format!("its accounts: {known}")
            },
        )
    }
}

/// An account was named but there is no configuration file to find it in.
pub fn no_config_for(name: &str, var: &dyn Fn(&str) -> Option<String>) -> Error {
    let path = default_path(var).map_or_else(
        || "no configuration file".into(),
        |p| p.display().to_string(),
    );
    Error::config(format!("no account {name:?}: {path} does not exist"))
        .with_hint("create it (see `man smtpsend`, CONFIGURATION), or give --config PATH")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, Error> {
        parse(text, Path::new("/home/u/.config/smtpsend/config.toml"))
    }

    const EXAMPLE: &str = r#"
default = "work"

[accounts.base]
server = "smtp://mail.example.com"
user = "me@example.com"
from = "Me <me@example.com>"
timeout = 30

[accounts.work]
extends = "base"
from = "Work Me <work@example.com>"
password_command = "pass show work"

[accounts.relay]
host = "relay.example.net"
tls = "implicit"
auth = "login"
"#;

    #[test]
    fn accounts_inherit_and_validate() {
        let config = parse_text(EXAMPLE).unwrap();
        let work = &config.accounts["work"];
        let endpoint = work.endpoint.as_ref().unwrap();
        assert_eq!(
            (endpoint.host.as_str(), endpoint.port),
            ("mail.example.com", 587)
        );
        assert_eq!(work.user.as_deref(), Some("me@example.com"));
        assert_eq!(work.from.as_ref().unwrap().address, "work@example.com");
        assert_eq!(work.timeout, Some(30));
        assert_eq!(work.password_command.as_deref(), Some("pass show work"));
        let relay = &config.accounts["relay"];
        let endpoint = relay.endpoint.as_ref().unwrap();
        assert_eq!(
            (endpoint.security, endpoint.port),
            (Security::Implicit, 465)
        );
        assert_eq!(relay.auth, Some(AuthChoice::Login));
    }

    #[test]
    fn a_provider_gives_its_server_and_mechanism_unless_the_account_has_its_own() {
        let config = parse_text(
            "[accounts.ms]\noauth2_provider = \"microsoft\"\n\
             [accounts.gmail]\noauth2_provider = \"google\"\n\
             [accounts.own]\noauth2_provider = \"google\"\nserver = \"smtp://relay.example\"\nauth = \"oauthbearer\"\n",
        )
        .unwrap();
        let endpoint = |name: &str| config.accounts[name].endpoint.clone().unwrap().url();
        assert_eq!(endpoint("ms"), "smtp://smtp.office365.com:587");
        assert_eq!(endpoint("gmail"), "smtps://smtp.gmail.com:465");
        assert_eq!(endpoint("own"), "smtp://relay.example:587");
        assert_eq!(config.accounts["ms"].auth, Some(AuthChoice::Xoauth2));
        assert_eq!(config.accounts["own"].auth, Some(AuthChoice::OAuthBearer));
    }

    #[test]
    fn selection_by_name_sender_or_default() {
        let config = parse_text(EXAMPLE).unwrap();
        assert_eq!(
            config.select(Some("relay"), None).unwrap().unwrap().name,
            "relay"
        );
        let base_sender = parse_mailbox("me@example.com", "-f").unwrap();
        assert_eq!(
            config
                .select(None, Some(&base_sender))
                .unwrap()
                .unwrap()
                .name,
            "base"
        );
        assert_eq!(config.select(None, None).unwrap().unwrap().name, "work");
        let err = config.select(Some("nope"), None).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(err.hint.unwrap().contains("base, relay, work"));
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let err = parse_text("[accounts.a]\nserver = \"smtp://h.example\"\nsevrer = \"x\"\n")
            .unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(
            err.message
                .starts_with("/home/u/.config/smtpsend/config.toml:3: "),
            "{}",
            err.message
        );
        assert!(
            err.message
                .ends_with(":3: unknown key `sevrer` in account `a`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_unknown_key_gets_the_closest_known_one_as_a_hint() {
        let hint = |text: &str| parse_text(text).unwrap_err().hint;
        let cases = [
            ("[accounts.a]\nsevrer = \"x\"\n", Some("server")),
            (
                "[accounts.a]\npasword_command = \"x\"\n",
                Some("password_command"),
            ),
            ("[accounts.a]\nca-file = \"x\"\n", Some("ca_file")),
            (
                "[accounts.a]\nextend = \"b\"\n[accounts.b]\n",
                Some("extends"),
            ),
            ("defualt = \"a\"\n", Some("default")),
            ("[acounts.a]\n", Some("accounts")),
            // A file key is no suggestion inside an account, nor an account key outside one.
            ("[accounts.a]\ndefualt = \"x\"\n", None),
            ("pasword_command = \"x\"\n", None),
            ("[sever]\n", Some("serve")),
            ("[accounts.a]\nfrobnicate = true\n", None),
        ];
        for (text, closest) in cases {
            assert_eq!(
                hint(text),
                closest.map(|key| format!("did you mean `{key}`?")),
                "{text:?}"
            );
        }
        let err = parse_text("[accounts.a]\nserver = \"smtp://h.example\"\nsevrer = \"x\"\n")
            .unwrap_err();
        assert!(err.message.contains("config.toml:3: "), "{}", err.message);
    }

    /// Every field serde reads into an account, as its derive names them.
    fn account_syntax_fields() -> &'static [&'static str] {
        use serde::de::{self, Visitor};
        struct Fields<'a>(&'a mut &'static [&'static str]);
        impl<'de> de::Deserializer<'de> for Fields<'_> {
            type Error = de::value::Error;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(de::Error::custom(
                    "only a struct's field names are asked for",
                ))
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                *self.0 = fields;
                Err(de::Error::custom(
                    "the field names are all that was asked for",
                ))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
                identifier ignored_any
            }
        }
        let mut fields: &'static [&'static str] = &[];
        let _ = AccountSyntax::deserialize(Fields(&mut fields));
        fields
    }

    #[test]
    fn the_account_keys_are_the_fields_of_an_account_table() {
        let names = AccountKey::ALL.map(AccountKey::name);
        assert_eq!(account_syntax_fields(), names);
        // And each is read from the file: a table with all of them is no unknown-key error.
        let values = |key: &str| match key {
            "port" | "timeout" => "25",
            "oauth2_scopes" | "tls_pin" => "[\"x\"]",
            "require_tls" | "tls_pin_only" => "true",
            _ => "\"x\"",
        };
        let text = names
            .iter()
            .map(|key| format!("{key} = {}", values(key)))
            .collect::<Vec<_>>()
            .join("\n");
        let table: AccountSyntax = toml::from_str(&text).unwrap();
        assert!(table.extends.is_some() && table.log.is_some());
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let cases = [
            (
                "[accounts.a]\n\nserver = \"http://h.example\"\n",
                3,
                "server",
            ),
            ("[accounts.a]\ntimeout = \"soon\"\n", 2, "timeout"),
            ("[accounts.a]\ntimeout = 0\n", 2, "timeout"),
            ("[accounts.a]\nfrom = \"not an address\"\n", 2, "from"),
            (
                "[accounts.a]\nhost = \"h.example\"\ntls = \"maybe\"\n",
                3,
                "tls",
            ),
            ("[accounts.a]\nauth = \"cram-md5\"\n", 2, "auth"),
            (
                "[accounts.a]\noauth2_provider = \"yahoo\"\n",
                2,
                "oauth2_provider",
            ),
            (
                "[accounts.a]\noauth2_provider = \"custom\"\n\noauth2_token_url = \"http://id.example/token\"\n",
                4,
                "oauth2_token_url",
            ),
            (
                "[accounts.a]\noauth2_token_store = \"disk\"\n",
                2,
                "oauth2_token_store",
            ),
            (
                "[accounts.a]\noauth2_token_command = \"x\"\noauth2_provider = \"google\"\n",
                3,
                "not both",
            ),
            ("default = \"missing\"\n", 1, "default"),
            (
                "[accounts.a]\nextends = \"b\"\n[accounts.b]\nextends = \"a\"\n",
                0,
                "extends",
            ),
        ];
        for (text, line, key) in cases {
            let err = parse_text(text).unwrap_err();
            if line > 0 {
                let prefix = format!("config.toml:{line}: ");
                assert!(err.message.contains(&prefix), "{text:?}: {}", err.message);
            }
            assert!(err.message.contains(key), "{text:?}: {}", err.message);
        }
    }

    #[test]
    fn a_readable_file_with_a_password_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[accounts.a]\nserver = \"smtp://h.example\"\npassword = \"pw\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(Some(&path), &|_| None).unwrap_err();
        assert!(
            err.message.contains("can be read by others"),
            "{}",
            err.message
        );
        assert!(err.hint.unwrap().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let config = load(Some(&path), &|_| None).unwrap().unwrap();
        assert_eq!(
            config.accounts["a"].password.as_ref().unwrap().expose(),
            "pw"
        );
    }

    #[test]
    fn the_default_file_may_be_absent_but_a_named_one_may_not() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let var = move |key: &str| (key == "HOME").then(|| home.clone());
        assert!(load(None, &var).unwrap().is_none());
        let err = load(Some(&dir.path().join("missing.toml")), &var).unwrap_err();
        assert_eq!(err.exit_code(), 78);
    }

    #[test]
    fn the_default_path_follows_xdg() {
        let var = |key: &str| match key {
            "XDG_CONFIG_HOME" => Some("/xdg".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            default_path(&var).unwrap(),
            Path::new("/xdg/smtpsend/config.toml")
        );
        let home = tempfile::tempdir().unwrap();
        let home_text = home.path().display().to_string();
        let var = |key: &str| (key == "HOME").then(|| home_text.clone());
        assert_eq!(
            default_path(&var).unwrap(),
            home.path().join(".config/smtpsend/config.toml")
        );
    }

    /// Pieces of configuration files, right and wrong, for the property test to combine.
    const PIECES: &[&str] = &[
        "default = \"work\"",
        "default = \"nowhere\"",
        "[accounts.work]",
        "[accounts.base]",
        "[accounts.\"\u{202e}x\"]",
        "extends = \"base\"",
        "extends = \"work\"",
        "server = \"smtp://mail.example.com\"",
        "server = \"smtps://[::1]:99999\"",
        "server = \"gopher://x\"",
        "server = \"smtp://user:pw@host\"",
        "host = \"relay.example.net\"",
        "port = 0",
        "port = -1",
        "tls = \"implicit\"",
        "tls = \"sometimes\"",
        "auth = \"login\"",
        "auth = 7",
        "from = \"Me <me@example.com>\"",
        "from = \"<<>>\"",
        "user = \"\"",
        "timeout = 18446744073709551615",
        "timeout = 1e400",
        "password = \"x\"",
        "unknown_key = true",
        "= \"no key\"",
        "[accounts",
        "\"unterminated",
        "",
    ];

    #[test]
    fn log_targets() {
        assert_eq!(LogTarget::parse("syslog"), LogTarget::Syslog);
        assert_eq!(LogTarget::parse("stderr"), LogTarget::Stderr);
        assert_eq!(
            LogTarget::parse("/var/log/smtpsend.log"),
            LogTarget::File("/var/log/smtpsend.log".into())
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever the file holds, the parser answers with a configuration or with one line
            /// that exits 78; it never panics.
            #[test]
            fn any_text_gives_a_configuration_or_one_line_error(text in any::<String>()) {
                if let Err(err) = parse_text(&text) {
                    prop_assert_eq!(err.kind, Kind::Config);
                    prop_assert!(!err.message.contains('\n'), "{}", err.message);
                }
            }

            #[test]
            fn configuration_shaped_text_gives_a_configuration_or_one_line_error(
                lines in prop::collection::vec(prop::sample::select(PIECES), 0..16)
            ) {
                if let Err(err) = parse_text(&lines.join("\n")) {
                    prop_assert_eq!(err.kind, Kind::Config);
                    prop_assert!(!err.message.contains('\n'), "{}", err.message);
                }
            }
        }
    }
}
