//! An advisory lock that one process holds on a file for as long as it
//! uses it, so that a second process opening the same file fails at once,
//! naming the holder, instead of writing beside the first.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on
//! Windows, through `std::fs::File::try_lock`) on a companion file
//! `<file>.lock`, which also records who holds it (process id and
//! command). The operating system drops the lock when the holder exits,
//! also when it is killed, so a lock never outlives its process; the
//! companion file stays and is reused.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    _file: File,
}

/// Why a file could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another open of the file in this one) holds it.
    #[error(
        "{what} {file} is in use by {holder} (lock {lock}); stop that process or use another file"
    )]
    Held {
        /// What the file is, for example `the simulation state`.
        what: String,
        /// The file locked.
        file: PathBuf,
        /// The companion lock file.
        lock: PathBuf,
        /// Who holds it, as the holder recorded it.
        holder: String,
    },
    /// The lock file could not be opened, read or written.
    #[error("locking {what} {file} (lock {lock}): {source}")]
    Io {
        /// What the file is.
        what: String,
        /// The file locked.
        file: PathBuf,
        /// The companion lock file.
        lock: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

impl LockFile {
    /// The companion lock file of `file`: `<file>.lock`.
    pub fn path_for(file: &Path) -> PathBuf {
        let mut name = file.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Locks `file` (through its companion `<file>.lock`, created if
    /// needed) for this process, without waiting: if another process holds
    /// it, fails at once with [`LockError::Held`] naming that process.
    /// `what` names the file in messages (`the simulation state`).
    pub fn acquire(file: &Path, what: &str) -> Result<Self, LockError> {
        let lock = Self::path_for(file);
        let io = |source: std::io::Error| LockError::Io {
            what: what.to_owned(),
            file: file.to_path_buf(),
            lock: lock.clone(),
            source,
        };
        let mut handle = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(io)?;
        match handle.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // Best effort: the holder may be writing it right now.
                let _ = handle.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    what: what.to_owned(),
                    file: file.to_path_buf(),
                    lock,
                    holder: if holder.is_empty() {
                        "another process".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(error)) => return Err(io(error)),
        }
        let command = std::env::args().take(2).collect::<Vec<_>>().join(" ");
        handle
            .set_len(0)
            .and_then(|()| handle.seek(SeekFrom::Start(0)))
            .and_then(|_| {
                writeln!(
                    handle,
                    "process {} ({})",
                    std::process::id(),
                    if command.is_empty() { "?" } else { &command }
                )
            })
            .and_then(|()| handle.flush())
            .map_err(io)?;
        Ok(Self {
            path: lock,
            _file: handle,
        })
    }

    /// The companion lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_at_once_naming_the_holder_and_a_dropped_one_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.db");
        let first = LockFile::acquire(&file, "the simulation state").unwrap();
        assert_eq!(first.path(), dir.path().join("state.db.lock"));
        let started = std::time::Instant::now();
        let error = LockFile::acquire(&file, "the simulation state").unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let message = error.to_string();
        assert!(
            message.contains(&format!("in use by process {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("the simulation state"), "{message}");
        drop(first);
        LockFile::acquire(&file, "the simulation state").unwrap();
    }
}
