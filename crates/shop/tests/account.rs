//! The purchase account follows the writer (issue 14): a name and password set on one
//! computer sign another in; a profile whose token is gone is asked to sign in instead of
//! getting a new, empty account; an account with purchases is never replaced.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use inkstone_core::{open, profiles, Clock, Database};
use inkstone_domain::ProfileId;
use inkstone_keychain::{MemoryStore, SecretName, SecretStore};
use inkstone_receipt::TrustedKeys;
use inkstone_server::{start_embedded, RunningServer};
use inkstone_shop::{AccountSignIn, InstallationId, PaymentClient, Shop};

fn clock() -> Clock {
    Clock::manual(chrono::Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap())
}

struct Computer {
    _dir: tempfile::TempDir,
    db: Database,
    secrets: Arc<MemoryStore>,
    shop: Shop,
    profile: ProfileId,
}

async fn computer(server: &RunningServer) -> Computer {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("app.db")).await.unwrap();
    let profile = profiles::register(&db, "writer", "password123", clock().now())
        .await
        .unwrap()
        .id;
    let secrets = Arc::new(MemoryStore::default());
    let shop = Shop::new(
        db.clone(),
        PaymentClient::new(&server.base_url).unwrap(),
        // Demo pins: the production keys and the sandbox's (these tests buy in the sandbox).
        TrustedKeys::new(
            server
                .public_keys
                .iter()
                .chain(server.sandbox_public_key.iter())
                .cloned(),
        ),
        secrets.clone(),
    )
    .allow_sandbox()
    .with_installation(InstallationId::parse("inst-this-computer").unwrap())
    .with_clock(clock());
    Computer {
        _dir: dir,
        db,
        secrets,
        shop,
        profile,
    }
}

async fn buy(c: &Computer, sku: &str) {
    let order = c.shop.start_order(c.profile, sku, "sandbox").await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/confirm", order.qr_payload))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    c.shop
        .wait(c.profile, &order.order_no, Duration::from_secs(10))
        .await
        .unwrap();
}

fn password(name: &str, pw: &str) -> AccountSignIn {
    AccountSignIn::Password {
        login_name: name.into(),
        password: pw.into(),
    }
}

#[tokio::test]
async fn a_second_computer_signs_in_to_the_purchase_account_and_restores_it() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_embedded(server_dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let first = computer(&server).await;
    buy(&first, "member_month").await;
    let code = first
        .shop
        .set_account_credentials(first.profile, "writer@example.com", "account-password")
        .await
        .unwrap();
    let account = profiles::get_profile(&first.db, first.profile)
        .await
        .unwrap()
        .server_account_id
        .unwrap();

    let second = computer(&server).await;
    let err = second
        .shop
        .sign_in_account(
            second.profile,
            &password("writer@example.com", "wrong-password"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_bad_credentials");
    assert_eq!(
        profiles::get_profile(&second.db, second.profile)
            .await
            .unwrap()
            .server_account_id,
        None
    );
    let signed = second
        .shop
        .sign_in_account(
            second.profile,
            &password("Writer@Example.com", "account-password"),
        )
        .await
        .unwrap();
    assert_eq!(signed, account);
    let restored = second.shop.restore_purchases(second.profile).await.unwrap();
    assert_eq!((restored.applied, restored.failures.len()), (1, 0));
    // The recovery code works once, on a third computer.
    let third = computer(&server).await;
    assert_eq!(
        third
            .shop
            .sign_in_account(third.profile, &AccountSignIn::RecoveryCode(code.clone()))
            .await
            .unwrap(),
        account
    );
}

#[tokio::test]
async fn a_lost_token_asks_for_sign_in_and_an_account_with_purchases_is_never_replaced() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_embedded(server_dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let c = computer(&server).await;
    buy(&c, "credits_100").await;
    let account = profiles::get_profile(&c.db, c.profile)
        .await
        .unwrap()
        .server_account_id
        .unwrap();
    // A new keychain (reinstall): no silent new account over the old one.
    c.secrets
        .delete(&SecretName::AccountToken {
            profile_id: c.profile,
        })
        .unwrap();
    let err = c
        .shop
        .start_order(c.profile, "credits_100", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_sign_in_needed");
    assert_eq!(
        profiles::get_profile(&c.db, c.profile)
            .await
            .unwrap()
            .server_account_id
            .as_deref(),
        Some(account.as_str())
    );

    // Another account (with its own name) cannot take this profile's place.
    let other = computer(&server).await;
    other
        .shop
        .set_account_credentials(other.profile, "someone-else", "other-password")
        .await
        .unwrap();
    let err = c
        .shop
        .sign_in_account(c.profile, &password("someone-else", "other-password"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_has_purchases");
    assert_eq!(
        c.secrets
            .get(&SecretName::AccountToken {
                profile_id: c.profile
            })
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_token_of_another_account_is_caught_before_any_purchase() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_embedded(server_dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let a = computer(&server).await;
    let b = computer(&server).await;
    buy(&a, "credits_10").await;
    buy(&b, "credits_10").await;
    let b_token = b
        .secrets
        .get(&SecretName::AccountToken {
            profile_id: b.profile,
        })
        .unwrap()
        .unwrap();
    a.secrets
        .set(
            &SecretName::AccountToken {
                profile_id: a.profile,
            },
            &b_token,
        )
        .unwrap();
    let err = a
        .shop
        .start_order(a.profile, "credits_10", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_mismatch");
}
