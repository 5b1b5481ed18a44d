//! Whether the last run closed the database cleanly and nothing touched it since (issue 18,
//! start-up): then `PRAGMA quick_check`, which reads every page (~370 ms at 100,000
//! generations), is skipped at start. Anything else checks, as before: a crash or a kill, a
//! database some other program wrote while the app was closed, a restore put in place, a
//! stamp that cannot be read.
//!
//! At a clean exit the database is checkpointed and closed, then `clean-exit.stamp` records the
//! file's size and modification time (only when the WAL is empty: its pages are then all in
//! the file). The next start reads the stamp, removes it (so a crash of that run is not taken
//! for clean) and compares. The daily backup still reads every page (`VACUUM INTO`), so damage
//! that leaves size and time alone (a failing disk) is found within a day, as it was found at
//! most one start late before.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use inkstone_core::Database;

use crate::backups::DB_FILE;

/// The stamp's file name in the data folder.
pub const STAMP_FILE: &str = "clean-exit.stamp";
/// Larger than any stamp this app writes: a bigger file is not ours and is not read whole.
const MAX_STAMP_BYTES: u64 = 256;
const MAGIC: &str = "inkstone-clean-exit v1";

/// What the stamp says about the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    /// Nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

impl FileStamp {
    /// The database file as it is now; `None` when it or its time cannot be read.
    fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(FileStamp {
            len: meta.len(),
            modified_ns,
        })
    }

    fn render(&self) -> String {
        format!("{MAGIC} len={} mtime_ns={}\n", self.len, self.modified_ns)
    }

    /// Reads a stamp. Anything but exactly what [`FileStamp::render`] writes is `None`.
    pub fn parse(bytes: &[u8]) -> Option<FileStamp> {
        let text = std::str::from_utf8(bytes).ok()?;
        let rest = text.strip_suffix('\n')?.strip_prefix(MAGIC)?;
        let mut parts = rest.strip_prefix(' ')?.split(' ');
        let len = parts.next()?.strip_prefix("len=")?;
        let modified = parts.next()?.strip_prefix("mtime_ns=")?;
        if parts.next().is_some() || !all_digits(len) || !all_digits(modified) {
            return None;
        }
        Some(FileStamp {
            len: len.parse().ok()?,
            modified_ns: modified.parse().ok()?,
        })
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn stamp_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STAMP_FILE)
}

fn wal_is_empty(data_dir: &Path) -> bool {
    match std::fs::metadata(data_dir.join(format!("{DB_FILE}-wal"))) {
        Ok(meta) => meta.len() == 0,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// At start, before the database is opened: true when the last run exited cleanly and the
/// database file is as it left it. Always removes the stamp (a stamp that cannot be removed
/// counts as not clean, so a crash of this run can never be taken for a clean exit).
pub fn take_clean_exit(data_dir: &Path) -> bool {
    let path = stamp_path(data_dir);
    let stamp = read_small(&path).and_then(|b| FileStamp::parse(&b));
    let removed = match std::fs::remove_file(&path) {
        Ok(()) => true,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    let Some(stamp) = stamp else {
        return false;
    };
    removed && wal_is_empty(data_dir) && FileStamp::of(&data_dir.join(DB_FILE)) == Some(stamp)
}

fn read_small(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_STAMP_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_STAMP_BYTES).then_some(bytes)
}

/// How long a clean exit waits for the database's last users before it gives up (and the next
/// start checks).
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// At a clean exit: checkpoints and closes `db`, then writes the stamp when the WAL is empty.
/// Returns whether the stamp was written; when not, the next start checks the database.
pub async fn record_clean_exit(db: &Database, data_dir: &Path) -> bool {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await
    {
        tracing::warn!(%error, "no checkpoint at exit: the next start checks the database");
        return false;
    }
    if tokio::time::timeout(CLOSE_WAIT, db.close()).await.is_err() {
        tracing::warn!("the database was still in use at exit: the next start checks it");
        return false;
    }
    // The pool's last connection may finish closing on its own thread just after `close()`;
    // with the WAL truncated it writes nothing more to the file, but wait for the WAL to be
    // empty (or gone) so the stamp records the final file.
    let mut waited = Duration::ZERO;
    while !wal_is_empty(data_dir) {
        if waited >= Duration::from_secs(1) {
            tracing::warn!("the WAL was not empty at exit: the next start checks the database");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    let Some(stamp) = FileStamp::of(&data_dir.join(DB_FILE)) else {
        return false;
    };
    let path = stamp_path(data_dir);
    let partial = path.with_extension("partial");
    let written = std::fs::write(&partial, stamp.render())
        .and_then(|()| std::fs::File::open(&partial)?.sync_all())
        .and_then(|()| std::fs::rename(&partial, &path));
    match written {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "no clean-exit stamp: the next start checks the database");
            let _ = std::fs::remove_file(&partial);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_rendered_stamp_reads_back_and_near_misses_do_not() {
        let s = FileStamp {
            len: 4096,
            modified_ns: 1_764_470_000_123_456_789,
        };
        assert_eq!(FileStamp::parse(s.render().as_bytes()), Some(s));
        for bad in [
            "",
            "inkstone-clean-exit v1 len=1 mtime_ns=2",
            "inkstone-clean-exit v1 len=1 mtime_ns=2 x=3\n",
            "inkstone-clean-exit v1 len=+1 mtime_ns=2\n",
            "inkstone-clean-exit v1 len= mtime_ns=2\n",
            "inkstone-clean-exit v2 len=1 mtime_ns=2\n",
            "inkstone-clean-exit v1 len=99999999999999999999999 mtime_ns=2\n",
        ] {
            assert_eq!(FileStamp::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = FileStamp::parse(&bytes);
        }

        #[test]
        fn a_mutated_stamp_is_refused_or_reads_as_written(
            len in any::<u64>(),
            ns in any::<u64>(),
            at in 0usize..64,
            byte in any::<u8>(),
        ) {
            let s = FileStamp { len, modified_ns: ns as u128 };
            let mut bytes = s.render().into_bytes();
            let at = at % bytes.len();
            let was = bytes[at];
            bytes[at] = byte;
            if let Some(read) = FileStamp::parse(&bytes) {
                // Only a digit swapped for a digit still parses, and then it says what it says.
                prop_assert!(byte == was || byte.is_ascii_digit());
                prop_assert_eq!(FileStamp::parse(FileStamp::render(&read).as_bytes()), Some(read));
            }
        }
    }
}
