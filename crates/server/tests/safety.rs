//! Issue 12 on the sandbox provider: the sandbox never by accident, limits against
//! abuse, tighter checks. SQLite by default, PostgreSQL when DATABASE_URL is set.

use std::io::{Read, Write};
use std::time::Duration;

use inkstone_domain::Fen;
use inkstone_pay::receipt::{PublicKeyInfo, SignedReceipt, TrustedKeys};
use inkstone_server::app::KeyListing;
use inkstone_server::orders::PaymentEvidence;
use inkstone_server::sandbox::SandboxKey;
use inkstone_server::{start, Config, RunningServer};
use serde_json::{json, Value};

mod support;
use support::{database_url, register, Client};

const SECRET: &str = "safety-sandbox-secret";
const RECEIPT_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

fn config(dir: &std::path::Path, sandbox: bool) -> Config {
    Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url: database_url(dir),
        receipt_key: Some(RECEIPT_KEY.into()),
        sandbox_secret: Some(SECRET.into()),
        sandbox,
        sweep_interval_secs: 0,
        ..Config::default()
    }
}

async fn server(sandbox: bool) -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (start(config(dir.path(), sandbox)).await.unwrap(), dir)
}

impl Client {
    async fn order(&self, sku: &str, provider: &str) -> (u16, Value) {
        self.post("/v1/orders", json!({"sku": sku, "provider": provider}))
            .await
    }
}

async fn keys(s: &RunningServer) -> Vec<KeyListing> {
    reqwest::get(format!("{}/v1/keys", s.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn health(s: &RunningServer) -> Value {
    reqwest::get(format!("{}/healthz", s.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn pinned(keys: &[KeyListing], sandbox: bool) -> TrustedKeys {
    TrustedKeys::try_new(
        keys.iter()
            .filter(|k| sandbox || !k.sandbox)
            .map(|k| PublicKeyInfo {
                key_id: k.key_id.clone(),
                public_key: k.public_key.clone(),
            }),
    )
    .unwrap()
}

#[test]
fn the_sandbox_is_off_unless_chosen() {
    let c = Config::default();
    assert!(!c.sandbox);
    assert!(!c.allow_sandbox_with_real_providers);
    assert!(
        c.receipt_key_file.is_none(),
        "no key file in the current folder"
    );
    assert!(c.trusted_proxies.is_empty());
}

#[tokio::test]
async fn with_the_sandbox_off_its_routes_do_not_exist() {
    let (s, _dir) = server(false).await;
    let h = health(&s).await;
    assert_eq!(
        (h["sandbox"].as_bool(), h["providers"]["sandbox"].as_bool()),
        (Some(false), Some(false))
    );
    let c = register(&s).await;
    let (status, body) = c.order("credits_100", "sandbox").await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("bad_request")));
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/sandbox/pay/IK20260101000000ABCDEFGHJK"),
        ("POST", "/sandbox/pay/IK20260101000000ABCDEFGHJK/confirm"),
        ("POST", "/notify/sandbox"),
    ] {
        let req = match method {
            "GET" => http.get(format!("{}{path}", s.base_url)),
            _ => http.post(format!("{}{path}", s.base_url)),
        };
        assert_eq!(req.send().await.unwrap().status().as_u16(), 404, "{path}");
    }
    // Only production keys are listed.
    let k = keys(&s).await;
    assert_eq!(k.len(), 1);
    assert!(!k[0].sandbox && !k[0].retired);
    s.shutdown().await;
}

#[tokio::test]
async fn sandbox_receipts_are_signed_with_their_own_key_listed_as_sandbox() {
    let (s, _dir) = server(true).await;
    let c = register(&s).await;
    let (_, order) = c.order("credits_100", "sandbox").await;
    let qr = order["qr_payload"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(format!("{qr}/confirm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let no = order["order_no"].as_str().unwrap();
    let (_, paid) = c.get(&format!("/v1/orders/{no}")).await;
    let receipt: SignedReceipt = serde_json::from_value(paid["receipt"].clone()).unwrap();
    let listed = keys(&s).await;
    let sandbox: Vec<_> = listed.iter().filter(|k| k.sandbox).collect();
    assert_eq!(sandbox.len(), 1);
    assert_eq!(receipt.key_id, sandbox[0].key_id);
    assert_ne!(
        receipt.key_id, s.public_keys[0].key_id,
        "never the production key"
    );
    assert_eq!(
        s.sandbox_public_key.as_ref().unwrap().key_id,
        receipt.key_id
    );
    // A desktop pinning only production keys cannot verify it; a demo one can.
    assert!(pinned(&listed, false).verify(&receipt).is_err());
    assert!(pinned(&listed, true).verify(&receipt).is_ok());
    s.shutdown().await;
}

#[tokio::test]
async fn an_old_sandbox_order_is_never_paid_once_the_sandbox_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(config(dir.path(), true)).await.unwrap();
    let c = register(&s).await;
    let (_, order) = c.order("credits_100", "sandbox").await;
    let no = order["order_no"].as_str().unwrap().to_string();
    // Booked in the sandbox's books, but the notification is lost.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/confirm?notify=false",
            order["qr_payload"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    s.shutdown().await;

    let s = start(config(dir.path(), false)).await.unwrap();
    let c = Client {
        base: s.base_url.clone(),
        ..c
    };
    // The active query does not find it, the routes are gone, direct evidence is refused.
    let (status, view) = c.post(&format!("/v1/orders/{no}/check"), json!({})).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("pending")));
    let r = reqwest::Client::new()
        .post(format!("{}/sandbox/pay/{no}/confirm", s.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let evidence = PaymentEvidence {
        provider: "sandbox".into(),
        order_no: no.parse().unwrap(),
        amount_fen: Fen::new(1000).unwrap(),
        currency: "CNY".into(),
        provider_txn_id: "SBX-late".into(),
        paid_at: chrono::Utc::now(),
    };
    assert!(s.state.paid(&evidence).await.is_err());
    let (_, view) = c.get(&format!("/v1/orders/{no}")).await;
    assert_eq!(view["status"], "pending");
    assert!(view["receipt"].is_null());
    s.shutdown().await;
}

#[tokio::test]
async fn a_waiter_entry_exists_only_for_an_owner_and_goes_with_the_last_waiter() {
    let (s, _dir) = server(true).await;
    let owner = register(&s).await;
    let stranger = register(&s).await;
    let (_, order) = owner.order("credits_10", "sandbox").await;
    let no = order["order_no"].as_str().unwrap().to_string();
    let (status, _) = stranger
        .get(&format!("/v1/orders/{no}/wait?timeout=1"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = stranger
        .get("/v1/orders/IKNOSUCHORDERXXXXXXXX/wait?timeout=1")
        .await;
    assert_eq!(status, 404);
    assert_eq!(s.state.waiter_entries(), 0, "no entry before ownership");
    let path = format!("/v1/orders/{no}/wait?timeout=2");
    let waits = futures_util::future::join_all((0..3).map(|_| owner.get(&path))).await;
    assert!(waits
        .iter()
        .all(|(st, v)| *st == 200 && v["status"] == "pending"));
    assert_eq!(s.state.waiter_entries(), 0, "gone with the last waiter");
    s.shutdown().await;
}

#[tokio::test]
async fn pending_orders_and_order_creation_are_capped_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(Config {
        max_pending_orders_per_account: 3,
        orders_per_minute_per_account: 5,
        ..config(dir.path(), true)
    })
    .await
    .unwrap();
    let c = register(&s).await;
    let mut nos = Vec::new();
    for _ in 0..3 {
        let (status, o) = c.order("credits_10", "sandbox").await;
        assert_eq!(status, 201);
        nos.push(o["order_no"].as_str().unwrap().to_string());
    }
    let (status, body) = c.order("credits_10", "sandbox").await;
    assert_eq!(
        (status, body["kind"].as_str()),
        (429, Some("too_many_pending_orders"))
    );
    // Another account is not affected.
    assert_eq!(
        register(&s).await.order("credits_10", "sandbox").await.0,
        201
    );
    // Cancelling one frees a place; then the per-minute cap (5 attempts) stops it.
    assert_eq!(
        c.post(&format!("/v1/orders/{}/cancel", nos[0]), json!({}))
            .await
            .0,
        200
    );
    assert_eq!(c.order("credits_10", "sandbox").await.0, 201);
    let (status, body) = c.order("credits_10", "sandbox").await;
    assert_eq!((status, body["kind"].as_str()), (429, Some("rate_limited")));
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE status = 'PENDING' AND account_id = $1",
    )
    .bind(&c.account_id)
    .fetch_one(&s.state.db)
    .await
    .unwrap();
    assert_eq!(pending, 3, "three pending: the cancelled one is closed");
    s.shutdown().await;
}

#[test]
fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
    use axum::http::{HeaderMap, HeaderValue};
    use inkstone_server::app::client_ip;
    let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
    let peer: std::net::IpAddr = "203.0.113.9".parse().unwrap();
    let mut h = HeaderMap::new();
    h.insert(
        "x-forwarded-for",
        HeaderValue::from_static("1.1.1.1, 198.51.100.7"),
    );
    assert_eq!(
        client_ip(peer, &h, &[proxy]).to_string(),
        "203.0.113.9",
        "untrusted peer"
    );
    assert_eq!(
        client_ip(proxy, &h, &[proxy]).to_string(),
        "198.51.100.7",
        "right-most"
    );
    assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
    assert_eq!(client_ip(proxy, &h, &[proxy]), proxy);
    h.insert(
        "x-forwarded-for",
        HeaderValue::from_static("198.51.100.7, 10.0.0.2"),
    );
    assert_eq!(
        client_ip(proxy, &h, &[proxy]).to_string(),
        "198.51.100.7",
        "proxy chain"
    );
}

#[tokio::test]
async fn registrations_are_limited_per_client_behind_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(Config {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..config(dir.path(), false)
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let reg = |xff: &'static str| {
        http.post(format!("{}/v1/accounts", s.base_url))
            .header("x-forwarded-for", xff)
            .send()
    };
    for _ in 0..30 {
        assert_eq!(reg("198.51.100.1").await.unwrap().status().as_u16(), 201);
    }
    assert_eq!(reg("198.51.100.1").await.unwrap().status().as_u16(), 429);
    // Another client behind the same proxy has its own bucket.
    assert_eq!(reg("198.51.100.2").await.unwrap().status().as_u16(), 201);
    s.shutdown().await;
}

#[tokio::test]
async fn a_slow_header_connection_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(Config {
        header_timeout_secs: 1,
        ..config(dir.path(), false)
    })
    .await
    .unwrap();
    let addr = s.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = Vec::new();
        // The server answers (408 or nothing) and closes: read ends well before 10 s.
        let _ = tcp.read_to_end(&mut buf);
        started.elapsed()
    })
    .await
    .unwrap();
    assert!(closed < Duration::from_secs(5), "{closed:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_slow_body_is_cut_off_with_a_typed_error_and_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(Config {
        body_timeout_secs: 1,
        ..config(dir.path(), false)
    })
    .await
    .unwrap();
    let addr = s.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tcp.write_all(b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).to_string()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"kind\":\"timeout\""), "{answer}");
    assert!(answer.contains("x-request-id"), "{answer}");
    s.shutdown().await;
}

#[tokio::test]
async fn one_provider_transaction_pays_one_order() {
    let (s, _dir) = server(true).await;
    let c = register(&s).await;
    let (_, a) = c.order("credits_10", "sandbox").await;
    let (_, b) = c.order("credits_10", "sandbox").await;
    let ev = |o: &Value| PaymentEvidence {
        provider: "sandbox".into(),
        order_no: o["order_no"].as_str().unwrap().parse().unwrap(),
        amount_fen: Fen::new(100).unwrap(),
        currency: "CNY".into(),
        provider_txn_id: "SBX-SAME-TXN".into(),
        paid_at: chrono::Utc::now(),
    };
    s.state.paid(&ev(&a)).await.unwrap();
    let err = s.state.paid(&ev(&b)).await.unwrap_err();
    assert_eq!(err.kind(), "rejected", "{err:?}");
    let (_, view) = c
        .get(&format!("/v1/orders/{}", b["order_no"].as_str().unwrap()))
        .await;
    assert_eq!(view["status"], "pending");
    assert!(view["receipt"].is_null());
    s.shutdown().await;
}

#[tokio::test]
async fn refused_notifications_are_audited_and_counted_and_extreme_timestamps_are_a_400() {
    let (s, _dir) = server(true).await;
    let c = register(&s).await;
    let (_, order) = c.order("credits_100", "sandbox").await;
    let no = order["order_no"].as_str().unwrap();
    let body = serde_json::to_vec(&json!({"order_no": no, "amount_fen": 1000, "currency": "CNY", "txn_id": "T1", "paid_at": 1}))
        .unwrap();
    let key = SandboxKey::new(SECRET.as_bytes());
    // On PostgreSQL the database is shared with the other test binaries: count the new rows.
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refused_notifications")
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    let post = |ts: String, sig: String, body: Vec<u8>| {
        reqwest::Client::new()
            .post(format!("{}/notify/sandbox", s.base_url))
            .header("x-sandbox-timestamp", ts)
            .header("x-sandbox-signature", sig)
            .body(body)
            .send()
    };
    for ts in [i64::MIN, i64::MAX, i64::MIN + 1] {
        let r = post(ts.to_string(), key.sign(ts, &body), body.clone())
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{ts}");
    }
    let r = post("99999999999999999999999".into(), "00".into(), body.clone())
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT provider, reason FROM refused_notifications ORDER BY id LIMIT 100 OFFSET $1",
    )
    .bind(before)
    .fetch_all(&s.state.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|(p, r)| p == "sandbox" && !r.is_empty()));
    assert_eq!(health(&s).await["refused_notifications"], 4);
    assert_eq!(
        c.get(&format!("/v1/orders/{no}")).await.1["status"],
        "pending"
    );
    s.shutdown().await;
}

#[test]
fn the_command_line_prints_its_usage_and_refuses_unknown_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_inkstone-server"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("INKSTONE_SERVER_SANDBOX")
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("usage:"));
    for bad in [&["--sandbox"][..], &["serve"], &["--config"]] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
    }
    // Nothing was started: no database, no key file in the current folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
