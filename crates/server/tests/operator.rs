//! Running the endpoint for real (issue 13): reconciliation against the providers' daily
//! bills and refunds, through fake WeChat Pay and Alipay servers that follow the published
//! protocols (signed answers, the trade bill's SHA-1 over the uncompressed CSV with
//! backtick-prefixed fields, Alipay's zip of GBK CSVs, refunds keyed by our number).
//! SQLite by default; the PostgreSQL of DATABASE_URL in scripts/checks/20-server-postgres.sh.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use inkstone_domain::{Fen, OrderNo};
use inkstone_pay::receipt::TrustedKeys;
use inkstone_pay::revocation::SignedRevocation;
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::{RefundAmount, RefundNotice};
use inkstone_server::config::{AlipayConfig, WechatConfig};
use inkstone_server::orders::PaymentEvidence;
use inkstone_server::reconcile::{reconcile_day, Mismatch};
use inkstone_server::{refund, start, Config, RunningServer};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

const RECEIPT_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const DAY: &str = "2026-11-25";

/// A refund as the provider keeps it: executed once per refund number.
#[derive(Clone)]
struct ProviderRefund {
    order_no: String,
    fen: Fen,
    queries: usize,
}

#[derive(Default)]
struct Fake {
    base: OnceLock<String>,
    /// Paid orders in the provider's books: order → amount.
    paid: Mutex<HashMap<String, i64>>,
    wechat_bill: Mutex<Vec<BillRow>>,
    alipay_bill: Mutex<Vec<BillRow>>,
    /// The WeChat bill file is changed after its hash was signed.
    tamper: AtomicBool,
    refunds: Mutex<HashMap<String, ProviderRefund>>,
    /// Refund requests that reached the provider (a retry of the same number included).
    refund_calls: AtomicUsize,
    /// The next WeChat refund is made, then answered too late (the caller times out).
    slow_refund: AtomicBool,
    /// The next Alipay refund is made, then answered too late.
    slow_alipay_refund: AtomicBool,
    /// WeChat refund queries answer PROCESSING until this many queries of a refund.
    processing_queries: AtomicUsize,
}

fn signed_json(status: StatusCode, value: Value) -> Response {
    let body = value.to_string();
    let h = WechatPlatform::default().sign(body.as_bytes(), chrono::Utc::now().timestamp());
    (
        status,
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

async fn wx_create(body: String) -> Response {
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    let no = v["out_trade_no"].as_str().unwrap_or("");
    signed_json(
        StatusCode::OK,
        json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={no}")}),
    )
}

async fn wx_query(State(f): State<Arc<Fake>>, Path(no): Path<String>) -> Response {
    let mut t = wechat_transaction(&no, fen(1000));
    if !f.paid.lock().unwrap().contains_key(&no) {
        t.trade_state = "NOTPAY".into();
    }
    signed_json(StatusCode::OK, serde_json::to_value(t).unwrap())
}

fn wechat_csv(f: &Fake) -> String {
    wechat_trade_bill(WECHAT_APPID, WECHAT_MCHID, &f.wechat_bill.lock().unwrap())
}

async fn wx_tradebill(
    State(f): State<Arc<Fake>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q.get("bill_type").map(String::as_str), Some("ALL"));
    assert_eq!(q.get("tar_type").map(String::as_str), Some("GZIP"));
    if q.get("bill_date").map(String::as_str) != Some(DAY) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "NO_STATEMENT_EXIST", "message": "账单不存在"})),
        )
            .into_response();
    }
    let hash = hex::encode(Sha1::digest(wechat_csv(&f).as_bytes()));
    let base = f.base.get().cloned().unwrap_or_default();
    signed_json(
        StatusCode::OK,
        json!({"hash_type": "SHA1", "hash_value": hash,
               "download_url": format!("{base}/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd")}),
    )
}

use axum::Json;

async fn wx_download(State(f): State<Arc<Fake>>, headers: axum::http::HeaderMap) -> Response {
    // The download is a signed call too.
    assert!(headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("WECHATPAY2-SHA256-RSA2048 ")));
    let mut csv = wechat_csv(&f).into_bytes();
    if f.tamper.load(Ordering::SeqCst) {
        // One amount changed after the hash was signed.
        if let Some(i) = csv.windows(6).position(|w| w == b"`10.00") {
            csv[i + 1] = b'9';
        }
    }
    gzip(&csv).into_response()
}

fn wx_refund_json(no: &str, r: &ProviderRefund, status: &str) -> Value {
    json!({"refund_id": format!("5030{no}"), "out_refund_no": no, "out_trade_no": r.order_no,
           "transaction_id": format!("4200{}", r.order_no), "channel": "ORIGINAL", "status": status,
           "create_time": "2026-11-25T13:00:00+08:00",
           "amount": {"total": 1000, "refund": r.fen, "payer_total": 1000, "payer_refund": r.fen, "currency": "CNY"}})
}

async fn wx_refund(State(f): State<Arc<Fake>>, body: String) -> Response {
    f.refund_calls.fetch_add(1, Ordering::SeqCst);
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    let no = v["out_refund_no"].as_str().unwrap_or("").to_string();
    let order_no = v["out_trade_no"].as_str().unwrap_or("").to_string();
    assert_eq!(v["amount"]["total"], 1000);
    assert!(v["notify_url"].as_str().is_some());
    let r = f
        .refunds
        .lock()
        .unwrap()
        .entry(no.clone())
        .or_insert(ProviderRefund {
            order_no,
            fen: Fen::new(v["amount"]["refund"].as_i64().unwrap_or(0)).unwrap_or(Fen::ZERO),
            queries: 0,
        })
        .clone();
    if f.slow_refund.swap(false, Ordering::SeqCst) {
        // Made, but the answer comes after the caller's timeout.
        tokio::time::sleep(AFTER_THE_CALL_TIMEOUT).await;
    }
    signed_json(StatusCode::OK, wx_refund_json(&no, &r, "PROCESSING"))
}

async fn wx_refund_query(State(f): State<Arc<Fake>>, Path(no): Path<String>) -> Response {
    let mut refunds = f.refunds.lock().unwrap();
    let Some(r) = refunds.get_mut(&no) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})),
        )
            .into_response();
    };
    r.queries += 1;
    let status = if r.queries > f.processing_queries.load(Ordering::SeqCst) {
        "SUCCESS"
    } else {
        "PROCESSING"
    };
    let r = r.clone();
    drop(refunds);
    signed_json(StatusCode::OK, wx_refund_json(&no, &r, status))
}

async fn ali_gateway(State(f): State<Arc<Fake>>, body: String) -> Response {
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
    let base = f.base.get().cloned().unwrap_or_default();
    // A refund made, then answered after the caller's timeout.
    let slow =
        method == "alipay.trade.refund" && f.slow_alipay_refund.swap(false, Ordering::SeqCst);
    let answer = match method.as_str() {
        "alipay.trade.precreate" => {
            json!({"code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": format!("https://qr.alipay.com/{no}")})
        }
        "alipay.trade.query" => {
            json!({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"})
        }
        "alipay.data.dataservice.bill.downloadurl.query" => {
            assert_eq!(biz["bill_type"], "trade");
            if biz["bill_date"] == DAY {
                json!({"code": "10000", "msg": "Success",
                       "bill_download_url": format!("{base}/alipay/downloadBillFile.resource?bizType=trade&fileType=csv.zip&bizDates=20261125")})
            } else {
                json!({"code": "40004", "msg": "Business Failed", "sub_code": "isp.bill_not_exist", "sub_msg": "账单不存在"})
            }
        }
        "alipay.trade.refund" => {
            f.refund_calls.fetch_add(1, Ordering::SeqCst);
            let request_no = biz["out_request_no"].as_str().unwrap_or("").to_string();
            let fen = inkstone_pay::money::yuan_to_fen(biz["refund_amount"].as_str().unwrap_or(""))
                .unwrap_or(Fen::ZERO);
            let mut refunds = f.refunds.lock().unwrap();
            let fresh = !refunds.contains_key(&request_no);
            refunds.entry(request_no).or_insert(ProviderRefund {
                order_no: no.clone(),
                fen,
                queries: 0,
            });
            let total = refunds
                .values()
                .filter(|r| r.order_no == no)
                .try_fold(Fen::ZERO, |sum, r| sum.checked_add(r.fen))
                .unwrap();
            json!({"code": "10000", "msg": "Success", "trade_no": format!("2026112522001{no}"), "out_trade_no": no,
                   "fund_change": if fresh { "Y" } else { "N" }, "refund_fee": inkstone_pay::money::fen_to_yuan(total)})
        }
        "alipay.trade.fastpay.refund.query" => {
            let request_no = biz["out_request_no"].as_str().unwrap_or("");
            match f.refunds.lock().unwrap().get(request_no) {
                Some(r) => {
                    json!({"code": "10000", "msg": "Success", "trade_no": format!("2026112522001{no}"),
                                  "out_trade_no": no, "out_request_no": request_no,
                                  "refund_amount": inkstone_pay::money::fen_to_yuan(r.fen), "refund_status": "REFUND_SUCCESS"})
                }
                // Alipay answers success with no refund fields for a refund it does not know.
                None => {
                    json!({"code": "10000", "msg": "Success", "out_trade_no": no, "out_request_no": request_no})
                }
            }
        }
        _ => json!({"code": "10000", "msg": "Success"}),
    };
    if slow {
        tokio::time::sleep(AFTER_THE_CALL_TIMEOUT).await;
    }
    AlipayPlatform::default()
        .response(&method, &answer)
        .into_response()
}

async fn ali_download(State(f): State<Arc<Fake>>) -> Response {
    alipay_bill_zip(ALIPAY_SELLER_ID, DAY, &f.alipay_bill.lock().unwrap()).into_response()
}

struct Setup {
    server: RunningServer,
    fake: Arc<Fake>,
    config_toml: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// How long the server waits for one provider call here (production: 10 s), and when the fake
/// answers a call meant to be too slow.
const CALL_TIMEOUT_SECS: u64 = 2;
const AFTER_THE_CALL_TIMEOUT: std::time::Duration =
    std::time::Duration::from_millis(CALL_TIMEOUT_SECS * 1000 + 1500);

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

async fn setup_with(change: impl FnOnce(&mut Config)) -> Setup {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new()
        .route("/v3/pay/transactions/native", post(wx_create))
        .route("/v3/pay/transactions/out-trade-no/{no}", get(wx_query))
        .route(
            "/v3/pay/transactions/out-trade-no/{no}/close",
            post(|| async { StatusCode::NO_CONTENT }),
        )
        .route("/v3/bill/tradebill", get(wx_tradebill))
        .route("/v3/billdownload/file", get(wx_download))
        .route("/v3/refund/domestic/refunds", post(wx_refund))
        .route("/v3/refund/domestic/refunds/{no}", get(wx_refund_query))
        .route("/gateway.do", post(ali_gateway))
        .route("/alipay/downloadBillFile.resource", get(ali_download))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    fake.base.set(url.clone()).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let database_url = support::database_url(dir.path());
    let wechat = WechatConfig {
        mchid: WECHAT_MCHID.into(),
        appid: WECHAT_APPID.into(),
        serial_no: "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB".into(),
        private_key_file: write("wx_merchant.pem", WECHAT_MERCHANT_PRIVATE),
        apiv3_key: WECHAT_APIV3_KEY.into(),
        platform_public_key_id: Some(WECHAT_PUB_KEY_ID.into()),
        platform_public_key_file: Some(write("wx_platform.pem", WECHAT_PLATFORM_PUBLIC)),
        platform_certificate_files: vec![],
        notify_url: "https://pay.example.com/notify/wechat".into(),
        api_host: url.clone(),
    };
    let alipay = AlipayConfig {
        app_id: ALIPAY_APP_ID.into(),
        seller_id: ALIPAY_SELLER_ID.into(),
        app_private_key_file: write("ali_app.pem", ALIPAY_APP_PRIVATE),
        alipay_public_key_file: write("ali_platform.pem", ALIPAY_PLATFORM_PUBLIC),
        notify_url: "https://pay.example.com/notify/alipay".into(),
        gateway: format!("{url}/gateway.do"),
    };
    // The same settings as a file, for the command line.
    let toml = format!(
        "database_url = {db:?}\nreceipt_key = {key:?}\nsweep_interval_secs = 0\n\n[wechat]\nmchid = {mchid:?}\nappid = {appid:?}\nserial_no = {serial:?}\nprivate_key_file = {pk:?}\napiv3_key = {v3:?}\nplatform_public_key_id = {pid:?}\nplatform_public_key_file = {ppk:?}\nnotify_url = {wn:?}\napi_host = {host:?}\n\n[alipay]\napp_id = {aid:?}\nseller_id = {sid:?}\napp_private_key_file = {apk:?}\nalipay_public_key_file = {alk:?}\nnotify_url = {an:?}\ngateway = {gw:?}\n",
        db = database_url,
        key = RECEIPT_KEY,
        mchid = wechat.mchid,
        appid = wechat.appid,
        serial = wechat.serial_no,
        pk = wechat.private_key_file,
        v3 = wechat.apiv3_key,
        pid = WECHAT_PUB_KEY_ID,
        ppk = dir.path().join("wx_platform.pem"),
        wn = wechat.notify_url,
        host = url,
        aid = alipay.app_id,
        sid = alipay.seller_id,
        apk = alipay.app_private_key_file,
        alk = alipay.alipay_public_key_file,
        an = alipay.notify_url,
        gw = alipay.gateway,
    );
    let config_toml = write("server.toml", &toml);
    let mut config = Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url,
        receipt_key: Some(RECEIPT_KEY.into()),
        sweep_interval_secs: 0,
        provider_timeout_secs: CALL_TIMEOUT_SECS,
        wechat: Some(wechat),
        alipay: Some(alipay),
        ..Config::default()
    };
    change(&mut config);
    Setup {
        server: start(config).await.unwrap(),
        fake,
        config_toml,
        _dir: dir,
    }
}

async fn order(c: &support::Client, provider: &str) -> OrderNo {
    let (status, v) = c
        .post(
            "/v1/orders",
            json!({"sku": "credits_100", "provider": provider}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    v["order_no"].as_str().unwrap().parse().unwrap()
}

fn fen(n: i64) -> Fen {
    Fen::new(n).unwrap()
}

/// Paid here through the normal path (as a notification would), at `paid_at`.
async fn pay_here(s: &Setup, provider: &str, no: &OrderNo, txn: &str, paid_at: &str) {
    let evidence = PaymentEvidence {
        provider: provider.into(),
        order_no: no.clone(),
        amount_fen: fen(1000),
        currency: "CNY".into(),
        provider_txn_id: txn.into(),
        paid_at: paid_at.parse().unwrap(),
    };
    s.server.state.paid(&evidence).await.unwrap();
    s.fake.paid.lock().unwrap().insert(no.to_string(), 1000);
}

async fn count(s: &Setup, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&s.server.state.db)
        .await
        .unwrap()
}

async fn status_of(s: &Setup, no: &str) -> (String, i64) {
    sqlx::query_as("SELECT status, late_payment FROM orders WHERE order_no = $1")
        .bind(no)
        .fetch_one(&s.server.state.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_settles_unrecorded_payments_once_and_lists_every_mismatch() {
    let s = setup().await;
    let c = support::register(&s.server).await;
    let (a, b, f) = (
        order(&c, "wechat").await,
        order(&c, "wechat").await,
        order(&c, "wechat").await,
    );
    let (d, e) = (order(&c, "alipay").await, order(&c, "alipay").await);
    pay_here(
        &s,
        "wechat",
        &b,
        &format!("4200{b}"),
        "2026-11-25T04:00:00Z",
    )
    .await;
    pay_here(
        &s,
        "wechat",
        &f,
        &format!("4200{f}"),
        "2026-11-25T05:00:00Z",
    )
    .await;
    // E expired here, yet the buyer paid.
    sqlx::query("UPDATE orders SET status = 'EXPIRED' WHERE order_no = $1")
        .bind(&e)
        .execute(&s.server.state.db)
        .await
        .unwrap();
    let unknown = "IK20261125000000UNKNOWN000";
    // Numbers that do not parse as order numbers (a bill may list anything up to 64
    // characters): orders we never issued, and refunds we never asked for; never a panic.
    let (too_long, odd) = ("IK".repeat(20), "IK.2026/1125");
    *s.fake.wechat_bill.lock().unwrap() = vec![
        BillRow::payment(&a, &format!("4200{a}"), fen(1000), "2026-11-25 12:03:10"),
        BillRow::payment(&b, &format!("4200{b}"), fen(1000), "2026-11-25 12:00:00"),
        BillRow::payment(unknown, "4200999", fen(1000), "2026-11-25 12:10:00"),
        BillRow::payment(odd, "4200998", fen(1000), "2026-11-25 12:11:00"),
        BillRow::refund(
            &b,
            &format!("4200{b}"),
            fen(1000),
            "RFNOTOURS1",
            fen(1000),
            "2026-11-25 14:00:00",
        ),
        BillRow::refund(
            odd,
            "4200998",
            fen(1000),
            "RFNOTOURS2",
            fen(1000),
            "2026-11-25 14:01:00",
        ),
    ];
    *s.fake.alipay_bill.lock().unwrap() = vec![
        BillRow::payment(
            &d,
            &format!("2026112522001{d}"),
            fen(2000),
            "2026-11-25 09:00:00",
        ),
        BillRow::payment(
            &e,
            &format!("2026112522001{e}"),
            fen(1000),
            "2026-11-25 09:30:00",
        ),
        BillRow::payment(
            &too_long,
            "2026112522001999",
            fen(1000),
            "2026-11-25 09:40:00",
        ),
    ];
    // The database may be shared with other tests (PostgreSQL): count only this account's.
    let receipts_sql = format!(
        "SELECT COUNT(*) FROM receipts WHERE account_id = '{}'",
        c.account_id
    );
    let receipts_before = count(&s, &receipts_sql).await;
    let ours: std::collections::HashSet<String> = [&a, &b, &f, &d, &e]
        .iter()
        .map(|x| x.to_string())
        .chain([unknown.to_string(), too_long.clone(), odd.to_string()])
        .collect();
    let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();

    let reports = reconcile_day(&s.server.state, date).await.unwrap();
    let (wx, ali) = (&reports[0], &reports[1]);
    assert_eq!((wx.provider.as_str(), wx.lines), ("wechat", 6));
    assert_eq!(wx.settled, vec![a.clone()]);
    assert_eq!(wx.matched, 1, "{wx}");
    let kinds = |r: &inkstone_server::reconcile::Report| {
        let mut k: Vec<(String, &'static str)> = r
            .findings
            .iter()
            .filter(|x| ours.contains(&x.order_no))
            .map(|x| (x.order_no.clone(), x.mismatch.kind()))
            .collect();
        k.sort();
        k
    };
    let mut want = vec![
        (unknown.to_string(), "unknown_order"),
        (odd.to_string(), "unknown_order"),
        (odd.to_string(), "refund_not_recorded"),
        (b.to_string(), "refund_not_recorded"),
        (f.to_string(), "paid_here_not_in_bill"),
    ];
    want.sort();
    assert_eq!(kinds(wx), want, "{wx}");
    assert_eq!(ali.settled, vec![e.clone()]);
    let mut want = vec![
        (d.to_string(), "amount_differs"),
        (e.to_string(), "paid_there_closed_here"),
        (too_long.clone(), "unknown_order"),
    ];
    want.sort();
    assert_eq!(kinds(ali), want, "{ali}");
    assert!(ali.findings.iter().any(|x| x.mismatch
        == Mismatch::AmountDiffers {
            bill_fen: fen(2000),
            order_fen: fen(1000)
        }));
    // A settled through the PAID path, with its receipt; E as a late payment; D untouched.
    assert_eq!(status_of(&s, &a).await, ("PAID".into(), 0));
    assert_eq!(status_of(&s, &e).await, ("PAID".into(), 1));
    assert_eq!(status_of(&s, &d).await.0, "PENDING");
    assert_eq!(count(&s, &receipts_sql).await, receipts_before + 2);
    let (_, view) = c.get(&format!("/v1/orders/{a}")).await;
    assert_eq!(
        view["receipt"]["receipt"]["provider_txn_id"],
        format!("4200{a}")
    );
    let printed = wx.to_string();
    assert!(printed.contains(&format!("settled   {a}")), "{printed}");
    assert!(printed.contains("mismatch  unknown_order"), "{printed}");

    // Again (a second instance, or a rerun): nothing more is settled or issued.
    let again = reconcile_day(&s.server.state, date).await.unwrap();
    assert!(again.iter().all(|r| r.settled.is_empty()));
    assert_eq!(again[0].matched, 2);
    assert_eq!(count(&s, &receipts_sql).await, receipts_before + 2);

    // A day without bills: said so, and what was paid here that day is listed.
    let quiet = reconcile_day(
        &s.server.state,
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
    )
    .await
    .unwrap();
    assert!(quiet.iter().all(|r| !r.bill_found && kinds(r).is_empty()));

    // A bill whose bytes do not match the signed hash: refused, nothing changes.
    let g = order(&c, "wechat").await;
    s.fake.wechat_bill.lock().unwrap().push(BillRow::payment(
        &g,
        &format!("4200{g}"),
        fen(1000),
        "2026-11-25 15:00:00",
    ));
    s.fake.tamper.store(true, Ordering::SeqCst);
    let reports = reconcile_day(&s.server.state, date).await.unwrap();
    let error = reports[0].error.as_deref().unwrap_or("");
    assert!(error.contains("SHA-1"), "{error}");
    assert_eq!(reports[0].lines, 0);
    assert!(reports[0].to_string().contains("cannot reconcile"));
    // The other provider is still reconciled.
    assert!(reports[1].error.is_none() && reports[1].lines == 3);
    assert_eq!(status_of(&s, &g).await.0, "PENDING");
    s.fake.tamper.store(false, Ordering::SeqCst);

    // The command: prints the report, settles G, exits 3 because mismatches remain.
    let out = tokio::task::spawn_blocking({
        let config = s.config_toml.clone();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_inkstone-server"))
                .args(["reconcile", "--date", DAY, "--config"])
                .arg(config)
                .env("RUST_LOG", "error")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("settled   {g}")), "{stdout}");
    assert!(stdout.contains("mismatch  amount_differs"), "{stdout}");
    assert_eq!(status_of(&s, &g).await.0, "PAID");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_inkstone-server"))
        .args(["reconcile", "--date", "2026-13-01"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

async fn revocations(c: &support::Client, after: i64) -> Value {
    let (status, v) = c.get(&format!("/v1/revocations?after={after}")).await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_are_made_once_under_a_stable_number_and_revoke_the_receipt() {
    let s = setup().await;
    let state = &s.server.state;
    let c = support::register(&s.server).await;
    let keys = TrustedKeys::new(s.server.public_keys.clone());
    let wx = order(&c, "wechat").await;
    pay_here(
        &s,
        "wechat",
        &wx,
        &format!("4200{wx}"),
        "2026-11-25T04:00:00Z",
    )
    .await;

    // Bad input changes nothing.
    let pending = order(&c, "wechat").await;
    let nosuch: OrderNo = "IK20261125000000NOSUCHORDR".parse().unwrap();
    for (no, amount, reason) in [
        (&nosuch, None, "x"),
        (&pending, None, "x"),
        (&wx, Some(fen(1001)), "x"),
        (&wx, Some(Fen::ZERO), "x"),
        (&wx, None, " "),
    ] {
        let e = refund::request(state, no, amount, reason)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "bad_request", "{no} {amount:?}: {e:?}");
    }
    assert_eq!(
        count(
            &s,
            &format!("SELECT COUNT(*) FROM refunds WHERE order_no IN ('{wx}', '{pending}')")
        )
        .await,
        0
    );
    assert_eq!(s.fake.refund_calls.load(Ordering::SeqCst), 0);

    // 3 yuan back; the provider makes it but answers after our timeout.
    s.fake.slow_refund.store(true, Ordering::SeqCst);
    let first = refund::refund_and_follow(state, &wx, Some(fen(300)), "重复购买")
        .await
        .unwrap_err();
    assert_eq!(first.kind(), "provider_error");
    assert!(first.detail().contains("unreachable"), "{}", first.detail());
    let (no, status): (String, String) =
        sqlx::query_as("SELECT refund_no, status FROM refunds WHERE order_no = $1")
            .bind(&wx)
            .fetch_one(&state.db)
            .await
            .unwrap();
    assert_eq!(
        (no.as_str(), status.as_str()),
        (refund::refund_no(&wx, 1).as_str(), "REQUESTED")
    );
    // Another amount while it is open is refused; the same command resumes it.
    assert_eq!(
        refund::request(state, &wx, Some(fen(500)), "x")
            .await
            .unwrap_err()
            .kind(),
        "bad_request"
    );
    s.fake.processing_queries.store(1, Ordering::SeqCst);
    let done = refund::refund_and_follow(state, &wx, Some(fen(300)), "重复购买")
        .await
        .unwrap();
    assert_eq!(
        (done.refund_no.as_str(), done.status.as_str()),
        (no.as_str(), "SUCCESS")
    );
    // One refund at the provider under one number, whatever the retries.
    assert_eq!(s.fake.refunds.lock().unwrap().len(), 1);
    assert_eq!(s.fake.refund_calls.load(Ordering::SeqCst), 1);

    let page = revocations(&c, 0).await;
    let items = page["revocations"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    let signed: SignedRevocation = serde_json::from_value(items[0]["signed"].clone()).unwrap();
    let r = keys.verify_revocation(&signed).unwrap();
    assert_eq!(
        (
            r.refund_fen.get(),
            r.amount_fen.get(),
            r.credits.get(),
            r.days
        ),
        (300, 1000, 33, 0)
    );
    assert_eq!(
        (r.order_no.as_str(), r.refund_no.as_str()),
        (wx.as_str(), no.as_str())
    );
    assert_eq!(r.account_id, c.account_id);
    let cursor = page["next"].as_i64().unwrap();
    // Following a finished refund again changes nothing (no second revocation).
    refund::follow(state, &no).await.unwrap();
    assert_eq!(
        revocations(&c, 0).await["revocations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Another account sees none of it.
    let other = support::register(&s.server).await;
    assert!(revocations(&other, 0).await["revocations"]
        .as_array()
        .unwrap()
        .is_empty());
    let (status, _) = other.get("/v1/revocations?after=-1").await;
    assert_eq!(status, 400);

    // The rest: more than is left is refused; all that is left is the default.
    assert_eq!(
        refund::request(state, &wx, Some(fen(701)), "x")
            .await
            .unwrap_err()
            .kind(),
        "bad_request"
    );
    s.fake.processing_queries.store(0, Ordering::SeqCst);
    let rest = refund::refund_and_follow(state, &wx, None, "全部退款")
        .await
        .unwrap();
    assert_eq!(
        (rest.amount_fen.get(), rest.status.as_str()),
        (700, "SUCCESS")
    );
    assert_eq!(rest.refund_no, refund::refund_no(&wx, 2));
    let page = revocations(&c, cursor).await;
    assert_eq!(
        page["revocations"].as_array().unwrap().len(),
        1,
        "paged after the cursor"
    );
    assert_eq!(
        page["revocations"][0]["signed"]["revocation"]["credits"],
        77
    );
    assert_eq!(
        refund::request(state, &wx, None, "x")
            .await
            .unwrap_err()
            .kind(),
        "bad_request",
        "nothing left to refund"
    );

    // Alipay: synchronous, confirmed by the refund query; its answer too comes after our
    // timeout the first time, and the command run again finishes the same refund.
    let ali = order(&c, "alipay").await;
    pay_here(
        &s,
        "alipay",
        &ali,
        &format!("2026112522001{ali}"),
        "2026-11-25T04:00:00Z",
    )
    .await;
    s.fake.slow_alipay_refund.store(true, Ordering::SeqCst);
    let first = refund::refund_and_follow(state, &ali, None, "用户申请")
        .await
        .unwrap_err();
    assert_eq!(first.kind(), "provider_error");
    assert!(first.detail().contains("unreachable"), "{}", first.detail());
    let (status,): (String,) = sqlx::query_as("SELECT status FROM refunds WHERE order_no = $1")
        .bind(&ali)
        .fetch_one(&state.db)
        .await
        .unwrap();
    assert_eq!(status, "REQUESTED");
    let done = refund::refund_and_follow(state, &ali, None, "用户申请")
        .await
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.amount_fen.get()),
        ("SUCCESS", 1000)
    );
    // Asked again under the same number (a lost answer): Alipay does not refund twice.
    state
        .alipay
        .as_ref()
        .unwrap()
        .refund(&ali, &done.refund_no, fen(1000), "用户申请")
        .await
        .unwrap();
    refund::follow(state, &done.refund_no).await.unwrap();
    assert_eq!(
        s.fake
            .refunds
            .lock()
            .unwrap()
            .values()
            .filter(|r| r.order_no == ali.as_str())
            .count(),
        1
    );
    assert_eq!(
        revocations(&c, 0).await["revocations"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        count(
            &s,
            &format!(
                "SELECT COUNT(*) FROM revocations WHERE account_id = '{}'",
                c.account_id
            )
        )
        .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_refund_notification_makes_the_server_ask_and_finish_the_refund() {
    let s = setup().await;
    let state = &s.server.state;
    let c = support::register(&s.server).await;
    let wx = order(&c, "wechat").await;
    pay_here(
        &s,
        "wechat",
        &wx,
        &format!("4200{wx}"),
        "2026-11-25T04:00:00Z",
    )
    .await;
    // The provider keeps it PROCESSING for a while.
    s.fake
        .processing_queries
        .store(usize::MAX, Ordering::SeqCst);
    let r = refund::request(state, &wx, None, "用户申请").await.unwrap();
    let r = refund::follow(state, &r.refund_no).await.unwrap();
    assert_eq!(r.status, "PROCESSING");
    s.fake.processing_queries.store(0, Ordering::SeqCst);
    let notice = RefundNotice {
        mchid: WECHAT_MCHID.into(),
        out_trade_no: wx.to_string(),
        transaction_id: Some(format!("4200{wx}")),
        out_refund_no: r.refund_no.clone(),
        refund_id: format!("5030{}", r.refund_no),
        refund_status: "SUCCESS".into(),
        amount: RefundAmount {
            total: fen(1000),
            refund: fen(1000),
            currency: "CNY".into(),
        },
        success_time: Some("2026-11-25T13:00:05+08:00".into()),
    };
    let (h, body) = WechatPlatform::default().refund_notification(
        "REFUND.SUCCESS",
        &notice,
        chrono::Utc::now().timestamp(),
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/notify/wechat", s.server.base_url))
        .header("Wechatpay-Timestamp", h.timestamp)
        .header("Wechatpay-Nonce", h.nonce)
        .header("Wechatpay-Signature", h.signature)
        .header("Wechatpay-Serial", h.serial)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(
        refund::fetch(state, &r.refund_no)
            .await
            .unwrap()
            .unwrap()
            .status,
        "SUCCESS"
    );
    // A forged one (not signed by the platform) is refused and changes nothing.
    let resp = reqwest::Client::new()
        .post(format!("{}/notify/wechat", s.server.base_url))
        .header(
            "Wechatpay-Timestamp",
            chrono::Utc::now().timestamp().to_string(),
        )
        .header("Wechatpay-Nonce", "N")
        .header("Wechatpay-Signature", "AAAA")
        .header("Wechatpay-Serial", WECHAT_PUB_KEY_ID)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // Without any notification, the sweeper follows an open refund to its end.
    let wx2 = order(&c, "wechat").await;
    pay_here(
        &s,
        "wechat",
        &wx2,
        &format!("4200{wx2}"),
        "2026-11-25T04:00:00Z",
    )
    .await;
    s.fake
        .processing_queries
        .store(usize::MAX, Ordering::SeqCst);
    let r2 = refund::request(state, &wx2, Some(fen(500)), "用户申请")
        .await
        .unwrap();
    assert_eq!(
        refund::follow(state, &r2.refund_no).await.unwrap().status,
        "PROCESSING"
    );
    s.fake.processing_queries.store(0, Ordering::SeqCst);
    let round = inkstone_server::sweeper::sweep(state, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap();
    assert!(round.refunds_followed >= 1, "{round:?}");
    assert_eq!(
        refund::fetch(state, &r2.refund_no)
            .await
            .unwrap()
            .unwrap()
            .status,
        "SUCCESS"
    );
    assert_eq!(
        count(
            &s,
            &format!(
                "SELECT COUNT(*) FROM revocations WHERE account_id = '{}'",
                c.account_id
            )
        )
        .await,
        2
    );
}

const METRICS_TOKEN: &str = "metrics-token-0123456789";

async fn scrape(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of one series in an exposition (0 when absent).
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name_and_labels)?
                .strip_prefix(' ')?
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default_and_behind_a_token_or_their_own_address() {
    // Off unless chosen.
    let plain = setup().await;
    assert_eq!(plain.server.metrics_addr, None);
    let (status, _) = scrape(
        &format!("{}/metrics", plain.server.base_url),
        Some(METRICS_TOKEN),
    )
    .await;
    assert_eq!(status, 404);

    let s = setup_with(|c| {
        c.metrics_token = Some(METRICS_TOKEN.into());
        c.metrics_bind = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let url = format!("{}/metrics", s.server.base_url);
    assert_eq!(scrape(&url, None).await.0, 401);
    assert_eq!(scrape(&url, Some("metrics-token-wrong000000")).await.0, 401);

    let c = support::register(&s.server).await;
    let no = order(&c, "wechat").await;
    order(&c, "alipay").await;
    // A paid order (through a notification) and a refused one (bad signature).
    s.fake.paid.lock().unwrap().insert(no.to_string(), 1000);
    let (h, body) = WechatPlatform::default().notification(
        &wechat_transaction(&no, fen(1000)),
        chrono::Utc::now().timestamp(),
    );
    let send = |sig: String, body: Vec<u8>| {
        reqwest::Client::new()
            .post(format!("{}/notify/wechat", s.server.base_url))
            .header("Wechatpay-Timestamp", h.timestamp.clone())
            .header("Wechatpay-Nonce", h.nonce.clone())
            .header("Wechatpay-Signature", sig)
            .header("Wechatpay-Serial", h.serial.clone())
            .body(body)
            .send()
    };
    assert_eq!(
        send(h.signature.clone(), body.clone())
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        send("AAAA".into(), body).await.unwrap().status().as_u16(),
        400
    );

    let (status, text) = scrape(&url, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200);
    for (line, want) in [
        ("inkstone_orders_created_total{provider=\"wechat\"}", 1.0),
        ("inkstone_orders_created_total{provider=\"alipay\"}", 1.0),
        ("inkstone_orders_paid_total{provider=\"wechat\"}", 1.0),
        ("inkstone_notifications_accepted_total{provider=\"wechat\"}", 1.0),
        ("inkstone_notifications_refused_total{provider=\"wechat\",reason=\"bad_signature\"}", 1.0),
        ("inkstone_provider_call_seconds_count{provider=\"wechat\",call=\"create\"}", 1.0),
        ("inkstone_provider_call_seconds_count{provider=\"alipay\",call=\"alipay.trade.precreate\"}", 1.0),
        ("inkstone_waiters", 0.0),
    ] {
        assert_eq!(series(&text, line), want, "{line}\n{text}");
    }
    assert!(
        text.contains("# TYPE inkstone_provider_call_seconds histogram"),
        "{text}"
    );
    assert!(text.contains("inkstone_provider_call_seconds_bucket{provider=\"wechat\",call=\"create\",le=\"+Inf\"} 1"), "{text}");
    assert!(
        series(&text, "inkstone_orders{status=\"paid\"}") >= 1.0,
        "{text}"
    );
    assert!(text.contains("# TYPE inkstone_orders_expired_total counter"));

    // Its own address: /metrics without a token, and nothing else.
    let own = s.server.metrics_addr.expect("metrics address");
    let (status, text) = scrape(&format!("http://{own}/metrics"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        series(&text, "inkstone_orders_paid_total{provider=\"wechat\"}"),
        1.0
    );
    assert_eq!(
        scrape(&format!("http://{own}/v1/catalog"), None).await.0,
        404
    );
}
