//! `smtpsend config show` and `smtpsend config import-msmtprc`: what the configuration says, and
//! a way in from msmtp. Printing only; the file itself is `config`'s, precedence is `settings`'.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ConnectionArgs;
use crate::config::{AccountKey, msmtprc};
use crate::credentials::KeyringProblem;
use crate::dirs;
use crate::error::{Error, Kind, io_reason};
use crate::settings::{self, Environment};
use crate::terminal::{self, escape, outln};

/// Prints the effective settings of an account, each with where its value comes from; the
/// password itself never, only which source would give it.
pub fn show(
    named: Option<&str>,
    connection: &ConnectionArgs,
    env: &Environment,
) -> Result<(), Error> {
    let (account, server) = settings::resolve_connection(named, connection, None, env)?;
    let var = |key: &str| (env.var)(key);
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
    // Every row but the account's own is named by the key it shows.
    let account_row = account.as_ref().map(|account| {
        (
            "account",
            account.name.clone(),
            account.file.display().to_string(),
        )
    });
    let mut rows: Vec<(AccountKey, String, String)> = Vec::new();
    let endpoint = &server.endpoint;
    let server_origin = if connection.server.is_some()
        || connection.host.is_some()
        || connection.port.is_some()
        || connection.tls.is_some()
    {
        "command line".to_string()
    } else if [
        "SMTPSEND_SERVER",
        "SMTPSEND_HOST",
        "SMTPSEND_PORT",
        "SMTPSEND_TLS",
    ]
    .iter()
    .any(|key| var(key).is_some())
    {
        "environment".to_string()
    } else {
        from_account(true)
    };
    rows.push((AccountKey::Server, endpoint.url(), server_origin));
    let account_has =
        |pick: fn(&crate::config::Account) -> bool| account.as_ref().is_some_and(pick);
    match &server.login {
        Some(login) => rows.push((
            AccountKey::User,
            login.user.clone(),
            flag_or_env(
                connection.user.clone(),
                "SMTPSEND_USER",
                account_has(|a| a.user.is_some()),
            ),
        )),
        None => rows.push((AccountKey::User, "(none: no login)".into(), String::new())),
    }
    if let Some(from) = var("SMTPSEND_FROM") {
        rows.push((AccountKey::From, from, "environment SMTPSEND_FROM".into()));
    } else if let Some(from) = account.as_ref().and_then(|a| a.from.as_ref()) {
        rows.push((AccountKey::From, from.to_string(), from_account(true)));
    }
    if let Some(login) = &server.login {
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
    if let Some(ca_file) = &server.ca_file {
        rows.push((
            AccountKey::CaFile,
            ca_file.display().to_string(),
            flag_or_env(
                connection.ca_file.as_ref().map(|p| p.display().to_string()),
                "SMTPSEND_CA_FILE",
                account_has(|a| a.ca_file.is_some()),
            ),
        ));
    }
    rows.push((
        AccountKey::Timeout,
        format!("{} s", server.timeout.as_secs()),
        flag_or_env(
            connection.timeout.map(|t| t.to_string()),
            "SMTPSEND_TIMEOUT",
            account_has(|a| a.timeout.is_some()),
        ),
    ));
    let rows = rows
        .into_iter()
        .map(|(key, value, origin)| (key.name(), value, origin));
    for (key, value, origin) in account_row.into_iter().chain(rows) {
        if origin.is_empty() {
            outln!("{key:<10} {}", escape(&value));
        } else {
            outln!("{key:<10} {:<40} ({})", escape(&value), escape(&origin));
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
