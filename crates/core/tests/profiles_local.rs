//! Local profiles on a release build (issue 14): the first profile owns the computer,
//! sign-ins slow down after 5 failures (kept in the database), remembered sessions, password
//! changes and deleting a profile with everything it owns.

mod support;

use chrono::Duration;
use inkstone_core::generations::{self, NewGeneration, Outcome};
use inkstone_core::{demo, ledger, profile_export, profiles, sign_in};
use support::*;

#[tokio::test]
async fn the_first_profile_is_the_owner_and_later_ones_are_not() {
    let db = db().await;
    assert!(!profiles::any_profile(&db).await.unwrap());
    let first = profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    let second = profiles::register(&db, "friend", "password123", t0())
        .await
        .unwrap();
    assert!(first.is_admin);
    assert!(!second.is_admin);
    assert!(profiles::any_profile(&db).await.unwrap());
    let before = snapshot(&db).await;
    for (name, pass, kind) in [
        ("writer", "password123", "username_taken"),
        ("", "password123", "invalid_input"),
        (&"x".repeat(33) as &str, "password123", "invalid_input"),
        ("third", "short", "invalid_input"),
    ] {
        assert_eq!(
            profiles::register(&db, name, pass, t0())
                .await
                .unwrap_err()
                .kind(),
            kind,
            "{name:?}"
        );
    }
    assert_eq!(snapshot(&db).await, before);
}

#[tokio::test]
async fn sign_ins_slow_down_after_five_failures_and_the_delay_grows() {
    let db = db().await;
    profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    let mut now = t0();
    for _ in 0..4 {
        let err = profiles::sign_in(&db, "writer", "wrong-pass", now)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "bad_credentials");
    }
    // Four failures: the right password still works at once, and resets the count.
    profiles::sign_in(&db, "writer", "password123", now)
        .await
        .unwrap();
    assert_eq!(sign_in::failures(&db, "writer").await.unwrap().0, 0);
    for _ in 0..5 {
        profiles::sign_in(&db, "writer", "wrong-pass", now)
            .await
            .unwrap_err();
    }
    // Fifth failure: even the right password waits 30 s.
    let err = profiles::sign_in(&db, "writer", "password123", now)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "too_many_attempts");
    assert!(matches!(
        err,
        inkstone_core::CoreError::TooManyAttempts {
            retry_after_secs: 30
        }
    ));
    now += Duration::seconds(31);
    // A sixth failure doubles the wait.
    profiles::sign_in(&db, "writer", "wrong-pass", now)
        .await
        .unwrap_err();
    let err = profiles::sign_in(&db, "writer", "password123", now + Duration::seconds(59))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "too_many_attempts");
    now += Duration::seconds(61);
    profiles::sign_in(&db, "writer", "password123", now)
        .await
        .unwrap();
    assert_eq!(sign_in::failures(&db, "writer").await.unwrap(), (0, None));
}

#[tokio::test]
async fn the_delay_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inkstone.db");
    {
        let db = inkstone_core::open(&path).await.unwrap();
        profiles::register(&db, "writer", "password123", t0())
            .await
            .unwrap();
        for _ in 0..5 {
            profiles::sign_in(&db, "writer", "nope-nope", t0())
                .await
                .unwrap_err();
        }
        db.close().await;
    }
    let db = inkstone_core::open(&path).await.unwrap();
    let err = profiles::sign_in(&db, "writer", "password123", t0() + Duration::seconds(10))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "too_many_attempts");
}

#[tokio::test]
async fn unknown_names_are_slowed_down_too_and_say_nothing_about_which_exist() {
    let db = db().await;
    profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    for _ in 0..5 {
        let err = profiles::sign_in(&db, "nobody", "password123", t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "bad_credentials");
    }
    assert_eq!(
        profiles::sign_in(&db, "nobody", "password123", t0())
            .await
            .unwrap_err()
            .kind(),
        "too_many_attempts"
    );
    // Another name is not affected.
    profiles::sign_in(&db, "writer", "password123", t0())
        .await
        .unwrap();
    // A name no profile can have is refused without being recorded.
    let long = "x".repeat(500);
    for _ in 0..10 {
        assert_eq!(
            profiles::sign_in(&db, &long, "password123", t0())
                .await
                .unwrap_err()
                .kind(),
            "bad_credentials"
        );
    }
    assert_eq!(sign_in::failures(&db, &long).await.unwrap().0, 0);
}

#[tokio::test]
async fn a_remembered_session_signs_in_until_forgotten_or_the_password_changes() {
    let db = db().await;
    let p = profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    let secret = sign_in::remember(&db, p.id, t0()).await.unwrap();
    assert_eq!(secret.len(), 64);
    // Only a digest is on disk.
    let stored: String = sqlx::query_scalar("SELECT secret_sha256 FROM remembered_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_ne!(stored, secret);
    assert_eq!(
        sign_in::resume(&db, &secret).await.unwrap().map(|p| p.id),
        Some(p.id)
    );
    for bad in ["", "zz", &"0".repeat(64), &secret.to_uppercase()] {
        assert_eq!(sign_in::resume(&db, bad).await.unwrap(), None, "{bad}");
    }
    sign_in::forget(&db, &secret).await.unwrap();
    assert_eq!(sign_in::resume(&db, &secret).await.unwrap(), None);

    let secret = sign_in::remember(&db, p.id, t0()).await.unwrap();
    let err = profiles::change_password(&db, p.id, "wrong-pass", "new-password", t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_credentials");
    assert!(sign_in::resume(&db, &secret).await.unwrap().is_some());
    assert_eq!(
        profiles::change_password(&db, p.id, "password123", "short", t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    profiles::change_password(&db, p.id, "password123", "new-password", t0())
        .await
        .unwrap();
    assert_eq!(sign_in::resume(&db, &secret).await.unwrap(), None);
    assert_eq!(
        profiles::sign_in(&db, "writer", "password123", t0())
            .await
            .unwrap_err()
            .kind(),
        "bad_credentials"
    );
    profiles::sign_in(&db, "writer", "new-password", t0())
        .await
        .unwrap();
}

#[tokio::test]
async fn deleting_a_profile_needs_its_name_and_password_and_removes_everything_it_owns() {
    let db = db().await;
    let owner = profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    let friend = profiles::register(&db, "friend", "password123", t0())
        .await
        .unwrap();
    for id in [owner.id, friend.id] {
        ledger::add_credits(&db, id, &recharge(50), t0())
            .await
            .unwrap();
        let started = generations::start(
            &db,
            &NewGeneration {
                profile_id: id,
                tool: inkstone_domain::Tool::Article,
                model: "qwen-plus".into(),
                prompt: format!("春天 {id}"),
                params: serde_json::json!({}),
                regenerated_from: None,
                inputs: vec![],
            },
            t0(),
        )
        .await
        .unwrap();
        generations::finish(
            &db,
            started.generation_id,
            Outcome::Succeeded {
                output_text: "text".into(),
                files: vec![format!("/data/files/{id}.png")],
                usage: Default::default(),
            },
            t0(),
        )
        .await
        .unwrap();
    }
    sign_in::remember(&db, friend.id, t0()).await.unwrap();
    let before = snapshot(&db).await;
    for (password, confirmation, kind) in [
        ("password123", "writer", "confirmation_mismatch"),
        ("password123", "", "confirmation_mismatch"),
        ("wrong-pass", "friend", "bad_credentials"),
    ] {
        let err = profiles::delete_profile(&db, friend.id, password, confirmation, t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind);
    }
    assert_eq!(snapshot(&db).await, before);

    let export = profile_export::export_profile(&db, friend.id)
        .await
        .unwrap();
    assert!(export.markdown.contains("春天"));
    assert!(export.ledger_csv.contains("RECHARGE"));

    let deleted = profiles::delete_profile(&db, friend.id, "password123", "friend", t0())
        .await
        .unwrap();
    assert_eq!(
        deleted.files,
        vec![format!("/data/files/{}.png", friend.id)]
    );
    assert_eq!(
        profiles::get_profile(&db, friend.id)
            .await
            .unwrap_err()
            .kind(),
        "unknown_profile"
    );
    for table in [
        "credit_transactions",
        "generations",
        "remembered_sessions",
        "orders",
        "purchases",
        "bonus_lots",
    ] {
        let left: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE profile_id = ?"
        ))
        .bind(friend.id)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table}");
    }
    // The owner's data is untouched, the ledger still adds up, and the ledger is still
    // append-only for everyone else.
    assert_eq!(
        ledger::balance(&db, owner.id, t0()).await.unwrap().credits,
        40
    );
    assert!(ledger::audit(&db).await.unwrap().is_empty());
    assert!(
        sqlx::query("DELETE FROM credit_transactions WHERE profile_id = ?")
            .bind(owner.id)
            .execute(&db)
            .await
            .is_err()
    );
    // Search no longer finds the deleted profile's text.
    let hits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM generations_fts")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn when_the_owner_is_deleted_the_oldest_remaining_profile_owns_the_computer() {
    let db = db().await;
    let owner = profiles::register(&db, "writer", "password123", t0())
        .await
        .unwrap();
    let friend = profiles::register(&db, "friend", "password123", t0() + Duration::seconds(1))
        .await
        .unwrap();
    let deleted = profiles::delete_profile(&db, owner.id, "password123", "writer", t0())
        .await
        .unwrap();
    assert_eq!(deleted.new_owner, Some(friend.id));
    assert!(
        profiles::get_profile(&db, friend.id)
            .await
            .unwrap()
            .is_admin
    );
}

#[tokio::test]
async fn demo_mode_keeps_its_seeded_users_exactly() {
    let db = db().await;
    demo::seed_demo(&db, t0()).await.unwrap();
    let list = profiles::list_profiles(&db).await.unwrap();
    let names: Vec<_> = list
        .iter()
        .map(|p| (p.username.as_str(), p.is_admin))
        .collect();
    assert_eq!(names, vec![("admin", true), ("test_user", false)]);
    profiles::sign_in(&db, "test_user", "test123456", t0())
        .await
        .unwrap();
    profiles::sign_in(&db, "admin", "admin123456", t0())
        .await
        .unwrap();
}
