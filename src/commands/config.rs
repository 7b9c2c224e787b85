//! `smtpsend config show` and `smtpsend config import-msmtprc`: what the configuration says, and
//! a way in from msmtp. Printing only; the file itself is `config`'s, precedence is `settings`'.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ConnectionArgs;
use crate::config::{AccountKey, LogTarget, msmtprc};
use crate::credentials::KeyringProblem;
use crate::dirs;
use crate::error::{Error, Kind, io_reason};
use crate::settings::{self, AliasSource, Environment};
use crate::terminal::{self, escape, outln};

/// Prints the effective settings of an account, each with where its value comes from, or, when
/// it is not set, where it would come from; the password itself never, only which source would
/// give it.
pub fn show(
    named: Option<&str>,
    connection: &ConnectionArgs,
    env: &Environment,
) -> Result<(), Error> {
    let (account, server) = settings::resolve_for_show(named, connection, env)?;
    let names = settings::local_names(account.as_ref(), env)?;
    let (queue, log) = settings::queue_and_log(account.as_ref(), env)?;
    let var = |key: &str| (env.var)(key).filter(|value| !value.trim().is_empty());
    let from_account = |has: bool| match (&account, has) {
        (Some(account), true) => format!("account {}", account.name),
        _ => "default".to_string(),
    };
    // clap merges a flag with its variable; a value equal to the variable's came from it.
    let flag_or_env = |value: Option<String>, key: &str, account_has: bool| match value {
        Some(value) if var(key).as_deref() == Some(value.as_str()) => format!("environment {key}"),
        Some(_) => "command line".to_string(),
        None => from_account(account_has),
    };
    let env_or_account = |key: &str| match var(key) {
        Some(_) => format!("environment {key}"),
        None => from_account(true),
    };
    let account_has =
        |pick: fn(&crate::config::Account) -> bool| account.as_ref().is_some_and(pick);
    // Every row but the account's own is named by the key it shows.
    let account_row = match &account {
        Some(account) => (
            "account",
            account.name.clone(),
            account.file.display().to_string(),
        ),
        None => {
            let file = connection
                .config
                .clone()
                .or_else(|| crate::config::default_path(env.var));
            let file = match file {
                Some(file) if file.exists() => format!("no default in {}", file.display()),
                Some(file) => format!("no configuration file {}", file.display()),
                None => "no configuration file".to_string(),
            };
            (
                "account",
                "(none)".to_string(),
                format!("{file}; --account, SMTPSEND_ACCOUNT or `default` choose one"),
            )
        }
    };
    let mut rows: Vec<(AccountKey, String, String)> = Vec::new();
    let unset = |key: AccountKey, sources: &str| {
        (
            key,
            "(not set)".to_string(),
            format!("would come from {sources}"),
        )
    };
    // A row whose value may be unset: then where it would come from.
    let optional =
        |(key, value, origin, sources): (AccountKey, Option<String>, String, &str)| match value {
            Some(value) => (key, value, origin),
            None => unset(key, sources),
        };
    match &server {
        Some(server) => {
            let server_origin = if connection.server.is_some()
                || connection.host.is_some()
                || connection.port.is_some()
                || connection.tls.is_some()
            {
                "command line".to_string()
            } else if settings::environment_names_server(env) {
                "environment".to_string()
            } else {
                from_account(true)
            };
            rows.push((AccountKey::Server, server.endpoint.url(), server_origin));
        }
        None => rows.push(unset(
            AccountKey::Server,
            "--server (or --host, --port, --tls), SMTPSEND_SERVER (or SMTPSEND_HOST, \
             SMTPSEND_PORT, SMTPSEND_TLS) or the account's server",
        )),
    }
    let login = server.as_ref().and_then(|server| server.login.as_ref());
    match (login, &connection.user) {
        (Some(login), _) => rows.push((
            AccountKey::User,
            login.user.clone(),
            flag_or_env(
                connection.user.clone(),
                "SMTPSEND_USER",
                account_has(|a| a.user.is_some()),
            ),
        )),
        // No server, so no login settings: the user as given.
        (None, Some(user)) => rows.push((
            AccountKey::User,
            user.clone(),
            flag_or_env(Some(user.clone()), "SMTPSEND_USER", false),
        )),
        (None, None) => match account.as_ref().and_then(|a| a.user.clone()) {
            Some(user) => rows.push((AccountKey::User, user, from_account(true))),
            None => rows.push(unset(
                AccountKey::User,
                "--user, SMTPSEND_USER or the account's user; without it, no login",
            )),
        },
    }
    match &names.from {
        Some(from) => rows.push((
            AccountKey::From,
            from.to_string(),
            env_or_account("SMTPSEND_FROM"),
        )),
        None => rows.push(unset(
            AccountKey::From,
            "-f/--from, SMTPSEND_FROM or the account's from",
        )),
    }
    match login {
        Some(login) => {
            rows.push((
                AccountKey::Auth,
                login.mechanism.name().to_string(),
                flag_or_env(
                    connection
                        .auth
                        .and_then(|a| clap::ValueEnum::to_possible_value(&a))
                        .map(|value| value.get_name().to_string()),
                    "SMTPSEND_AUTH",
                    account_has(|a| a.auth.is_some()),
                ),
            ));
            rows.push((
                AccountKey::Password,
                password_source(&login.passwords),
                String::new(),
            ));
        }
        None => rows.push((
            AccountKey::Password,
            "(none needed: no login without a user and a server)".to_string(),
            String::new(),
        )),
    }
    match server.as_ref().and_then(|server| server.ca_file.as_ref()) {
        Some(ca_file) => rows.push((
            AccountKey::CaFile,
            ca_file.display().to_string(),
            flag_or_env(
                connection.ca_file.as_ref().map(|p| p.display().to_string()),
                "SMTPSEND_CA_FILE",
                account_has(|a| a.ca_file.is_some()),
            ),
        )),
        None => rows.push(unset(
            AccountKey::CaFile,
            "--ca-file, SMTPSEND_CA_FILE or the account's ca_file; the system's CAs are \
             trusted in any case",
        )),
    }
    let tls = server.as_ref().map_or_else(
        || account.as_ref().map(|a| a.tls.clone()).unwrap_or_default(),
        |server| server.tls.clone(),
    );
    let flags = &connection.tls_options;
    let joined = |pins: &[crate::trust::Pin]| {
        let pins: Vec<String> = pins.iter().map(ToString::to_string).collect();
        (!pins.is_empty()).then(|| pins.join(","))
    };
    let path = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string());
    let tls_rows = [
        (
            AccountKey::TlsPin,
            joined(&tls.pins),
            flag_or_env(
                joined(&flags.tls_pin),
                "SMTPSEND_TLS_PIN",
                account_has(|a| !a.tls.pins.is_empty()),
            ),
            "--tls-pin, SMTPSEND_TLS_PIN or the account's tls_pin; `smtpsend check` prints the \
             server's",
        ),
        (
            AccountKey::TlsPinOnly,
            tls.pin_only.then(|| "true".to_string()),
            flag_or_env(
                flags.tls_pin_only.then(|| "true".to_string()),
                "SMTPSEND_TLS_PIN_ONLY",
                account_has(|a| a.tls.pin_only),
            ),
            "--tls-pin-only, SMTPSEND_TLS_PIN_ONLY or the account's tls_pin_only; unset, the \
             pins are checked with the chain",
        ),
        (
            AccountKey::TlsMin,
            tls.min_version.map(|v| v.to_string()),
            flag_or_env(
                flags.tls_min.map(|v| v.to_string()),
                "SMTPSEND_TLS_MIN",
                account_has(|a| a.tls.min_version.is_some()),
            ),
            "--tls-min, SMTPSEND_TLS_MIN or the account's tls_min; unset, 1.2",
        ),
        (
            AccountKey::TlsServerName,
            tls.server_name.clone(),
            flag_or_env(
                flags.tls_server_name.clone(),
                "SMTPSEND_TLS_SERVER_NAME",
                account_has(|a| a.tls.server_name.is_some()),
            ),
            "--tls-server-name, SMTPSEND_TLS_SERVER_NAME or the account's tls_server_name; \
             unset, the host connected to",
        ),
        (
            AccountKey::ClientCert,
            path(&tls.client_cert),
            flag_or_env(
                path(&flags.client_cert),
                "SMTPSEND_CLIENT_CERT",
                account_has(|a| a.tls.client_cert.is_some()),
            ),
            "--client-cert, SMTPSEND_CLIENT_CERT or the account's client_cert; unset, none \
             is shown",
        ),
        (
            AccountKey::ClientKey,
            path(&tls.client_key),
            flag_or_env(
                path(&flags.client_key),
                "SMTPSEND_CLIENT_KEY",
                account_has(|a| a.tls.client_key.is_some()),
            ),
            "--client-key, SMTPSEND_CLIENT_KEY or the account's client_key; unset, the key is \
             looked for in the certificate's file",
        ),
    ];
    rows.extend(tls_rows.map(optional));
    let reach = server.as_ref().map_or_else(
        || {
            account
                .as_ref()
                .map(|a| a.reach.clone())
                .unwrap_or_default()
        },
        |server| server.reach.clone(),
    );
    let family_flag = (connection.reach.ipv4 || connection.reach.ipv6).then(|| "-4/-6".to_string());
    let reach_rows = [
        (
            AccountKey::HelloName,
            reach.hello_name,
            flag_or_env(
                connection.reach.ehlo_name.clone(),
                "SMTPSEND_EHLO_NAME",
                account_has(|a| a.reach.hello_name.is_some()),
            ),
            "--ehlo-name, SMTPSEND_EHLO_NAME or the account's hello_name; unset, this host's \
             fully qualified name, else its address",
        ),
        (
            AccountKey::IpFamily,
            reach.ip_family.map(|family| family.to_string()),
            flag_or_env(
                family_flag.or_else(|| var("SMTPSEND_IP_FAMILY")),
                "SMTPSEND_IP_FAMILY",
                account_has(|a| a.reach.ip_family.is_some()),
            ),
            "-4 or -6, SMTPSEND_IP_FAMILY or the account's ip_family; unset, both, whichever \
             answers first",
        ),
        (
            AccountKey::SourceAddress,
            reach.source_address.map(|ip| ip.to_string()),
            flag_or_env(
                connection.reach.source_address.map(|ip| ip.to_string()),
                "SMTPSEND_SOURCE_ADDRESS",
                account_has(|a| a.reach.source_address.is_some()),
            ),
            "--source-address, SMTPSEND_SOURCE_ADDRESS or the account's source_address; \
             unset, the system chooses",
        ),
        (
            AccountKey::Proxy,
            reach.proxy.map(|proxy| proxy.to_string()),
            flag_or_env(
                connection
                    .reach
                    .proxy
                    .as_ref()
                    .map(|proxy| proxy.to_string()),
                "SMTPSEND_PROXY",
                account_has(|a| a.reach.proxy.is_some()),
            ),
            "--proxy, SMTPSEND_PROXY or the account's proxy; unset, a direct connection",
        ),
    ];
    rows.extend(reach_rows.map(optional));
    let timeout = server.as_ref().map_or_else(
        || {
            connection
                .timeout
                .or(account.as_ref().and_then(|a| a.timeout))
                .unwrap_or(settings::DEFAULT_TIMEOUT_SECS)
        },
        |server| server.timeout.as_secs(),
    );
    rows.push((
        AccountKey::Timeout,
        format!("{timeout} s"),
        flag_or_env(
            connection.timeout.map(|t| t.to_string()),
            "SMTPSEND_TIMEOUT",
            account_has(|a| a.timeout.is_some()),
        ),
    ));
    match queue {
        Some(queue) => rows.push((
            AccountKey::Queue,
            if queue { "on-failure" } else { "never" }.to_string(),
            env_or_account("SMTPSEND_QUEUE"),
        )),
        None => rows.push(unset(
            AccountKey::Queue,
            "SMTPSEND_QUEUE or the account's queue; unset, only --queue and sendmail mode \
             keep what fails for now",
        )),
    }
    match &log {
        Some(target) => rows.push((
            AccountKey::Log,
            match target {
                LogTarget::File(path) => path.display().to_string(),
                LogTarget::Syslog => "syslog".to_string(),
                LogTarget::Stderr => "stderr".to_string(),
            },
            env_or_account("SMTPSEND_LOG"),
        )),
        None => rows.push(unset(
            AccountKey::Log,
            "SMTPSEND_LOG or the account's log; unset, no delivery log",
        )),
    }
    match settings::require_tls(account.as_ref(), env)? {
        Some(require_tls) => rows.push((
            AccountKey::RequireTls,
            require_tls.to_string(),
            env_or_account("SMTPSEND_REQUIRE_TLS"),
        )),
        None => rows.push(unset(
            AccountKey::RequireTls,
            "SMTPSEND_REQUIRE_TLS or the account's require_tls (a send's --require-tls); \
             unset, no REQUIRETLS",
        )),
    }
    // DKIM: the key file's path, never what is in it.
    let dkim = account.as_ref().map(|a| a.dkim.clone()).unwrap_or_default();
    let dkim_rows = [
        (
            AccountKey::DkimKey,
            "SMTPSEND_DKIM_KEY",
            dkim.key.map(|path| path.display().to_string()),
            "--dkim-key, SMTPSEND_DKIM_KEY or the account's dkim_key; unset, nothing is signed",
        ),
        (
            AccountKey::DkimSelector,
            "SMTPSEND_DKIM_SELECTOR",
            dkim.selector.map(|selector| selector.to_string()),
            "--dkim-selector, SMTPSEND_DKIM_SELECTOR or the account's dkim_selector",
        ),
        (
            AccountKey::DkimDomain,
            "SMTPSEND_DKIM_DOMAIN",
            dkim.domain,
            "--dkim-domain, SMTPSEND_DKIM_DOMAIN or the account's dkim_domain; unset, the \
             From address's domain",
        ),
    ];
    for (key, variable, in_account, sources) in dkim_rows {
        rows.push(match (var(variable), in_account) {
            (Some(value), _) => (key, value, format!("environment {variable}")),
            (None, Some(value)) => (key, value, from_account(true)),
            (None, None) => unset(key, sources),
        });
    }
    match &names.aliases {
        Some(aliases) => rows.push((
            AccountKey::Aliases,
            match aliases {
                AliasSource::File(path) => path.display().to_string(),
                AliasSource::Inline(entries) => entries.clone(),
            },
            env_or_account("SMTPSEND_ALIASES"),
        )),
        None => rows.push(unset(
            AccountKey::Aliases,
            "SMTPSEND_ALIASES or the account's aliases (sendmail mode's local names)",
        )),
    }
    match &names.local_domain {
        Some(domain) => rows.push((
            AccountKey::LocalDomain,
            domain.clone(),
            env_or_account("SMTPSEND_LOCAL_DOMAIN"),
        )),
        None => rows.push(unset(
            AccountKey::LocalDomain,
            "SMTPSEND_LOCAL_DOMAIN or the account's local_domain (sendmail mode's local names)",
        )),
    }
    let rows: Vec<_> = std::iter::once(account_row)
        .chain(
            rows.into_iter()
                .map(|(key, value, origin)| (key.name(), value, origin)),
        )
        .collect();
    let width = rows.iter().map(|(key, _, _)| key.len()).max().unwrap_or(0);
    for (key, value, origin) in rows {
        if origin.is_empty() {
            outln!("{key:<width$} {}", escape(&value));
        } else {
            // Two spaces at least between the value and its origin, however long the value.
            outln!(
                "{key:<width$} {:<39}  ({})",
                escape(&value),
                escape(&origin)
            );
        }
    }
    Ok(())
}

/// Which source a send would take its password from, and nothing of the password.
fn password_source(sources: &crate::credentials::PasswordSources) -> String {
    if let Some(command) = &sources.command {
        return format!("from --password-command / SMTPSEND_PASSWORD_COMMAND: {command}");
    }
    if sources.env_value.is_some() {
        return "from SMTPSEND_PASSWORD (set)".into();
    }
    if let Some(path) = &sources.env_file {
        return format!("from SMTPSEND_PASSWORD_FILE: {}", path.display());
    }
    if let Some(command) = &sources.oauth2_command {
        return format!(
            "an OAuth2 token from the account's oauth2_token_command: {command} \
             (cached in the keyring while it is valid)"
        );
    }
    if let Some(setup) = &sources.oauth2 {
        return format!("an OAuth2 token from `smtpsend login`: {}", setup.status());
    }
    if let Some(command) = &sources.account_command {
        return format!("from the account's password_command: {command}");
    }
    if sources.account_password.is_some() {
        return "from the account's password (in the file)".into();
    }
    let keyring = match &sources.keyring {
        Some(entry) => match entry.lookup() {
            Ok(Some(_)) => {
                return format!(
                    "from the keyring ({:?}, user {:?})",
                    entry.service, entry.user
                );
            }
            Ok(None) => format!("keyring: {}", KeyringProblem::NoEntry),
            Err(problem) => format!("keyring: {problem}"),
        },
        None => "no keyring entry".into(),
    };
    format!("none stored ({keyring}); a terminal prompt when there is one")
}

/// Prints smtpsend accounts converted from an msmtp file, and on stderr every msmtp setting
/// that was not carried over.
pub fn import_msmtprc(path: Option<&Path>, env: &Environment) -> Result<(), Error> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => default_msmtprc(env)?,
    };
    let text = std::fs::read_to_string(&path).map_err(|err| {
        Error::new(
            Kind::NoInput,
            format!("cannot read {}: {}", path.display(), io_reason(&err)),
        )
    })?;
    let imported = msmtprc::import(&text).map_err(|err| {
        Error::new(
            Kind::BadMessage,
            format!("{}:{}: {}", path.display(), err.line, err.message),
        )
    })?;
    let _ = terminal::Stdout.write_all(imported.toml.as_bytes());
    for note in &imported.notes {
        let account = note
            .account
            .as_deref()
            .map_or_else(String::new, |a| format!(" (account {a})"));
        eprintln!(
            "smtpsend: {}:{}: {}{account}: {}",
            path.display(),
            note.line,
            note.command,
            note.reason
        );
    }
    Ok(())
}

/// msmtp's own lookup: ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config.
fn default_msmtprc(env: &Environment) -> Result<PathBuf, Error> {
    let home = (env.var)("HOME").map(PathBuf::from);
    let xdg = dirs::config_home(env.var);
    let candidates: Vec<PathBuf> = home
        .map(|h| h.join(".msmtprc"))
        .into_iter()
        .chain(xdg.map(|x| x.join("msmtp").join("config")))
        .collect();
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .ok_or_else(|| {
            Error::new(Kind::NoInput, "no msmtp configuration found")
                .with_hint("name the file: smtpsend config import-msmtprc PATH")
        })
}
