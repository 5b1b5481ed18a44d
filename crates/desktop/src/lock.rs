//! One app per data folder. A second process on the same folder would run start-up
//! recovery and close (and refund) the first one's running generations, and both would
//! write the same database and files; so the folder is locked for as long as the app runs.
//! The lock is an OS file lock (released by the OS when the process ends, even on a
//! crash), on `inkstone.lock` in the data folder, which also names the holder's process.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "inkstone.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Occurs when another Inkstone process (or another start in this one) holds the folder.
    #[error("Inkstone is already running on the data folder {dir} (process {pid}); switch to its window, or close it first")]
    AlreadyRunning { dir: PathBuf, pid: String },
    /// Occurs when the lock file cannot be created or locked (permissions, read-only disk).
    #[error("cannot lock the data folder {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Held while the app runs; dropping it (or the process ending) frees the folder.
#[derive(Debug)]
pub struct DataLock {
    dir: PathBuf,
    _file: File,
}

impl DataLock {
    /// Locks `data_dir` (which must exist) or says who holds it. Never waits.
    pub fn acquire(data_dir: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            dir: data_dir.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(data_dir.join(LOCK_FILE))
            .map_err(io)?;
        // fs4's, not std's `File::try_lock` (Rust 1.89, newer than this workspace's MSRV).
        let locked = match fs4::FileExt::try_lock(&file) {
            Ok(()) => true,
            Err(fs4::TryLockError::WouldBlock) => false,
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        };
        if !locked {
            let mut holder = String::new();
            // The holder's pid is for the message only; an unreadable one is not an error.
            let _ = file.read_to_string(&mut holder);
            let pid: String = holder
                .trim()
                .chars()
                .filter(char::is_ascii_digit)
                .take(12)
                .collect();
            return Err(LockError::AlreadyRunning {
                dir: data_dir.to_path_buf(),
                pid: if pid.is_empty() { "?".into() } else { pid },
            });
        }
        // Ours now: record who holds it.
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(std::process::id().to_string().as_bytes())
            .map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DataLock {
            dir: data_dir.to_path_buf(),
            _file: file,
        })
    }

    /// Lets the folder go while this process still runs: just before the app restarts itself
    /// (a restore), so that the new process can take it. The OS lets go at exit anyway.
    pub fn release(&self) {
        if let Err(error) = fs4::FileExt::unlock(&self._file) {
            tracing::warn!(%error, "could not let go of the data folder lock");
        }
    }

    /// The folder this lock holds.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_of_the_same_folder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataLock::acquire(dir.path()).unwrap();
        match DataLock::acquire(dir.path()) {
            Err(LockError::AlreadyRunning { pid, .. }) => {
                assert_eq!(pid, std::process::id().to_string())
            }
            other => panic!("expected already running, got {other:?}"),
        }
        // Another folder is another app.
        let other = tempfile::tempdir().unwrap();
        let _elsewhere = DataLock::acquire(other.path()).unwrap();
        drop(first);
        let again = DataLock::acquire(dir.path()).unwrap();
        assert_eq!(again.dir(), dir.path());
    }

    #[test]
    fn a_folder_that_cannot_hold_the_lock_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-folder");
        assert!(matches!(
            DataLock::acquire(&missing),
            Err(LockError::Io { .. })
        ));
    }
}
