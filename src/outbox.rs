//! The outbox: messages the server has not accepted yet, kept on disk so none is ever lost, and
//! the dead letters that will not be delivered, kept so none is silently dropped.
//!
//! Under `$XDG_DATA_HOME/smtpsend/` (`~/.local/share/smtpsend/`): `outbox/` and `dead/`, mode
//! 0700. An entry is two files: `ID.eml`, the exact bytes to send, written once; and `ID.json`,
//! its envelope, how to reach the server (an account name or server settings, never a password)
//! and its attempts. Each is written to a temporary file, fsynced, renamed into place, and the
//! directory fsynced (the order a crash cannot tear); the entry exists once its `.json` does.
//! A lock on `ID.eml` (flock) marks an entry being delivered, so two flushes never send the same
//! message. This module only stores; what to send and when is `queue`'s.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::compose::Composed;
use crate::content::{Ascii, Content};
use crate::error::{Error, Kind, io_reason};

/// How to reach the server again: the account, or what the command line said. No password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Route {
    pub account: Option<String>,
    /// The configuration file the account came from, when it was not the default one.
    pub config: Option<PathBuf>,
    pub server: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub user: Option<String>,
    pub auth: Option<String>,
    pub timeout: Option<u64>,
}

/// One attempt to deliver, as the entry's history keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// Unix time.
    pub at: u64,
    /// The outcome in one line: the server's reply or what went wrong.
    pub result: String,
    pub exit_code: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    /// Unix time the message was first queued.
    pub created: u64,
    pub message_id: String,
    pub from: String,
    /// The recipients still to deliver to.
    pub recipients: Vec<String>,
    #[serde(default)]
    pub dsn_notify: Option<String>,
    #[serde(default)]
    pub dsn_envid: Option<String>,
    #[serde(default)]
    pub dsn_ret: Option<String>,
    /// Whether the stored message's header and whole are 7-bit, as found when it was stored.
    pub ascii: Ascii,
    pub route: Route,
    pub attempts: Vec<Attempt>,
    /// Unix time before which a flush leaves the entry alone (`flush --now` ignores it).
    pub next_attempt: u64,
    /// For a dead letter: why it will not be delivered.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The outbox and dead-letter directories.
#[derive(Debug)]
pub struct Outbox {
    pub dir: PathBuf,
    pub dead: PathBuf,
}

/// An entry held for delivery; dropping it releases the lock.
pub struct Held {
    _file: File,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Outbox {
    /// The outbox of this user, created (0700) if need be.
    pub fn open(var: &dyn Fn(&str) -> Option<String>) -> Result<Outbox, Error> {
        let base = var("XDG_DATA_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".local/share")))
            .ok_or_else(|| Error::config("no HOME or XDG_DATA_HOME for the outbox"))?
            .join("smtpsend");
        let outbox = Outbox {
            dir: base.join("outbox"),
            dead: base.join("dead"),
        };
        for dir in [&outbox.dir, &outbox.dead] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| storage_error("create", dir, &err))?;
        }
        Ok(outbox)
    }

    /// Stores a message for later delivery; returns its entry.
    pub fn enqueue(
        &self,
        message: &Composed,
        recipients: &[String],
        route: Route,
        attempt: Attempt,
        next_attempt: u64,
    ) -> Result<Entry, Error> {
        let entry = Entry {
            id: new_id(),
            created: attempt.at,
            message_id: message.message_id.clone(),
            from: message.envelope.from.clone(),
            recipients: recipients.to_vec(),
            dsn_notify: message.envelope.dsn.notify.clone(),
            dsn_envid: message.envelope.dsn.envelope_id.clone(),
            dsn_ret: message.envelope.dsn.ret.clone(),
            ascii: message.content.ascii(),
            route,
            attempts: vec![attempt],
            next_attempt,
            reason: None,
        };
        self.store(&self.dir, &entry, &message.content)?;
        Ok(entry)
    }

    /// Keeps a message that will never be delivered, with the reason, and says where.
    pub fn keep_dead(
        &self,
        message: &Composed,
        reason: &str,
        route: Route,
    ) -> Result<PathBuf, Error> {
        let entry = Entry {
            id: new_id(),
            created: now(),
            message_id: message.message_id.clone(),
            from: message.envelope.from.clone(),
            recipients: message.envelope.recipients.clone(),
            dsn_notify: None,
            dsn_envid: None,
            dsn_ret: None,
            ascii: message.content.ascii(),
            route,
            attempts: Vec::new(),
            next_attempt: 0,
            reason: Some(reason.to_string()),
        };
        self.store(&self.dead, &entry, &message.content)?;
        Ok(self.dead.join(format!("{}.eml", entry.id)))
    }

    fn store(&self, dir: &Path, entry: &Entry, content: &Content) -> Result<(), Error> {
        write_atomically(dir, &format!("{}.eml", entry.id), &mut |file| {
            content.write_to(file)
        })?;
        self.save_in(dir, entry)
    }

    /// Rewrites an entry's description (its attempts, next attempt, remaining recipients).
    pub fn save(&self, entry: &Entry) -> Result<(), Error> {
        self.save_in(&self.dir, entry)
    }

    fn save_in(&self, dir: &Path, entry: &Entry) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(entry)
            .map_err(|err| Error::new(Kind::Internal, format!("outbox entry: {err}")))?;
        write_atomically(dir, &format!("{}.json", entry.id), &mut |file| {
            file.write_all(&json)
        })
    }

    /// The queued entries, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, Error> {
        read_entries(&self.dir)
    }

    /// The dead letters, oldest first.
    pub fn dead_entries(&self) -> Result<Vec<Entry>, Error> {
        read_entries(&self.dead)
    }

    /// A queued entry by id, or a dead letter.
    pub fn find(&self, id: &str) -> Result<(Entry, PathBuf), Error> {
        for dir in [&self.dir, &self.dead] {
            let path = dir.join(format!("{id}.json"));
            if path.exists() {
                return Ok((read_entry(&path)?, dir.join(format!("{id}.eml"))));
            }
        }
        Err(Error::usage(format!(
            "no message {id:?} in the outbox or the dead letters"
        ))
        .with_hint("`smtpsend queue list` shows the ids"))
    }

    /// A queued message, read from its file as it is sent.
    pub fn message(&self, entry: &Entry) -> Result<Content, Error> {
        let path = self.dir.join(format!("{}.eml", entry.id));
        let size = fs::metadata(&path)
            .map_err(|err| storage_error("read", &path, &err))?
            .len();
        Ok(Content::from_file(path, size, entry.ascii))
    }

    /// Takes the entry for delivery, unless another process has it; `None` then.
    pub fn hold(&self, id: &str) -> Result<Option<Held>, Error> {
        let path = self.dir.join(format!("{id}.eml"));
        let file = match File::open(&path) {
            Ok(file) => file,
            // Delivered and removed by another flush since it was listed.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(storage_error("open", &path, &err)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(storage_error("lock", &path, &err));
            }
        }
        // Still queued? Another flush may have finished it between our listing and our lock.
        Ok(self
            .dir
            .join(format!("{id}.json"))
            .exists()
            .then_some(Held { _file: file }))
    }

    /// Removes a delivered entry: its message first. A description without its message is
    /// therefore always an entry half removed (enqueueing writes the message first), which
    /// `finish_interrupted_removals` completes.
    pub fn remove(&self, id: &str) -> Result<(), Error> {
        remove_file(&self.dir.join(format!("{id}.eml")))?;
        remove_file(&self.dir.join(format!("{id}.json")))?;
        sync_dir(&self.dir)
    }

    /// Completes removals and burials a crash interrupted: descriptions whose message is gone.
    pub fn finish_interrupted_removals(&self) -> Result<(), Error> {
        let listing =
            fs::read_dir(&self.dir).map_err(|err| storage_error("read", &self.dir, &err))?;
        for item in listing.flatten() {
            let path = item.path();
            if path.extension().is_some_and(|e| e == "json") && !path.with_extension("eml").exists()
            {
                remove_file(&path)?;
            }
        }
        sync_dir(&self.dir)
    }

    /// Moves an entry to the dead letters with the reason it will not be delivered.
    pub fn bury(&self, entry: &mut Entry, reason: &str) -> Result<PathBuf, Error> {
        entry.reason = Some(reason.to_string());
        self.save_in(&self.dead, entry)?;
        let from = self.dir.join(format!("{}.eml", entry.id));
        let to = self.dead.join(format!("{}.eml", entry.id));
        fs::rename(&from, &to).map_err(|err| storage_error("move", &from, &err))?;
        sync_dir(&self.dead)?;
        remove_file(&self.dir.join(format!("{}.json", entry.id)))?;
        sync_dir(&self.dir)?;
        Ok(to)
    }

    /// Deletes a queued entry or a dead letter for good.
    pub fn drop_entry(&self, id: &str) -> Result<(), Error> {
        let (_, eml) = self.find(id)?;
        let dir = eml.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir == self.dir && self.hold(id)?.is_none() {
            return Err(Error::new(
                Kind::Temporary,
                format!("{id} is being delivered right now; try again in a moment"),
            ));
        }
        remove_file(&eml)?;
        remove_file(&dir.join(format!("{id}.json")))?;
        sync_dir(&dir)
    }
}

/// A sortable, unique id: the time, then random hex.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!(
        "{}-{:012x}",
        nanos / 1_000_000,
        hasher.finish() & 0xffff_ffff_ffff
    )
}

fn read_entries(dir: &Path) -> Result<Vec<Entry>, Error> {
    let listing = fs::read_dir(dir).map_err(|err| storage_error("read", dir, &err))?;
    let mut entries = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        // A description without its message is an entry being removed: not listed.
        if path.extension().is_some_and(|e| e == "json") && path.with_extension("eml").exists() {
            match read_entry(&path) {
                Ok(entry) => entries.push(entry),
                // Removed by a concurrent flush between listing and reading.
                Err(_) if !path.exists() => {}
                Err(err) => return Err(err),
            }
        }
    }
    entries.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(entries)
}

fn read_entry(path: &Path) -> Result<Entry, Error> {
    let bytes = fs::read(path).map_err(|err| storage_error("read", path, &err))?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Error::new(
            Kind::Internal,
            format!("outbox entry {} is damaged: {err}", path.display()),
        )
    })
}

/// Temporary file, fsync, rename, fsync of the directory.
fn write_atomically(
    dir: &Path,
    name: &str,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let temporary = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(|err| storage_error("write", &temporary, &err))?;
    let mut buffered = std::io::BufWriter::new(&mut file);
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(|err| storage_error("write", &temporary, &err))?;
    drop(buffered);
    file.sync_all()
        .map_err(|err| storage_error("write", &temporary, &err))?;
    fs::rename(&temporary, &target).map_err(|err| storage_error("write", &target, &err))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| storage_error("sync", dir, &err))
}

fn remove_file(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(storage_error("remove", path, &err)),
    }
}

/// The outbox cannot be written: a local fault, and the message must not be taken as kept.
fn storage_error(verb: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::new(
        Kind::Internal,
        format!("cannot {verb} {}: {}", path.display(), io_reason(err)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{Dsn, Envelope};
    use std::os::unix::fs::PermissionsExt;

    fn outbox() -> (tempfile::TempDir, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let outbox = Outbox::open(&move |key: &str| (key == "HOME").then(|| home.clone())).unwrap();
        (dir, outbox)
    }

    fn message() -> Composed {
        Composed {
            envelope: Envelope {
                from: "a@x.org".into(),
                recipients: vec!["b@y.org".into(), "c@y.org".into()],
                dsn: Dsn::default(),
            },
            message_id: "<m@x.org>".into(),
            content: Content::from_bytes(b"Subject: t\r\n\r\nbody\r\n".to_vec()),
        }
    }

    fn attempt() -> Attempt {
        Attempt {
            at: now(),
            result: "451 4.3.0 try later".into(),
            exit_code: 75,
        }
    }

    #[test]
    fn entries_are_private_and_survive_a_round_trip() {
        let (_dir, outbox) = outbox();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&outbox.dir), 0o700);
        let entry = outbox
            .enqueue(
                &message(),
                &["c@y.org".into()],
                Route::default(),
                attempt(),
                0,
            )
            .unwrap();
        assert_eq!(mode(&outbox.dir.join(format!("{}.eml", entry.id))), 0o600);
        assert_eq!(mode(&outbox.dir.join(format!("{}.json", entry.id))), 0o600);
        let listed = outbox.entries().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].recipients, ["c@y.org"]);
        assert_eq!(
            outbox.message(&entry).unwrap().to_vec(),
            message().content.to_vec()
        );
        assert!(
            fs::read_dir(&outbox.dir).unwrap().all(|f| !f
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
        );
    }

    #[test]
    fn a_held_entry_cannot_be_held_twice() {
        let (_dir, outbox) = outbox();
        let entry = outbox
            .enqueue(&message(), &[], Route::default(), attempt(), 0)
            .unwrap();
        let held = outbox.hold(&entry.id).unwrap();
        assert!(held.is_some());
        assert!(outbox.hold(&entry.id).unwrap().is_none());
        drop(held);
        assert!(outbox.hold(&entry.id).unwrap().is_some());
    }

    #[test]
    fn removed_and_buried_entries_leave_the_outbox() {
        let (_dir, outbox) = outbox();
        let first = outbox
            .enqueue(&message(), &[], Route::default(), attempt(), 0)
            .unwrap();
        let mut second = outbox
            .enqueue(&message(), &[], Route::default(), attempt(), 0)
            .unwrap();
        outbox.remove(&first.id).unwrap();
        assert!(outbox.hold(&first.id).unwrap().is_none());
        let path = outbox.bury(&mut second, "550 5.1.1 no such user").unwrap();
        assert!(path.exists());
        assert!(outbox.entries().unwrap().is_empty());
        let dead = outbox.dead_entries().unwrap();
        assert_eq!(dead[0].reason.as_deref(), Some("550 5.1.1 no such user"));
        outbox.drop_entry(&second.id).unwrap();
        assert!(outbox.dead_entries().unwrap().is_empty());
    }
}
