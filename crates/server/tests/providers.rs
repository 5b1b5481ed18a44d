//! WeChat Pay and Alipay through the server, against local fake providers
//! that sign like the real ones (crates/pay's testkit).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use inkstone_domain::Fen;
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::SignedHeaders;
use inkstone_server::config::{AlipayConfig, WechatConfig};
use inkstone_server::{start, Config, RunningServer};
use serde_json::{json, Value};

#[derive(Default)]
struct Provider {
    /// Orders the "buyer" paid (the provider's own books).
    paid: Mutex<HashSet<String>>,
    created: Mutex<Vec<String>>,
    /// Queries answer 500 (the provider is having a bad day).
    fail_queries: AtomicBool,
    /// Order creation answers 500 with a body that must never reach a client.
    fail_create: AtomicBool,
    /// Order creation hangs for 3 seconds.
    slow_create: AtomicBool,
    queries: AtomicUsize,
}

fn signed_json(value: Value) -> Response {
    let body = value.to_string();
    let h = WechatPlatform::default().sign(body.as_bytes(), chrono::Utc::now().timestamp());
    (
        [
            ("Wechatpay-Timestamp", h.timestamp),
            ("Wechatpay-Nonce", h.nonce),
            ("Wechatpay-Signature", h.signature),
            ("Wechatpay-Serial", h.serial),
        ],
        body,
    )
        .into_response()
}

async fn wx_create(State(p): State<Arc<Provider>>, body: String) -> Response {
    if p.slow_create.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    if p.fail_create.load(Ordering::SeqCst) {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "SECRET-PROVIDER-DETAIL mchid 1900000109",
        )
            .into_response();
    }
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    p.created
        .lock()
        .unwrap()
        .push(v["out_trade_no"].as_str().unwrap_or("").to_string());
    signed_json(
        json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={}", v["out_trade_no"].as_str().unwrap_or(""))}),
    )
}

async fn wx_query(State(p): State<Arc<Provider>>, Path(no): Path<String>) -> Response {
    p.queries.fetch_add(1, Ordering::SeqCst);
    if p.fail_queries.load(Ordering::SeqCst) {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut t = wechat_transaction(&no, fen(1000));
    if !p.paid.lock().unwrap().contains(&no) {
        t.trade_state = "NOTPAY".into();
    }
    signed_json(serde_json::to_value(t).unwrap())
}

async fn ali_gateway(State(p): State<Arc<Provider>>, body: String) -> Response {
    let params: BTreeMap<String, String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(&body)
            .unwrap_or_default()
            .into_iter()
            .collect();
    let biz: Value = serde_json::from_str(
        params
            .get("biz_content")
            .map(String::as_str)
            .unwrap_or("{}"),
    )
    .unwrap_or_default();
    let no = biz["out_trade_no"].as_str().unwrap_or("").to_string();
    let method = params.get("method").cloned().unwrap_or_default();
    let answer = match method.as_str() {
        "alipay.trade.precreate" => {
            json!({"code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": format!("https://qr.alipay.com/{no}")})
        }
        "alipay.trade.query" if p.paid.lock().unwrap().contains(&no) => {
            json!({"code": "10000", "msg": "Success", "trade_no": format!("2026112522001499{no}"), "out_trade_no": no,
            "trade_status": "TRADE_SUCCESS", "total_amount": biz_amount(&p, &no)})
        }
        "alipay.trade.query" => {
            json!({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"})
        }
        _ => json!({"code": "10000", "msg": "Success"}),
    };
    AlipayPlatform::default()
        .response(&method, &answer)
        .into_response()
}

fn biz_amount(_p: &Provider, _no: &str) -> &'static str {
    "10.00"
}

struct Setup {
    server: RunningServer,
    provider: Arc<Provider>,
    _dir: tempfile::TempDir,
}

fn fen(n: i64) -> Fen {
    Fen::new(n).unwrap()
}

const RECEIPT_KEY_1: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const RECEIPT_KEY_2: &str = "ICAfHh0cGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwI=";

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

async fn setup_with(change: impl FnOnce(&mut Config)) -> Setup {
    let provider = Arc::new(Provider::default());
    let fake = axum::Router::new()
        .route("/v3/pay/transactions/native", post(wx_create))
        .route("/v3/pay/transactions/out-trade-no/{no}", get(wx_query))
        .route(
            "/v3/pay/transactions/out-trade-no/{no}/close",
            post(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/gateway.do", post(ali_gateway))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, fake).await });
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut config = Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display())),
        receipt_key: Some(RECEIPT_KEY_1.into()),
        sweep_interval_secs: 0,
        wechat: Some(WechatConfig {
            mchid: WECHAT_MCHID.into(),
            appid: WECHAT_APPID.into(),
            serial_no: "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB".into(),
            private_key_file: write("wx_merchant.pem", WECHAT_MERCHANT_PRIVATE),
            apiv3_key: WECHAT_APIV3_KEY.into(),
            platform_public_key_id: Some(WECHAT_PUB_KEY_ID.into()),
            platform_public_key_file: Some(write("wx_platform.pem", WECHAT_PLATFORM_PUBLIC)),
            platform_certificate_files: vec![],
            notify_url: "https://pay.example.com/notify/wechat".into(),
            api_host: fake_url.clone(),
        }),
        alipay: Some(AlipayConfig {
            app_id: ALIPAY_APP_ID.into(),
            seller_id: ALIPAY_SELLER_ID.into(),
            app_private_key_file: write("ali_app.pem", ALIPAY_APP_PRIVATE),
            alipay_public_key_file: write("ali_platform.pem", ALIPAY_PLATFORM_PUBLIC),
            notify_url: "https://pay.example.com/notify/alipay".into(),
            gateway: format!("{fake_url}/gateway.do"),
        }),
        ..Config::default()
    };
    change(&mut config);
    Setup {
        server: start(config).await.unwrap(),
        provider,
        _dir: dir,
    }
}

impl Setup {
    /// This setup's configuration (same database, keys and fake providers).
    fn config(&self) -> Config {
        let c = &self.server.state.config;
        Config {
            bind: ([127, 0, 0, 1], 0).into(),
            public_url: String::new(),
            ..(**c).clone()
        }
    }
}

async fn account(s: &RunningServer) -> (reqwest::Client, String) {
    let http = reqwest::Client::new();
    let r: Value = http
        .post(format!("{}/v1/accounts", s.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (http, r["token"].as_str().unwrap().to_string())
}

async fn order(s: &RunningServer, http: &reqwest::Client, token: &str, provider: &str) -> Value {
    let r = http
        .post(format!("{}/v1/orders", s.base_url))
        .bearer_auth(token)
        .json(&json!({"sku": "credits_100", "provider": provider}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json().await.unwrap()
}

async fn status(s: &RunningServer, http: &reqwest::Client, token: &str, no: &str) -> String {
    let v: Value = http
        .get(format!("{}/v1/orders/{no}", s.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap().to_string()
}

async fn post_wechat(s: &RunningServer, h: &SignedHeaders, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/notify/wechat", s.base_url))
        .header("Wechatpay-Timestamp", &h.timestamp)
        .header("Wechatpay-Nonce", &h.nonce)
        .header("Wechatpay-Signature", &h.signature)
        .header("Wechatpay-Serial", &h.serial)
        .header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn wechat_pay_notifications_pay_once_and_bad_ones_change_nothing() {
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let o = order(s, &http, &token, "wechat").await;
    let no = o["order_no"].as_str().unwrap();
    assert!(o["qr_payload"]
        .as_str()
        .unwrap()
        .starts_with("weixin://wxpay/bizpayurl?pr="));
    let platform = WechatPlatform::default();
    let now = chrono::Utc::now().timestamp();
    let (h, body) = platform.notification(&wechat_transaction(no, fen(1000)), now);

    let mut cases: Vec<(&str, SignedHeaders, Vec<u8>)> = Vec::new();
    let mut tampered = body.clone();
    tampered.insert(1, b' ');
    cases.push(("bad signature", h.clone(), tampered));
    cases.push((
        "wrong key serial",
        SignedHeaders {
            serial: "PUB_KEY_ID_0000".into(),
            ..h.clone()
        },
        body.clone(),
    ));
    let (hs, bs) = platform.notification(&wechat_transaction(no, fen(1000)), now - 600);
    cases.push(("stale timestamp", hs, bs));
    cases.push((
        "probe signature",
        SignedHeaders {
            signature: format!("WECHATPAY/SIGNTEST/{}", h.signature),
            ..h.clone()
        },
        body.clone(),
    ));
    let (ha, ba) = platform.notification(&wechat_transaction(no, fen(999)), now);
    cases.push(("amount off by one fen", ha, ba));
    let mut t = wechat_transaction(no, fen(1000));
    t.mchid = "1900000000".into();
    let (hm, bm) = platform.notification(&t, now);
    cases.push(("wrong mchid", hm, bm));
    let mut t = wechat_transaction(no, fen(1000));
    t.appid = "wx0000000000000000".into();
    let (hp, bp) = platform.notification(&t, now);
    cases.push(("wrong appid", hp, bp));
    let (hu, bu) = platform.notification(&wechat_transaction("IKNOSUCHORDER0001", fen(1000)), now);
    cases.push(("unknown order", hu, bu));
    // An order number that cannot be ours is refused as unknown before any lookup.
    let (hx, bx) = platform.notification(&wechat_transaction("IK.1125/../x", fen(1000)), now);
    cases.push(("order number that does not parse", hx, bx));
    // Signed, but the amount is negative: malformed, never read as money.
    let mut negative = serde_json::to_value(wechat_transaction(no, fen(1000))).unwrap();
    negative["amount"]["total"] = json!(-1000);
    let (hn, bn) = platform.notification_json(&negative, now);
    cases.push(("negative amount", hn, bn));
    let junk = b"{\"resource\": 42}".to_vec();
    cases.push(("malformed body", platform.sign(&junk, now), junk));
    for (case, h, b) in cases {
        assert_eq!(post_wechat(s, &h, b).await, 400, "{case}");
        assert_eq!(status(s, &http, &token, no).await, "pending", "{case}");
    }
    assert_eq!(
        post_wechat(s, &h, vec![b'x'; 1024 * 1024]).await,
        413,
        "oversized body"
    );
    assert_eq!(post_wechat(s, &h, body.clone()).await, 204);
    assert_eq!(
        post_wechat(s, &h, body).await,
        204,
        "a duplicate is acknowledged"
    );
    assert_eq!(status(s, &http, &token, no).await, "paid");
    let receipts: Value = http
        .get(format!("{}/v1/receipts", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(receipts.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_wechat_payment_without_notification_is_found_by_query() {
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let o = order(s, &http, &token, "wechat").await;
    let no = o["order_no"].as_str().unwrap().to_string();
    st.provider.paid.lock().unwrap().insert(no.clone());
    let v: Value = http
        .get(format!("{}/v1/orders/{no}/wait?timeout=5", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "paid");
    assert!(v["receipt"].is_object());
}

async fn post_alipay(s: &RunningServer, body: String) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/notify/alipay", s.base_url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn alipay_notifications_answer_success_exactly_once_paid() {
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let o = order(s, &http, &token, "alipay").await;
    let no = o["order_no"].as_str().unwrap();
    assert!(o["qr_payload"]
        .as_str()
        .unwrap()
        .starts_with("https://qr.alipay.com/"));
    let platform = AlipayPlatform::default();
    let good = platform.notify_body(&alipay_paid_params(no, "10.00"));
    let mut cases = vec![
        (
            "tampered amount",
            good.replace("total_amount=10.00", "total_amount=0.01"),
        ),
        (
            "amount off by one fen",
            platform.notify_body(&alipay_paid_params(no, "9.99")),
        ),
        (
            "unknown order",
            platform.notify_body(&alipay_paid_params("IKNOSUCHORDER0002", "10.00")),
        ),
        ("malformed", "%%%=".to_string()),
    ];
    let mut other_app = alipay_paid_params(no, "10.00");
    other_app.insert("app_id".into(), "2021999999999999".into());
    cases.push(("wrong app id", platform.notify_body(&other_app)));
    for (case, body) in cases {
        let (code, text) = post_alipay(s, body).await;
        assert_eq!((code, text.as_str()), (400, "fail"), "{case}");
        assert_eq!(status(s, &http, &token, no).await, "pending", "{case}");
    }
    let mut closed = alipay_paid_params(no, "10.00");
    closed.insert("trade_status".into(), "TRADE_CLOSED".into());
    assert_eq!(
        post_alipay(s, platform.notify_body(&closed)).await,
        (200, "success".to_string())
    );
    assert_eq!(status(s, &http, &token, no).await, "pending");
    assert_eq!(
        post_alipay(s, good.clone()).await,
        (200, "success".to_string())
    );
    assert_eq!(post_alipay(s, good).await, (200, "success".to_string()));
    assert_eq!(status(s, &http, &token, no).await, "paid");
}

#[tokio::test]
async fn an_alipay_payment_without_notification_is_found_by_query() {
    // The wait's next query comes after the query interval: 1 s here (production: 5 s).
    let st = setup_with(|c| c.query_interval_secs = 1).await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let o = order(s, &http, &token, "alipay").await;
    let no = o["order_no"].as_str().unwrap().to_string();
    let v: Value = http
        .post(format!("{}/v1/orders/{no}/check", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "pending", "not scanned yet");
    st.provider.paid.lock().unwrap().insert(no.clone());
    let v: Value = http
        .get(format!("{}/v1/orders/{no}/wait?timeout=8", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "paid");
}

// --- issue 12 -----------------------------------------------------------------------

use inkstone_pay::receipt::{ReceiptSigner, SignedReceipt, TrustedKeys};
use inkstone_server::app::KeyListing;
use inkstone_server::sweeper;

async fn receipts(s: &RunningServer, http: &reqwest::Client, token: &str) -> Vec<SignedReceipt> {
    http.get(format!("{}/v1/receipts", s.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn pay_by_notification(s: &RunningServer, no: &str) {
    let (h, body) = WechatPlatform::default().notification(
        &wechat_transaction(no, fen(1000)),
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(post_wechat(s, &h, body).await, 204);
}

#[tokio::test]
async fn a_real_provider_never_runs_on_a_key_nobody_chose() {
    let st = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let base = Config {
        receipt_key: None,
        ..st.config()
    };
    let missing = dir.path().join("receipt.key");
    for (case, config, names) in [
        ("no key at all", base.clone(), "receipt_key"),
        (
            "a relative path",
            Config {
                receipt_key_file: Some("receipt-key.b64".into()),
                ..base.clone()
            },
            "absolute",
        ),
        (
            "a missing file",
            Config {
                receipt_key_file: Some(missing.clone()),
                ..base.clone()
            },
            "does not exist",
        ),
    ] {
        let err = start(config).await.err().expect(case).to_string();
        assert!(err.contains(names), "{case}: {err}");
    }
    assert!(!missing.exists(), "never generated silently");
    // An existing absolute file is taken.
    std::fs::write(&missing, RECEIPT_KEY_2).unwrap();
    let s = start(Config {
        receipt_key_file: Some(missing.clone()),
        ..base.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.public_keys[0].key_id,
        ReceiptSigner::from_base64_secret(RECEIPT_KEY_2)
            .unwrap()
            .key_id()
    );
    s.shutdown().await;
    // The sandbox next to a real provider: only when allowed explicitly.
    let err = start(Config {
        sandbox: true,
        ..st.config()
    })
    .await
    .err()
    .expect("sandbox with a real provider")
    .to_string();
    assert!(err.contains("allow_sandbox_with_real_providers"), "{err}");
    let both = start(Config {
        sandbox: true,
        allow_sandbox_with_real_providers: true,
        ..st.config()
    })
    .await
    .unwrap();
    let keys: Vec<KeyListing> = reqwest::get(format!("{}/v1/keys", both.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.iter().filter(|k| k.sandbox).count(), 1);
    both.shutdown().await;
}

#[tokio::test]
async fn a_key_rotation_keeps_every_receipt_valid() {
    let st = setup().await;
    let (http, token) = account(&st.server).await;
    let old = order(&st.server, &http, &token, "wechat").await;
    pay_by_notification(&st.server, old["order_no"].as_str().unwrap()).await;
    let key1 = st.server.public_keys[0].clone();

    // Step 1: a desktop release pins the new key next to the old one.
    let key2 = ReceiptSigner::from_base64_secret(RECEIPT_KEY_2)
        .unwrap()
        .public_key();
    let desktop = TrustedKeys::try_new([key1.clone(), key2.clone()]).unwrap();
    // Step 2: the server switches, listing the old public key as retired.
    let rotated = start(Config {
        receipt_key: Some(RECEIPT_KEY_2.into()),
        retired_receipt_public_keys: vec![key1.public_key.clone()],
        ..st.config()
    })
    .await
    .unwrap();
    let listed: Vec<KeyListing> = reqwest::get(format!("{}/v1/keys", rotated.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|k| (k.key_id.as_str(), k.retired, k.sandbox))
            .collect::<Vec<_>>(),
        vec![
            (key2.key_id.as_str(), false, false),
            (key1.key_id.as_str(), true, false)
        ]
    );
    assert_eq!(rotated.public_keys, vec![key2.clone(), key1.clone()]);
    let new = order(&rotated, &http, &token, "wechat").await;
    pay_by_notification(&rotated, new["order_no"].as_str().unwrap()).await;
    // Step 3: every receipt of the account still verifies on the desktop, each under its key.
    let all = receipts(&rotated, &http, &token).await;
    assert_eq!(all.len(), 2);
    let by_key: HashSet<_> = all.iter().map(|r| r.key_id.clone()).collect();
    assert_eq!(
        by_key,
        HashSet::from([key1.key_id.clone(), key2.key_id.clone()])
    );
    for r in &all {
        desktop.verify(r).unwrap();
    }
    // An old desktop (only key 1) refuses the new receipt instead of crediting anything odd.
    let old_desktop = TrustedKeys::try_new([key1.clone()]).unwrap();
    assert!(all.iter().any(|r| old_desktop.verify(r).is_err()));
    // A malformed retired key is a start error.
    let bad = start(Config {
        retired_receipt_public_keys: vec!["not-a-key".into()],
        ..st.config()
    })
    .await;
    assert!(bad.is_err());
    rotated.shutdown().await;
}

#[tokio::test]
async fn a_failing_provider_query_never_ends_a_wait() {
    // Active queries at most once a second (production: every 5 s), so the test waits less.
    let st = setup_with(|c| c.query_interval_secs = 1).await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let o = order(s, &http, &token, "wechat").await;
    let no = o["order_no"].as_str().unwrap().to_string();
    st.provider.fail_queries.store(true, Ordering::SeqCst);
    let r = http
        .get(format!("{}/v1/orders/{no}/wait?timeout=2", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["check_failed"].as_bool()),
        (Some("pending"), Some(true))
    );
    // "I have paid, check again" once the query interval has passed: the same answer.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let r = http
        .post(format!("{}/v1/orders/{no}/check", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["check_failed"].as_bool()),
        (Some("pending"), Some(true))
    );
    // The provider recovers; the next wait finds the payment.
    st.provider.fail_queries.store(false, Ordering::SeqCst);
    st.provider.paid.lock().unwrap().insert(no.clone());
    let v: Value = http
        .get(format!("{}/v1/orders/{no}/wait?timeout=10", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["status"].as_str(), v["check_failed"].as_bool()),
        (Some("paid"), Some(false))
    );
}

#[tokio::test]
async fn provider_error_text_never_reaches_a_client() {
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    st.provider.fail_create.store(true, Ordering::SeqCst);
    let r = http
        .post(format!("{}/v1/orders", s.base_url))
        .bearer_auth(&token)
        .json(&json!({"sku": "credits_100", "provider": "wechat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    let header_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("SECRET") && !text.contains("1900000109"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["kind"], "provider_error");
    assert_eq!(v["request_id"].as_str(), Some(header_id.as_str()));
    use sha2::Digest;
    let orders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders o JOIN accounts a ON a.id = o.account_id WHERE a.token_sha256 = $1",
    )
    .bind(hex::encode(sha2::Sha256::digest(token.as_bytes())))
    .fetch_one(&s.state.db)
    .await
    .unwrap();
    assert_eq!(orders, 0, "no order without a QR code");
}

/// The sweeper tests take turns: on PostgreSQL they share one database, and one test's
/// sweep would work on another's orders (asking its own fake provider about them).
static SWEEP_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Leaves no order due for a later sweep (of another test).
async fn retire(s: &RunningServer, nos: &[&str]) {
    for no in nos {
        sqlx::query("UPDATE orders SET status = CASE WHEN status = 'PAID' THEN 'PAID' ELSE 'CLOSED' END, close_state = 'done' WHERE order_no = $1")
            .bind(*no)
            .execute(&s.state.db)
            .await
            .unwrap();
    }
}

/// Ages an order: it expires `secs` from now (negative: already expired).
async fn expires_in(s: &RunningServer, no: &str, secs: i64) {
    sqlx::query("UPDATE orders SET expires_at_ms = $1 WHERE order_no = $2")
        .bind(chrono::Utc::now().timestamp_millis() + secs * 1000)
        .bind(no)
        .execute(&s.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sweeper_finds_payments_nobody_waited_for() {
    let _turn = SWEEP_TURN.lock().await;
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let now = || chrono::Utc::now().timestamp_millis();
    // 1. About to expire, paid at the provider, notification lost, nobody waiting.
    let soon = order(s, &http, &token, "wechat").await["order_no"]
        .as_str()
        .unwrap()
        .to_string();
    expires_in(s, &soon, 20).await;
    st.provider.paid.lock().unwrap().insert(soon.clone());
    // 2. Expired unpaid: asked once more, then expired and closed.
    let unpaid = order(s, &http, &token, "wechat").await["order_no"]
        .as_str()
        .unwrap()
        .to_string();
    expires_in(s, &unpaid, -1).await;
    // 3. Far from expiry: left alone.
    let later = order(s, &http, &token, "wechat").await["order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let round = sweeper::sweep(&s.state, now()).await.unwrap();
    assert_eq!(
        (round.paid, round.expired, round.failed),
        (1, 1, 0),
        "{round:?}"
    );
    assert_eq!(status(s, &http, &token, &soon).await, "paid");
    assert_eq!(status(s, &http, &token, &unpaid).await, "expired");
    assert_eq!(status(s, &http, &token, &later).await, "pending");
    let close_state: String =
        sqlx::query_scalar("SELECT close_state FROM orders WHERE order_no = $1")
            .bind(&unpaid)
            .fetch_one(&s.state.db)
            .await
            .unwrap();
    assert_eq!(close_state, "done");
    // 4. The expired one is paid late after all (the close raced the buyer): a cancelled
    //    order whose close failed is asked about until it succeeds.
    let cancelled = order(s, &http, &token, "wechat").await["order_no"]
        .as_str()
        .unwrap()
        .to_string();
    st.provider.fail_queries.store(true, Ordering::SeqCst);
    http.post(format!("{}/v1/orders/{cancelled}/cancel", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    st.provider.paid.lock().unwrap().insert(cancelled.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let round = sweeper::sweep(&s.state, now()).await.unwrap();
    assert!(round.failed >= 1, "{round:?}");
    assert_eq!(status(s, &http, &token, &cancelled).await, "closed");
    st.provider.fail_queries.store(false, Ordering::SeqCst);
    // The claim of the failed attempt holds a minute; a later round takes it up.
    let round = sweeper::sweep(&s.state, now() + 61_000).await.unwrap();
    assert_eq!(round.paid, 1, "{round:?}");
    let v: Value = http
        .get(format!("{}/v1/orders/{cancelled}", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["status"].as_str(), v["late_payment"].as_bool()),
        (Some("paid"), Some(true))
    );
    retire(s, &[&soon, &unpaid, &later, &cancelled]).await;
}

#[tokio::test]
async fn a_failed_query_never_expires_an_order() {
    let _turn = SWEEP_TURN.lock().await;
    let st = setup().await;
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let no = order(s, &http, &token, "wechat").await["order_no"]
        .as_str()
        .unwrap()
        .to_string();
    expires_in(s, &no, -1).await;
    st.provider.fail_queries.store(true, Ordering::SeqCst);
    let round = sweeper::sweep(&s.state, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert_eq!((round.expired, round.failed), (0, 1), "{round:?}");
    let state: String = sqlx::query_scalar("SELECT status FROM orders WHERE order_no = $1")
        .bind(&no)
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(state, "PENDING");
    retire(s, &[&no]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_share_the_sweep_without_doubling_it() {
    let _turn = SWEEP_TURN.lock().await;
    let st = setup().await;
    let second = start(st.config()).await.unwrap();
    let (s, (http, token)) = (&st.server, account(&st.server).await);
    let mut nos = Vec::new();
    for _ in 0..5 {
        let no = order(s, &http, &token, "wechat").await["order_no"]
            .as_str()
            .unwrap()
            .to_string();
        expires_in(s, &no, 30).await;
        nos.push(no);
    }
    let before = st.provider.queries.load(Ordering::SeqCst);
    let now = chrono::Utc::now().timestamp_millis();
    let (a, b) = tokio::join!(
        sweeper::sweep(&s.state, now),
        sweeper::sweep(&second.state, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.asked + b.asked >= 5, "{a:?} {b:?}");
    assert_eq!(
        st.provider.queries.load(Ordering::SeqCst) - before,
        5,
        "each order asked once"
    );
    retire(s, &nos.iter().map(String::as_str).collect::<Vec<_>>()).await;
    second.shutdown().await;
}

#[tokio::test]
async fn a_handler_that_takes_too_long_is_cut_off_with_a_typed_error() {
    let st = setup().await;
    let s = start(Config {
        handler_timeout_secs: 1,
        ..st.config()
    })
    .await
    .unwrap();
    let (http, token) = account(&s).await;
    st.provider.slow_create.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let r = http
        .post(format!("{}/v1/orders", s.base_url))
        .bearer_auth(&token)
        .json(&json!({"sku": "credits_100", "provider": "wechat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 408);
    assert!(started.elapsed() < std::time::Duration::from_millis(2_500));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["kind"], "timeout");
    assert!(!v["request_id"].as_str().unwrap_or("").is_empty());
    // The long-poll has its own budget on top: a 2-second wait is not cut off.
    st.provider.slow_create.store(false, Ordering::SeqCst);
    let o = order(&s, &http, &token, "wechat").await;
    let no = o["order_no"].as_str().unwrap();
    let r = http
        .get(format!("{}/v1/orders/{no}/wait?timeout=2", s.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    s.shutdown().await;
}
