//! Turns the command line, the environment and the configuration file into one validated
//! `Settings`, before any network I/O.
//!
//! Precedence, in one place: a flag beats its environment variable, which beats the account's
//! value in the configuration file, which beats the built-in default. Simple flags get their
//! variable through clap's `env`; the server location is resolved here because it is one
//! setting spelled several ways: any of --server, --host, --port or --tls on the command line
//! replaces all of SMTPSEND_SERVER, SMTPSEND_HOST, SMTPSEND_PORT and SMTPSEND_TLS, which in turn
//! replace the account's server. Nothing here touches the network or asks for a password.

use std::path::PathBuf;
use std::time::Duration;

use crate::address::{Mailbox, parse_list, parse_mailbox};
use crate::cli::{ConnectionArgs, ReachArgs, SendArgs};
use crate::compose::MessageSpec;
use crate::config::{self, Account, Config, LogTarget};
use crate::credentials::{PasswordSources, Secret};
use crate::dkim::Signing;
use crate::error::Error;
use crate::reach::{IpFamily, Reach};
use crate::server::{AuthChoice, Endpoint, Security, is_loopback};
use crate::trust::TlsOptions;

mod message;
mod signing;
mod template;

use message::message_spec;
pub use message::reject_line_breaks;
pub use signing::{DkimFlags, dkim};

/// The timeout for the connection and each reply when nothing sets one.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// Everything one send needs, validated.
#[derive(Debug)]
pub struct Settings {
    pub message: MessageSpec,
    /// DKIM signing of the composed message, when a key is set.
    pub dkim: Option<Signing>,
    /// Absent only with --dry-run, which connects to nothing.
    pub server: Option<ServerSettings>,
    pub output: Output,
    /// Said on standard error before anything is sent.
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct ServerSettings {
    /// The account these settings came from, if any.
    pub account: Option<String>,
    pub endpoint: Endpoint,
    pub ca_file: Option<PathBuf>,
    pub tls: TlsOptions,
    pub timeout: Duration,
    pub deadline: Option<Duration>,
    pub allow_partial: bool,
    /// MAIL FROM with REQUIRETLS (RFC 8689): only to a server that offers it, only over TLS.
    pub require_tls: bool,
    /// Keep the message in the outbox after a temporary failure; None when nothing said.
    pub queue: Option<bool>,
    pub log: Option<LogTarget>,
    pub login: Option<LoginSettings>,
    pub reach: Reach,
}

#[derive(Debug)]
pub struct LoginSettings {
    pub user: String,
    pub mechanism: AuthChoice,
    pub passwords: PasswordSources,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One line on success.
    Human { verbose: bool },
    /// Nothing on success.
    Quiet,
    /// One JSON object on standard output.
    Json { verbose: bool },
}

impl Output {
    pub fn verbose(self) -> bool {
        matches!(
            self,
            Output::Human { verbose: true } | Output::Json { verbose: true }
        )
    }
}

/// What settings need from outside the command line.
pub struct Environment<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub stdin_is_terminal: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    /// A password can be asked for: there is a terminal to ask on.
    pub can_prompt: bool,
}

/// The settings of a send.
pub fn resolve(args: &SendArgs, env: &Environment) -> Result<Settings, Error> {
    // A mistyped command (`smtpsend chek`) is said first, whatever else is missing.
    if let Some(typo) = args
        .recipients
        .iter()
        .filter(|word| parse_list(word, "RECIPIENT").is_err())
        .find_map(|word| mistyped_command(word))
    {
        return Err(typo);
    }
    let config = config::load(args.connection.config.as_deref(), env.var)?;
    // On a machine never set up, the first thing to do is to set up; a missing sender or
    // recipient would only be the second thing.
    if config.is_none()
        && args.dry_run.is_none()
        && server_endpoint(&args.connection, None, env)?.is_none()
    {
        return Err(not_set_up(args));
    }
    let sender = flag_or_variable_sender(args.from.as_deref(), env)?;
    let account = choose_account(
        config.as_ref(),
        args.account.as_deref(),
        sender.as_ref(),
        env,
    )?;
    let message = message_spec(args, sender, account, env)?;
    let dkim = dkim(
        DkimFlags {
            key: args.rich.dkim_key.as_deref(),
            selector: args.rich.dkim_selector.as_ref(),
            domain: args.rich.dkim_domain.as_deref(),
        },
        account,
        env,
        Some(&message.from),
    )?;
    let mut warnings = Vec::new();
    let server = match (
        server_endpoint(&args.connection, account, env)?,
        args.dry_run.is_some(),
    ) {
        (Some(endpoint), _) => {
            if endpoint.security == Security::Plain && !is_loopback(&endpoint.host) {
                warnings.push(format!(
                    "sending to {} without encryption: anyone on the path can read the message",
                    endpoint.host
                ));
            }
            let mut server = server_settings(&args.connection, account, env, endpoint)?;
            server.allow_partial = args.allow_partial;
            // The flags win over the account; --ignore-tls-policy asks the opposite.
            server.require_tls =
                (server.require_tls || args.require_tls) && !args.ignore_tls_policy;
            if args.queue {
                server.queue = Some(true);
            }
            Some(server)
        }
        (None, true) => None,
        (None, false) => return Err(no_server()),
    };
    let output = if args.quiet {
        Output::Quiet
    } else if args.json {
        Output::Json {
            verbose: args.verbose,
        }
    } else {
        Output::Human {
            verbose: args.verbose,
        }
    };
    Ok(Settings {
        message,
        dkim,
        server,
        output,
        warnings,
    })
}

/// The settings of a command that connects without composing (`login`, `logout`, `check`,
/// `sendmail`): the account, named, matched by the sender or the default, and the server.
pub fn resolve_connection(
    named: Option<&str>,
    connection: &ConnectionArgs,
    sender: Option<&Mailbox>,
    env: &Environment,
) -> Result<(Option<Account>, ServerSettings), Error> {
    let config = config::load(connection.config.as_deref(), env.var)?;
    resolve_with_config(config.as_ref(), named, connection, sender, env)
}

/// `resolve_connection` with the configuration file already read, for a command that resolves
/// many messages (`sendmail -bs`, `batch`) and should read the file once.
pub fn resolve_with_config(
    config: Option<&Config>,
    named: Option<&str>,
    connection: &ConnectionArgs,
    sender: Option<&Mailbox>,
    env: &Environment,
) -> Result<(Option<Account>, ServerSettings), Error> {
    let account = choose_account(config, named, sender, env)?;
    let endpoint = server_endpoint(connection, account, env)?.ok_or_else(no_server)?;
    let server = server_settings(connection, account, env, endpoint)?;
    Ok((account.cloned(), server))
}

/// What `config show` describes, on a machine with nothing configured too: the account a send
/// would choose (by name, by SMTPSEND_FROM or the default), and the server settings when there
/// is a server.
pub fn resolve_for_show(
    named: Option<&str>,
    connection: &ConnectionArgs,
    env: &Environment,
) -> Result<(Option<Account>, Option<ServerSettings>), Error> {
    let config = config::load(connection.config.as_deref(), env.var)?;
    let sender = flag_or_variable_sender(None, env)?;
    let account = choose_account(config.as_ref(), named, sender.as_ref(), env)?;
    let server = match server_endpoint(connection, account, env)? {
        Some(endpoint) => Some(server_settings(connection, account, env, endpoint)?),
        None => None,
    };
    Ok((account.cloned(), server))
}

fn no_server() -> Error {
    Error::config("no server to send to").with_hint(
        "give --server smtp://HOST, set SMTPSEND_SERVER, or name an account with a server \
         (`smtpsend init ADDRESS` sets one up)",
    )
}

/// No configuration file and no server in the flags or the environment: nothing is set up.
fn not_set_up(args: &SendArgs) -> Error {
    let no_recipients = args.recipients.is_empty()
        && args.to.is_empty()
        && args.cc.is_empty()
        && args.bcc.is_empty();
    if no_recipients {
        Error::usage("nothing to send")
            .with_hint("to get started: smtpsend init ADDRESS; for the options: smtpsend --help")
    } else {
        Error::config("no server and no account: smtpsend is not set up yet").with_hint(
            "run `smtpsend init ADDRESS` to set up an account, or give --server smtp://HOST \
             (or set SMTPSEND_SERVER)",
        )
    }
}

fn choose_account<'c>(
    config: Option<&'c Config>,
    named: Option<&str>,
    sender: Option<&Mailbox>,
    env: &Environment,
) -> Result<Option<&'c Account>, Error> {
    match (config, named) {
        (Some(config), _) => config.select(named, sender),
        (None, Some(name)) => Err(config::no_config_for(name, env.var)),
        (None, None) => Ok(None),
    }
}

fn server_settings(
    connection: &ConnectionArgs,
    account: Option<&Account>,
    env: &Environment,
    endpoint: Endpoint,
) -> Result<ServerSettings, Error> {
    let timeout = Duration::from_secs(
        connection
            .timeout
            .or(account.and_then(|a| a.timeout))
            .unwrap_or(DEFAULT_TIMEOUT_SECS),
    );
    let user = connection
        .user
        .clone()
        .or_else(|| account.and_then(|a| a.user.clone()));
    let mechanism = match connection.auth {
        Some(auth) => auth,
        None => match account {
            Some(Account {
                auth: Some(auth), ..
            }) => *auth,
            // A token is no password: XOAUTH2 is what the providers that issue tokens take.
            Some(Account {
                oauth2_token_command: Some(_),
                ..
            }) => AuthChoice::Xoauth2,
            _ => AuthChoice::Auto,
        },
    };
    // EXTERNAL needs no user: an empty authorization identity lets the server take it from
    // the certificate.
    let user = user.or_else(|| (mechanism == AuthChoice::External).then(String::new));
    let login = user.map(|user| {
        let oauth2 = crate::credentials::oauth2::Setup::new(
            &account.map(|a| a.oauth2.clone()).unwrap_or_default(),
            account.map(|a| a.name.as_str()),
            &user,
            env.var,
            timeout,
        );
        // A token is no password: with OAuth2 from the environment alone, still XOAUTH2.
        let mechanism = match mechanism {
            AuthChoice::Auto if oauth2.is_some() => AuthChoice::Xoauth2,
            chosen => chosen,
        };
        LoginSettings {
            passwords: PasswordSources {
                command: connection.password_command.clone(),
                env_value: (env.var)("SMTPSEND_PASSWORD").map(Secret::new),
                env_file: (env.var)("SMTPSEND_PASSWORD_FILE").map(PathBuf::from),
                account_command: account.and_then(|a| a.password_command.clone()),
                oauth2_command: account.and_then(|a| a.oauth2_token_command.clone()),
                oauth2,
                account_password: account.and_then(|a| a.password.clone()),
                keyring: Some(crate::credentials::KeyringEntry::new(&endpoint.host, &user)),
                can_prompt: env.can_prompt,
                command_timeout: timeout,
            },
            user,
            mechanism,
        }
    });
    let tls = tls_options(&connection.tls_options, account)?;
    if tls.client_cert.is_none()
        && login
            .as_ref()
            .is_some_and(|l| l.mechanism == AuthChoice::External)
    {
        return Err(Error::usage(
            "--auth external logs in with a client certificate, and none is given",
        )
        .with_hint(
            "give --client-cert PEM (SMTPSEND_CLIENT_CERT, or client_cert in the account)",
        ));
    }
    let (queue, log) = queue_and_log(account, env)?;
    let reach = reach(&connection.reach, account, env)?;
    Ok(ServerSettings {
        reach,
        account: account.map(|a| a.name.clone()),
        ca_file: connection
            .ca_file
            .clone()
            .or_else(|| account.and_then(|a| a.ca_file.clone())),
        tls,
        timeout,
        deadline: connection.deadline.map(Duration::from_secs),
        allow_partial: false,
        require_tls: require_tls(account, env)?.unwrap_or(false),
        queue,
        log,
        login,
        endpoint,
    })
}

/// `require_tls`: SMTPSEND_REQUIRE_TLS (`true` or `false`), else the account's; None when
/// neither says.
pub fn require_tls(account: Option<&Account>, env: &Environment) -> Result<Option<bool>, Error> {
    match (env.var)("SMTPSEND_REQUIRE_TLS").filter(|value| !value.trim().is_empty()) {
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            _ => Err(Error::config(format!(
                "SMTPSEND_REQUIRE_TLS: expected true or false, got {value:?}"
            ))),
        },
        None => Ok(account.and_then(|a| a.require_tls)),
    }
}

/// The TLS flags (or their variables), else the account's keys, one by one; pins given on the
/// command line replace the account's.
fn tls_options(
    flags: &crate::cli::TlsArgs,
    account: Option<&Account>,
) -> Result<TlsOptions, Error> {
    let kept = account.map(|a| a.tls.clone()).unwrap_or_default();
    let (pins, kept_pin_only) = if flags.tls_pin.is_empty() {
        (kept.pins, kept.pin_only)
    } else {
        (flags.tls_pin.clone(), false)
    };
    if flags.tls_pin_only && pins.is_empty() {
        return Err(Error::usage(
            "--tls-pin-only (SMTPSEND_TLS_PIN_ONLY) needs pins to trust: give --tls-pin sha256//... or the account's tls_pin",
        )
        .with_hint("`smtpsend check` prints the server's pin"));
    }
    Ok(TlsOptions {
        pin_only: flags.tls_pin_only || kept_pin_only,
        pins,
        min_version: flags.tls_min.or(kept.min_version),
        server_name: flags.tls_server_name.clone().or(kept.server_name),
        // The key goes with its certificate: a flag's certificate never takes the account's key.
        client_key: match &flags.client_cert {
            Some(_) => flags.client_key.clone(),
            None => kept.client_key,
        },
        client_cert: flags.client_cert.clone().or(kept.client_cert),
    })
}

/// The EHLO name, the IP family, the source address and the proxy: a flag (or its variable, through
/// clap), else the account's. -4 and -6 have SMTPSEND_IP_FAMILY (`4` or `6`) between them.
fn reach(args: &ReachArgs, account: Option<&Account>, env: &Environment) -> Result<Reach, Error> {
    let from_account = account.map(|a| a.reach.clone()).unwrap_or_default();
    let flag = match (args.ipv4, args.ipv6) {
        (true, _) => Some(IpFamily::V4),
        (_, true) => Some(IpFamily::V6),
        _ => None,
    };
    let variable = match (env.var)("SMTPSEND_IP_FAMILY").filter(|v| !v.is_empty()) {
        Some(value) => Some(
            IpFamily::parse(&value)
                .map_err(|reason| Error::config(format!("SMTPSEND_IP_FAMILY: {reason}")))?,
        ),
        None => None,
    };
    Ok(Reach {
        hello_name: args.ehlo_name.clone().or(from_account.hello_name),
        ip_family: flag.or(variable).or(from_account.ip_family),
        source_address: args.source_address.or(from_account.source_address),
        proxy: args.proxy.clone().or(from_account.proxy),
    })
}

/// `queue` and `log`: SMTPSEND_QUEUE and SMTPSEND_LOG, else the account's.
pub fn queue_and_log(
    account: Option<&Account>,
    env: &Environment,
) -> Result<(Option<bool>, Option<LogTarget>), Error> {
    let queue = match (env.var)("SMTPSEND_QUEUE") {
        Some(value) => Some(
            config::parse_queue(&value)
                .map_err(|reason| Error::config(format!("SMTPSEND_QUEUE: {reason}")))?,
        ),
        None => account.and_then(|a| a.queue),
    };
    let log = match (env.var)("SMTPSEND_LOG").filter(|value| !value.is_empty()) {
        Some(value) => Some(LogTarget::parse(&value)),
        None => account.and_then(|a| a.log.clone()),
    };
    Ok((queue, log))
}

/// Whether the environment names a server (SMTPSEND_SERVER, or any of SMTPSEND_HOST,
/// SMTPSEND_PORT and SMTPSEND_TLS), which then replaces an account's.
pub fn environment_names_server(env: &Environment) -> bool {
    [
        "SMTPSEND_SERVER",
        "SMTPSEND_HOST",
        "SMTPSEND_PORT",
        "SMTPSEND_TLS",
    ]
    .iter()
    .any(|key| (env.var)(key).is_some())
}

/// The sender a command was given: --from, else SMTPSEND_FROM; an error names the one that
/// holds what is not an address.
pub fn flag_or_variable_sender(
    flag: Option<&str>,
    env: &Environment,
) -> Result<Option<Mailbox>, Error> {
    match (flag, (env.var)("SMTPSEND_FROM").filter(|v| !v.is_empty())) {
        (Some(from), _) => parse_mailbox(from, "--from").map(Some),
        (None, Some(from)) => parse_mailbox(&from, "SMTPSEND_FROM")
            .map(Some)
            .map_err(|err| Error {
                kind: crate::error::Kind::Config,
                ..err
            }),
        (None, None) => Ok(None),
    }
}

/// How sendmail mode turns local names (`root`, `From: root (Cron Daemon)`) into addresses,
/// and the sender it may add: each from its variable, else from the account.
#[derive(Debug, Default)]
pub struct LocalNames {
    /// SMTPSEND_FROM, else the account's `from`.
    pub from: Option<Mailbox>,
    /// SMTPSEND_ALIASES, else the account's `aliases`.
    pub aliases: Option<AliasSource>,
    /// SMTPSEND_LOCAL_DOMAIN, else the account's `local_domain`.
    pub local_domain: Option<String>,
}

/// Where the aliases come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasSource {
    /// A file in `/etc/aliases` syntax.
    File(PathBuf),
    /// SMTPSEND_ALIASES holding the entries themselves: `root: admin@example.com; www-data: root`.
    Inline(String),
}

impl AliasSource {
    /// A value with a colon that is not a path (`root: admin@example.com`) holds the entries;
    /// anything else names a file.
    fn from_variable(value: &str) -> AliasSource {
        let before_colon = value.split(':').next().unwrap_or_default();
        if value.contains(':') && !before_colon.contains('/') {
            AliasSource::Inline(value.to_string())
        } else {
            AliasSource::File(PathBuf::from(value))
        }
    }
}

pub fn local_names(account: Option<&Account>, env: &Environment) -> Result<LocalNames, Error> {
    let variable = |key: &str| (env.var)(key).filter(|value| !value.trim().is_empty());
    let local_domain = match variable("SMTPSEND_LOCAL_DOMAIN") {
        Some(value) => Some(config::parse_domain(value.trim()).ok_or_else(|| {
            Error::config(format!("SMTPSEND_LOCAL_DOMAIN: not a domain: {value:?}"))
        })?),
        None => account.and_then(|a| a.local_domain.clone()),
    };
    Ok(LocalNames {
        from: match flag_or_variable_sender(None, env)? {
            Some(from) => Some(from),
            None => account.and_then(|a| a.from.clone()),
        },
        aliases: match variable("SMTPSEND_ALIASES") {
            Some(value) => Some(AliasSource::from_variable(&value)),
            None => account.and_then(|a| a.aliases.clone().map(AliasSource::File)),
        },
        local_domain,
    })
}

fn server_endpoint(
    connection: &ConnectionArgs,
    account: Option<&Account>,
    env: &Environment,
) -> Result<Option<Endpoint>, Error> {
    if let Some(url) = &connection.server {
        return Endpoint::parse_url(url, "--server").map(Some);
    }
    if connection.host.is_some() || connection.port.is_some() || connection.tls.is_some() {
        return spelled_out(
            connection.host.as_deref(),
            connection.port,
            connection.tls,
            "--host",
        )
        .map(Some);
    }
    if let Some(url) = (env.var)("SMTPSEND_SERVER") {
        return Endpoint::parse_url(&url, "SMTPSEND_SERVER").map(Some);
    }
    let host = (env.var)("SMTPSEND_HOST");
    let port =
        match (env.var)("SMTPSEND_PORT") {
            Some(text) => Some(text.parse::<u16>().map_err(|_| {
                Error::config(format!("SMTPSEND_PORT: not a port number: {text:?}"))
            })?),
            None => None,
        };
    let tls = match (env.var)("SMTPSEND_TLS") {
        Some(text) => Some(
            text.parse::<Security>()
                .map_err(|reason| Error::config(format!("SMTPSEND_TLS: {reason}")))?,
        ),
        None => None,
    };
    if host.is_some() || port.is_some() || tls.is_some() {
        return spelled_out(host.as_deref(), port, tls, "SMTPSEND_HOST").map(Some);
    }
    // The account's server (or its provider's preset), else the preset of a provider named
    // only in the environment.
    Ok(account.and_then(|a| a.endpoint.clone()).or_else(|| {
        crate::credentials::oauth2::AccountKeys {
            provider: (env.var)("SMTPSEND_OAUTH2_PROVIDER"),
            ..Default::default()
        }
        .preset_server()
    }))
}

/// `--host`, `--port` and `--tls` (or their variables): the host is the one that must be there.
fn spelled_out(
    host: Option<&str>,
    port: Option<u16>,
    tls: Option<Security>,
    what: &str,
) -> Result<Endpoint, Error> {
    let host =
        host.ok_or_else(|| Error::usage(format!("{what} is needed with --port and --tls")))?;
    Endpoint::new(host, port, tls.unwrap_or(Security::StartTls), what)
}

/// A RECIPIENT that is no address but looks like a command (`smtpsend logn`): say which.
fn mistyped_command(word: &str) -> Option<Error> {
    use clap::CommandFactory;
    let command = crate::cli::Cli::command();
    let closest = command
        .get_subcommands()
        .map(|sub| sub.get_name())
        .map(|name| (strsim::jaro_winkler(word, name), name))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    (closest.0 > 0.8 && !word.contains('@')).then(|| {
        Error::usage(format!("unknown command {word:?}"))
            .with_hint(format!("did you mean `smtpsend {}`?", closest.1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use crate::compose::BodySource;
    use clap::Parser;
    use std::collections::HashMap;

    fn resolve_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |key: &str| vars.get(key).cloned();
        let cli = Cli::try_parse_from(std::iter::once("smtpsend").chain(args.iter().copied()))
            .expect("valid command line");
        resolve(
            &cli.send,
            &Environment {
                var: &lookup,
                stdin_is_terminal: false,
                stdout_is_terminal: false,
                stderr_is_terminal: false,
                can_prompt: false,
            },
        )
    }

    const BASE: &[&str] = &["-f", "a@example.org", "-t", "b@example.org"];

    /// A sender and a recipient, then the given groups of arguments.
    fn with_base<'a>(groups: &[&[&'a str]]) -> Vec<&'a str> {
        let mut all = BASE.to_vec();
        groups.iter().for_each(|group| all.extend_from_slice(group));
        all
    }

    fn endpoint(args: &[&str], vars: &[(&str, &str)]) -> Endpoint {
        let all = with_base(&[args]);
        resolve_with(&all, vars).unwrap().server.unwrap().endpoint
    }

    #[test]
    fn flags_beat_environment_which_beats_defaults() {
        let vars = [("SMTPSEND_SERVER", "smtps://env.example.com")];
        assert_eq!(endpoint(&[], &vars).host, "env.example.com");
        let e = endpoint(&["--host", "flag.example.com"], &vars);
        assert_eq!(
            (e.host.as_str(), e.security, e.port),
            ("flag.example.com", Security::StartTls, 587)
        );
        let e = endpoint(&["--host", "h.example.com", "--tls", "implicit"], &[]);
        assert_eq!((e.security, e.port), (Security::Implicit, 465));
        let e = endpoint(
            &[],
            &[
                ("SMTPSEND_HOST", "h.example.com"),
                ("SMTPSEND_PORT", "2525"),
            ],
        );
        assert_eq!((e.host.as_str(), e.port), ("h.example.com", 2525));
    }

    #[test]
    fn a_server_is_required_unless_dry_run() {
        let err = resolve_with(BASE, &[]).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        let all = with_base(&[&["--dry-run"]]);
        assert!(resolve_with(&all, &[]).unwrap().server.is_none());
    }

    #[test]
    fn plaintext_to_a_remote_host_warns() {
        let all = with_base(&[&["--server", "smtp+plain://mail.example.com"]]);
        assert_eq!(resolve_with(&all, &[]).unwrap().warnings.len(), 1);
        let all = with_base(&[&["--server", "smtp+plain://127.0.0.1:2525"]]);
        assert!(resolve_with(&all, &[]).unwrap().warnings.is_empty());
    }

    #[test]
    fn sender_falls_back_to_an_address_shaped_user() {
        let s = resolve_with(
            &["--dry-run", "-t", "b@x.org", "--user", "me@example.org"],
            &[],
        )
        .unwrap();
        assert_eq!(s.message.from.address, "me@example.org");
        let err = resolve_with(&["--dry-run", "-t", "b@x.org", "--user", "me"], &[]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
    }

    #[test]
    fn a_mistyped_command_is_named() {
        let err = resolve_with(&["--dry-run", "-f", "a@example.org", "logn"], &[]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert_eq!(err.hint.as_deref(), Some("did you mean `smtpsend login`?"));
        let err = resolve_with(&["--dry-run", "-f", "a@example.org", "bob"], &[]).unwrap_err();
        assert!(err.message.starts_with("RECIPIENT: "), "{}", err.message);
    }

    #[test]
    fn recipients_are_required() {
        let err = resolve_with(&["--dry-run", "-f", "a@example.org"], &[]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(err.message.contains("no recipients"));
    }

    #[test]
    fn line_breaks_in_headers_are_refused() {
        let cases: [&[&str]; 3] = [
            &["-s", "hi\r\nBcc: eve@example.org"],
            &["-H", "X-Test: a\nb"],
            &["-H", "X-Test: a\rb"],
        ];
        for extra in cases {
            let all = with_base(&[extra, &["--dry-run"]]);
            let err = resolve_with(&all, &[]).unwrap_err();
            assert_eq!(err.exit_code(), 65, "{extra:?}");
            assert!(err.message.contains("CR or LF"), "{}", err.message);
        }
    }

    #[test]
    fn headers_owned_by_flags_name_the_flag() {
        let all = with_base(&[&["--dry-run", "-H", "Subject: x"]]);
        let err = resolve_with(&all, &[]).unwrap_err();
        assert!(err.message.contains("-s/--subject"), "{}", err.message);
        let all = with_base(&[&["--dry-run", "-H", "Bad Name: x"]]);
        assert_eq!(resolve_with(&all, &[]).unwrap_err().exit_code(), 64);
    }

    #[test]
    fn body_sources_in_order() {
        let body = |extra: &[&str]| {
            let all = with_base(&[extra, &["--dry-run"]]);
            resolve_with(&all, &[]).unwrap().message.body
        };
        assert_eq!(body(&["-m", "hi"]), BodySource::Text("hi".into()));
        assert_eq!(body(&["--body-file", "-"]), BodySource::Stdin);
        assert_eq!(
            body(&["--body-file", "b.txt"]),
            BodySource::File("b.txt".into())
        );
        assert_eq!(body(&[]), BodySource::Stdin);
        assert_eq!(body(&["--html", "-"]), BodySource::None);
        let all = with_base(&[&["--dry-run", "--body-file", "-", "--html", "-"]]);
        assert_eq!(resolve_with(&all, &[]).unwrap_err().exit_code(), 64);
    }

    #[test]
    fn login_reads_password_variables() {
        let all = with_base(&[&["--server", "smtp://h.example.com", "--user", "u"]]);
        let s = resolve_with(
            &all,
            &[
                ("SMTPSEND_PASSWORD", "pw"),
                ("SMTPSEND_PASSWORD_FILE", "/f"),
            ],
        )
        .unwrap();
        let login = s.server.unwrap().login.unwrap();
        assert_eq!(login.passwords.env_value.unwrap().expose(), "pw");
        assert_eq!(login.passwords.env_file.unwrap(), PathBuf::from("/f"));
    }
}
