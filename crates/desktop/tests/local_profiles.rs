//! Local profiles with their keychain side (issue 14): "keep me signed in" survives a restart
//! through the keychain only, signing out forgets it, a changed password ends other sessions,
//! and deleting a profile takes its keychain entries and files with it.

use std::sync::Arc;

use chrono::TimeZone;
use inkstone_core::{open, profiles, Clock};
use inkstone_desktop::{Options, SecretStore, Services};
use inkstone_keychain::{MemoryStore, SecretName};

fn clock() -> Clock {
    Clock::manual(chrono::Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap())
}

/// A release start (no demo) on `dir` with `secrets` as the keychain.
async fn start(dir: &std::path::Path, secrets: Arc<MemoryStore>) -> Services {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo: false,
        clock: clock(),
        ..Default::default()
    };
    Services::start(db, options, secrets).await.unwrap()
}

#[tokio::test]
async fn a_release_start_has_no_profile_and_the_first_one_is_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Arc::new(MemoryStore::default())).await;
    assert!(!profiles::any_profile(&s.db).await.unwrap());
    let owner = s.register("writer", "password123", false).await.unwrap();
    let other = s.register("friend", "password123", false).await.unwrap();
    assert!(s.require_owner(Some(owner.id)).await.is_ok());
    assert_eq!(
        s.require_owner(Some(other.id)).await.unwrap_err().kind(),
        "owner_only"
    );
}

#[tokio::test]
async fn keep_me_signed_in_survives_a_restart_through_the_keychain_and_sign_out_forgets_it() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    {
        let s = start(dir.path(), secrets.clone()).await;
        s.register("writer", "password123", true).await.unwrap();
        s.shutdown().await;
    }
    let secret = secrets.get(&SecretName::SignedIn).unwrap().unwrap();
    // Never on disk: the database holds only a digest of it.
    let db_bytes = std::fs::read(dir.path().join("inkstone.db")).unwrap();
    assert!(!db_bytes
        .windows(secret.len())
        .any(|w| w == secret.as_bytes()));

    let s = start(dir.path(), secrets.clone()).await;
    let me = s.remembered_profile().await.unwrap().unwrap();
    assert_eq!(me.username, "writer");
    s.sign_out().await;
    assert_eq!(secrets.get(&SecretName::SignedIn).unwrap(), None);
    assert_eq!(s.remembered_profile().await.unwrap(), None);

    // Not remembered when the writer says no.
    s.sign_in("writer", "password123", false).await.unwrap();
    assert_eq!(s.remembered_profile().await.unwrap(), None);
    // A secret put back by hand after signing out signs nobody in.
    secrets.set(&SecretName::SignedIn, &secret).unwrap();
    assert_eq!(s.remembered_profile().await.unwrap(), None);
    assert_eq!(secrets.get(&SecretName::SignedIn).unwrap(), None);
}

#[tokio::test]
async fn a_new_password_keeps_this_computer_signed_in_with_a_new_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let s = start(dir.path(), secrets.clone()).await;
    let me = s.register("writer", "password123", true).await.unwrap();
    let old = secrets.get(&SecretName::SignedIn).unwrap().unwrap();
    assert_eq!(
        s.change_password(me.id, "not-the-password", "new-password-1")
            .await
            .unwrap_err()
            .kind(),
        "bad_credentials"
    );
    assert_eq!(
        secrets.get(&SecretName::SignedIn).unwrap(),
        Some(old.clone())
    );
    s.change_password(me.id, "password123", "new-password-1")
        .await
        .unwrap();
    let new = secrets.get(&SecretName::SignedIn).unwrap().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        s.remembered_profile().await.unwrap().map(|p| p.id),
        Some(me.id)
    );
}

#[tokio::test]
async fn deleting_a_profile_removes_its_keychain_entries_and_its_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let s = start(dir.path(), secrets.clone()).await;
    let owner = s.register("writer", "password123", false).await.unwrap();
    let friend = s.register("friend", "password123", true).await.unwrap();
    secrets
        .set(
            &SecretName::AccountToken {
                profile_id: friend.id,
            },
            "token-friend",
        )
        .unwrap();
    secrets
        .set(
            &SecretName::AccountToken {
                profile_id: owner.id,
            },
            "token-owner",
        )
        .unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let picture = files.join("friend.png");
    std::fs::write(&picture, b"png").unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, b"keep").unwrap();
    for path in [&picture, &outside] {
        sqlx::query(
            "INSERT INTO generations (profile_id, tool, model, prompt, status, files_json,
                 created_at_ms, finished_at_ms) VALUES (?, 'image', 'wanx', 'p', 'succeeded', ?, 0, 0)",
        )
        .bind(friend.id)
        .bind(serde_json::json!([path.to_string_lossy()]).to_string())
        .execute(&s.db)
        .await
        .unwrap();
    }

    let export = s.export_profile(friend.id).await.unwrap();
    assert!(export.join("history.md").is_file());
    assert!(export.join("ledger.csv").is_file());
    assert!(export.join("files/friend.png").is_file());
    assert!(!export.join("files/outside.txt").exists());

    assert_eq!(
        s.delete_profile(friend.id, "password123", "writer")
            .await
            .unwrap_err()
            .kind(),
        "confirmation_mismatch"
    );
    assert!(picture.exists());
    s.delete_profile(friend.id, "password123", "friend")
        .await
        .unwrap();
    assert!(!picture.exists());
    assert!(
        outside.exists(),
        "a path outside the files folder is never removed"
    );
    assert_eq!(
        secrets
            .get(&SecretName::AccountToken {
                profile_id: friend.id
            })
            .unwrap(),
        None
    );
    assert_eq!(secrets.get(&SecretName::SignedIn).unwrap(), None);
    assert_eq!(
        secrets
            .get(&SecretName::AccountToken {
                profile_id: owner.id
            })
            .unwrap()
            .as_deref(),
        Some("token-owner")
    );
    // A new profile that gets the deleted one's id starts with no payment token.
    secrets
        .set(
            &SecretName::AccountToken {
                profile_id: friend.id,
            },
            "stale",
        )
        .unwrap();
    let next = s.register("newcomer", "password123", false).await.unwrap();
    assert_eq!(
        secrets
            .get(&SecretName::AccountToken {
                profile_id: next.id
            })
            .unwrap(),
        None
    );
}
