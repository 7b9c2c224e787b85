//! Where a grant's tokens live between runs: the OS keyring (the default), or with
//! `oauth2_token_store = "file"` a 0600 file under `$XDG_STATE_HOME/smtpsend/oauth2/`, written
//! atomically (a temporary file, fsync, rename, fsync of the directory) so a crash or a full
//! disk never leaves half a refresh token. Also the lock that keeps two processes from
//! refreshing at once and losing a rotated refresh token.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::credentials::{KeyringEntry, KeyringProblem, Secret};
use crate::error::{Error, Kind, io_reason};
use crate::files::{self, WriteFailure};

/// What one grant has: the refresh token, and the access token with its expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: Option<Secret>,
    /// Unix time; None when the server did not say.
    pub expires_at: Option<u64>,
    pub refresh_token: Option<Secret>,
}

impl Tokens {
    fn to_json(&self) -> String {
        serde_json::json!({
            "access_token": self.access_token.as_ref().map(Secret::expose),
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token.as_ref().map(Secret::expose),
        })
        .to_string()
    }

    fn from_json(text: &str) -> Option<Tokens> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let secret = |key: &str| {
            value
                .get(key)
                .and_then(|v| v.as_str())
                .map(|s| Secret::new(s.to_string()))
        };
        Some(Tokens {
            access_token: secret("access_token"),
            expires_at: value.get("expires_at").and_then(serde_json::Value::as_u64),
            refresh_token: secret("refresh_token"),
        })
    }
}

#[derive(Debug, Clone)]
pub enum Store {
    Keyring(KeyringEntry),
    File(PathBuf),
}

impl Store {
    pub fn describe(&self) -> String {
        match self {
            Store::Keyring(entry) => format!(
                "the keyring (service {:?}, user {:?})",
                entry.service, entry.user
            ),
            Store::File(path) => format!("{}", path.display()),
        }
    }

    /// The stored tokens; None when nothing is stored.
    pub fn load(&self) -> Result<Option<Tokens>, Error> {
        let text = match self {
            Store::Keyring(entry) => match entry.lookup() {
                Ok(Some(secret)) => secret.expose().to_string(),
                Ok(None) => return Ok(None),
                Err(problem) => return Err(keyring_unusable(&problem)),
            },
            Store::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(err) => {
                    return Err(Error::config(format!(
                        "cannot read the OAuth2 tokens in {}: {}",
                        path.display(),
                        io_reason(&err)
                    )));
                }
            },
        };
        Tokens::from_json(&text).map(Some).ok_or_else(|| {
            Error::config(format!(
                "the OAuth2 tokens in {} are unreadable",
                self.describe()
            ))
            .with_hint("run `smtpsend login` again")
        })
    }

    pub fn save(&self, tokens: &Tokens) -> Result<(), Error> {
        let json = Secret::new(tokens.to_json());
        match self {
            Store::Keyring(entry) => entry.set(&json).map_err(|p| keyring_unusable(&p)),
            Store::File(path) => {
                let cannot = |err: &std::io::Error| {
                    Error::config(format!(
                        "cannot write the OAuth2 tokens to {}: {}",
                        path.display(),
                        io_reason(err)
                    ))
                };
                let dir = path.parent().unwrap_or(Path::new("."));
                private_dir(dir).map_err(|err| cannot(&err))?;
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                files::write_atomically(dir, &name, &mut |file| {
                    file.write_all(json.expose().as_bytes())
                })
                .map(drop)
                .map_err(
                    |(WriteFailure::Create(_, err) | WriteFailure::Write(_, err))| cannot(&err),
                )
            }
        }
    }

    /// Removes what is stored; false when there was nothing.
    pub fn delete(&self) -> Result<bool, Error> {
        match self {
            Store::Keyring(entry) => entry.delete().map_err(|p| keyring_unusable(&p)),
            Store::File(path) => match std::fs::remove_file(path) {
                Ok(()) => Ok(true),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(err) => Err(Error::config(format!(
                    "cannot remove {}: {}",
                    path.display(),
                    io_reason(&err)
                ))),
            },
        }
    }
}

fn keyring_unusable(problem: &KeyringProblem) -> Error {
    Error::new(
        Kind::Unavailable,
        format!("cannot use the keyring for the OAuth2 tokens: {problem}"),
    )
    .with_hint(
        "without a Secret Service (servers, containers, cron): set oauth2_token_store = \"file\" \
         in the account",
    )
}

/// Creates the directory (0700) if needed.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// An exclusive flock(2) on a lock file, held until dropped.
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Waits up to `patience` for the lock: another smtpsend refreshing the same grant holds it
    /// for one token request at most.
    pub fn acquire(path: &Path, patience: Duration) -> Result<Lock, Error> {
        let failed =
            |reason: String| Error::config(format!("cannot lock {}: {reason}", path.display()));
        if let Some(dir) = path.parent() {
            private_dir(dir).map_err(|err| failed(io_reason(&err)))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|err| failed(io_reason(&err)))?;
        let started = Instant::now();
        loop {
            // SAFETY: flock(2) on a descriptor this function owns; no memory is shared.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(Lock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(failed(io_reason(&err)));
            }
            if started.elapsed() >= patience {
                return Err(Error::new(
                    Kind::Temporary,
                    format!(
                        "another smtpsend has been refreshing this OAuth2 grant for {} s ({} is locked)",
                        patience.as_secs(),
                        path.display()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// A file's contents, bounded; for tests.
#[cfg(test)]
fn read_small(path: &Path) -> String {
    use std::io::Read;
    let mut text = String::new();
    File::open(path)
        .unwrap()
        .take(1 << 20)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(access: &str, refresh: &str) -> Tokens {
        Tokens {
            access_token: Some(Secret::new(access.into())),
            expires_at: Some(1_900_000_000),
            refresh_token: Some(Secret::new(refresh.into())),
        }
    }

    #[test]
    fn the_file_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/smtpsend/oauth2/alice.json");
        let store = Store::File(path.clone());
        assert_eq!(store.load().unwrap(), None);
        let big = "a".repeat(10 * 1024);
        store.save(&tokens(&big, "r1")).unwrap();
        assert_eq!(store.load().unwrap(), Some(tokens(&big, "r1")));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        store.save(&tokens("a2", "r2")).unwrap();
        assert!(read_small(&path).contains("\"r2\""));
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(store.delete().unwrap());
        assert!(!store.delete().unwrap());
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grant.lock");
        let first = Lock::acquire(&path, Duration::from_secs(1)).unwrap();
        let err = Lock::acquire(&path, Duration::from_millis(100))
            .err()
            .expect("the lock is held");
        assert_eq!(err.kind, Kind::Temporary);
        drop(first);
        Lock::acquire(&path, Duration::from_millis(100)).unwrap();
    }
}
