//! The outbox: messages the server has not accepted yet, kept on disk so none is ever lost, and
//! the dead letters that will not be delivered, kept so none is silently dropped.
//!
//! Under `$XDG_DATA_HOME/smtpsend/` (`~/.local/share/smtpsend/`): `outbox/` and `dead/`, mode
//! 0700, used only when they are this user's own directories that nobody else may write to (as
//! sshd treats `~/.ssh`); no file in them is opened through a symbolic link. An entry is two
//! files: `ID.eml`, the exact bytes to send, written once; and `ID.json`, its envelope, how to
//! reach the server (an account name or server settings, never a password) and its attempts.
//! Each is written to a temporary file, fsynced and renamed into place, and the directory
//! fsynced once both are there; a failed write removes its temporary file. A message whose description a crash kept from
//! being written is an `Orphan`, which `queue` lists and recovers.
//! A lock on `ID.eml` (flock) marks an entry being written or delivered, so two flushes never
//! send the same message. The store is here; what becomes of an entry after an attempt is
//! `policy`'s, and carrying that out is the commands'.

pub mod policy;

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::compose::Composed;
use crate::content::{Ascii, Content};
use crate::dirs;
use crate::error::{Error, Kind, io_reason};
use crate::files::{self, WriteFailure};
use crate::server::{AuthChoice, Endpoint};
use crate::submit::Delivery;
use crate::trust::TlsOptions;

/// How to reach the server again: the account, or what the command line said. No password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Route {
    pub account: Option<String>,
    /// The configuration file the account came from, when it was not the default one.
    pub config: Option<PathBuf>,
    pub server: Option<Endpoint>,
    pub ca_file: Option<PathBuf>,
    /// Pins, lowest version and server name; absent from entries that set none.
    #[serde(default, skip_serializing_if = "TlsOptions::is_default")]
    pub tls: TlsOptions,
    pub user: Option<String>,
    pub auth: Option<AuthChoice>,
    pub timeout: Option<u64>,
    /// REQUIRETLS as the message was sent with (RFC 8689); absent in older entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    /// The EHLO name, IP family and source address it was sent with.
    #[serde(default)]
    pub reach: crate::reach::Reach,
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
    /// The directories' fsyncs after a new entry, shared by the threads that store at once
    /// (`serve`'s sessions).
    dir_sync: files::DirSync,
    dead_sync: files::DirSync,
    /// Entries removed since the outbox directory was last synced.
    unsynced_removals: AtomicBool,
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // Nothing is lost if this fails: the worst a crash can bring back is a delivered
        // message, delivered again.
        let _ = self.sync_removals();
    }
}

/// An entry held for delivery; dropping it releases the lock.
pub struct Held {
    file: File,
}

/// The entries of a directory, oldest first, and the descriptions that could not be read,
/// which are left where they are for a person to look at.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub damaged: Vec<Damaged>,
}

/// An entry whose description is damaged.
#[derive(Debug)]
pub struct Damaged {
    pub id: String,
    pub problem: String,
}

/// A message without its description: a crash between the two writes that store an entry.
#[derive(Debug)]
pub struct Orphan {
    pub id: String,
    /// Unix time the message file was written.
    pub created: u64,
}

impl Outbox {
    /// The outbox of this user, created (0700) if need be, and refused when others could
    /// reach into it.
    pub fn open(var: &dyn Fn(&str) -> Option<String>) -> Result<Outbox, Error> {
        let base = dirs::data_home(var)
            .map_err(|reason| {
                Error::new(
                    Kind::CantCreate,
                    format!("no directory for the outbox: {reason}"),
                )
                .with_hint("set XDG_DATA_HOME (or HOME) to a directory smtpsend may write")
            })?
            .join("smtpsend");
        let outbox = Outbox {
            dir: base.join("outbox"),
            dead: base.join("dead"),
            dir_sync: files::DirSync::default(),
            dead_sync: files::DirSync::default(),
            unsynced_removals: AtomicBool::new(false),
        };
        for dir in [&outbox.dir, &outbox.dead] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| cannot_create(dir, &err))?;
        }
        for dir in [&base, &outbox.dir, &outbox.dead] {
            refuse_unless_private(dir)?;
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
        let created = attempt.at;
        let entry = new_entry(
            message,
            recipients,
            route,
            vec![attempt],
            created,
            next_attempt,
        );
        self.store(&self.dir, &entry, &message.content)?;
        Ok(entry)
    }

    /// Stores a message taken from a local client (`serve`), due now and not yet tried; once
    /// this returns, a crash no longer loses it.
    pub fn accept(&self, message: &Composed, route: Route) -> Result<Entry, Error> {
        let now = clock::unix_now();
        let recipients = &message.envelope.recipients;
        let entry = new_entry(message, recipients, route, Vec::new(), now, now);
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
            created: clock::unix_now(),
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

    /// The message, then its description. The message stays locked until its description is
    /// written, so no flush takes it for an orphan; and it is removed again if the description
    /// cannot be written, so a failure leaves no half entry. The directory is synced once,
    /// after the description: that one fsync makes both names durable, and a crash before it
    /// leaves either nothing, or a message without its description, which is an `Orphan` and
    /// recovered; in neither case was the message acknowledged yet.
    fn store(&self, dir: &Path, entry: &Entry, content: &Content) -> Result<(), Error> {
        let message = format!("{}.eml", entry.id);
        let _lock = files::write_unsynced(dir, &message, &mut |file| content.write_to(file))
            .map_err(outbox_failure)?;
        let json = description(entry)?;
        let described_as = format!("{}.json", entry.id);
        let described =
            files::write_unsynced(dir, &described_as, &mut |file| file.write_all(&json))
                .map_err(outbox_failure);
        let sync = if dir == self.dead {
            &self.dead_sync
        } else {
            &self.dir_sync
        };
        described
            .and_then(|_| sync.sync(dir).map_err(outbox_failure))
            .inspect_err(|_| {
                let _ = remove_file(&dir.join(&message))
                    .and_then(|()| remove_file(&dir.join(&described_as)))
                    .and_then(|()| sync_dir(dir));
            })
    }

    /// Rewrites an entry's description (its attempts, next attempt, remaining recipients).
    pub fn save(&self, entry: &Entry) -> Result<(), Error> {
        self.save_in(&self.dir, entry)
    }

    fn save_in(&self, dir: &Path, entry: &Entry) -> Result<(), Error> {
        let json = description(entry)?;
        write_atomically(dir, &format!("{}.json", entry.id), &mut |file| {
            file.write_all(&json)
        })
        .map(drop)
    }

    /// The queued entries, oldest first.
    pub fn entries(&self) -> Result<Listing, Error> {
        read_entries(&self.dir)
    }

    /// The dead letters, oldest first.
    pub fn dead_entries(&self) -> Result<Listing, Error> {
        read_entries(&self.dead)
    }

    /// The queued messages without a description, oldest first.
    pub fn orphans(&self) -> Result<Vec<Orphan>, Error> {
        read_orphans(&self.dir)
    }

    /// The dead letters without a description, oldest first.
    pub fn dead_orphans(&self) -> Result<Vec<Orphan>, Error> {
        read_orphans(&self.dead)
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

    /// The start of an entry's message (its header, unless that is longer than 64 KiB), read
    /// never through a symbolic link, for `queue show`.
    pub fn message_head(&self, path: &Path) -> Result<Vec<u8>, Error> {
        let mut head = Vec::new();
        open_entry_file(path)
            .and_then(|file| file.take(64 * 1024).read_to_end(&mut head))
            .map_err(|err| storage_error("read", path, &err))?;
        Ok(head)
    }

    /// A queued message, read from its file as it is sent.
    pub fn message(&self, entry: &Entry, held: &Held) -> Result<Content, Error> {
        let path = self.dir.join(format!("{}.eml", entry.id));
        let size = held
            .file
            .metadata()
            .map_err(|err| storage_error("read", &path, &err))?
            .len();
        Ok(Content::from_file(path, size, entry.ascii))
    }

    /// The message of an entry held, read from the file held (never a link's target).
    pub fn held_bytes(&self, id: &str, held: &Held) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        (&held.file)
            .read_to_end(&mut bytes)
            .map_err(|err| storage_error("read", &self.dir.join(format!("{id}.eml")), &err))?;
        Ok(bytes)
    }

    /// Takes the entry for delivery, unless another process has it; `None` then.
    pub fn hold(&self, id: &str) -> Result<Option<Held>, Error> {
        // Still queued? Another flush may have finished it between our listing and our lock.
        self.hold_if(id, true)
    }

    /// Takes an orphan to complete it, unless it is being written or has been completed since
    /// it was listed; `None` then.
    pub fn hold_orphan(&self, id: &str) -> Result<Option<Held>, Error> {
        self.hold_if(id, false)
    }

    /// Locks the message of `id` when its description, once locked, exists as `described` says.
    fn hold_if(&self, id: &str, described: bool) -> Result<Option<Held>, Error> {
        let path = self.dir.join(format!("{id}.eml"));
        let file = match open_entry_file(&path) {
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
        let has_description = self.dir.join(format!("{id}.json")).exists();
        Ok((has_description == described).then_some(Held { file }))
    }

    /// Removes a delivered entry: its message first. A description without its message is
    /// therefore always an entry half removed (enqueueing writes the message first), which
    /// `finish_interrupted_removals` completes.
    ///
    /// The removal is made durable with the others, by one fsync of the directory when the
    /// outbox is dropped (or `sync_removals`): a flush that delivers a hundred messages syncs
    /// once, not a hundred times. What is at stake is only a message delivered twice after a
    /// power loss, never one lost.
    pub fn remove(&self, id: &str) -> Result<(), Error> {
        remove_file(&self.dir.join(format!("{id}.eml")))?;
        remove_file(&self.dir.join(format!("{id}.json")))?;
        self.unsynced_removals.store(true, Ordering::Release);
        Ok(())
    }

    /// Makes the removals so far durable.
    pub fn sync_removals(&self) -> Result<(), Error> {
        if self.unsynced_removals.swap(false, Ordering::AcqRel) {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Completes removals, burials and retries a crash interrupted: descriptions whose message
    /// is gone are removed, and a message moved back from the dead letters without its
    /// description gets it, from the description it left there.
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
        sync_dir(&self.dir)?;
        for orphan in self.orphans()? {
            let left = self.dead.join(format!("{}.json", orphan.id));
            if !left.exists() || self.dead.join(format!("{}.eml", orphan.id)).exists() {
                continue;
            }
            // Being retried right now, or completed since the listing.
            let Some(_held) = self.hold_orphan(&orphan.id)? else {
                continue;
            };
            if let Ok(entry) = read_entry(&left) {
                self.save(&fresh(entry))?;
                remove_file(&left)?;
                sync_dir(&self.dead)?;
            }
        }
        Ok(())
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

    /// Moves a dead letter back into the outbox, due now and with a fresh schedule, as if it
    /// had just been queued: the attempts and the reason are cleared, and its five days start
    /// again. The message is moved while locked, as `store` writes one, so no flush takes it for
    /// an orphan; then its description is written, then the old one removed. A crash between
    /// the move and the description is completed by `finish_interrupted_removals`.
    pub fn revive(&self, id: &str) -> Result<Entry, Error> {
        let no_such = || {
            Error::usage(format!("no dead letter {id:?}"))
                .with_hint("`smtpsend queue list` shows the ids")
        };
        let from = self.dead.join(format!("{id}.eml"));
        let description = self.dead.join(format!("{id}.json"));
        if id.is_empty() || id.starts_with('.') || id.contains('/') {
            return Err(no_such());
        }
        if !description.exists() && self.dir.join(format!("{id}.json")).exists() {
            return Err(Error::usage(format!("{id} is queued, not a dead letter"))
                .with_hint("`smtpsend queue flush --now` sends it now"));
        }
        let file = match open_entry_file(&from) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(no_such()),
            Err(err) => return Err(storage_error("open", &from, &err)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::new(
                    Kind::Temporary,
                    format!("{id} is being retried right now; try again in a moment"),
                ));
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(storage_error("lock", &from, &err));
            }
        }
        // Retried by another process between the open and the lock: the file is queued now.
        if !from.exists() || !description.exists() {
            return Err(no_such());
        }
        let entry = fresh(read_entry(&description)?);
        let to = self.dir.join(format!("{id}.eml"));
        fs::rename(&from, &to).map_err(|err| storage_error("move", &from, &err))?;
        sync_dir(&self.dir)?;
        sync_dir(&self.dead)?;
        self.save(&entry)?;
        remove_file(&description)?;
        sync_dir(&self.dead)?;
        drop(file);
        Ok(entry)
    }

    /// Deletes a queued entry or a dead letter for good, or an orphan.
    pub fn drop_entry(&self, id: &str) -> Result<(), Error> {
        let eml = match self.find(id) {
            Ok((_, eml)) => eml,
            // No description anywhere: an orphan, if there is a message.
            Err(none) => [&self.dir, &self.dead]
                .into_iter()
                .map(|dir| dir.join(format!("{id}.eml")))
                .find(|eml| eml.exists())
                .ok_or(none)?,
        };
        let dir = eml.parent().map(Path::to_path_buf).unwrap_or_default();
        let described = eml.with_extension("json").exists();
        if dir == self.dir && self.hold_if(id, described)?.is_none() {
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

/// A failed message now waiting in the outbox.
#[derive(Debug)]
pub struct Queued {
    pub id: String,
    pub dir: PathBuf,
}

impl Queued {
    /// The failure to report, now saying where the message waits.
    pub fn report(&self, failure: &Error) -> Error {
        Error {
            message: format!(
                "{}; queued as {} in {} for `smtpsend queue flush`",
                failure.message,
                self.id,
                self.dir.display()
            ),
            ..failure.clone()
        }
    }
}

/// Keeps a message after `failure`, a failure `policy::should_queue` accepts, for the
/// recipients `delivery` left owed it. When it cannot be kept, the error says both what failed
/// and why it was not kept, and takes the storage error's kind, so a script does not take it
/// for queued.
pub fn keep_failed(
    var: &dyn Fn(&str) -> Option<String>,
    message: &Composed,
    delivery: &Delivery,
    failure: &Error,
    route: Route,
) -> Result<Queued, Error> {
    let attempt = Attempt {
        at: clock::unix_now(),
        result: failure.message.clone(),
        exit_code: failure.exit_code(),
    };
    let recipients = policy::remaining_recipients(message, delivery);
    Outbox::open(var)
        .and_then(|outbox| {
            let next = attempt.at + policy::FIRST_RETRY_SECS;
            let entry = outbox.enqueue(message, &recipients, route, attempt, next)?;
            Ok(Queued {
                id: entry.id,
                dir: outbox.dir.clone(),
            })
        })
        .map_err(|storage| Error {
            message: format!(
                "{}; and the message could not be queued: {}",
                failure.message, storage.message
            ),
            ..storage
        })
}

/// A new entry for `message`, owed to `recipients`.
fn new_entry(
    message: &Composed,
    recipients: &[String],
    route: Route,
    attempts: Vec<Attempt>,
    created: u64,
    next_attempt: u64,
) -> Entry {
    Entry {
        id: new_id(),
        created,
        message_id: message.message_id.clone(),
        from: message.envelope.from.clone(),
        recipients: recipients.to_vec(),
        dsn_notify: message.envelope.dsn.notify.clone(),
        dsn_envid: message.envelope.dsn.envelope_id.clone(),
        dsn_ret: message.envelope.dsn.ret.clone(),
        ascii: message.content.ascii(),
        route,
        attempts,
        next_attempt,
        reason: None,
    }
}

/// A dead letter as a queued entry starts: due now, no attempts, no reason.
fn fresh(entry: Entry) -> Entry {
    let now = clock::unix_now();
    Entry {
        created: now,
        attempts: Vec::new(),
        next_attempt: now,
        reason: None,
        ..entry
    }
}

/// A sortable, unique id: the time, then random hex.
fn new_id() -> String {
    format!(
        "{}-{:012x}",
        clock::unix_nanos() / 1_000_000,
        clock::random_u64() & 0xffff_ffff_ffff
    )
}

fn read_entries(dir: &Path) -> Result<Listing, Error> {
    let listing = fs::read_dir(dir).map_err(|err| storage_error("read", dir, &err))?;
    let mut found = Listing::default();
    for item in listing.flatten() {
        let path = item.path();
        // A description without its message is an entry being removed: not listed.
        if path.extension().is_some_and(|e| e == "json") && path.with_extension("eml").exists() {
            match read_entry(&path) {
                Ok(entry) => found.entries.push(entry),
                // Removed by a concurrent flush between listing and reading.
                Err(_) if !path.exists() => {}
                Err(err) => found.damaged.push(Damaged {
                    id: path
                        .file_stem()
                        .map(|stem| stem.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    problem: err.message,
                }),
            }
        }
    }
    found
        .entries
        .sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    found.damaged.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// A description that does not read as one, hand-edited or written by something else. The
/// `id` inside must be its file's name: an id is joined to the outbox directory to find the
/// message, so one like `../../x` must never be taken from a file.
fn read_entry(path: &Path) -> Result<Entry, Error> {
    let mut bytes = Vec::new();
    open_entry_file(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|err| storage_error("read", path, &err))?;
    let damaged = |problem: String| {
        Error::bad_message(format!(
            "outbox entry {} is damaged: {problem}",
            path.display()
        ))
    };
    let entry: Entry = serde_json::from_slice(&bytes).map_err(|err| damaged(err.to_string()))?;
    if path.file_stem() != Some(std::ffi::OsStr::new(&entry.id)) {
        return Err(damaged(format!(
            "its id {:?} is not its file name",
            entry.id
        )));
    }
    Ok(entry)
}

/// The messages in `dir` without a description (temporary files are no messages), oldest first.
fn read_orphans(dir: &Path) -> Result<Vec<Orphan>, Error> {
    let listing = fs::read_dir(dir).map_err(|err| storage_error("read", dir, &err))?;
    let mut orphans = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        let name = item.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".eml")) else {
            continue;
        };
        if id.starts_with('.') || path.with_extension("json").exists() {
            continue;
        }
        // Gone since the listing: delivered or dropped by another process.
        let Ok(metadata) = fs::symlink_metadata(&path) else {
            continue;
        };
        orphans.push(Orphan {
            id: id.to_string(),
            created: u64::try_from(metadata.mtime()).unwrap_or(0),
        });
    }
    orphans.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(orphans)
}

/// A file of an entry, never through a symbolic link: one planted in place of an entry must
/// not make a flush send, or `show` print, a file it points to.
fn open_entry_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Like sshd for `~/.ssh`: a directory another user could write to, or a symbolic link to
/// one, would let them read, replace or plant messages, so it is refused.
fn refuse_unless_private(dir: &Path) -> Result<(), Error> {
    let metadata = fs::symlink_metadata(dir).map_err(|err| storage_error("read", dir, &err))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let (problem, fix) = if metadata.file_type().is_symlink() {
        ("is a symbolic link", "make it a directory of its own")
    } else if !metadata.is_dir() {
        ("is not a directory", "move it away")
    } else if metadata.uid() != me {
        ("belongs to another user", "make it a directory of your own")
    } else if metadata.mode() & 0o022 != 0 {
        ("is writable by others", "chmod go-w it")
    } else {
        return Ok(());
    };
    Err(Error::new(
        Kind::CantCreate,
        format!("refusing to use the outbox: {} {problem}", dir.display()),
    )
    .with_hint(format!("{fix}, mode 0700, or set XDG_DATA_HOME elsewhere")))
}

/// An entry's description, as its `.json` holds it.
fn description(entry: &Entry) -> Result<Vec<u8>, Error> {
    serde_json::to_vec_pretty(entry)
        .map_err(|err| Error::new(Kind::Internal, format!("outbox entry: {err}")))
}

/// `files::write_atomically` in `dir`, its failures in the outbox's words (73, 74).
fn write_atomically(
    dir: &Path,
    name: &str,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<File, Error> {
    files::write_atomically(dir, name, write).map_err(outbox_failure)
}

/// A failed write in the outbox's words: 73 when the file could not be created, else 74.
fn outbox_failure(failure: WriteFailure) -> Error {
    match failure {
        WriteFailure::Create(path, err) => cannot_create(&path, &err),
        WriteFailure::Write(path, err) => storage_error("write", &path, &err),
    }
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    files::sync_dir(dir).map_err(|failure| match failure {
        WriteFailure::Create(path, err) | WriteFailure::Write(path, err) => {
            storage_error("sync", &path, &err)
        }
    })
}

fn remove_file(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(storage_error("remove", path, &err)),
    }
}

/// A directory or file of the outbox cannot be created (73): the message is not kept.
fn cannot_create(path: &Path, err: &std::io::Error) -> Error {
    Error::new(
        Kind::CantCreate,
        format!("cannot create {}: {}", path.display(), io_reason(err)),
    )
}

/// The outbox cannot be read or written (74): a full disk, an I/O error; or a symbolic link is
/// where an entry's file should be, which is never followed (73, as for an unsafe directory).
fn storage_error(verb: &str, path: &Path, err: &std::io::Error) -> Error {
    let (kind, reason) = match err.raw_os_error() {
        Some(libc::ELOOP) => (
            Kind::CantCreate,
            "it is a symbolic link, which the outbox never follows".to_string(),
        ),
        _ => (Kind::IoError, io_reason(err)),
    };
    Error::new(kind, format!("cannot {verb} {}: {reason}", path.display()))
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
            at: clock::unix_now(),
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
        let listed = outbox.entries().unwrap().entries;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].recipients, ["c@y.org"]);
        let held = outbox.hold(&entry.id).unwrap().unwrap();
        assert_eq!(
            outbox.message(&entry, &held).unwrap().to_vec(),
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
        assert!(outbox.entries().unwrap().entries.is_empty());
        let dead = outbox.dead_entries().unwrap().entries;
        assert_eq!(dead[0].reason.as_deref(), Some("550 5.1.1 no such user"));
        outbox.drop_entry(&second.id).unwrap();
        assert!(outbox.dead_entries().unwrap().entries.is_empty());
    }

    fn names_in(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file_and_no_half_entry() {
        let (dir, outbox) = outbox();
        let full = write_atomically(&outbox.dir, "x.json", &mut |file| {
            file.write_all(b"{")?;
            Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
        })
        .unwrap_err();
        assert_eq!(full.exit_code(), 74);
        assert!(
            full.message.starts_with("cannot write ")
                && full.message.contains("/.x.json.")
                && full.message.ends_with(".tmp: No space left on device"),
            "{}",
            full.message
        );
        assert!(
            names_in(&outbox.dir).is_empty(),
            "{:?}",
            names_in(&outbox.dir)
        );

        // The message file is written, then its content fails: nothing of the entry stays.
        let mut unreadable = message();
        unreadable.content =
            Content::from_file(dir.path().join("gone"), 10, message().content.ascii());
        let error = outbox
            .enqueue(&unreadable, &[], Route::default(), attempt(), 0)
            .unwrap_err();
        assert_eq!(error.exit_code(), 74, "{}", error.message);
        assert!(
            names_in(&outbox.dir).is_empty(),
            "{:?}",
            names_in(&outbox.dir)
        );
    }

    #[test]
    fn a_message_without_its_description_is_an_orphan_until_completed() {
        let (_dir, outbox) = outbox();
        let entry = outbox
            .enqueue(&message(), &[], Route::default(), attempt(), 0)
            .unwrap();
        fs::remove_file(outbox.dir.join(format!("{}.json", entry.id))).unwrap();
        assert!(outbox.entries().unwrap().entries.is_empty());
        let orphans = outbox.orphans().unwrap();
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].id, entry.id);
        assert!(outbox.hold(&entry.id).unwrap().is_none());
        let held = outbox.hold_orphan(&entry.id).unwrap().unwrap();
        assert_eq!(
            outbox.held_bytes(&entry.id, &held).unwrap(),
            message().content.to_vec()
        );
        assert!(outbox.hold_orphan(&entry.id).unwrap().is_none(), "locked");
        outbox.save(&entry).unwrap();
        drop(held);
        assert!(outbox.orphans().unwrap().is_empty());
        assert!(outbox.hold_orphan(&entry.id).unwrap().is_none());
    }

    #[test]
    fn a_revived_dead_letter_is_queued_due_now_and_a_revival_cut_short_is_completed() {
        let (_dir, outbox) = outbox();
        let mut entry = outbox
            .enqueue(
                &message(),
                &["c@y.org".into()],
                Route::default(),
                attempt(),
                u64::MAX,
            )
            .unwrap();
        outbox.bury(&mut entry, "550 no").unwrap();
        let revived = outbox.revive(&entry.id).unwrap();
        assert!(revived.attempts.is_empty() && revived.reason.is_none());
        assert!(revived.next_attempt <= clock::unix_now());
        let queued = outbox.entries().unwrap().entries;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].recipients, ["c@y.org"]);
        assert!(
            names_in(&outbox.dead).is_empty(),
            "{:?}",
            names_in(&outbox.dead)
        );
        assert_eq!(outbox.revive(&entry.id).unwrap_err().exit_code(), 64);
        assert_eq!(outbox.revive("../outbox/x").unwrap_err().exit_code(), 64);

        // Killed between moving the message and writing its description.
        let mut entry = queued[0].clone();
        outbox.bury(&mut entry, "550 no").unwrap();
        let eml = format!("{}.eml", entry.id);
        fs::rename(outbox.dead.join(&eml), outbox.dir.join(&eml)).unwrap();
        assert_eq!(outbox.orphans().unwrap().len(), 1);
        outbox.finish_interrupted_removals().unwrap();
        assert!(outbox.orphans().unwrap().is_empty());
        let queued = outbox.entries().unwrap().entries;
        assert_eq!(queued[0].recipients, ["c@y.org"]);
        assert!(queued[0].reason.is_none());
        assert!(
            names_in(&outbox.dead).is_empty(),
            "{:?}",
            names_in(&outbox.dead)
        );
    }
}
