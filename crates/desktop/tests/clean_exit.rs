//! The integrity check at start (issue 18, start-up): skipped after a clean exit that left the
//! database as it was, run after anything else, and a database damaged then still reaches the
//! trouble page (issue 19).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use inkstone_core::Database;
use inkstone_desktop::backups::{open_data, OpenConfig, TroubleKind};
use inkstone_desktop::clean_exit::STAMP_FILE;
use inkstone_desktop::{Options, Services};
use inkstone_keychain::MemoryStore;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 1, 9, 30, 0).unwrap()
}

fn config() -> OpenConfig<'static> {
    OpenConfig {
        busy_timeout: Duration::from_millis(300),
        ..OpenConfig::app("0.1.0")
    }
}

/// Opens the data folder as the app does and starts the services on it; returns whether the
/// integrity check ran.
async fn start(dir: &Path) -> (Services, bool) {
    let opened = open_data(dir, &config(), now()).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        ..Default::default()
    };
    let services = Services::start(opened.db, options, Arc::new(MemoryStore::default()))
        .await
        .unwrap();
    (services, opened.integrity_checked)
}

/// Some data at the end of the file, so damaging the last page damages a table's page.
async fn fill(db: &Database) {
    sqlx::query("CREATE TABLE IF NOT EXISTS filler(x BLOB)")
        .execute(db)
        .await
        .unwrap();
    for i in 0..200u32 {
        sqlx::query("INSERT INTO filler(x) VALUES (?)")
            .bind(vec![(i % 250) as u8; 1000])
            .execute(db)
            .await
            .unwrap();
    }
}

/// Ends a run the way a crash does as far as the stamp goes (none written), with every page
/// in the database file so the test can damage it.
async fn crash(services: Services, dir: &Path) {
    let db = services.db.clone();
    drop(services);
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    for _ in 0..200 {
        if std::fs::metadata(dir.join("inkstone.db-wal")).map_or(true, |m| m.len() == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the WAL still holds pages after a truncating checkpoint");
}

/// Overwrites the file's last page (a page of `filler`) with garbage, keeping the size.
fn damage_last_page(dir: &Path) {
    let path = dir.join("inkstone.db");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 4 * page);
    let from = bytes.len() - page;
    for (i, b) in bytes[from..].iter_mut().enumerate() {
        *b = (i * 37 % 251) as u8;
    }
    std::fs::write(&path, bytes).unwrap();
}

#[tokio::test]
async fn a_clean_restart_skips_the_check_and_a_crash_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (services, checked) = start(dir.path()).await;
    assert!(!checked, "a new database has nothing to check");
    fill(&services.db).await;
    assert!(services.finish().await);
    drop(services);
    assert!(dir.path().join(STAMP_FILE).exists());

    let (services, checked) = start(dir.path()).await;
    assert!(!checked, "clean exit, file untouched: no check");
    // Taken at start: a crash of this run must not pass for clean.
    assert!(!dir.path().join(STAMP_FILE).exists());
    crash(services, dir.path()).await;

    let (services, checked) = start(dir.path()).await;
    assert!(checked, "after a crash the database is checked");
    assert!(services.finish().await);
}

#[tokio::test]
async fn a_database_damaged_after_an_unclean_exit_reaches_the_trouble_page() {
    let dir = tempfile::tempdir().unwrap();
    let (services, _) = start(dir.path()).await;
    fill(&services.db).await;
    crash(services, dir.path()).await;
    damage_last_page(dir.path());

    let trouble = open_data(dir.path(), &config(), now()).await.err().unwrap();
    assert_eq!(trouble.kind, TroubleKind::Corrupt);
}

#[tokio::test]
async fn a_database_changed_while_the_app_was_closed_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (services, _) = start(dir.path()).await;
    fill(&services.db).await;
    assert!(services.finish().await);
    drop(services);
    // Another program (or a failing copy) wrote the file after the clean exit.
    damage_last_page(dir.path());

    let trouble = open_data(dir.path(), &config(), now()).await.err().unwrap();
    assert_eq!(trouble.kind, TroubleKind::Corrupt);
    assert!(!dir.path().join(STAMP_FILE).exists());
}

#[tokio::test]
async fn a_stamp_that_is_not_ours_means_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let (services, _) = start(dir.path()).await;
    assert!(services.finish().await);
    drop(services);
    std::fs::write(dir.path().join(STAMP_FILE), b"clean, trust me\n").unwrap();

    let (services, checked) = start(dir.path()).await;
    assert!(checked);
    assert!(!dir.path().join(STAMP_FILE).exists());
    assert!(services.finish().await);
}
