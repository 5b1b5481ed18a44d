//! Copies of the database and the checks a copy must pass before it may replace the
//! writer's data.
//!
//! A copy is written with SQLite's `VACUUM INTO`: a consistent snapshot taken while the app
//! keeps running (readers and the one writer are not stopped), compact, in one file with no
//! WAL beside it. Secrets are never in the database (the keychain holds them), so a copy
//! holds none either.
//!
//! A file offered for restore is checked read-only first ([`check_backup`]): a SQLite file,
//! `integrity_check` ok, written by this app (its applied migrations are ours, checksum for
//! checksum) and not by a newer version (no migration this build does not know).

use std::io::Read;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use crate::Database;

/// The first 16 bytes of every SQLite 3 database file.
pub const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Occurs when a file offered for restore is not a SQLite database at all.
    #[error("not a SQLite database")]
    NotSqlite,
    /// Occurs when a SQLite file is not one this app wrote (other tables, other migrations).
    #[error("not an Inkstone database: {0}")]
    NotThisApp(&'static str),
    /// Occurs when `integrity_check` finds damage in a file offered for restore.
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    /// Occurs when the file comes from a newer version of the app (a migration this build
    /// does not know).
    #[error("the backup is from a newer version (schema {found}, this app knows {known})")]
    NewerSchema { found: i64, known: i64 },
    /// Occurs when the destination of a new backup already exists (never overwritten).
    #[error("a file of that name already exists")]
    Exists,
    /// Occurs when a restore of the latest backup is asked for but there is no good one.
    #[error("there is no backup to restore")]
    NoBackup,
    /// Occurs when a file cannot be read or written (missing, no permission, disk full).
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// Occurs when SQLite fails while copying or checking.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl BackupError {
    /// Every `kind()` this type can return.
    pub const KINDS: &'static [&'static str] = &[
        "backup_not_sqlite",
        "backup_not_this_app",
        "backup_damaged",
        "backup_newer",
        "backup_exists",
        "backup_none",
        "backup_io",
        "database",
    ];

    /// A stable machine-readable name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotSqlite => "backup_not_sqlite",
            Self::NotThisApp(_) => "backup_not_this_app",
            Self::Damaged(_) => "backup_damaged",
            Self::NewerSchema { .. } => "backup_newer",
            Self::Exists => "backup_exists",
            Self::NoBackup => "backup_none",
            Self::Io(_) => "backup_io",
            Self::Database(_) => "database",
        }
    }
}

/// What a checked backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupCheck {
    /// The newest migration applied in the file.
    pub schema_version: i64,
    pub profiles: i64,
    pub generations: i64,
}

/// Writes a consistent copy of `db` to `dest`, which must not exist. The copy is written
/// beside `dest` under a temporary name and renamed when complete, so a crash or a full disk
/// never leaves a half file under a backup's name.
pub async fn write_backup(db: &Database, dest: &Path) -> Result<u64, BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists);
    }
    let partial = dest.with_extension("partial");
    // A leftover from an interrupted run: ours, never a backup (the name says so).
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let target = partial.to_string_lossy().into_owned();
    let result = sqlx::query("VACUUM INTO ?").bind(&target).execute(db).await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    // The copy reaches the disk before it takes the backup's name.
    std::fs::File::open(&partial)?.sync_all()?;
    if dest.exists() {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::Exists);
    }
    std::fs::rename(&partial, dest)?;
    Ok(std::fs::metadata(dest)?.len())
}

/// Whether the first bytes of `path` are a SQLite header. A missing or shorter file is not.
pub fn has_sqlite_header(path: &Path) -> Result<bool, std::io::Error> {
    let mut head = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => return Ok(false),
            n => read += n,
        }
    }
    Ok(&head == SQLITE_HEADER)
}

/// Checks that `path` may replace the app's database: see the module text. Opens the file
/// read-only and changes nothing in it.
pub async fn check_backup(path: &Path, migrator: &Migrator) -> Result<BackupCheck, BackupError> {
    if !has_sqlite_header(path)? {
        return Err(BackupError::NotSqlite);
    }
    let mut conn = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(true)
        // Nothing beside the file is created or needed (no -shm for a WAL-mode copy): the
        // file is only read, and nothing else writes it during the check.
        .immutable(true)
        .busy_timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| match sqlite_code(&e) {
            Some(11) | Some(26) => BackupError::NotSqlite,
            _ => BackupError::Database(e),
        })?;
    let result = check_open(&mut conn, migrator).await;
    let _ = conn.close().await;
    result
}

async fn check_open(
    conn: &mut sqlx::SqliteConnection,
    migrator: &Migrator,
) -> Result<BackupCheck, BackupError> {
    let damaged = |e: sqlx::Error| match sqlite_code(&e) {
        Some(11) | Some(26) => BackupError::Damaged(e.to_string()),
        _ => BackupError::Database(e),
    };
    let rows = sqlx::query("PRAGMA integrity_check(20)")
        .fetch_all(&mut *conn)
        .await
        .map_err(damaged)?;
    let report: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .collect();
    if report != ["ok"] {
        return Err(BackupError::Damaged(
            report.join("; ").chars().take(500).collect(),
        ));
    }
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *conn)
            .await
            .map_err(damaged)?;
    for needed in [
        "_sqlx_migrations",
        "profiles",
        "credit_transactions",
        "generations",
    ] {
        if !tables.iter().any(|t| t == needed) {
            return Err(BackupError::NotThisApp("a table of the app is missing"));
        }
    }
    let applied: Vec<(i64, Vec<u8>, bool)> =
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(damaged)?;
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    let mut newest = 0;
    for (version, checksum, success) in &applied {
        newest = newest.max(*version);
        match migrator.iter().find(|m| m.version == *version) {
            None if *version > known => {
                return Err(BackupError::NewerSchema {
                    found: *version,
                    known,
                })
            }
            None => return Err(BackupError::NotThisApp("a migration this app never had")),
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Err(BackupError::NotThisApp(
                    "a migration differs from the app's",
                ))
            }
            Some(_) if !success => {
                return Err(BackupError::Damaged("a migration did not finish".into()))
            }
            Some(_) => {}
        }
    }
    if applied.is_empty() {
        return Err(BackupError::NotThisApp("no migration was applied"));
    }
    let profiles: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles")
        .fetch_one(&mut *conn)
        .await
        .map_err(damaged)?;
    let generations: i64 = sqlx::query_scalar("SELECT count(*) FROM generations")
        .fetch_one(&mut *conn)
        .await
        .map_err(damaged)?;
    Ok(BackupCheck {
        schema_version: newest,
        profiles,
        generations,
    })
}

/// SQLite's primary result code of a database error (`SQLITE_BUSY` = 5, `SQLITE_LOCKED` = 6,
/// `SQLITE_READONLY` = 8, `SQLITE_CORRUPT` = 11, `SQLITE_NOTADB` = 26, …).
pub fn sqlite_code(error: &sqlx::Error) -> Option<i32> {
    match error {
        sqlx::Error::Database(e) => e
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_backup_is_checked_and_a_second_write_to_the_same_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::open(&dir.path().join("live.db")).await.unwrap();
        crate::profiles::create_profile(&db, "writer", "long enough", false, chrono::Utc::now())
            .await
            .unwrap();
        let dest = dir.path().join("copy.db");
        assert!(write_backup(&db, &dest).await.unwrap() > 0);
        let check = check_backup(&dest, crate::db::migrator()).await.unwrap();
        assert_eq!(check.profiles, 1);
        assert_eq!(
            check.schema_version,
            crate::db::migrator()
                .iter()
                .map(|m| m.version)
                .max()
                .unwrap()
        );
        assert!(matches!(
            write_backup(&db, &dest).await,
            Err(BackupError::Exists)
        ));
        assert!(!dest.with_extension("partial").exists());
    }

    #[tokio::test]
    async fn a_plain_copy_of_the_live_wal_database_is_a_good_backup_and_is_left_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("inkstone.db");
        let db = crate::open(&live).await.unwrap();
        crate::profiles::create_profile(&db, "writer", "long enough", false, chrono::Utc::now())
            .await
            .unwrap();
        // Everything into the database file first: the pool's last connection may close (and
        // checkpoint) after `close()` returns, on a loaded machine well after the copy.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
        let copy = dir.path().join("copied.db");
        std::fs::copy(&live, &copy).unwrap();
        let before = std::fs::read(&copy).unwrap();
        let check = check_backup(&copy, crate::db::migrator()).await.unwrap();
        assert_eq!(check.profiles, 1);
        assert_eq!(std::fs::read(&copy).unwrap(), before);
        assert!(!dir.path().join("copied.db-wal").exists());
        assert!(!dir.path().join("copied.db-shm").exists());
    }

    #[tokio::test]
    async fn other_files_are_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.db");
        std::fs::write(
            &text,
            "hello, not a database at all; long enough to have a header",
        )
        .unwrap();
        assert_eq!(
            check_backup(&text, crate::db::migrator())
                .await
                .unwrap_err()
                .kind(),
            "backup_not_sqlite"
        );
        // Another SQLite file: not ours.
        let other = dir.path().join("other.db");
        let mut conn = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&other)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        assert_eq!(
            check_backup(&other, crate::db::migrator())
                .await
                .unwrap_err()
                .kind(),
            "backup_not_this_app"
        );
        assert_eq!(
            check_backup(&dir.path().join("missing.db"), crate::db::migrator())
                .await
                .unwrap_err()
                .kind(),
            "backup_io"
        );
    }

    #[tokio::test]
    async fn a_newer_schema_and_a_foreign_migration_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.db");
        let db = crate::open(&path).await.unwrap();
        let known = crate::db::migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?, 'from the future', 1, x'00', 0)",
        )
        .bind(known + 1)
        .execute(&db)
        .await
        .unwrap();
        let newer = dir.path().join("newer.db");
        write_backup(&db, &newer).await.unwrap();
        match check_backup(&newer, crate::db::migrator()).await {
            Err(BackupError::NewerSchema { found, known: k }) => {
                assert_eq!((found, k), (known + 1, known))
            }
            other => panic!("expected newer, got {other:?}"),
        }
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = ?")
            .bind(known + 1)
            .execute(&db)
            .await
            .unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'01' WHERE version = 1")
            .execute(&db)
            .await
            .unwrap();
        let foreign = dir.path().join("foreign.db");
        write_backup(&db, &foreign).await.unwrap();
        assert!(matches!(
            check_backup(&foreign, crate::db::migrator()).await,
            Err(BackupError::NotThisApp(_))
        ));
    }

    #[tokio::test]
    async fn a_damaged_page_fails_the_integrity_check() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::open(&dir.path().join("live.db")).await.unwrap();
        let p = crate::profiles::create_profile(
            &db,
            "writer",
            "long enough",
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        for i in 0..200 {
            let grant = crate::ledger::Grant {
                kind: crate::ledger::GrantKind::Recharge,
                credits: inkstone_domain::Credits::new(1),
                description: format!("top-up number {i} with some words to fill pages"),
                order_no: None,
                expires_at: None,
            };
            crate::ledger::add_credits(&db, p.id, &grant, chrono::Utc::now())
                .await
                .unwrap();
        }
        let copy = dir.path().join("copy.db");
        write_backup(&db, &copy).await.unwrap();
        // Scribble over the middle of the file, past the header and the schema page.
        let mut bytes = std::fs::read(&copy).unwrap();
        let page = 4096;
        assert!(bytes.len() > 6 * page);
        for b in &mut bytes[3 * page + 100..5 * page] {
            *b = 0xA5;
        }
        std::fs::write(&copy, &bytes).unwrap();
        let err = check_backup(&copy, crate::db::migrator())
            .await
            .unwrap_err();
        assert!(
            matches!(err, BackupError::Damaged(_)),
            "expected damaged, got {err:?}"
        );
    }
}
