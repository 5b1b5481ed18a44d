//! Backups and a database that is not well (issue 19, items 2–4), at the desktop level:
//! daily backups over fake days, back up now and restore, the copy before an upgrade and a
//! migration that fails on purpose, and a corrupt, locked or read-only database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use inkstone_core::{ledger, profiles, Clock, Database};
use inkstone_desktop::backups::{
    self, open_data, resolve_trouble, OpenConfig, StartNotice, TroubleAction, TroubleKind,
};
use inkstone_desktop::{DataLock, LockError, Options, SecretStore, Services};
use inkstone_domain::ProfileId;
use inkstone_keychain::{MemoryStore, SecretName};
use sqlx::migrate::Migrator;

fn day(n: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, 9, 30, 0).unwrap() + chrono::Duration::days(n as i64)
}

fn app_config() -> OpenConfig<'static> {
    OpenConfig {
        busy_timeout: Duration::from_millis(300),
        ..OpenConfig::app("0.1.0")
    }
}

async fn open(dir: &Path) -> Database {
    open_data(dir, &app_config(), day(0)).await.unwrap().db
}

async fn start(dir: &Path, clock: Clock, secrets: Arc<MemoryStore>) -> Services {
    let db = open(dir).await;
    let options = Options {
        data_dir: dir.to_path_buf(),
        clock,
        ..Default::default()
    };
    Services::start(db, options, secrets).await.unwrap()
}

/// A profile with `credits` credits; returns its id.
async fn writer_with(db: &Database, credits: i64) -> ProfileId {
    // The owner: backups and restores are theirs.
    let p = profiles::create_profile(db, "writer", "long enough", true, day(0))
        .await
        .unwrap();
    grant(db, p.id, credits).await;
    p.id
}

async fn grant(db: &Database, profile: ProfileId, credits: i64) {
    let g = ledger::Grant {
        kind: ledger::GrantKind::Recharge,
        credits: inkstone_domain::Credits::new(credits),
        description: "top-up".into(),
        order_no: None,
        expires_at: None,
    };
    ledger::add_credits(db, profile, &g, day(0)).await.unwrap();
}

async fn balance(db: &Database, profile: ProfileId) -> i64 {
    ledger::balance(db, profile, day(0))
        .await
        .unwrap()
        .credits
        .get()
}

/// Closes `db` with everything in the database file: a checkpoint that empties the WAL
/// first, so that a connection the pool closes late (on its worker thread, after `close()`
/// returned) has nothing left to write into a file the test then scribbles over.
async fn close(db: Database, dir: &Path) {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    drop(db);
    for _ in 0..200 {
        if std::fs::metadata(dir.join("inkstone.db-wal")).map_or(true, |m| m.len() == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the WAL still holds pages after a truncating checkpoint");
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_backup_a_day_and_seven_kept_over_ten_fake_days_with_no_secret_inside() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(day(0));
    let secrets = Arc::new(MemoryStore::default());
    let secret = "sk-thisisthewritersverysecretkey0001";
    secrets.set(&SecretName::DashScopeKey, secret).unwrap();
    let s = start(dir.path(), clock.clone(), secrets).await;
    let me = writer_with(&s.db, 5).await;
    for n in 0..10 {
        // Each day's settings go with that day's backup.
        std::fs::write(
            dir.path().join("settings.json"),
            format!(r#"{{"preferences":{{"locale":"en","day":{n}}}}}"#),
        )
        .unwrap();
        clock.set(day(n));
        let written = s
            .daily_backup()
            .await
            .unwrap()
            .expect("a backup each new day");
        assert!(written
            .name
            .contains(&day(n).format("%Y-%m-%d").to_string()));
        // Later the same day: nothing new.
        clock.set(day(n) + chrono::Duration::hours(10));
        assert_eq!(s.daily_backup().await.unwrap(), None);
        grant(&s.db, me, 1).await;
    }
    let list = s.backups(Some(me)).await.unwrap();
    let names: Vec<&str> = list.iter().map(|b| b.name.as_str()).collect();
    let expected: Vec<String> = (3..10)
        .rev()
        .map(|n| format!("inkstone-{}.db", day(n).format("%Y-%m-%d")))
        .collect();
    assert_eq!(names, expected);
    for (b, n) in list.iter().zip((3..10).rev()) {
        let bytes = std::fs::read(&b.path).unwrap();
        assert!(!contains(&bytes, secret), "a backup holds the key");
        assert!(contains(&bytes, "writer"));
        let settings = backups::settings_beside(Path::new(&b.path));
        assert_eq!(
            std::fs::read_to_string(settings).unwrap(),
            format!(r#"{{"preferences":{{"locale":"en","day":{n}}}}}"#)
        );
    }
    // The settings of the backups let go went with them.
    let settings_kept = std::fs::read_dir(dir.path().join("backups/daily"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".settings.json"))
        .count();
    assert_eq!(settings_kept, 7);
    // A file of another name in the folder is not a backup and is never removed.
    let stray = dir.path().join("backups/daily/notes.txt");
    std::fs::write(&stray, "mine").unwrap();
    clock.set(day(11));
    s.daily_backup().await.unwrap().unwrap();
    assert!(stray.exists());
    assert_eq!(s.backups(Some(me)).await.unwrap().len(), 7);
}

#[tokio::test]
async fn back_up_now_then_restore_at_the_next_start_keeps_the_current_data_aside() {
    let dir = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let clock = Clock::manual(day(1));
    let s = start(dir.path(), clock.clone(), Arc::new(MemoryStore::default())).await;
    let me = writer_with(&s.db, 30).await;
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, r#"{"preferences":{"locale":"en"}}"#).unwrap();
    let saved = s.back_up_to(Some(me), folder.path()).await.unwrap();
    assert!(Path::new(&saved.path).starts_with(folder.path()));
    // The settings of that moment are kept beside the backup file.
    let saved_settings = backups::settings_beside(Path::new(&saved.path));
    assert_eq!(
        std::fs::read_to_string(&saved_settings).unwrap(),
        r#"{"preferences":{"locale":"en"}}"#
    );
    std::fs::write(&settings, r#"{"preferences":{"locale":"zh-CN"}}"#).unwrap();
    grant(&s.db, me, 70).await;
    assert_eq!(balance(&s.db, me).await, 100);
    // A relative or missing folder is refused before anything is written.
    for bad in ["relative/folder", "/no/such/folder/anywhere"] {
        assert_eq!(
            s.back_up_to(Some(me), Path::new(bad))
                .await
                .unwrap_err()
                .kind(),
            "invalid_input"
        );
    }

    let check = s
        .restore_on_restart(Some(me), Path::new(&saved.path))
        .await
        .unwrap();
    assert_eq!(check.profiles, 1);
    // The folder is let go so the restarted app can take it.
    let relock = DataLock::acquire(dir.path()).unwrap();
    drop(relock);
    s.shutdown().await;
    s.db.close().await;
    drop(s);

    let opened = open_data(dir.path(), &app_config(), day(2)).await.unwrap();
    let kept = match &opened.notices[..] {
        [StartNotice::Restored { kept }] => PathBuf::from(kept),
        other => panic!("expected a restore notice, got {other:?}"),
    };
    assert_eq!(balance(&opened.db, me).await, 30);
    assert!(!dir.path().join(backups::PENDING_RESTORE).exists());
    assert!(!dir.path().join(backups::PENDING_SETTINGS).exists());
    // The settings came back with it; the ones from before are kept with their database.
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        r#"{"preferences":{"locale":"en"}}"#
    );
    assert_eq!(
        std::fs::read_to_string(kept.join("settings.json")).unwrap(),
        r#"{"preferences":{"locale":"zh-CN"}}"#
    );
    // The data from before the restore is kept, whole.
    let before = inkstone_core::db::open(&kept.join("inkstone.db"))
        .await
        .unwrap();
    assert_eq!(balance(&before, me).await, 100);
}

#[tokio::test]
async fn a_bad_file_is_refused_before_anything_is_replaced_and_the_folder_stays_locked() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        Clock::manual(day(1)),
        Arc::new(MemoryStore::default()),
    )
    .await;
    let me = writer_with(&s.db, 30).await;
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let newer = dir.path().join("newer.db");
    {
        let copy = dir.path().join("copy.db");
        inkstone_core::backup::write_backup(&s.db, &copy)
            .await
            .unwrap();
        let db = inkstone_core::db::open(&copy).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99999, 'from a newer app', 1, x'00', 0)",
        )
        .execute(&db)
        .await
        .unwrap();
        inkstone_core::backup::write_backup(&db, &newer)
            .await
            .unwrap();
    }
    for (file, kind) in [
        (junk.as_path(), "backup_not_sqlite"),
        (newer.as_path(), "backup_newer"),
        (Path::new("/no/such/backup.db"), "backup_io"),
    ] {
        assert_eq!(
            s.restore_on_restart(Some(me), file)
                .await
                .unwrap_err()
                .kind(),
            kind,
            "{}",
            file.display()
        );
        assert!(!dir.path().join(backups::PENDING_RESTORE).exists());
    }
    // Another profile of this computer may not replace everyone's data, nor copy it.
    let other = profiles::create_profile(&s.db, "friend", "long enough", false, day(0))
        .await
        .unwrap();
    let copy = dir.path().join("copy.db");
    assert_eq!(
        s.restore_on_restart(Some(other.id), &copy)
            .await
            .unwrap_err()
            .kind(),
        "owner_only"
    );
    assert_eq!(
        s.back_up_to(Some(other.id), dir.path())
            .await
            .unwrap_err()
            .kind(),
        "owner_only"
    );
    assert_eq!(s.backups(None).await.unwrap_err().kind(), "owner_only");
    assert!(!dir.path().join(backups::PENDING_RESTORE).exists());
    assert!(matches!(
        DataLock::acquire(dir.path()),
        Err(LockError::AlreadyRunning { .. })
    ));
    assert_eq!(balance(&s.db, me).await, 30);
}

/// The app's migrations plus `extra` (name, SQL), in a folder for `Migrator::new`.
async fn migrator_with(extra: (&str, &str)) -> (tempfile::TempDir, Migrator) {
    let folder = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/app");
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), folder.path().join(entry.file_name())).unwrap();
    }
    std::fs::write(folder.path().join(extra.0), extra.1).unwrap();
    let migrator = Migrator::new(folder.path().to_path_buf()).await.unwrap();
    (folder, migrator)
}

#[tokio::test]
async fn an_upgrade_copies_the_data_and_settings_aside_per_version_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let me = writer_with(&db, 40).await;
    close(db, dir.path()).await;
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{"preferences":{"locale":"en"}}"#,
    )
    .unwrap();
    // Opening again with nothing new copies nothing.
    let same = open_data(dir.path(), &app_config(), day(1)).await.unwrap();
    assert!(same.notices.is_empty());
    same.db.close().await;

    let (_keep, migrator) = migrator_with((
        "9001_new_table.sql",
        "CREATE TABLE upgrade_probe (x INTEGER);",
    ))
    .await;
    let config = OpenConfig {
        migrator: &migrator,
        app_version: "9.0.0",
        busy_timeout: Duration::from_millis(300),
    };
    let opened = open_data(dir.path(), &config, day(2)).await.unwrap();
    assert!(
        matches!(&opened.notices[..], [StartNotice::UpgradeCopied { version, .. }] if version == "9.0.0")
    );
    let copy_dir = dir.path().join("backups/before-9.0.0");
    assert_eq!(
        std::fs::read_to_string(copy_dir.join("settings.json")).unwrap(),
        r#"{"preferences":{"locale":"en"}}"#
    );
    let copy = inkstone_core::backup::check_backup(
        &copy_dir.join("inkstone.db"),
        inkstone_core::db::migrator(),
    )
    .await
    .expect("the copy is the data before the upgrade");
    assert_eq!(copy.profiles, 1);
    assert_eq!(balance(&opened.db, me).await, 40);
}

#[tokio::test]
async fn a_migration_that_fails_puts_the_copy_back_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let me = writer_with(&db, 40).await;
    close(db, dir.path()).await;
    let (_keep, migrator) = migrator_with((
        "9002_fails_on_purpose.sql",
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
    ))
    .await;
    let config = OpenConfig {
        migrator: &migrator,
        app_version: "9.0.1",
        busy_timeout: Duration::from_millis(300),
    };
    let trouble = open_data(dir.path(), &config, day(3)).await.err().unwrap();
    assert_eq!(trouble.kind, TroubleKind::UpgradeFailed);
    assert_eq!(
        trouble.upgrade_copy.as_deref(),
        Some(dir.path().join("backups/before-9.0.1").as_path())
    );
    // The tried database is kept aside, and the app's own version opens the copy.
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("backups/aside"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        aside.iter().any(|n| n.ends_with("failed-upgrade")),
        "{aside:?}"
    );
    let back = open(dir.path()).await;
    assert_eq!(balance(&back, me).await, 40);
}

#[tokio::test]
async fn a_corrupt_database_is_named_kept_and_can_be_replaced_by_the_latest_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let me = writer_with(&db, 25).await;
    backups::daily_backup(&db, dir.path(), day(1))
        .await
        .unwrap();
    close(db, dir.path()).await;
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join("inkstone.db"), &garbage).unwrap();

    let trouble = open_data(dir.path(), &app_config(), day(2))
        .await
        .err()
        .unwrap();
    assert_eq!(trouble.kind, TroubleKind::Corrupt);
    assert_eq!(
        std::fs::read(dir.path().join("inkstone.db")).unwrap(),
        garbage
    );

    let kept = resolve_trouble(dir.path(), TroubleAction::RestoreLatest, day(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(std::fs::read(kept.join("inkstone.db")).unwrap(), garbage);
    let back = open(dir.path()).await;
    assert_eq!(balance(&back, me).await, 25);
}

#[tokio::test]
async fn a_corrupt_database_with_no_backup_can_start_fresh_with_the_file_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inkstone.db"),
        b"SQLite format 3\0 and then nonsense",
    )
    .unwrap();
    let trouble = open_data(dir.path(), &app_config(), day(2))
        .await
        .err()
        .unwrap();
    assert_eq!(trouble.kind, TroubleKind::Corrupt);
    assert_eq!(
        resolve_trouble(dir.path(), TroubleAction::RestoreLatest, day(2))
            .await
            .unwrap_err()
            .kind(),
        "backup_none"
    );
    // Still there after the refused restore.
    assert!(dir.path().join("inkstone.db").exists());
    let kept = resolve_trouble(dir.path(), TroubleAction::StartFresh, day(2))
        .await
        .unwrap()
        .unwrap();
    assert!(kept.join("inkstone.db").exists());
    let fresh = open(dir.path()).await;
    assert!(!profiles::any_profile(&fresh).await.unwrap());
}

#[tokio::test]
async fn a_locked_database_is_named_and_opens_once_the_lock_goes() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let me = writer_with(&db, 10).await;
    close(db, dir.path()).await;
    // Another program holds the write lock.
    let other =
        inkstone_core::db::open_unmigrated(&dir.path().join("inkstone.db"), Duration::from_secs(1))
            .await
            .unwrap();
    let mut holder = other.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();

    let trouble = open_data(dir.path(), &app_config(), day(2))
        .await
        .err()
        .unwrap();
    assert_eq!(trouble.kind, TroubleKind::Locked);
    assert_eq!(
        resolve_trouble(dir.path(), TroubleAction::Retry, day(2))
            .await
            .unwrap(),
        None
    );
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    other.close().await;
    let back = open(dir.path()).await;
    assert_eq!(balance(&back, me).await, 10);
}

#[cfg(unix)]
#[tokio::test]
async fn a_read_only_database_is_named_and_left_as_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    let me = writer_with(&db, 10).await;
    close(db, dir.path()).await;
    let path = dir.path().join("inkstone.db");
    let before = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();

    let trouble = open_data(dir.path(), &app_config(), day(2))
        .await
        .err()
        .unwrap();
    assert_eq!(trouble.kind, TroubleKind::ReadOnly);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let back = open(dir.path()).await;
    assert_eq!(balance(&back, me).await, 10);
}

#[tokio::test]
async fn data_from_a_newer_version_is_named_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path()).await;
    writer_with(&db, 10).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99999, 'from a newer app', 1, x'00', 0)",
    )
    .execute(&db)
    .await
    .unwrap();
    close(db, dir.path()).await;
    let before = std::fs::read(dir.path().join("inkstone.db")).unwrap();
    let trouble = open_data(dir.path(), &app_config(), day(2))
        .await
        .err()
        .unwrap();
    assert_eq!(trouble.kind, TroubleKind::Newer);
    // No copy "before the upgrade" of a downgrade, and the file is untouched.
    assert!(!dir.path().join("backups/before-0.1.0").exists());
    assert_eq!(
        std::fs::read(dir.path().join("inkstone.db")).unwrap(),
        before
    );
}

#[tokio::test]
async fn a_file_beside_the_backup_that_is_not_settings_is_left_out_of_the_restore() {
    let dir = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let clock = Clock::manual(day(1));
    let s = start(dir.path(), clock.clone(), Arc::new(MemoryStore::default())).await;
    let me = writer_with(&s.db, 30).await;
    let saved = s.back_up_to(Some(me), folder.path()).await.unwrap();
    // No settings file in the data folder: none beside the backup.
    let beside = backups::settings_beside(Path::new(&saved.path));
    assert!(!beside.exists());
    std::fs::write(&beside, b"\x00not json at all").unwrap();
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, r#"{"preferences":{"locale":"en"}}"#).unwrap();
    s.restore_on_restart(Some(me), Path::new(&saved.path))
        .await
        .unwrap();
    assert!(!dir.path().join(backups::PENDING_SETTINGS).exists());
    s.shutdown().await;
    s.db.close().await;
    drop(s);
    let opened = open_data(dir.path(), &app_config(), day(2)).await.unwrap();
    assert!(matches!(
        &opened.notices[..],
        [StartNotice::Restored { .. }]
    ));
    assert_eq!(balance(&opened.db, me).await, 30);
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        r#"{"preferences":{"locale":"en"}}"#
    );
}
