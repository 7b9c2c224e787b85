//! Every way of getting a password, behind one function, the OS keyring entries `login` and
//! `logout` manage, and the `Secret` that carries a password.
//!
//! The lookup order is fixed and documented: `--password-command`, `SMTPSEND_PASSWORD`, the file
//! named by `SMTPSEND_PASSWORD_FILE`, the account's `password_command`, the account's `password`,
//! the OS keyring, then a prompt on the terminal. The keyring is optional and never blocks: every
//! call is bounded in time, and when it cannot be used (no D-Bus session, a locked collection) the
//! lookup says why and goes on to the next source. A password never appears in an error message,
//! a log line or the `-v` transcript: `Secret` prints as `<redacted>`.
//!
//! The parts: `command` runs password commands and reads password files within bounds,
//! `token` takes OAuth2 tokens from a token command and caches them, `keyring` is the OS
//! keyring, and `oauth2` is the built-in OAuth2 that `smtpsend login` signs in with.

mod command;
mod keyring;
pub mod oauth2;
mod password_hash;
mod token;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use command::{MAX_SECRET_SOURCE, run_password_command, too_much};
pub use keyring::{KeyringEntry, KeyringProblem};
pub use password_hash::{CheckedLogins, PasswordHash};

use crate::error::Error;

/// A password or token. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where passwords may come from, in the order they are tried.
#[derive(Debug, Clone, Default)]
pub struct PasswordSources {
    /// `--password-command` or `SMTPSEND_PASSWORD_COMMAND`.
    pub command: Option<String>,
    /// The value of `SMTPSEND_PASSWORD`.
    pub env_value: Option<Secret>,
    /// The path in `SMTPSEND_PASSWORD_FILE`.
    pub env_file: Option<PathBuf>,
    /// The account's `password_command`.
    pub account_command: Option<String>,
    /// The account's `oauth2_token_command`.
    pub oauth2_command: Option<String>,
    /// The account's built-in OAuth2 (`oauth2_provider`), signed in with `smtpsend login`.
    pub oauth2: Option<oauth2::Setup>,
    /// The account's `password`.
    pub account_password: Option<Secret>,
    /// The keyring entry for this user on this server.
    pub keyring: Option<KeyringEntry>,
    /// Whether a person can be asked: standard error is a terminal.
    pub can_prompt: bool,
    /// How long a password command may run.
    pub command_timeout: Duration,
}

/// The password, where it came from (for `-v`, never the password itself), and what was
/// tried before it and why that did not give one.
#[derive(Debug)]
pub struct Password {
    pub secret: Secret,
    pub source: PasswordSource,
    pub notes: Vec<String>,
}

/// Where a password came from, as the transcript and hints name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    CommandFlag,
    EnvironmentValue,
    EnvironmentFile,
    TokenCommand,
    CachedToken,
    /// The built-in OAuth2 sign-in of `smtpsend login`.
    OAuth2,
    AccountCommand,
    AccountPassword,
    Keyring,
    Prompt,
    /// The password `smtpsend login` was just given, checked before it is stored.
    Login,
    /// No password: SASL EXTERNAL logs in with the TLS client certificate.
    ClientCertificate,
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordSource::CommandFlag => "--password-command",
            PasswordSource::EnvironmentValue => "SMTPSEND_PASSWORD",
            PasswordSource::EnvironmentFile => "SMTPSEND_PASSWORD_FILE",
            PasswordSource::TokenCommand => "oauth2_token_command",
            PasswordSource::CachedToken => "the cached OAuth2 token",
            PasswordSource::OAuth2 => "OAuth2 (smtpsend login)",
            PasswordSource::AccountCommand => "the account's password_command",
            PasswordSource::AccountPassword => "the account's password",
            PasswordSource::Keyring => "the keyring",
            PasswordSource::Prompt => "terminal prompt",
            PasswordSource::Login => "smtpsend login",
            PasswordSource::ClientCertificate => "the client certificate",
        })
    }
}

/// The first source that has a password, for `user` on `server`.
pub fn password_for(
    user: &str,
    server: &str,
    sources: &PasswordSources,
) -> Result<Password, Error> {
    let found = |secret: Secret, source: PasswordSource, notes: Vec<String>| {
        Ok(Password {
            secret,
            source,
            notes,
        })
    };
    let timeout = sources.command_timeout;
    if let Some(command) = &sources.command {
        let secret = command::run_password_command(command, "--password-command", timeout)?;
        return found(secret, PasswordSource::CommandFlag, Vec::new());
    }
    if let Some(secret) = &sources.env_value {
        return found(secret.clone(), PasswordSource::EnvironmentValue, Vec::new());
    }
    if let Some(path) = &sources.env_file {
        let secret = command::read_password_file(path, "SMTPSEND_PASSWORD_FILE")?;
        return found(secret, PasswordSource::EnvironmentFile, Vec::new());
    }
    if let Some(command) = &sources.oauth2_command {
        let cache = sources
            .keyring
            .as_ref()
            .map(|_| token::cache_entry(server, user));
        let (secret, source) = token::oauth2_token(command, cache.as_ref(), timeout)?;
        return found(secret, source, Vec::new());
    }
    if let Some(setup) = &sources.oauth2 {
        let (token, note) = setup.access_token()?;
        return found(token, PasswordSource::OAuth2, note.into_iter().collect());
    }
    if let Some(command) = &sources.account_command {
        let secret = command::run_password_command(command, "password_command", timeout)?;
        return found(secret, PasswordSource::AccountCommand, Vec::new());
    }
    if let Some(secret) = &sources.account_password {
        return found(secret.clone(), PasswordSource::AccountPassword, Vec::new());
    }
    let mut notes = Vec::new();
    let mut keyring_usable = false;
    if let Some(entry) = &sources.keyring {
        match entry.lookup() {
            Ok(Some(secret)) => return found(secret, PasswordSource::Keyring, notes),
            Ok(None) => {
                keyring_usable = true;
                notes.push(format!("keyring: {}", KeyringProblem::NoEntry));
            }
            Err(problem) => notes.push(format!("keyring: {problem}")),
        }
    }
    if sources.can_prompt {
        let prompt = format!("Password for {user} at {server}: ");
        return found(prompt_password(&prompt)?, PasswordSource::Prompt, notes);
    }
    let keyring = notes
        .first()
        .map_or_else(String::new, |n| format!(" ({n})"));
    Err(Error::config(format!(
        "no password for {user}: tried --password-command, SMTPSEND_PASSWORD, \
         SMTPSEND_PASSWORD_FILE, the account's oauth2_token_command and password_command, \
         the keyring{keyring} \
         and a terminal prompt (no terminal)"
    ))
    .with_hint(if keyring_usable {
        "store one with `smtpsend login`, or set password_command in the account, \
         or SMTPSEND_PASSWORD_FILE=/run/secrets/smtp"
    } else {
        "without a usable keyring: set password_command in the account, \
         or SMTPSEND_PASSWORD_FILE=/run/secrets/smtp"
    }))
}

/// Asks on the terminal, without echo.
pub fn prompt_password(prompt: &str) -> Result<Secret, Error> {
    rpassword::prompt_password(prompt)
        .map(Secret::new)
        .map_err(|err| Error::config(format!("cannot read the password: {err}")))
}

/// The first line of standard input, so `pass show x | smtpsend login --password-stdin` works.
/// Bounded like every other password source, so `login --password-stdin < /dev/zero` ends.
pub fn read_stdin_password() -> Result<Secret, Error> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_SECRET_SOURCE as u64 + 1)
        .read_line(&mut line)
        .map_err(|err| {
            Error::new(
                crate::error::Kind::NoInput,
                format!("cannot read standard input: {err}"),
            )
        })?;
    if line.len() > MAX_SECRET_SOURCE {
        return Err(too_much("standard input"));
    }
    Ok(Secret::new(line.trim_end_matches(['\r', '\n']).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use std::time::Instant;

    fn sources() -> PasswordSources {
        PasswordSources {
            command_timeout: Duration::from_secs(5),
            ..PasswordSources::default()
        }
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(<redacted>)");
    }

    #[test]
    fn the_command_wins_and_gives_its_first_line() {
        let mut sources = sources();
        sources.command = Some("printf 'from-command\\nsecond line\\n'".into());
        sources.env_value = Some(Secret::new("from-env".into()));
        let password = password_for("u", "h", &sources).unwrap();
        assert_eq!(password.secret.expose(), "from-command");
        assert_eq!(password.source, PasswordSource::CommandFlag);
    }

    #[test]
    fn environment_then_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        let mut sources = sources();
        sources.env_file = Some(file);
        assert_eq!(
            password_for("u", "h", &sources).unwrap().secret.expose(),
            "from-file"
        );
        sources.env_value = Some(Secret::new("from-env".into()));
        assert_eq!(
            password_for("u", "h", &sources).unwrap().secret.expose(),
            "from-env"
        );
    }

    #[test]
    fn the_token_command_comes_before_the_keyring() {
        let mut sources = sources();
        sources.oauth2_command = Some("echo token-from-command".into());
        let password = password_for("u", "cache-test.invalid", &sources).unwrap();
        assert_eq!(password.secret.expose(), "token-from-command");
        assert_eq!(password.source, PasswordSource::TokenCommand);
    }

    #[test]
    fn a_failing_command_shows_its_stderr_and_status() {
        let mut sources = sources();
        sources.command = Some("echo 'gpg: decryption failed' >&2; exit 2".into());
        let err = password_for("u", "h", &sources).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(err.message.contains("exit status 2"), "{}", err.message);
        assert!(
            err.message.contains("gpg: decryption failed"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_hanging_command_is_bounded() {
        let mut sources = sources();
        sources.command = Some("sleep 30".into());
        sources.command_timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = password_for("u", "h", &sources).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.message.contains("no answer within"), "{}", err.message);
    }

    /// Whether a live process has `marker` on its command line.
    fn process_with_argument(marker: &str) -> bool {
        std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
        })
    }

    #[test]
    fn a_command_that_times_out_leaves_no_process_behind() {
        // A duration no other process on the machine is likely to sleep for.
        let marker = format!("61.{}", std::process::id());
        let mut sources = sources();
        sources.command = Some(format!("sleep {marker}; echo pw"));
        sources.command_timeout = Duration::from_millis(300);
        let err = password_for("u", "h", &sources).unwrap_err();
        assert!(err.message.contains("no answer within"), "{}", err.message);
        // SIGKILL is delivered at once, but the reaping of the orphan may take a moment.
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !process_with_argument(&format!("sleep\0{marker}"))
        });
        assert!(gone, "sleep {marker} survived its password command");
    }

    #[test]
    fn a_background_child_holding_the_output_open_is_bounded_too() {
        let mut sources = sources();
        sources.command = Some("sleep 30 & echo pw".into());
        sources.command_timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = password_for("u", "h", &sources).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(err.message.contains("no answer within"), "{}", err.message);
    }

    #[test]
    fn a_command_that_never_stops_talking_is_refused() {
        let mut sources = sources();
        sources.command = Some("yes".into());
        let started = Instant::now();
        let err = password_for("u", "h", &sources).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.kind, Kind::Config);
        assert!(
            err.message
                .contains("--password-command gave more than 32 KiB"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_endless_password_file_is_refused() {
        let mut sources = sources();
        sources.env_file = Some("/dev/zero".into());
        let err = password_for("u", "h", &sources).unwrap_err();
        assert!(
            err.message
                .contains("SMTPSEND_PASSWORD_FILE /dev/zero gave more than"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_token_of_ten_kilobytes_is_taken_whole() {
        let token = "t".repeat(10 * 1024);
        let mut sources = sources();
        sources.command = Some(format!("printf '%s\\n' {token}"));
        let password = password_for("u", "h", &sources).unwrap();
        assert_eq!(password.secret.expose(), token);
    }

    #[test]
    fn no_source_and_no_terminal_names_what_was_tried() {
        let err = password_for("alice", "h", &sources()).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(
            err.message.contains("SMTPSEND_PASSWORD_FILE"),
            "{}",
            err.message
        );
    }
}
