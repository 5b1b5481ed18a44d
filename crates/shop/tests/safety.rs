//! Issue 12 on the desktop side: a release never credits the sandbox, one failing order
//! never blocks the others, and an order paid after it ended is still credited.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use inkstone_core::orders::{self, Order, OrderStatus};
use inkstone_core::{demo, ledger, open, profiles, Clock, Database};
use inkstone_keychain::MemoryStore;
use inkstone_receipt::{Fen, TrustedKeys};
use inkstone_server::{start_embedded, RunningServer};
use inkstone_shop::{InstallationId, PaymentClient, Settled, Shop};

struct World {
    server: RunningServer,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    db: Database,
    secrets: Arc<MemoryStore>,
    user: inkstone_domain::ProfileId,
    clock: Clock,
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
        _dirs: (server_dir, app_dir),
        db,
        secrets: Arc::new(MemoryStore::default()),
        user,
        clock: Clock::manual(Utc::now()),
    }
}

impl World {
    /// A desktop outside demo mode: production keys only, no sandbox.
    fn release_shop(&self) -> Shop {
        Shop::new(
            self.db.clone(),
            PaymentClient::new(&self.server.base_url).unwrap(),
            TrustedKeys::new(self.server.public_keys.clone()),
            self.secrets.clone(),
        )
        .with_clock(self.clock.clone())
    }

    /// A demo desktop: the sandbox key pinned too.
    fn demo_shop(&self) -> Shop {
        Shop::new(
            self.db.clone(),
            PaymentClient::new(&self.server.base_url).unwrap(),
            TrustedKeys::new(
                self.server
                    .public_keys
                    .iter()
                    .chain(self.server.sandbox_public_key.iter())
                    .cloned(),
            ),
            self.secrets.clone(),
        )
        .with_clock(self.clock.clone())
        .allow_sandbox()
        .with_installation(InstallationId::parse("inst-this-computer").unwrap())
    }
}

async fn pay(qr: &str) {
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

/// Ends an order at the server now (as if its 15 minutes were over).
async fn expire_at_server(w: &World, order_no: &str) {
    sqlx::query("UPDATE orders SET expires_at_ms = 0 WHERE order_no = $1")
        .bind(order_no)
        .execute(&w.server.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_release_desktop_never_buys_or_credits_the_sandbox() {
    let w = world().await;
    let release = w.release_shop();
    let err = release
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "sandbox_refused");
    // A sandbox order paid (bought by a demo desktop on the same account) reaches it anyway.
    let order = w
        .demo_shop()
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    pay(&order.qr_payload).await;
    let err = release
        .wait(w.user, &order.order_no, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "sandbox_refused");
    let restored = release.restore_purchases(w.user).await.unwrap();
    assert_eq!(restored.applied, 0);
    assert_eq!(restored.failures.len(), 1);
    assert_eq!(restored.failures[0].kind, "sandbox_refused");
    assert_eq!(credits(&w.db, w.user).await, 100, "nothing credited");
    // Even pinning the sandbox key by mistake does not make it credit.
    let pinned_anyway = Shop::new(
        w.db.clone(),
        PaymentClient::new(&w.server.base_url).unwrap(),
        TrustedKeys::new(w.server.sandbox_public_key.clone()),
        w.secrets.clone(),
    );
    assert_eq!(
        pinned_anyway
            .wait(w.user, &order.order_no, Duration::from_secs(5))
            .await
            .unwrap_err()
            .kind(),
        "sandbox_refused"
    );
    assert_eq!(credits(&w.db, w.user).await, 100);
}

#[tokio::test]
async fn resume_and_restore_go_on_past_a_failing_order() {
    let w = world().await;
    let shop = w.demo_shop();
    // An order the server never heard of (a stale row, another server's order).
    let ghost = orders::record_order(
        &w.db,
        &Order {
            order_no: "IK20260101000000GHOSTGHOST".parse().unwrap(),
            profile_id: w.user,
            kind: "credits".into(),
            sku: "credits_10".into(),
            provider: "sandbox".into(),
            amount_fen: Fen::new(100).unwrap(),
            qr_payload: "http://127.0.0.1:1/sandbox/pay/x".into(),
            status: OrderStatus::Pending,
            expires_at: Utc::now(),
            created_at: Utc::now() - chrono::Duration::minutes(1),
            updated_at: Utc::now(),
            applied: false,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let real = shop
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    pay(&real.qr_payload).await;
    let report = shop.resume().await.unwrap();
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(
        (
            report.failures[0].order_no.as_str(),
            report.failures[0].kind
        ),
        (ghost.order_no.as_str(), "order_not_found")
    );
    assert!(report.settled.iter().any(
        |s| matches!(s, Settled::Applied { newly: true, order } if order.order_no == real.order_no)
    ));
    assert_eq!(credits(&w.db, w.user).await, 210);
}

#[tokio::test]
async fn an_order_paid_after_it_expired_is_still_credited_backing_off() {
    let w = world().await;
    let shop = w.demo_shop();
    let late = shop
        .start_order(w.user, "credits_100", "sandbox")
        .await
        .unwrap();
    let never = shop
        .start_order(w.user, "credits_10", "sandbox")
        .await
        .unwrap();
    for o in [&late, &never] {
        expire_at_server(&w, &o.order_no).await;
        let ended = shop
            .wait(w.user, &o.order_no, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(matches!(ended, Settled::Ended(_)), "{ended:?}");
    }
    // The writer scanned the code just before it ended: the payment lands late.
    pay(&late.qr_payload).await;
    let round = shop.follow_up().await.unwrap();
    assert!(round.failures.is_empty(), "{round:?}");
    assert_eq!(round.settled.len(), 2, "both ended orders are asked about");
    assert!(round.settled.iter().any(
        |s| matches!(s, Settled::Applied { newly: true, order } if order.order_no == late.order_no)
    ));
    assert_eq!(credits(&w.db, w.user).await, 210);
    // Backing off: asked again only after the wait has passed.
    assert!(shop.follow_up().await.unwrap().settled.is_empty());
    w.clock.advance(chrono::Duration::seconds(61));
    let again = shop.follow_up().await.unwrap();
    assert_eq!(again.settled.len(), 1, "only the unpaid one");
    assert!(shop.follow_up().await.unwrap().settled.is_empty());
    w.clock.advance(chrono::Duration::seconds(90));
    assert!(
        shop.follow_up().await.unwrap().settled.is_empty(),
        "2 minutes now"
    );
    w.clock.advance(chrono::Duration::seconds(40));
    assert_eq!(shop.follow_up().await.unwrap().settled.len(), 1);
    // Every start asks regardless of the backoff…
    let resumed = shop.resume().await.unwrap();
    assert_eq!(resumed.settled.len(), 1);
    // …and after 48 hours the order is left alone.
    w.clock.advance(chrono::Duration::hours(49));
    assert!(shop.resume().await.unwrap().settled.is_empty());
    assert!(shop.follow_up().await.unwrap().settled.is_empty());
    assert_eq!(credits(&w.db, w.user).await, 210, "credited once");
}

#[test]
fn the_backoff_grows_and_is_capped() {
    let mins: Vec<i64> = (0..10)
        .map(|n| orders::follow_up_backoff(n).num_minutes())
        .collect();
    assert_eq!(mins, vec![1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
    assert_eq!(orders::follow_up_backoff(-5).num_minutes(), 1);
    assert_eq!(orders::follow_up_backoff(i64::MAX).num_minutes(), 120);
}
