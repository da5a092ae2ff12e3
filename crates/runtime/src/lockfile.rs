//! One owner per file: an OS advisory lock (`flock` on Unix, through
//! [`std::fs::File::try_lock`]) on a lock file beside the guarded file,
//! holding the owner's process id so that a refused second process can name
//! the holder.
//!
//! The lock belongs to the open file: it is released when the
//! [`LockFile`] is dropped or the process ends, however it ends (a kill
//! leaves no stale lock behind; the pid text in the file is then just
//! overwritten by the next owner). A lock file is never deleted, so two
//! processes always lock the same inode.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// Another process holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} {guarded} is in use by another process ({holder}; lock file {lock}); \
     stop it first, or use another file"
)]
pub struct LockHeld {
    /// What is guarded, for the message (`the event store`).
    pub what: String,
    /// The guarded file.
    pub guarded: String,
    /// Who holds it, as its lock file says (`pid 1234`), or `pid unknown`.
    pub holder: String,
    /// The lock file.
    pub lock: String,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    /// The lock file of `guarded`: the same path with `.lock` appended.
    pub fn path_for(guarded: &Path) -> PathBuf {
        let mut path = guarded.as_os_str().to_owned();
        path.push(".lock");
        PathBuf::from(path)
    }

    /// Takes the lock of `guarded` without waiting, creating its lock file
    /// (its directory must exist). Fails with [`LockHeld`] (inside the
    /// `anyhow` error) when another process, or another open handle of this
    /// process, holds it.
    pub fn acquire(guarded: &Path, what: &str) -> anyhow::Result<LockFile> {
        let path = Self::path_for(guarded);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("pid {pid}"),
                    Err(_) => "pid unknown".to_owned(),
                };
                return Err(LockHeld {
                    what: what.to_owned(),
                    guarded: guarded.display().to_string(),
                    holder,
                    lock: path.display().to_string(),
                }
                .into());
            }
            Err(TryLockError::Error(e)) => {
                anyhow::bail!("cannot lock {}: {e}", path.display())
            }
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .map_err(|e| anyhow::anyhow!("cannot write the lock file {}: {e}", path.display()))?;
        Ok(LockFile { file, path })
    }

    /// Where the lock file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open lock file (to compare its identity with the path's).
    pub fn file(&self) -> &File {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_naming_the_first_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let guarded = dir.path().join("orders.db");
        let first = LockFile::acquire(&guarded, "the event store").unwrap();
        assert_eq!(first.path(), dir.path().join("orders.db.lock"));
        let error = LockFile::acquire(&guarded, "the event store").unwrap_err();
        let held = error.downcast_ref::<LockHeld>().expect("a LockHeld error");
        assert_eq!(held.holder, format!("pid {}", std::process::id()));
        assert!(error.to_string().contains("orders.db is in use"), "{error}");
        drop(first);
        LockFile::acquire(&guarded, "the event store").expect("free again after drop");
    }
}
