//! The OS keyring entries `login` and `logout` manage and sends read: through the `keyring`
//! crate's Secret Service (D-Bus) store. The keyring is optional and never blocks: every call
//! is bounded in time, and when it cannot be used the problem says why, in words that point at
//! the cause, so the password lookup can say so and go on to the next source.

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use super::Secret;

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

    /// The stored password; `Ok(None)` when the keyring works but holds none, `Err` with the
    /// reason when the keyring cannot be used at all.
    pub fn lookup(&self) -> Result<Option<Secret>, KeyringProblem> {
        let (service, user) = (self.service.clone(), self.user.clone());
        match bounded(move || keyring::Entry::new(&service, &user)?.get_password()) {
            Ok(password) => Ok(Some(Secret::new(password))),
            Err(KeyringFailure::Keyring(keyring::Error::NoEntry)) => Ok(None),
            Err(err) => Err(keyring_problem(&err)),
        }
    }

    pub fn set(&self, secret: &Secret) -> Result<(), KeyringProblem> {
        let (service, user) = (self.service.clone(), self.user.clone());
        let value = secret.expose().to_string();
        bounded(move || keyring::Entry::new(&service, &user)?.set_password(&value))
            .map_err(|err| keyring_problem(&err))
    }

    /// Removes the entry; `Ok(false)` when there was none.
    pub fn delete(&self) -> Result<bool, KeyringProblem> {
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

/// Why the keyring gave no password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringProblem {
    /// The keyring works, and holds no entry for this user on this server.
    NoEntry,
    /// No D-Bus session bus, so no Secret Service to ask (a server, a container, cron).
    NoSessionBus,
    /// The collection is locked, or access was refused.
    Locked(String),
    /// A session bus, but no usable Secret Service on it.
    Unusable(String),
    /// The Secret Service did not answer within `KEYRING_TIMEOUT`.
    NoAnswer,
    Other(String),
}

impl fmt::Display for KeyringProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringProblem::NoEntry => f.write_str("no password stored (see `smtpsend login`)"),
            KeyringProblem::NoSessionBus => f.write_str(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service",
            ),
            KeyringProblem::Locked(detail) => {
                write!(f, "the keyring is locked or refused access ({detail})")
            }
            KeyringProblem::Unusable(detail) => {
                write!(f, "the Secret Service cannot be used: {detail}")
            }
            KeyringProblem::NoAnswer => write!(
                f,
                "no answer within {} s from the Secret Service",
                KEYRING_TIMEOUT.as_secs()
            ),
            KeyringProblem::Other(detail) => f.write_str(detail),
        }
    }
}

/// What went wrong, classified so the message points at the cause.
fn keyring_problem(failure: &KeyringFailure) -> KeyringProblem {
    let err = match failure {
        KeyringFailure::TimedOut => return KeyringProblem::NoAnswer,
        KeyringFailure::Keyring(err) => err,
    };
    match err {
        keyring::Error::NoEntry => KeyringProblem::NoEntry,
        keyring::Error::NoStorageAccess(detail) => KeyringProblem::Locked(detail.to_string()),
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
            if !session_bus_exists() {
                KeyringProblem::NoSessionBus
            } else {
                let detail = match (err, keyring::Entry::store_status()) {
                    (keyring::Error::NoDefaultStore, Err(cause)) => cause.to_string(),
                    _ => err.to_string(),
                };
                KeyringProblem::Unusable(detail)
            }
        }
        other => KeyringProblem::Other(other.to_string()),
    }
}

/// Whether a D-Bus session bus can be found where clients look for one: the variable, else the
/// per-user socket (zbus falls back to `$XDG_RUNTIME_DIR/bus`).
fn session_bus_exists() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}
