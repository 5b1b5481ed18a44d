//! Profiles (argon2id logins), demo seeding and the catalog cache.

mod support;

use inkstone_core::catalog::{self, CreditPackage};
use inkstone_core::{demo, ledger, profiles, purchases};
use inkstone_receipt::{Credits, Fen};
use support::*;

#[tokio::test]
async fn login_accepts_only_the_right_password() {
    let db = db().await;
    let p = profiles::create_profile(&db, "writer", "correct horse", false, t0())
        .await
        .unwrap();
    assert_eq!(
        profiles::login(&db, "writer", "correct horse")
            .await
            .unwrap()
            .id,
        p.id
    );
    for (user, pass) in [
        ("writer", "wrong horse"),
        ("writer", ""),
        ("nobody", "correct horse"),
    ] {
        assert_eq!(
            profiles::login(&db, user, pass).await.unwrap_err().kind(),
            "bad_credentials"
        );
    }
    // The stored hash is argon2id, never the password.
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM profiles WHERE id = ?")
        .bind(p.id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));
}

#[tokio::test]
async fn bad_usernames_passwords_and_duplicates_are_refused() {
    let db = db().await;
    profiles::create_profile(&db, "writer", "password123", false, t0())
        .await
        .unwrap();
    let before = snapshot(&db).await;
    for (user, pass, kind) in [
        ("writer", "password123", "username_taken"),
        ("ab", "password123", "invalid_input"),
        ("has space", "password123", "invalid_input"),
        ("evil\u{0}", "password123", "invalid_input"),
        ("fine_name", "short", "invalid_input"),
        ("fine_name", &"x".repeat(129), "invalid_input"),
    ] {
        let err = profiles::create_profile(&db, user, pass, false, t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{user:?}");
    }
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(
        profiles::get_profile(&db, inkstone_domain::ProfileId::new(999))
            .await
            .unwrap_err()
            .kind(),
        "unknown_profile"
    );
    assert_eq!(profiles::list_profiles(&db).await.unwrap().len(), 1);
}

#[tokio::test]
async fn demo_mode_seeds_the_reports_users_once() {
    let db = db().await;
    demo::seed_demo(&db, t0()).await.unwrap();
    demo::seed_demo(&db, t0()).await.unwrap();
    let user = profiles::login(&db, demo::DEMO_USER.0, demo::DEMO_USER.1)
        .await
        .unwrap();
    let admin = profiles::login(&db, demo::DEMO_ADMIN.0, demo::DEMO_ADMIN.1)
        .await
        .unwrap();
    assert!(admin.is_admin && !user.is_admin);
    let ub = ledger::balance(&db, user.id, t0()).await.unwrap();
    assert_eq!((ub.credits.get(), ub.is_member), (100, false));
    let ab = ledger::balance(&db, admin.id, t0()).await.unwrap();
    assert_eq!((ab.credits.get(), ab.is_member), (1000, true));
    assert_eq!(
        purchases::membership_status(&db, admin.id, t0())
            .await
            .unwrap()
            .member_until,
        Some(demo::demo_admin_member_until(t0()))
    );
    assert_eq!(
        demo::seed_report_member_until().to_rfc3339(),
        "2026-12-31T15:59:59+00:00"
    );
    assert_sound(&db).await;
}

#[tokio::test]
async fn the_catalog_cache_keeps_what_the_server_said_and_when() {
    let db = db().await;
    let builtin = catalog::cached_catalog(&db).await.unwrap();
    assert_eq!(builtin.fetched_at, None);
    let c = &builtin.catalog;
    let p100 = c.credit_package("credits_100").unwrap();
    assert_eq!(
        (
            p100.credits.get(),
            p100.bonus_credits.get(),
            p100.price_fen.get()
        ),
        (100, 10, 1_000)
    );
    let month = c.membership_plan("member_month").unwrap();
    assert_eq!(
        (
            month.days,
            month.price_fen.get(),
            month.original_price_fen.get()
        ),
        (30, 990, 1_990)
    );
    let year = c.membership_plan("member_year").unwrap();
    assert_eq!(
        (
            year.days,
            year.price_fen.get(),
            year.original_price_fen.get()
        ),
        (365, 8_800, 23_880)
    );

    let mut fresh = catalog::default_catalog();
    fresh.credit_packages.push(CreditPackage {
        sku: "credits_2000".into(),
        credits: Credits::new(2000),
        bonus_credits: Credits::new(800),
        price_fen: Fen::new(20_000).unwrap(),
        bonus_valid_days: Some(30),
    });
    catalog::store_catalog(&db, &fresh, t0()).await.unwrap();
    let cached = catalog::cached_catalog(&db).await.unwrap();
    assert_eq!(cached.catalog, fresh);
    assert_eq!(cached.fetched_at, Some(t0()));

    // A catalog that could not be shown honestly is not stored.
    let mut bad = fresh.clone();
    bad.credit_packages[0].price_fen = Fen::ZERO;
    assert_eq!(
        catalog::store_catalog(&db, &bad, t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    let mut dup = fresh.clone();
    dup.membership_plans[1].sku = "member_month".into();
    assert!(catalog::store_catalog(&db, &dup, t0()).await.is_err());
    assert_eq!(catalog::cached_catalog(&db).await.unwrap().catalog, fresh);
}

#[tokio::test]
async fn the_first_registered_profile_owns_the_install_and_later_ones_do_not() {
    let db = db().await;
    let owner = profiles::register(&db, "owner", "correct horse", t0())
        .await
        .unwrap();
    assert!(owner.is_admin, "the first profile is the owner");
    let writer = profiles::register(&db, "writer", "correct horse", t0())
        .await
        .unwrap();
    assert!(!writer.is_admin);
    assert!(matches!(
        profiles::register(&db, "writer", "another one", t0()).await,
        Err(inkstone_core::CoreError::UsernameTaken)
    ));
    assert!(profiles::register(&db, "x", "", t0()).await.is_err());
    assert_eq!(profiles::list_profiles(&db).await.unwrap().len(), 2);
}
