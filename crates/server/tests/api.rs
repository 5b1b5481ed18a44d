//! The payment endpoint over HTTP. Runs on SQLite by default and on a real
//! PostgreSQL when DATABASE_URL is set (scripts/checks/20-server-postgres.sh).

use std::sync::Arc;

use inkstone_domain::Fen;
use inkstone_pay::receipt::{Purchase, SignedReceipt, TrustedKeys};
use inkstone_server::orders::{self, PaidOutcome, PaymentEvidence};
use inkstone_server::sandbox::SandboxKey;
use inkstone_server::{start, Config, RunningServer};
use serde_json::{json, Value};

mod support;
use support::{database_url, register, Client};

const SANDBOX_SECRET: &str = "test-sandbox-secret";

async fn server() -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_url(dir.path());
    let config = Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url,
        receipt_key_file: Some(dir.path().join("key.b64")),
        sandbox_secret: Some(SANDBOX_SECRET.into()),
        sandbox: true,
        // These tests are not about the per-account caps (tests/safety.rs is).
        max_pending_orders_per_account: 100,
        orders_per_minute_per_account: 100,
        ..Config::default()
    };
    (start(config).await.unwrap(), dir)
}

impl Client {
    async fn order(&self, sku: &str) -> Value {
        let (status, order) = self
            .post("/v1/orders", json!({"sku": sku, "provider": "sandbox"}))
            .await;
        assert_eq!(status, 201, "{order}");
        order
    }
}

async fn confirm(s: &RunningServer, qr: &str, notify: bool) {
    let url = if notify {
        format!("{qr}/confirm")
    } else {
        format!("{qr}/confirm?notify=false")
    };
    let r = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = s;
}

async fn keys(s: &RunningServer) -> TrustedKeys {
    let keys = reqwest::get(format!("{}/v1/keys", s.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    TrustedKeys::try_new(serde_json::from_value::<Vec<_>>(keys).unwrap()).unwrap()
}

#[tokio::test]
async fn buy_credits_in_the_sandbox_and_get_a_verifiable_receipt() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_100").await;
    assert_eq!(
        (order["amount_fen"].as_i64(), order["status"].as_str()),
        (Some(1000), Some("pending"))
    );
    let no = order["order_no"].as_str().unwrap();
    assert!(orders::valid_order_no(no), "{no}");
    let qr = order["qr_payload"].as_str().unwrap();
    assert!(qr.starts_with(&s.base_url) && qr.ends_with(no));
    let page = reqwest::get(qr).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("确认支付") && page.contains("¥10.00"),
        "{page}"
    );
    confirm(&s, qr, true).await;
    let (_, paid) = c.get(&format!("/v1/orders/{no}")).await;
    assert_eq!(paid["status"], "paid");
    let receipt: SignedReceipt = serde_json::from_value(paid["receipt"].clone()).unwrap();
    let verified = keys(&s).await.verify(&receipt).unwrap().clone();
    assert_eq!(verified.account_id, c.account_id);
    assert_eq!(verified.amount_fen, 1000);
    assert_eq!(
        verified.purchase,
        Purchase::Credits {
            sku: "credits_100".into(),
            credits: inkstone_domain::Credits::new(100),
            bonus_credits: inkstone_domain::Credits::new(10)
        }
    );
    let (_, receipts) = c.get("/v1/receipts").await;
    assert_eq!(receipts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_catalog_has_an_etag_and_the_server_prices_every_order() {
    let (s, _dir) = server().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/v1/catalog", s.base_url))
        .send()
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let cat: Value = r.json().await.unwrap();
    assert_eq!(cat["membership_plans"][0]["price_fen"], 990);
    assert_eq!(cat["membership_plans"][0]["original_price_fen"], 1990);
    let again = http
        .get(format!("{}/v1/catalog", s.base_url))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    let c = register(&s).await;
    let m = c.order("member_year").await;
    assert_eq!(
        (m["amount_fen"].as_i64(), m["kind"].as_str()),
        (Some(8800), Some("membership"))
    );
    // A client cannot name a price, an unknown sku or provider.
    let (status, _) = c
        .post(
            "/v1/orders",
            json!({"sku": "credits_100", "provider": "sandbox", "amount_fen": 1}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        c.post(
            "/v1/orders",
            json!({"sku": "credits_7", "provider": "sandbox"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        c.post(
            "/v1/orders",
            json!({"sku": "credits_100", "provider": "paypal"})
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn accounts_never_see_each_other() {
    let (s, _dir) = server().await;
    let (a, b) = (register(&s).await, register(&s).await);
    let order = a.order("credits_10").await;
    let no = order["order_no"].as_str().unwrap();
    assert_eq!(b.get(&format!("/v1/orders/{no}")).await.0, 404);
    assert_eq!(
        b.post(&format!("/v1/orders/{no}/cancel"), json!({}))
            .await
            .0,
        404
    );
    assert_eq!(
        b.get(&format!("/v1/orders/{no}/wait?timeout=1")).await.0,
        404
    );
    confirm(&s, order["qr_payload"].as_str().unwrap(), true).await;
    assert!(b.get("/v1/receipts").await.1.as_array().unwrap().is_empty());
    assert!(b.get("/v1/orders").await.1.as_array().unwrap().is_empty());
    let nobody = reqwest::get(format!("{}/v1/orders", s.base_url))
        .await
        .unwrap();
    assert_eq!(nobody.status().as_u16(), 401);
    let forged = reqwest::Client::new()
        .get(format!("{}/v1/receipts", s.base_url))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
}

#[tokio::test]
async fn a_waiting_desktop_hears_of_the_payment_at_once() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_100").await;
    let no = order["order_no"].as_str().unwrap().to_string();
    let qr = order["qr_payload"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let phone = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        reqwest::Client::new()
            .post(format!("{qr}/confirm"))
            .send()
            .await
            .unwrap();
    });
    let (_, waited) = c.get(&format!("/v1/orders/{no}/wait?timeout=20")).await;
    phone.await.unwrap();
    assert_eq!(waited["status"], "paid");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Nothing happens: the wait ends at its timeout with the order as it is.
    let other = c.order("credits_10").await;
    let (_, still) = c
        .get(&format!(
            "/v1/orders/{}/wait?timeout=1",
            other["order_no"].as_str().unwrap()
        ))
        .await;
    assert_eq!(still["status"], "pending");
}

#[tokio::test]
async fn a_lost_notification_is_found_by_the_active_query() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_100").await;
    let no = order["order_no"].as_str().unwrap();
    confirm(&s, order["qr_payload"].as_str().unwrap(), false).await;
    assert_eq!(
        c.get(&format!("/v1/orders/{no}")).await.1["status"],
        "pending",
        "no notification came"
    );
    let (_, waited) = c.get(&format!("/v1/orders/{no}/wait?timeout=5")).await;
    assert_eq!(waited["status"], "paid");
    assert!(waited["receipt"].is_object());
}

fn signed_notification(
    order_no: &str,
    amount_fen: i64,
    ts: i64,
    secret: &str,
) -> (String, String, Vec<u8>) {
    let body = serde_json::to_vec(
        &json!({"order_no": order_no, "amount_fen": amount_fen, "currency": "CNY",
        "txn_id": format!("T{ts}"), "paid_at": ts}),
    )
    .unwrap();
    let sig = SandboxKey::new(secret.as_bytes()).sign(ts, &body);
    (ts.to_string(), sig, body)
}

async fn notify(s: &RunningServer, ts: &str, sig: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/notify/sandbox", s.base_url))
        .header("x-sandbox-timestamp", ts)
        .header("x-sandbox-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn bad_notifications_are_rejected_and_change_nothing() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_100").await;
    let no = order["order_no"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    let (ts, sig, body) = signed_notification(no, 1000, now, SANDBOX_SECRET);
    let mut tampered = body.clone();
    let pos = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[pos] = b'2';
    let cases: Vec<(&str, String, String, Vec<u8>)> = vec![
        ("bad signature", ts.clone(), "00".repeat(32), body.clone()),
        (
            "signed with another key",
            ts.clone(),
            signed_notification(no, 1000, now, "other").1,
            body.clone(),
        ),
        ("tampered body", ts.clone(), sig.clone(), tampered),
        (
            "stale timestamp",
            (now - 301).to_string(),
            {
                let (_, s2, _) = signed_notification(no, 1000, now - 301, SANDBOX_SECRET);
                s2
            },
            signed_notification(no, 1000, now - 301, SANDBOX_SECRET).2,
        ),
        (
            "amount off by one fen",
            ts.clone(),
            signed_notification(no, 999, now, SANDBOX_SECRET).1,
            signed_notification(no, 999, now, SANDBOX_SECRET).2,
        ),
        (
            "unknown order",
            ts.clone(),
            signed_notification("IKNOSUCHORDER1", 1000, now, SANDBOX_SECRET).1,
            signed_notification("IKNOSUCHORDER1", 1000, now, SANDBOX_SECRET).2,
        ),
        (
            "malformed body",
            ts.clone(),
            SandboxKey::new(SANDBOX_SECRET.as_bytes()).sign(now, b"{not json"),
            b"{not json".to_vec(),
        ),
    ];
    for (case, ts, sig, body) in cases {
        assert_eq!(notify(&s, &ts, &sig, body).await, 400, "{case}");
        assert_eq!(
            c.get(&format!("/v1/orders/{no}")).await.1["status"],
            "pending",
            "{case}"
        );
    }
    let huge = vec![b' '; 1024 * 1024];
    assert_eq!(notify(&s, &ts, &sig, huge).await, 413, "oversized body");
    assert_eq!(
        c.get(&format!("/v1/orders/{no}")).await.1["status"],
        "pending"
    );
    // The genuine one works.
    assert_eq!(notify(&s, &ts, &sig, body).await, 200);
    assert_eq!(c.get(&format!("/v1/orders/{no}")).await.1["status"], "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_duplicate_notifications_make_one_paid_transition_and_one_receipt() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_500").await;
    let no = order["order_no"].as_str().unwrap().to_string();
    let state = Arc::new(s.state.clone());
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let state = state.clone();
        let evidence = PaymentEvidence {
            provider: "sandbox".into(),
            order_no: no.parse().unwrap(),
            amount_fen: Fen::new(5000).unwrap(),
            currency: "CNY".into(),
            provider_txn_id: "T-dup".into(),
            paid_at: chrono::Utc::now(),
        };
        // The path notifications take: grouped commits on SQLite, parallel on PostgreSQL.
        tasks.push(tokio::spawn(async move { state.paid(&evidence).await }));
    }
    let mut paid = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() == PaidOutcome::Paid {
            paid += 1;
        }
    }
    assert_eq!(paid, 1);
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE order_no = $1")
        .bind(&no)
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(receipts, 1);
}

fn evidence_for(no: &str, amount_fen: i64, txn: &str) -> PaymentEvidence {
    PaymentEvidence {
        provider: "sandbox".into(),
        order_no: no.parse().unwrap(),
        amount_fen: Fen::new(amount_fen).unwrap(),
        currency: "CNY".into(),
        provider_txn_id: txn.into(),
        paid_at: chrono::Utc::now(),
    }
}

/// Ten orders, ten duplicate notifications each, all at once: on SQLite they
/// share commits, and still every order is paid once with one receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_of_many_orders_at_once_each_pay_once() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let mut nos = Vec::new();
    for _ in 0..10 {
        let order = c.order("credits_100").await;
        nos.push(order["order_no"].as_str().unwrap().to_string());
    }
    let mut tasks = Vec::new();
    for _ in 0..10 {
        for no in &nos {
            let state = s.state.clone();
            let evidence = evidence_for(no, 1000, &format!("T-{no}"));
            tasks.push(tokio::spawn(async move {
                (evidence.order_no.clone(), state.paid(&evidence).await)
            }));
        }
    }
    let mut paid = std::collections::HashMap::new();
    for t in tasks {
        let (no, outcome) = t.await.unwrap();
        if outcome.unwrap() == PaidOutcome::Paid {
            *paid.entry(no).or_insert(0) += 1;
        }
    }
    assert_eq!(paid.len(), 10, "{paid:?}");
    assert!(paid.values().all(|n| *n == 1), "{paid:?}");
    for no in &nos {
        let (_, order) = c.get(&format!("/v1/orders/{no}")).await;
        assert_eq!(order["status"], "paid");
        assert!(order["receipt"].is_object(), "{order}");
    }
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE account_id = $1")
        .bind(&c.account_id)
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(receipts, 10);
}

/// A write that fails inside a shared commit does not take the others down with
/// it, and leaves its own order as it was.
#[tokio::test]
async fn one_failing_write_in_a_group_commit_fails_alone() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let mut nos = Vec::new();
    for _ in 0..3 {
        let order = c.order("credits_100").await;
        nos.push(order["order_no"].as_str().unwrap().to_string());
    }
    let mut writes = Vec::new();
    for no in &nos {
        let w = orders::prepare_paid(
            &s.state.db,
            &s.state.signer,
            &evidence_for(no, 1000, &format!("T-{no}")),
        )
        .await
        .unwrap()
        .expect("unpaid order");
        writes.push(w);
    }
    // A stray receipt row makes the middle order's receipt insert fail.
    sqlx::query("INSERT INTO receipts (order_no, account_id, key_id, signed_json, created_at_ms) VALUES ($1, $2, 'k', '{}', 0)")
        .bind(&nos[1])
        .bind(&c.account_id)
        .execute(&s.state.db)
        .await
        .unwrap();
    let outcomes = inkstone_server::settlement::write_batch(&s.state.db, &writes).await;
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().unwrap(), &PaidOutcome::Paid);
    assert!(outcomes[1].is_err(), "{:?}", outcomes[1]);
    assert_eq!(outcomes[2].as_ref().unwrap(), &PaidOutcome::Paid);
    assert_eq!(
        c.get(&format!("/v1/orders/{}", nos[0])).await.1["status"],
        "paid"
    );
    assert_eq!(
        c.get(&format!("/v1/orders/{}", nos[1])).await.1["status"],
        "pending"
    );
    assert_eq!(
        c.get(&format!("/v1/orders/{}", nos[2])).await.1["status"],
        "paid"
    );
}

#[tokio::test]
async fn late_payments_are_kept_and_cancelled_orders_stay_closed() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let order = c.order("credits_100").await;
    let no = order["order_no"].as_str().unwrap();
    sqlx::query("UPDATE orders SET expires_at_ms = 0 WHERE order_no = $1")
        .bind(no)
        .execute(&s.state.db)
        .await
        .unwrap();
    assert_eq!(
        c.get(&format!("/v1/orders/{no}")).await.1["status"],
        "expired"
    );
    confirm(&s, order["qr_payload"].as_str().unwrap(), true).await;
    let (_, late) = c.get(&format!("/v1/orders/{no}")).await;
    assert_eq!(
        (late["status"].as_str(), late["late_payment"].as_bool()),
        (Some("paid"), Some(true))
    );

    let other = c.order("credits_10").await;
    let other_no = other["order_no"].as_str().unwrap();
    assert_eq!(
        c.post(&format!("/v1/orders/{other_no}/cancel"), json!({}))
            .await
            .1["status"],
        "closed"
    );
    assert_eq!(
        c.post(&format!("/v1/orders/{other_no}/cancel"), json!({}))
            .await
            .0,
        409
    );
    let health: Value = reqwest::get(format!("{}/healthz", s.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    s.shutdown().await;
}
