//! Every way of getting a password, behind one function, the OS keyring entries `login` and
//! `logout` manage, and the `Secret` that carries a password.
//!
//! The lookup order is fixed and documented: `--password-command`, `SMTPSEND_PASSWORD`, the file
//! named by `SMTPSEND_PASSWORD_FILE`, the account's `password_command`, the account's `password`,
//! the OS keyring, then a prompt on the terminal. The keyring is optional and never blocks: every
//! call is bounded in time, and when it cannot be used (no D-Bus session, a locked collection) the
//! lookup says why and goes on to the next source. A password never appears in an error message,
//! a log line or the `-v` transcript: `Secret` prints as `<redacted>`.

use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, io_reason};

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
    pub oauth2: Option<crate::oauth2::Setup>,
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
    pub source: &'static str,
    pub notes: Vec<String>,
}

/// The first source that has a password, for `user` on `server`.
pub fn password_for(
    user: &str,
    server: &str,
    sources: &PasswordSources,
) -> Result<Password, Error> {
    let found = |secret: Secret, source: &'static str, notes: Vec<String>| {
        Ok(Password {
            secret,
            source,
            notes,
        })
    };
    if let Some(command) = &sources.command {
        let secret = run_password_command(command, "--password-command", sources.command_timeout)?;
        return found(secret, "--password-command", Vec::new());
    }
    if let Some(secret) = &sources.env_value {
        return found(secret.clone(), "SMTPSEND_PASSWORD", Vec::new());
    }
    if let Some(path) = &sources.env_file {
        let what = format!("SMTPSEND_PASSWORD_FILE {}", path.display());
        let cannot_read =
            |err: &std::io::Error| Error::config(format!("cannot read {what}: {}", io_reason(err)));
        let file = std::fs::File::open(path).map_err(|err| cannot_read(&err))?;
        let contents = match read_bounded(file, MAX_SECRET_SOURCE) {
            Ok(Bounded::Whole(contents)) => contents,
            Ok(Bounded::TooLong) => return Err(too_much(&what)),
            Err(err) => return Err(cannot_read(&err)),
        };
        let contents = String::from_utf8(contents)
            .map_err(|_| Error::config(format!("{what} is not UTF-8 text")))?;
        return found(
            Secret::new(first_line(&contents).to_string()),
            "SMTPSEND_PASSWORD_FILE",
            Vec::new(),
        );
    }
    if let Some(command) = &sources.oauth2_command {
        let (secret, source) = oauth2_token(command, server, user, sources.command_timeout)?;
        return found(secret, source, Vec::new());
    }
    if let Some(setup) = &sources.oauth2 {
        let (token, note) = setup.access_token()?;
        return found(token, crate::oauth2::SOURCE, note.into_iter().collect());
    }
    if let Some(command) = &sources.account_command {
        let secret = run_password_command(command, "password_command", sources.command_timeout)?;
        return found(secret, "the account's password_command", Vec::new());
    }
    if let Some(secret) = &sources.account_password {
        return found(secret.clone(), "the account's password", Vec::new());
    }
    let mut notes = Vec::new();
    let mut keyring_usable = false;
    if let Some(entry) = &sources.keyring {
        match entry.lookup() {
            Ok(Some(secret)) => return found(secret, "the keyring", notes),
            Ok(None) => {
                keyring_usable = true;
                notes.push("keyring: no password stored (see `smtpsend login`)".into());
            }
            Err(problem) => notes.push(format!("keyring: {problem}")),
        }
    }
    if sources.can_prompt {
        let prompt = format!("Password for {user} at {server}: ");
        let typed = rpassword::prompt_password(prompt)
            .map_err(|err| Error::config(format!("cannot read the password: {err}")))?;
        return found(Secret::new(typed), "terminal prompt", notes);
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

/// An OAuth2 access token: from the keyring cache while it has a minute left, else from the
/// token command, cached when its lifetime is known. Token commands (oauth2l, mutt_oauth2.py,
/// a cloud CLI) can be slow or rate-limited; running one per message is wasteful.
fn oauth2_token(
    command: &str,
    server: &str,
    user: &str,
    timeout: Duration,
) -> Result<(Secret, &'static str), Error> {
    let cache = KeyringEntry {
        service: format!("smtpsend-oauth2:{server}"),
        user: user.to_string(),
    };
    let now = unix_now();
    if let Ok(cached) = cache.get()
        && let Some((token, expires_at)) = parse_cached_token(cached.expose())
        && expires_at > now + 60
    {
        return Ok((token, "the cached OAuth2 token"));
    }
    let output = run_password_command(command, "oauth2_token_command", timeout)?;
    let (token, expires_at) = parse_token_output(output.expose(), now);
    if let Some(expires_at) = expires_at {
        let record = serde_json::json!({ "token": token.expose(), "expires_at": expires_at });
        // A cache that cannot be written only costs a command run next time.
        let _ = cache.set(&Secret::new(record.to_string()));
    }
    Ok((token, "oauth2_token_command"))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn parse_cached_token(text: &str) -> Option<(Secret, u64)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let token = value.get("token")?.as_str()?;
    Some((
        Secret::new(token.to_string()),
        value.get("expires_at")?.as_u64()?,
    ))
}

/// A token command prints the bare token, or JSON with `access_token` and `expires_in`
/// (seconds) or `expires_at` (Unix time). A bare JWT carries its expiry in its `exp` claim.
fn parse_token_output(text: &str, now: u64) -> (Secret, Option<u64>) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text.trim())
        && let Some(token) = value.get("access_token").and_then(|t| t.as_str())
    {
        let expires_at = value
            .get("expires_at")
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                value
                    .get("expires_in")
                    .and_then(serde_json::Value::as_u64)
                    .map(|seconds| now + seconds)
            });
        return (Secret::new(token.to_string()), expires_at);
    }
    let token = first_line(text).trim().to_string();
    let expires_at = jwt_expiry(&token);
    (Secret::new(token), expires_at)
}

fn jwt_expiry(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    claims.get("exp")?.as_u64()
}

/// How long any keyring operation may take: a Secret Service that does not answer (a dead
/// session bus, an unlock prompt nobody sees) must not hang a cron job.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// The keyring entry of one user on one server: service `smtpsend:HOST`, user name USER.
/// Keyed by server and user, not by account name, so a send configured by flags finds it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringEntry {
    pub service: String,
    pub user: String,
}

impl KeyringEntry {
    pub fn new(host: &str, user: &str) -> Self {
        KeyringEntry {
            service: format!("smtpsend:{host}"),
            user: user.to_string(),
        }
    }

    /// The stored password, or why there is none.
    pub fn get(&self) -> Result<Secret, String> {
        match self.lookup() {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err("no password stored (see `smtpsend login`)".into()),
            Err(problem) => Err(problem),
        }
    }

    /// The stored password; `Ok(None)` when the keyring works but holds none, `Err` with the
    /// reason when the keyring cannot be used at all.
    pub fn lookup(&self) -> Result<Option<Secret>, String> {
        let (service, user) = (self.service.clone(), self.user.clone());
        match bounded(move || keyring::Entry::new(&service, &user)?.get_password()) {
            Ok(password) => Ok(Some(Secret::new(password))),
            Err(KeyringFailure::Keyring(keyring::Error::NoEntry)) => Ok(None),
            Err(err) => Err(keyring_problem(&err)),
        }
    }

    pub fn set(&self, secret: &Secret) -> Result<(), String> {
        let (service, user) = (self.service.clone(), self.user.clone());
        let value = secret.expose().to_string();
        bounded(move || keyring::Entry::new(&service, &user)?.set_password(&value))
            .map_err(|err| keyring_problem(&err))
    }

    /// Removes the entry; `Ok(false)` when there was none.
    pub fn delete(&self) -> Result<bool, String> {
        let (service, user) = (self.service.clone(), self.user.clone());
        match bounded(move || keyring::Entry::new(&service, &user)?.delete_credential()) {
            Ok(()) => Ok(true),
            Err(KeyringFailure::Keyring(keyring::Error::NoEntry)) => Ok(false),
            Err(err) => Err(keyring_problem(&err)),
        }
    }
}

enum KeyringFailure {
    Keyring(keyring::Error),
    TimedOut,
}

impl From<keyring::Error> for KeyringFailure {
    fn from(err: keyring::Error) -> Self {
        KeyringFailure::Keyring(err)
    }
}

/// Runs a keyring operation on its own thread and stops waiting after `KEYRING_TIMEOUT`.
fn bounded<T: Send + 'static>(
    operation: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, KeyringFailure> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(operation());
    });
    match receiver.recv_timeout(KEYRING_TIMEOUT) {
        Ok(result) => result.map_err(KeyringFailure::Keyring),
        Err(_) => Err(KeyringFailure::TimedOut),
    }
}

/// Why the keyring could not be used, in words that point at the cause.
fn keyring_problem(failure: &KeyringFailure) -> String {
    let err = match failure {
        KeyringFailure::TimedOut => {
            return format!(
                "no answer within {} s from the Secret Service",
                KEYRING_TIMEOUT.as_secs()
            );
        }
        KeyringFailure::Keyring(err) => err,
    };
    match err {
        keyring::Error::NoEntry => "no password stored (see `smtpsend login`)".into(),
        keyring::Error::NoStorageAccess(detail) => {
            format!("the keyring is locked or refused access ({detail})")
        }
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
            if !session_bus_exists() {
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service"
                    .into()
            } else {
                let detail = match (err, keyring::Entry::store_status()) {
                    (keyring::Error::NoDefaultStore, Err(cause)) => cause.to_string(),
                    _ => err.to_string(),
                };
                format!("the Secret Service cannot be used: {detail}")
            }
        }
        other => other.to_string(),
    }
}

/// Whether a D-Bus session bus can be found where clients look for one: the variable, else the
/// per-user socket (zbus falls back to `$XDG_RUNTIME_DIR/bus`).
fn session_bus_exists() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}

/// A password file or command output ends with a newline that is not part of the password.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The most a password source may give. A password, or an OAuth2 token with the JSON around it
/// (access tokens run to a few KiB), fits many times over; `yes` or `/dev/zero` does not, and
/// reading them must not grow memory without bound.
pub const MAX_SECRET_SOURCE: usize = 32 * 1024;

/// What a password command may write to stderr that is kept for the error message.
const MAX_COMMAND_STDERR: usize = 4 * 1024;

/// What `read_bounded` found.
enum Bounded {
    Whole(Vec<u8>),
    TooLong,
}

/// Reads `reader` to its end, or stops once it has given more than `limit` bytes.
fn read_bounded(reader: impl Read, limit: usize) -> std::io::Result<Bounded> {
    let mut buf = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(if buf.len() > limit {
        Bounded::TooLong
    } else {
        Bounded::Whole(buf)
    })
}

/// The error for a source that gave more than a password could be.
pub fn too_much(what: &str) -> Error {
    Error::config(format!(
        "{what} gave more than {} KiB; a password or token is far shorter",
        MAX_SECRET_SOURCE / 1024
    ))
}

/// What the reader threads of a password command report.
enum Pipe {
    Stdout(std::io::Result<Bounded>),
    Stderr(Vec<u8>),
}

/// Runs `sh -c COMMAND`, bounded in time and in output, and takes the first line of its output.
///
/// The command runs in a process group of its own, and the whole group is killed when it takes
/// too long or says too much: killing `sh` alone would leave `sleep 60` or a pipeline's other
/// members running after smtpsend has given up on them.
pub(crate) fn run_password_command(
    command: &str,
    what: &str,
    timeout: Duration,
) -> Result<Secret, Error> {
    let failed = |reason: String| Error::new(Kind::Config, format!("{what} failed: {reason}"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        // The message body may be on our stdin; the command must not eat it.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|err| failed(format!("cannot run sh: {}", io_reason(&err))))?;

    // Read both pipes on threads so a chatty command cannot block on a full pipe.
    let (sender, pipes) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stdout_sender = sender.clone();
    std::thread::spawn(move || {
        let _ = stdout_sender.send(Pipe::Stdout(read_bounded(&mut stdout, MAX_SECRET_SOURCE)));
    });
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut stderr)
            .take(MAX_COMMAND_STDERR as u64)
            .read_to_end(&mut kept);
        // Drain the rest unkept, so the command is not blocked writing to a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        let _ = sender.send(Pipe::Stderr(kept));
    });

    // Done when the command has exited and both pipes are closed: a background child still
    // holding the pipe open counts as the command not having answered.
    let deadline = Instant::now() + timeout;
    let (mut status, mut output, mut errors) = (None, None, None);
    while status.is_none() || output.is_none() || errors.is_none() {
        if status.is_none() {
            match child.try_wait() {
                Ok(found) => status = found,
                Err(err) => {
                    kill_group(&mut child);
                    return Err(failed(io_reason(&err)));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(&mut child);
            return Err(failed(format!(
                "no answer within {} s (a command waiting for input?)",
                timeout.as_secs()
            )));
        }
        match pipes.recv_timeout((deadline - now).min(Duration::from_millis(10))) {
            Ok(Pipe::Stdout(Ok(Bounded::TooLong))) => {
                kill_group(&mut child);
                return Err(too_much(what));
            }
            Ok(Pipe::Stdout(Ok(Bounded::Whole(read)))) => output = Some(read),
            Ok(Pipe::Stdout(Err(err))) => {
                kill_group(&mut child);
                return Err(failed(io_reason(&err)));
            }
            Ok(Pipe::Stderr(kept)) => errors = Some(kept),
            Err(_) => {}
        }
    }
    let (Some(status), Some(stdout), Some(stderr)) = (status, output, errors) else {
        unreachable!("the loop ends only with all three");
    };
    let stderr = String::from_utf8_lossy(&stderr);
    let stderr = stderr.trim();
    if !status.success() {
        let code = status.code().map_or_else(
            || "killed by a signal".to_string(),
            |c| format!("exit status {c}"),
        );
        let detail = if stderr.is_empty() {
            String::new()
        } else {
            format!(": {}", stderr.lines().collect::<Vec<_>>().join(" / "))
        };
        return Err(failed(format!("{code}{detail}")));
    }
    let stdout = String::from_utf8(stdout).map_err(|_| failed("its output is not UTF-8".into()))?;
    let password = first_line(&stdout);
    if password.is_empty() {
        return Err(failed("it printed no password".into()));
    }
    Ok(Secret::new(password.to_string()))
}

/// Kills the command's whole process group, then reaps the command itself.
fn kill_group(child: &mut Child) {
    // The group's id is the command's pid (`process_group(0)`); a negative pid names the group.
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(password.source, "--password-command");
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
    fn token_commands_may_say_how_long_the_token_lives() {
        let (token, expiry) = parse_token_output("ya29.bare-token\n", 1000);
        assert_eq!((token.expose(), expiry), ("ya29.bare-token", None));
        let (token, expiry) =
            parse_token_output(r#"{"access_token":"abc","expires_in":3599}"#, 1000);
        assert_eq!((token.expose(), expiry), ("abc", Some(4599)));
        let (_, expiry) = parse_token_output(r#"{"access_token":"abc","expires_at":77}"#, 1000);
        assert_eq!(expiry, Some(77));
        // header.payload.signature with payload {"exp":1900000000}
        let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE5MDAwMDAwMDB9.c2ln";
        assert_eq!(parse_token_output(jwt, 0).1, Some(1_900_000_000));
    }

    #[test]
    fn the_token_command_comes_before_the_keyring() {
        let mut sources = sources();
        sources.oauth2_command = Some("echo token-from-command".into());
        let password = password_for("u", "cache-test.invalid", &sources).unwrap();
        assert_eq!(password.secret.expose(), "token-from-command");
        assert_eq!(password.source, "oauth2_token_command");
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
