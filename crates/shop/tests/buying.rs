//! Buying against the real payment endpoint (embedded, sandbox provider),
//! with the real ledger: the seed report's steps 4–5 below the window.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use inkstone_core::ledger::{self, PageRequest, TxFilter, TxKind};
use inkstone_core::{demo, open, profiles, purchases, Database};
use inkstone_keychain::{MemoryStore, SecretStore};
use inkstone_receipt::{ReceiptSigner, TrustedKeys};
use inkstone_server::{start_embedded, RunningServer};
use inkstone_shop::{InstallationId, PaymentClient, Settled, Shop};

struct World {
    server: RunningServer,
    server_dir: tempfile::TempDir,
    app_dir: tempfile::TempDir,
    db: Database,
    secrets: Arc<MemoryStore>,
    user: inkstone_domain::ProfileId,
}

async fn world() -> World {
    let server_dir = tempfile::tempdir().unwrap();
    let server = start_embedded(server_dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    let db = open(&app_dir.path().join("app.db")).await.unwrap();
    demo::seed_demo(&db, Utc::now()).await.unwrap();
    let user = profiles::login(&db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    World {
        server,
        server_dir,
        app_dir,
        db,
        secrets: Arc::new(MemoryStore::default()),
        user,
    }
}

impl World {
    fn shop(&self) -> Shop {
        Shop::new(
            self.db.clone(),
            PaymentClient::new(&self.server.base_url).unwrap(),
            self.keys(),
            self.secrets.clone(),
        )
        .allow_sandbox()
        .with_installation(InstallationId::parse("inst-this-computer").unwrap())
    }

    /// What a demo desktop pins: the production keys and the sandbox's.
    fn keys(&self) -> TrustedKeys {
        TrustedKeys::new(
            self.server
                .public_keys
                .iter()
                .chain(self.server.sandbox_public_key.iter())
                .cloned(),
        )
    }
}

/// What a phone does after scanning: open the page, press confirm.
async fn pay(qr: &str) {
    let page = reqwest::get(qr).await.unwrap().text().await.unwrap();
    assert!(page.contains("confirm"), "{page}");
    let r = reqwest::Client::new()
        .post(format!("{qr}/confirm"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn credits(db: &Database, p: inkstone_domain::ProfileId) -> i64 {
    ledger::balance(db, p, Utc::now())
        .await
        .unwrap()
        .credits
        .get()
}

#[tokio::test]
async fn buying_100_credits_adds_exactly_110_and_shows_the_order_number() {
    let w = world().await;
    let shop = w.shop();
    let catalog = shop.refresh_catalog().await.unwrap();
    assert!(catalog.fetched_at.is_some());
    let order = shop
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    assert_eq!(order.amount_fen, 1000);
    pay(&order.qr_payload).await;
    let settled = shop
        .wait(w.user, &order.order_no, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        matches!(settled, Settled::Applied { newly: true, .. }),
        "{settled:?}"
    );
    assert_eq!(credits(&w.db, w.user).await, 210);
    let rows = ledger::transactions(
        &w.db,
        w.user,
        &TxFilter {
            text: Some(order.order_no.to_string()),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    let kinds: Vec<(TxKind, i64)> = rows.items.iter().map(|t| (t.kind, t.delta.get())).collect();
    assert_eq!(kinds, vec![(TxKind::Bonus, 10), (TxKind::Recharge, 100)]);
    // Waiting or checking again changes nothing, and is not news.
    for again in [
        shop.wait(w.user, &order.order_no, Duration::from_secs(1))
            .await
            .unwrap(),
        shop.check(w.user, &order.order_no).await.unwrap(),
    ] {
        assert!(
            matches!(again, Settled::Applied { newly: false, .. }),
            "{again:?}"
        );
    }
    assert_eq!(credits(&w.db, w.user).await, 210);
    assert!(ledger::audit(&w.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_month_of_membership_makes_generations_free() {
    let w = world().await;
    let shop = w.shop();
    let order = shop
        .start_order(w.user, "member_month", "sandbox")
        .await
        .unwrap();
    pay(&order.qr_payload).await;
    assert!(matches!(
        shop.wait(w.user, &order.order_no, Duration::from_secs(10))
            .await
            .unwrap(),
        Settled::Applied { .. }
    ));
    let status = purchases::membership_status(&w.db, w.user, Utc::now())
        .await
        .unwrap();
    assert!(status.is_member);
    assert_eq!(status.days_left, 30);
    let charge = ledger::check_and_consume(
        &w.db,
        w.user,
        inkstone_domain::Tool::Article,
        "x",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(charge.charged, 0);
}

#[tokio::test]
async fn killed_after_payment_before_the_receipt_credits_exactly_once_on_restart() {
    let w = world().await;
    let order = w
        .shop()
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    pay(&order.qr_payload).await;
    // The app dies here: nothing applied yet. It starts again:
    w.db.close().await;
    let db = open(&w.app_dir.path().join("app.db")).await.unwrap();
    let shop = Shop::new(
        db.clone(),
        PaymentClient::new(&w.server.base_url).unwrap(),
        w.keys(),
        w.secrets.clone(),
    )
    .allow_sandbox()
    .with_installation(InstallationId::parse("inst-this-computer").unwrap());
    let resumed = shop.resume().await.unwrap();
    assert_eq!(resumed.settled.len(), 1);
    assert!(resumed.failures.is_empty());
    assert!(matches!(
        resumed.settled[0],
        Settled::Applied { newly: true, .. }
    ));
    assert!(shop.resume().await.unwrap().settled.is_empty());
    assert_eq!(credits(&db, w.user).await, 210);
}

#[tokio::test]
async fn the_server_going_down_is_a_typed_error_and_waiting_resumes_when_it_is_back() {
    let w = world().await;
    let shop = w.shop();
    let order = shop
        .start_order(w.user, "credits_10", "sandbox")
        .await
        .unwrap();
    let addr = w.server.addr;
    let qr = order.qr_payload.clone();
    w.server.shutdown().await;
    let err = shop
        .wait(w.user, &order.order_no, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "server_unreachable");
    assert_eq!(credits(&w.db, w.user).await, 100);
    // Back on the same address with the same data: the order is still there.
    let server = start_embedded(w.server_dir.path(), addr).await.unwrap();
    pay(&qr).await;
    let settled = shop
        .wait(w.user, &order.order_no, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(matches!(settled, Settled::Applied { .. }), "{settled:?}");
    assert_eq!(credits(&w.db, w.user).await, 110);
    server.shutdown().await;
}

#[tokio::test]
async fn receipts_signed_by_another_key_are_refused_and_nothing_is_credited() {
    let w = world().await;
    let stranger = TrustedKeys::new([ReceiptSigner::generate().public_key()]);
    let shop = Shop::new(
        w.db.clone(),
        PaymentClient::new(&w.server.base_url).unwrap(),
        stranger,
        w.secrets.clone(),
    )
    .allow_sandbox()
    .with_installation(InstallationId::parse("inst-this-computer").unwrap());
    let order = shop
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    pay(&order.qr_payload).await;
    let err = shop
        .wait(w.user, &order.order_no, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "receipt_unknown_key");
    assert_eq!(credits(&w.db, w.user).await, 100);
}

#[tokio::test]
async fn restore_purchases_on_a_new_machine_applies_the_membership_and_lists_the_credits() {
    let w = world().await;
    let shop = w.shop();
    for sku in ["credits_100", "member_month"] {
        let order = shop.start_order(w.user, sku, "sandbox").await.unwrap();
        pay(&order.qr_payload).await;
        shop.wait(w.user, &order.order_no, Duration::from_secs(10))
            .await
            .unwrap();
    }
    let account = profiles::get_profile(&w.db, w.user)
        .await
        .unwrap()
        .server_account_id
        .unwrap();
    // A new machine: a fresh database, the same account and token.
    let dir = tempfile::tempdir().unwrap();
    let db2 = open(&dir.path().join("app.db")).await.unwrap();
    let p2 = profiles::create_profile(&db2, "writer", "password123", false, Utc::now())
        .await
        .unwrap()
        .id;
    profiles::set_server_account(&db2, p2, &account)
        .await
        .unwrap();
    let token = w
        .secrets
        .get(&inkstone_keychain::SecretName::AccountToken { profile_id: w.user })
        .unwrap()
        .unwrap();
    let secrets2 = Arc::new(MemoryStore::default());
    secrets2
        .set(
            &inkstone_keychain::SecretName::AccountToken { profile_id: p2 },
            &token,
        )
        .unwrap();
    let shop2 = Shop::new(
        db2.clone(),
        PaymentClient::new(&w.server.base_url).unwrap(),
        w.keys(),
        secrets2,
    )
    .allow_sandbox()
    .with_installation(InstallationId::parse("inst-new-machine").unwrap());
    // The membership follows the account; the credit package was credited on the first
    // machine (issue 14) and is only listed here.
    let restored = shop2.restore_purchases(p2).await.unwrap();
    assert_eq!((restored.applied, restored.elsewhere.len()), (1, 1));
    let again = shop2.restore_purchases(p2).await.unwrap();
    assert_eq!((again.applied, again.elsewhere.len()), (0, 1));
    assert_eq!(credits(&db2, p2).await, 0);
    assert_eq!(credits(&w.db, w.user).await, 210);
    assert!(
        purchases::membership_status(&db2, p2, Utc::now())
            .await
            .unwrap()
            .is_member
    );
}
