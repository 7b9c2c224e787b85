//! Files written whole or not at all: a temporary file, fsync, rename, fsync of the directory,
//! so a crash or a full disk leaves the old file or the new one, never half of one. Private to
//! their owner (0600) and never opened through a symbolic link. The outbox's entries and the
//! OAuth2 token files are written this way.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};

/// The step of an atomic write that failed, and the file it was on.
#[derive(Debug)]
pub enum WriteFailure {
    /// The temporary file could not be created.
    Create(PathBuf, io::Error),
    /// Writing, syncing or renaming it failed; it has been removed.
    Write(PathBuf, io::Error),
}

/// Writes `dir/name` with what `write` writes. The temporary file is locked (flock) before
/// anything is written and is given back still open and locked, so a reader that takes the
/// lock sees the whole file or none, and the caller can keep others off it. On failure the
/// temporary file is removed. The temporary name carries the process id: two processes
/// writing the same file do not write into one temporary file.
pub fn write_atomically(
    dir: &Path,
    name: &str,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> Result<File, WriteFailure> {
    let file = write_unsynced(dir, name, write)?;
    sync_dir(dir)?;
    Ok(file)
}

/// `write_atomically` but for the directory's fsync: the file is whole on disk, its name may
/// not be until the directory is synced, which a caller writing several files into one
/// directory does once, after the last (`sync_dir`): one fsync of a directory makes all the
/// renames in it durable.
pub fn write_unsynced(
    dir: &Path,
    name: &str,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> Result<File, WriteFailure> {
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let target = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)
        .map_err(|err| WriteFailure::Create(temporary.clone(), err))?;
    let written = file
        .lock()
        .and_then(|()| {
            let mut buffered = io::BufWriter::new(&mut file);
            write(&mut buffered).and_then(|()| buffered.flush())
        })
        .and_then(|()| file.sync_all())
        .map_err(|err| WriteFailure::Write(temporary.clone(), err))
        .and_then(|()| {
            fs::rename(&temporary, &target).map_err(|err| WriteFailure::Write(target.clone(), err))
        });
    if let Err(failure) = written {
        let _ = fs::remove_file(&temporary);
        return Err(failure);
    }
    Ok(file)
}

/// Makes the names written into `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), WriteFailure> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| WriteFailure::Write(dir.to_path_buf(), err))
}

/// The fsyncs of one directory, shared by the threads writing into it (group commit): an
/// fsync makes durable every rename done before it started, so a thread whose rename an
/// fsync under way may have missed waits for the next one, and the threads that finished
/// their files meanwhile all wait for that same one. Ten clients of `serve` storing at once
/// cost about two directory fsyncs, not ten.
#[derive(Debug, Default)]
pub struct DirSync {
    state: Mutex<SyncState>,
    synced: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Tickets handed out: one for each caller, taken after its rename.
    asked: u64,
    /// Every ticket up to this one is durable.
    covered: u64,
    running: bool,
}

impl DirSync {
    /// Returns once the renames this thread did in `dir` are durable.
    pub fn sync(&self, dir: &Path) -> Result<(), WriteFailure> {
        let lock = || self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = lock();
        state.asked += 1;
        let ticket = state.asked;
        loop {
            if state.covered >= ticket {
                return Ok(());
            }
            if !state.running {
                // This fsync covers every ticket handed out before it starts.
                state.running = true;
                let covers = state.asked;
                drop(state);
                let synced = sync_dir(dir);
                state = lock();
                state.running = false;
                if synced.is_ok() {
                    state.covered = state.covered.max(covers);
                }
                self.synced.notify_all();
                // A failed fsync fails its own caller; the others try one of their own.
                return synced;
            }
            state = self
                .synced
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_that_write_together_share_directory_fsyncs() {
        let dir = tempfile::tempdir().unwrap();
        let shared = std::sync::Arc::new(DirSync::default());
        let threads: Vec<_> = (0..8)
            .map(|n| {
                let (shared, dir) = (shared.clone(), dir.path().to_path_buf());
                std::thread::spawn(move || {
                    for i in 0..20 {
                        let name = format!("{n}-{i}");
                        write_unsynced(&dir, &name, &mut |f| f.write_all(b"x")).unwrap();
                        shared.sync(&dir).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let state = shared.state.lock().unwrap();
        assert_eq!(state.asked, 160);
        assert_eq!(state.covered, 160, "every caller's rename was covered");
        assert!(!state.running);
        // A later caller has an fsync of its own, and one that fails says so.
        drop(state);
        shared.sync(dir.path()).unwrap();
        assert!(shared.sync(Path::new("/nonexistent/dir")).is_err());
    }

    #[test]
    fn the_file_is_whole_private_and_never_written_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "a", &mut |f| f.write_all(b"one")).unwrap();
        let path = dir.path().join("a");
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        // A failed write leaves the old file and no temporary one.
        let failed = write_atomically(dir.path(), "a", &mut |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(matches!(failed, Err(WriteFailure::Write(..))));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        // A link planted where the temporary file goes is not followed.
        let elsewhere = dir.path().join("elsewhere");
        let planted = dir.path().join(format!(".b.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
        let refused = write_atomically(dir.path(), "b", &mut |f| f.write_all(b"x"));
        assert!(matches!(refused, Err(WriteFailure::Create(..))));
        assert!(!elsewhere.exists());
    }
}
