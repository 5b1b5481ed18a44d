//! Refunds reaching the desktop (issue 13): the endpoint's signed revocations are fetched
//! and applied once, credits taken back never below zero, through the real client.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use inkstone_core::{demo, ledger, open, profiles, revocations, Database};
use inkstone_keychain::MemoryStore;
use inkstone_receipt::revocation::Revocation;
use inkstone_receipt::{Credits, Fen, TrustedKeys};
use inkstone_server::{start_embedded, RunningServer};
use inkstone_shop::{InstallationId, PaymentClient, Settled, Shop};

async fn credits(db: &Database, p: inkstone_domain::ProfileId) -> i64 {
    ledger::balance(db, p, Utc::now())
        .await
        .unwrap()
        .credits
        .get()
}

/// What the endpoint does when a refund succeeds (crates/server/src/refund.rs): a refund
/// row and the signed revocation for the account, under the production receipt key.
async fn revoke(
    server: &RunningServer,
    order_no: &inkstone_domain::OrderNo,
    refund_no: &str,
    credits: i64,
) {
    let db = &server.state.db;
    let account: String = sqlx::query_scalar("SELECT account_id FROM orders WHERE order_no = $1")
        .bind(order_no.as_str())
        .fetch_one(db)
        .await
        .unwrap();
    let now = Utc::now().timestamp_millis();
    sqlx::query(
        "INSERT INTO refunds (refund_no, order_no, seq, provider, amount_fen, reason, status, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, 'sandbox', 1000, 'test', 'SUCCESS', $4, $4)",
    )
    .bind(refund_no)
    .bind(order_no.as_str())
    .bind(now)
    .bind(now)
    .execute(db)
    .await
    .unwrap();
    let signed = server
        .state
        .signer
        .sign_revocation(Revocation {
            order_no: order_no.clone(),
            account_id: account.clone(),
            refund_no: refund_no.into(),
            refund_fen: Fen::new(1000).unwrap(),
            amount_fen: Fen::new(1000).unwrap(),
            credits: Credits::new(credits),
            days: 0,
            reason: "重复购买".into(),
            revoked_at: Utc::now(),
        })
        .unwrap();
    sqlx::query(
        "INSERT INTO revocations (account_id, order_no, refund_no, signed_json, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&account)
    .bind(order_no.as_str())
    .bind(refund_no)
    .bind(serde_json::to_string(&signed).unwrap())
    .bind(now)
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_refunded_purchase_is_taken_back_once_and_never_below_zero() {
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
    let keys = TrustedKeys::new(
        server
            .public_keys
            .iter()
            .chain(server.sandbox_public_key.iter())
            .cloned(),
    );
    let shop = Shop::new(
        db.clone(),
        PaymentClient::new(&server.base_url).unwrap(),
        keys,
        Arc::new(MemoryStore::default()),
    )
    .with_installation(InstallationId::parse("inst-this-computer").unwrap())
    .allow_sandbox();
    // Nothing to fetch before the profile has a purchase account (none is registered).
    assert!(shop.apply_revocations(user).await.unwrap().0.is_empty());
    assert!(profiles::get_profile(&db, user)
        .await
        .unwrap()
        .server_account_id
        .is_none());

    let mut bought = Vec::new();
    for _ in 0..2 {
        let order = shop
            .start_order(user, "credits_100", "sandbox")
            .await
            .unwrap();
        reqwest::Client::new()
            .post(format!("{}/confirm", order.qr_payload))
            .send()
            .await
            .unwrap();
        let settled = shop
            .wait(user, &order.order_no, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(matches!(settled, Settled::Applied { .. }), "{settled:?}");
        bought.push(order.order_no);
    }
    assert_eq!(credits(&db, user).await, 100 + 2 * 110);

    // A revocation of an order this machine never applied holds the cursor; the next is applied.
    let stranger = shop
        .start_order(user, "credits_10", "sandbox")
        .await
        .unwrap();
    revoke(&server, &stranger.order_no, "RFSTRANGER", 10).await;
    revoke(&server, &bought[0], "RFFIRST", 110).await;
    let (applied, failures) = shop.apply_revocations(user).await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (
            applied[0].refund_no.as_str(),
            applied[0].credits_taken.get()
        ),
        ("RFFIRST", 110)
    );
    assert_eq!(applied[0].reason, "重复购买");
    assert_eq!(credits(&db, user).await, 100 + 110);
    assert_eq!(
        revocations::cursor(&db, user).await.unwrap(),
        0,
        "held before the stranger"
    );
    // Asked again: nothing more is taken.
    assert!(shop.apply_revocations(user).await.unwrap().0.is_empty());
    assert_eq!(credits(&db, user).await, 210);

    // Spend down, then the second refund: only what is there is taken, never below zero.
    for _ in 0..3 {
        ledger::check_and_consume(&db, user, inkstone_domain::Tool::Article, "", Utc::now())
            .await
            .unwrap();
    }
    let left = credits(&db, user).await;
    assert!(left < 210);
    revoke(&server, &bought[1], "RFSECOND", 300).await;
    let (applied, _) = shop.apply_revocations(user).await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        (
            applied[0].credits_taken.get(),
            applied[0].credits_not_taken.get()
        ),
        (left, 300 - left)
    );
    assert_eq!(credits(&db, user).await, 0);
    assert!(ledger::audit(&db).await.unwrap().is_empty());
}
