//! The writer's data survives a dead disk, a bad update and a damaged file (issue 19).
//!
//! Layout in the data folder (nothing here is ever deleted by the app except daily backups
//! past the seventh):
//!
//! ```text
//! inkstone.db                      the database
//! restore-pending.db               a checked backup to put in place at the next start
//! restore-pending.settings.json    the settings that came with it, if any
//! backups/daily/inkstone-YYYY-MM-DD.db    one a day (UTC date of the clock), seven kept,
//! backups/daily/inkstone-YYYY-MM-DD.settings.json   each with the settings of that day
//! backups/before-<version>/        database + settings copied before <version> migrated
//! backups/aside/<stamp>-<why>/     files moved out of the way (restore, start fresh, a
//!                                  failed upgrade): kept, never deleted
//! ```
//!
//! [`open_data`] is how the app opens its database: it applies a pending restore, tells a
//! corrupt, locked or read-only database apart ([`DataTrouble`]) instead of failing in the
//! log, copies the data aside before a new version migrates it and puts the copy back when
//! the migration fails. Secrets are never in the database, so no backup holds one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
pub use inkstone_core::backup::BackupCheck;
use inkstone_core::backup::{self, BackupError};
use inkstone_core::{CoreError, Database};
use inkstone_domain::ProfileId;
use serde::Serialize;
use sqlx::migrate::Migrator;

use crate::{DesktopError, DesktopResult, Services};

/// The database's file name in the data folder.
pub const DB_FILE: &str = "inkstone.db";
/// The non-secret settings file (tauri-plugin-store) in the data folder.
pub const SETTINGS_FILE: &str = "settings.json";
/// A checked backup waiting for the next start to take the database's place.
pub const PENDING_RESTORE: &str = "restore-pending.db";
/// The settings that came with it (kept beside the backup file), put in place with it.
pub const PENDING_SETTINGS: &str = "restore-pending.settings.json";
/// A settings file larger than this is not ours.
const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;
/// How many daily backups are kept.
pub const KEEP_DAILY: usize = 7;

const DAILY_PREFIX: &str = "inkstone-";

/// A backup the app can list and restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupEntry {
    pub name: String,
    pub path: String,
    /// The day it stands for (daily backups) or when it was written (back up now).
    pub taken_at: DateTime<Utc>,
    pub bytes: u64,
}

/// Why the database could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TroubleKind {
    /// Not a database, or damaged pages.
    Corrupt,
    /// Another program holds a lock on it.
    Locked,
    /// The file or its folder cannot be written.
    ReadOnly,
    /// A new version's migration failed; the copy taken before it was put back.
    UpgradeFailed,
    /// Written by a newer version of the app.
    Newer,
    /// Any other failure to read it (disk error).
    Unreadable,
}

/// The database is not well: what the trouble page shows. `detail` is for the log only.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the database cannot be used ({kind:?}): {detail}")]
pub struct DataTrouble {
    pub kind: TroubleKind,
    pub detail: String,
    /// Where the copy taken before a failed upgrade was kept (it is also back in place).
    pub upgrade_copy: Option<PathBuf>,
}

impl DataTrouble {
    fn new(kind: TroubleKind, detail: impl Into<String>) -> Self {
        DataTrouble {
            kind,
            detail: detail.into(),
            upgrade_copy: None,
        }
    }
}

/// Something start-up did that the writer should hear about once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartNotice {
    /// A backup was put in place; the previous data is kept in `kept`.
    Restored { kept: String },
    /// The backup waiting to be restored failed its check again and was set aside.
    RestoreRefused { reason: String },
    /// The data was copied aside before this version migrated it.
    UpgradeCopied { version: String, folder: String },
}

/// The opened, migrated database and what start-up did on the way.
pub struct Opened {
    pub db: Database,
    pub notices: Vec<StartNotice>,
    /// Whether `PRAGMA quick_check` ran: skipped after a clean exit that left the file as it
    /// is (`clean_exit`), run after anything else.
    pub integrity_checked: bool,
}

/// How [`open_data`] opens: the app's migrations and version, or a test's.
pub struct OpenConfig<'a> {
    pub migrator: &'a Migrator,
    /// This build's version: the name of the copy taken before it migrates.
    pub app_version: &'a str,
    /// How long to wait for another program's lock before calling the database locked.
    pub busy_timeout: Duration,
}

impl OpenConfig<'static> {
    /// The app's own migrations.
    pub fn app(app_version: &'static str) -> Self {
        OpenConfig {
            migrator: inkstone_core::db::migrator(),
            app_version,
            busy_timeout: Duration::from_secs(3),
        }
    }
}

pub fn backups_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

fn daily_dir(data_dir: &Path) -> PathBuf {
    backups_dir(data_dir).join("daily")
}

fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%d-%H%M%S").to_string()
}

/// A new folder under `backups/aside/` (a suffix keeps two in the same second apart).
fn aside_dir(data_dir: &Path, now: DateTime<Utc>, why: &str) -> std::io::Result<PathBuf> {
    let base = backups_dir(data_dir).join("aside");
    std::fs::create_dir_all(&base)?;
    for n in 0..1000 {
        let name = if n == 0 {
            format!("{}-{why}", stamp(now))
        } else {
            format!("{}-{why}-{n}", stamp(now))
        };
        let dir = base.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many folders set aside this second",
    ))
}

/// Moves the database and its WAL and shared-memory files (together: they are one state)
/// into a new folder under `backups/aside/`. Returns the folder, or `None` when there was no
/// database. Nothing is deleted.
pub fn move_database_aside(
    data_dir: &Path,
    now: DateTime<Utc>,
    why: &str,
) -> std::io::Result<Option<PathBuf>> {
    let files: Vec<&str> = [DB_FILE, "inkstone.db-wal", "inkstone.db-shm"]
        .into_iter()
        .filter(|f| data_dir.join(f).exists())
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let dir = aside_dir(data_dir, now, why)?;
    for f in files {
        std::fs::rename(data_dir.join(f), dir.join(f))?;
    }
    Ok(Some(dir))
}

/// Where the settings copy of the backup file `backup` is: beside it, `<name>.settings.json`
/// (a backup is the database, no secret, and the non-secret settings of that moment).
pub fn settings_beside(backup: &Path) -> PathBuf {
    backup.with_extension("settings.json")
}

/// Copies the settings file, if there is one, beside the backup file `backup`.
fn copy_settings_beside(data_dir: &Path, backup: &Path) -> std::io::Result<()> {
    let settings = data_dir.join(SETTINGS_FILE);
    if settings.exists() {
        copy_complete(&settings, &settings_beside(backup))?;
    }
    Ok(())
}

/// Whether `path` holds settings this app wrote: a JSON object of a sane size.
fn settings_look_right(path: &Path) -> bool {
    let small = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_SETTINGS_BYTES);
    small
        && std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v.is_object())
}

/// Copies `from` to `to` through a temporary name, synced before it takes the name.
fn copy_complete(from: &Path, to: &Path) -> std::io::Result<()> {
    let partial = to.with_extension("partial");
    std::fs::copy(from, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)
}

fn classify(error: &sqlx::Error) -> TroubleKind {
    match backup::sqlite_code(error) {
        Some(5) | Some(6) => TroubleKind::Locked,
        Some(8) => TroubleKind::ReadOnly,
        Some(11) | Some(26) => TroubleKind::Corrupt,
        _ => TroubleKind::Unreadable,
    }
}

fn classify_migrate(error: &sqlx::migrate::MigrateError) -> TroubleKind {
    use sqlx::migrate::MigrateError as M;
    match error {
        M::Execute(e) | M::ExecuteMigration(e, _) => classify(e),
        M::VersionMissing(_) => TroubleKind::Newer,
        M::VersionMismatch(_) | M::Dirty(_) => TroubleKind::Corrupt,
        _ => TroubleKind::Unreadable,
    }
}

fn is_read_only(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.permissions().readonly())
        .unwrap_or(false)
}

/// Opens the app's database in `data_dir` (see the module text). On trouble nothing is
/// changed except what the text says (a failed upgrade's copy put back); the caller shows
/// the trouble page.
pub async fn open_data(
    data_dir: &Path,
    config: &OpenConfig<'_>,
    now: DateTime<Utc>,
) -> Result<Opened, DataTrouble> {
    let mut notices = Vec::new();
    if let Some(notice) = apply_pending_restore(data_dir, config.migrator, now).await? {
        notices.push(notice);
    }
    // Always taken (and removed), even when a restore was just put in place: that one was
    // checked above, and its file no longer matches the stamp anyway.
    let clean_exit = crate::clean_exit::take_clean_exit(data_dir);
    let check = !clean_exit || !notices.is_empty();
    let path = data_dir.join(DB_FILE);
    let exists = path.exists();
    // Root ignores permission bits, SQLite would then write a file the writer marked
    // read-only: the bits are the writer's word, so they are read here.
    if is_read_only(data_dir) || (exists && is_read_only(&path)) {
        return Err(DataTrouble::new(
            TroubleKind::ReadOnly,
            "the database or its folder is read-only",
        ));
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if exists && size > 0 {
        match backup::has_sqlite_header(&path) {
            Ok(true) => {}
            Ok(false) => {
                return Err(DataTrouble::new(
                    TroubleKind::Corrupt,
                    "the file does not start with a SQLite header",
                ))
            }
            Err(e) => return Err(DataTrouble::new(TroubleKind::Unreadable, e.to_string())),
        }
    }
    let upgrade = if exists {
        probe(&path, data_dir, config, check).await?
    } else {
        None
    };
    if let Some((_, folder)) = &upgrade {
        notices.push(StartNotice::UpgradeCopied {
            version: config.app_version.to_string(),
            folder: folder.to_string_lossy().into_owned(),
        });
    }
    let db = inkstone_core::db::open_unmigrated(&path, Duration::from_secs(10))
        .await
        .map_err(|e| DataTrouble::new(classify(&e), e.to_string()))?;
    if let Err(e) = config.migrator.run(&db).await {
        db.close().await;
        let Some((copy, folder)) = upgrade else {
            return Err(DataTrouble::new(classify_migrate(&e), e.to_string()));
        };
        tracing::error!(error = %e, "the upgrade's migration failed; putting the copy back");
        let put_back = move_database_aside(data_dir, now, "failed-upgrade")
            .and_then(|_| copy_complete(&copy, &path));
        let mut trouble = DataTrouble::new(TroubleKind::UpgradeFailed, e.to_string());
        if let Err(io) = put_back {
            trouble.detail = format!("{e}; the copy could not be put back: {io}");
        }
        trouble.upgrade_copy = Some(folder);
        return Err(trouble);
    }
    Ok(Opened {
        db,
        notices,
        integrity_checked: exists && check,
    })
}

/// Looks at an existing database before it is migrated: quick_check (when `check`), a write lock taken and
/// let go, and, when this version has migrations the file lacks, a copy of the database and
/// the settings into `backups/before-<version>/` (kept if one is there already: the first
/// copy is the state before this version). Returns that copy.
async fn probe(
    path: &Path,
    data_dir: &Path,
    config: &OpenConfig<'_>,
    check: bool,
) -> Result<Option<(PathBuf, PathBuf)>, DataTrouble> {
    let trouble = |e: sqlx::Error| DataTrouble::new(classify(&e), e.to_string());
    let pool = inkstone_core::db::open_unmigrated(path, config.busy_timeout)
        .await
        .map_err(trouble)?;
    let result = async {
        let mut conn = pool.acquire().await.map_err(trouble)?;
        if check {
            let found: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(5)")
                .fetch_all(&mut *conn)
                .await
                .map_err(trouble)?;
            if found != ["ok"] {
                return Err(DataTrouble::new(TroubleKind::Corrupt, found.join("; ")));
            }
        }
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(trouble)?;
        sqlx::query("ROLLBACK")
            .execute(&mut *conn)
            .await
            .map_err(trouble)?;
        let has_table: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(trouble)?;
        let applied: Vec<i64> = if has_table > 0 {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
                .fetch_all(&mut *conn)
                .await
                .map_err(trouble)?
        } else {
            Vec::new()
        };
        drop(conn);
        let upgrading = !applied.is_empty()
            && config
                .migrator
                .iter()
                .any(|m| !applied.contains(&m.version));
        if !upgrading {
            return Ok(None);
        }
        let folder = backups_dir(data_dir).join(format!("before-{}", config.app_version));
        let copy = folder.join(DB_FILE);
        if !copy.exists() {
            // No copy, no upgrade: a migration must never run on the only copy of the data.
            let fail = |detail: String| DataTrouble {
                upgrade_copy: None,
                ..DataTrouble::new(TroubleKind::UpgradeFailed, detail)
            };
            std::fs::create_dir_all(&folder).map_err(|e| fail(e.to_string()))?;
            backup::write_backup(&pool, &copy)
                .await
                .map_err(|e| fail(format!("cannot copy the data before the upgrade: {e}")))?;
            let settings = data_dir.join(SETTINGS_FILE);
            if settings.exists() {
                std::fs::copy(&settings, folder.join(SETTINGS_FILE))
                    .map_err(|e| fail(e.to_string()))?;
            }
            tracing::info!(folder = %folder.display(), "copied the data before upgrading it");
        }
        Ok(Some((copy, folder)))
    }
    .await;
    pool.close().await;
    result
}

/// Puts a waiting restore in place: checked again (the file sat on disk since), the current
/// database moved aside, the backup renamed into its place. A backup that fails its check
/// is moved aside too, and the current database stays.
async fn apply_pending_restore(
    data_dir: &Path,
    migrator: &Migrator,
    now: DateTime<Utc>,
) -> Result<Option<StartNotice>, DataTrouble> {
    let pending = data_dir.join(PENDING_RESTORE);
    if !pending.exists() {
        return Ok(None);
    }
    let io = |e: std::io::Error| DataTrouble::new(TroubleKind::Unreadable, e.to_string());
    if let Err(e) = backup::check_backup(&pending, migrator).await {
        tracing::error!(error = %e, "the backup waiting to be restored failed its check");
        let dir = aside_dir(data_dir, now, "refused-restore").map_err(io)?;
        std::fs::rename(&pending, dir.join(PENDING_RESTORE)).map_err(io)?;
        let pending_settings = data_dir.join(PENDING_SETTINGS);
        if pending_settings.exists() {
            std::fs::rename(&pending_settings, dir.join(PENDING_SETTINGS)).map_err(io)?;
        }
        return Ok(Some(StartNotice::RestoreRefused {
            reason: e.kind().to_string(),
        }));
    }
    let mut kept = move_database_aside(data_dir, now, "before-restore").map_err(io)?;
    std::fs::rename(&pending, data_dir.join(DB_FILE)).map_err(io)?;
    // The settings that came with the backup replace the current ones, which are kept aside
    // with the database they went with.
    let pending_settings = data_dir.join(PENDING_SETTINGS);
    if pending_settings.exists() {
        let settings = data_dir.join(SETTINGS_FILE);
        if settings.exists() {
            let dir = match &kept {
                Some(dir) => dir.clone(),
                None => aside_dir(data_dir, now, "before-restore").map_err(io)?,
            };
            std::fs::rename(&settings, dir.join(SETTINGS_FILE)).map_err(io)?;
            kept = Some(dir);
        }
        std::fs::rename(&pending_settings, &settings).map_err(io)?;
    }
    tracing::info!("restored a backup");
    Ok(Some(StartNotice::Restored {
        kept: kept
            .map(|k| k.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }))
}

fn daily_date(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix(DAILY_PREFIX)?.strip_suffix(".db")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// The daily backups, newest first.
pub fn list_daily(data_dir: &Path) -> std::io::Result<Vec<BackupEntry>> {
    let dir = daily_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(date) = daily_date(&name) else {
            continue;
        };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        out.push(BackupEntry {
            path: entry.path().to_string_lossy().into_owned(),
            name,
            taken_at: date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            bytes: meta.len(),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.taken_at));
    Ok(out)
}

/// Writes today's backup unless there is one, then keeps the newest [`KEEP_DAILY`].
/// Returns the backup written, if any.
pub async fn daily_backup(
    db: &Database,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Option<BackupEntry>, BackupError> {
    let dir = daily_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let name = format!("{DAILY_PREFIX}{}.db", now.format("%Y-%m-%d"));
    let dest = dir.join(&name);
    let written = if dest.exists() {
        None
    } else {
        let bytes = backup::write_backup(db, &dest).await?;
        copy_settings_beside(data_dir, &dest)?;
        Some(BackupEntry {
            path: dest.to_string_lossy().into_owned(),
            name,
            taken_at: now
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc(),
            bytes,
        })
    };
    for old in list_daily(data_dir)?.into_iter().skip(KEEP_DAILY) {
        std::fs::remove_file(&old.path)?;
        let settings = settings_beside(Path::new(&old.path));
        if settings.exists() {
            std::fs::remove_file(settings)?;
        }
    }
    Ok(written)
}

/// The newest daily backup that passes [`backup::check_backup`] for this app.
pub async fn latest_good_backup(data_dir: &Path) -> Option<BackupEntry> {
    let migrator = inkstone_core::db::migrator();
    for entry in list_daily(data_dir).ok()? {
        match backup::check_backup(Path::new(&entry.path), migrator).await {
            Ok(_) => return Some(entry),
            Err(e) => tracing::warn!(error = %e, name = %entry.name, "backup skipped"),
        }
    }
    None
}

/// What the trouble page can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TroubleAction {
    /// Open again as it is (a lock let go, permissions fixed).
    Retry,
    /// Move the broken database aside and put the newest good daily backup in its place.
    RestoreLatest,
    /// Move the broken database aside; a new empty one is made.
    StartFresh,
}

/// Carries out `action` on the data folder; the caller then opens it again with
/// [`open_data`]. Returns the folder the broken database was moved into, if any.
pub async fn resolve_trouble(
    data_dir: &Path,
    action: TroubleAction,
    now: DateTime<Utc>,
) -> DesktopResult<Option<PathBuf>> {
    let io = |e: std::io::Error| DesktopError::Backup(BackupError::Io(e));
    match action {
        TroubleAction::Retry => Ok(None),
        TroubleAction::StartFresh => move_database_aside(data_dir, now, "broken").map_err(io),
        TroubleAction::RestoreLatest => {
            let latest = latest_good_backup(data_dir)
                .await
                .ok_or(DesktopError::Backup(BackupError::NoBackup))?;
            let kept = move_database_aside(data_dir, now, "broken").map_err(io)?;
            copy_complete(Path::new(&latest.path), &data_dir.join(DB_FILE)).map_err(io)?;
            Ok(kept)
        }
    }
}

impl Services {
    fn data_dir(&self) -> &Path {
        &self.options.data_dir
    }

    /// The daily backups, newest first (Settings → Backups). A backup is every profile's
    /// data, so backups and restores are the owner's (an admin profile), like models and keys.
    pub async fn backups(&self, profile_id: Option<ProfileId>) -> DesktopResult<Vec<BackupEntry>> {
        self.require_owner(profile_id).await?;
        list_daily(self.data_dir()).map_err(|e| DesktopError::Backup(e.into()))
    }

    /// Today's backup, unless written already; keeps seven.
    pub async fn daily_backup(&self) -> DesktopResult<Option<BackupEntry>> {
        Ok(daily_backup(&self.db, self.data_dir(), self.now()).await?)
    }

    /// "Back up now": a consistent copy into `folder` (an existing folder the writer picked),
    /// named after the time. Owner only.
    pub async fn back_up_to(
        &self,
        profile_id: Option<ProfileId>,
        folder: &Path,
    ) -> DesktopResult<BackupEntry> {
        self.require_owner(profile_id).await?;
        if !folder.is_absolute() || !folder.is_dir() {
            return Err(CoreError::InvalidInput {
                field: "folder",
                reason: "an existing folder",
            }
            .into());
        }
        let now = self.now();
        let name = format!("inkstone-backup-{}.db", stamp(now));
        let dest = folder.join(&name);
        let bytes = backup::write_backup(&self.db, &dest).await?;
        copy_settings_beside(self.data_dir(), &dest).map_err(|e| DesktopError::Backup(e.into()))?;
        Ok(BackupEntry {
            path: dest.to_string_lossy().into_owned(),
            name,
            taken_at: now,
            bytes,
        })
    }

    /// Restore from `file`: checked (a database of this app, intact, not newer), copied
    /// into the data folder as the pending restore, checked again there, and the data folder
    /// let go so that the restarted app (the caller restarts it) can take it and put the
    /// backup in place. The current data is moved aside then, never deleted. Owner only.
    pub async fn restore_on_restart(
        &self,
        profile_id: Option<ProfileId>,
        file: &Path,
    ) -> DesktopResult<BackupCheck> {
        self.require_owner(profile_id).await?;
        let migrator = inkstone_core::db::migrator();
        backup::check_backup(file, migrator).await?;
        let pending = self.data_dir().join(PENDING_RESTORE);
        copy_complete(file, &pending).map_err(|e| DesktopError::Backup(e.into()))?;
        // The settings kept beside the backup come back with it; a backup without them (or
        // with a file that is not settings) restores the database and leaves the settings.
        let pending_settings = self.data_dir().join(PENDING_SETTINGS);
        let _ = std::fs::remove_file(&pending_settings);
        let settings = settings_beside(file);
        if settings_look_right(&settings) {
            if let Err(e) = copy_complete(&settings, &pending_settings) {
                let _ = std::fs::remove_file(&pending);
                return Err(DesktopError::Backup(e.into()));
            }
        } else if settings.exists() {
            tracing::warn!(file = %settings.display(), "not settings of this app: left out of the restore");
        }
        // The copy is what will be restored: check it, not only the original.
        let check = match backup::check_backup(&pending, migrator).await {
            Ok(check) => check,
            Err(e) => {
                let _ = std::fs::remove_file(&pending);
                let _ = std::fs::remove_file(&pending_settings);
                return Err(e.into());
            }
        };
        self._data_lock.release();
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_daily_names_are_backups() {
        assert_eq!(
            daily_date("inkstone-2026-11-29.db"),
            NaiveDate::from_ymd_opt(2026, 11, 29)
        );
        for name in [
            "inkstone-2026-11-29.partial",
            "inkstone-2026-13-01.db",
            "notes.db",
            "inkstone-.db",
            "inkstone-2026-11-29.db.bak",
        ] {
            assert_eq!(daily_date(name), None, "{name}");
        }
    }
}
