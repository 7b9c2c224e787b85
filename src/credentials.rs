//! Every way of getting a password, behind one function, and the `Secret` that carries it.
//!
//! The lookup order is fixed and documented: `--password-command`, `SMTPSEND_PASSWORD`, the file
//! named by `SMTPSEND_PASSWORD_FILE`, then a prompt on the terminal. A further source (the OS
//! keyring) slots in as one more `Source` before the prompt. A password never appears in an
//! error message, a log line or the `-v` transcript: `Secret` prints as `<redacted>`.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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
    pub command: Option<String>,
    /// The value of `SMTPSEND_PASSWORD`.
    pub env_value: Option<Secret>,
    /// The path in `SMTPSEND_PASSWORD_FILE`.
    pub env_file: Option<PathBuf>,
    /// Whether a person can be asked: standard input and standard error are terminals.
    pub can_prompt: bool,
    /// How long the password command may run.
    pub command_timeout: Duration,
}

/// The password and a description of where it came from (for `-v`), never the password itself.
#[derive(Debug)]
pub struct Password {
    pub secret: Secret,
    pub source: &'static str,
}

/// The first source that has a password, for `user` on `server`.
pub fn password_for(
    user: &str,
    server: &str,
    sources: &PasswordSources,
) -> Result<Password, Error> {
    if let Some(command) = &sources.command {
        return Ok(Password {
            secret: run_password_command(command, sources.command_timeout)?,
            source: "--password-command",
        });
    }
    if let Some(secret) = &sources.env_value {
        return Ok(Password {
            secret: secret.clone(),
            source: "SMTPSEND_PASSWORD",
        });
    }
    if let Some(path) = &sources.env_file {
        let contents = std::fs::read_to_string(path).map_err(|err| {
            Error::config(format!(
                "cannot read SMTPSEND_PASSWORD_FILE {}: {}",
                path.display(),
                io_reason(&err)
            ))
        })?;
        return Ok(Password {
            secret: Secret::new(first_line(&contents).to_string()),
            source: "SMTPSEND_PASSWORD_FILE",
        });
    }
    if sources.can_prompt {
        let prompt = format!("Password for {user} at {server}: ");
        let typed = rpassword::prompt_password(prompt)
            .map_err(|err| Error::config(format!("cannot read the password: {err}")))?;
        return Ok(Password {
            secret: Secret::new(typed),
            source: "terminal prompt",
        });
    }
    Err(Error::config(format!("no password for {user}: tried --password-command, SMTPSEND_PASSWORD, SMTPSEND_PASSWORD_FILE and a terminal prompt (no terminal)"))
        .with_hint("set one of them, e.g. SMTPSEND_PASSWORD_FILE=/run/secrets/smtp"))
}

/// A password file or command output ends with a newline that is not part of the password.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Runs `sh -c COMMAND`, bounded in time, and takes the first line of its output.
fn run_password_command(command: &str, timeout: Duration) -> Result<Secret, Error> {
    let failed =
        |reason: String| Error::new(Kind::Config, format!("--password-command failed: {reason}"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        // The message body may be on our stdin; the command must not eat it.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| failed(format!("cannot run sh: {}", io_reason(&err))))?;

    // Read both pipes on threads so a chatty command cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "no answer within {} s (a command waiting for input?)",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(err) => return Err(failed(io_reason(&err))),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
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
