//! Issue 12's protocol checks: WeChat Pay's trade_type and time_expire, freshness that
//! cannot overflow, Alipay answers with duplicated keys, app_id and seller_id required.

use chrono::{FixedOffset, TimeZone};
use inkstone_pay::alipay::{self, AlipayError};
use inkstone_pay::receipt::Fen;
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::{self, Merchant, SignedHeaders, WechatError};
use proptest::prelude::*;
use serde_json::json;

const NOW: i64 = 1_795_000_000;

fn fen(n: i64) -> Fen {
    Fen::new(n).unwrap()
}

fn merchant() -> Merchant {
    let mut m = Merchant::new(
        WECHAT_MCHID,
        WECHAT_APPID,
        "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        WECHAT_MERCHANT_PRIVATE,
        WECHAT_APIV3_KEY,
    )
    .unwrap();
    m.add_platform_public_key(WECHAT_PUB_KEY_ID, WECHAT_PLATFORM_PUBLIC)
        .unwrap();
    m
}

fn app() -> alipay::App {
    let mut a =
        alipay::App::new(ALIPAY_APP_ID, ALIPAY_APP_PRIVATE, ALIPAY_PLATFORM_PUBLIC).unwrap();
    a.seller_id = Some(ALIPAY_SELLER_ID.into());
    a
}

#[test]
fn wechat_pays_only_native_trades() {
    let m = merchant();
    for bad in [Some("JSAPI"), Some("APP"), Some(""), None] {
        let mut t = wechat_transaction("IK1", fen(1000));
        t.trade_type = bad.map(str::to_string);
        assert_eq!(
            m.paid(&t),
            Err(WechatError::Mismatch("trade_type")),
            "{bad:?}"
        );
    }
    // An unpaid trade without a trade_type is simply not paid.
    let mut t = wechat_transaction("IK1", fen(1000));
    t.trade_type = None;
    t.trade_state = "NOTPAY".into();
    assert_eq!(m.paid(&t), Err(WechatError::NotPaid("NOTPAY".into())));
    assert!(m.paid(&wechat_transaction("IK1", fen(1000))).is_ok());
}

#[test]
fn wechat_time_expire_is_whole_seconds() {
    let tz = FixedOffset::east_opt(8 * 3600).unwrap();
    let t = tz.timestamp_millis_opt(1_795_000_000_123).unwrap();
    assert_eq!(wechat::time_expire_text(t), "2026-11-18T19:06:40+08:00");
    let req = merchant()
        .native_create("IK1", "x", fen(100), t, "https://n.example.com", NOW)
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["time_expire"], "2026-11-18T19:06:40+08:00");
}

/// Amounts are fen, never negative: a signed message whose amount is negative, too large
/// or not an integer is `Malformed` before anything reads it, and requests carry integer
/// fen (WeChat Pay) and yuan with two decimals (Alipay) exactly as before.
#[test]
fn amounts_off_the_wire_are_fen_or_malformed() {
    let m = merchant();
    let platform = WechatPlatform::default();
    let good = serde_json::to_value(wechat_transaction("IK20261125A", fen(1000))).unwrap();
    assert_eq!(good["amount"]["total"], json!(1000));
    for (field, value) in [
        ("total", json!(-1)),
        ("payer_total", json!(-1)),
        ("total", json!(9_223_372_036_854_775_808u64)),
        ("total", json!(10.5)),
        ("total", json!("1000")),
    ] {
        let mut t = good.clone();
        t["amount"][field] = value.clone();
        let (h, body) = platform.notification_json(&t, NOW);
        assert!(
            matches!(
                m.notification(&h, &body, NOW),
                Err(WechatError::Malformed(_))
            ),
            "{field} {value}"
        );
        let body = t.to_string().into_bytes();
        assert!(
            matches!(
                m.query_answer(&platform.sign(&body, NOW), &body, NOW),
                Err(WechatError::Malformed(_))
            ),
            "{field} {value}"
        );
    }
    let (h, body) = platform.notification_json(&good, NOW);
    let paid = m.paid(&m.notification(&h, &body, NOW).unwrap()).unwrap();
    assert_eq!(paid.amount_fen, fen(1000));

    let mut refund = json!({"refund_id": "5030", "out_refund_no": "RFIK20261125AN1",
        "out_trade_no": "IK20261125A", "status": "SUCCESS",
        "amount": {"total": 1000, "refund": -300, "currency": "CNY"}});
    let body = refund.to_string().into_bytes();
    assert!(matches!(
        m.refund_answer(&platform.sign(&body, NOW), &body, NOW),
        Err(WechatError::Malformed(_))
    ));
    refund["amount"]["refund"] = json!(300);
    let body = refund.to_string().into_bytes();
    let r = m
        .refund_answer(&platform.sign(&body, NOW), &body, NOW)
        .unwrap();
    assert_eq!((r.amount.refund, r.amount.total), (fen(300), fen(1000)));

    let req = m
        .refund(
            "IK20261125A",
            "RFIK20261125AN1",
            "r",
            fen(300),
            fen(1000),
            "https://n.example.com",
            NOW,
        )
        .unwrap();
    assert!(req.body.contains("\"refund\":300"), "{}", req.body);
    assert!(req.body.contains("\"total\":1000"), "{}", req.body);
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T04:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let req = app()
        .refund("IK20261125A", "RFIK20261125AN1", fen(5), "r", now)
        .unwrap();
    let params: std::collections::BTreeMap<String, String> =
        serde_urlencoded::from_str(&req.body).unwrap();
    let biz: serde_json::Value = serde_json::from_str(&params["biz_content"]).unwrap();
    assert_eq!(biz["refund_amount"], json!("0.05"));
    // Alipay's yuan with a sign is refused, never read as a negative amount.
    let mut p = alipay_paid_params("IK20261125A", "-10.00");
    assert!(matches!(
        app().paid(&|k| p.get(k).cloned().unwrap_or_default(), false),
        Err(AlipayError::Malformed(_))
    ));
    p.insert("total_amount".into(), "10.00".into());
    assert_eq!(
        app()
            .paid(&|k| p.get(k).cloned().unwrap_or_default(), false)
            .unwrap()
            .amount_fen,
        fen(1000)
    );
}

#[test]
fn extreme_timestamps_are_stale_never_a_panic() {
    let m = merchant();
    let (h, body) =
        WechatPlatform::default().notification(&wechat_transaction("IK1", fen(1000)), NOW);
    for ts in [i64::MIN, i64::MAX, i64::MIN + 1, -1, 0] {
        let h = SignedHeaders {
            timestamp: ts.to_string(),
            ..h.clone()
        };
        assert_eq!(m.verify(&h, &body, NOW), Err(WechatError::Stale), "{ts}");
        // A clock at the other end: an error (stale, or a signature that does not match), no panic.
        assert!(m.verify(&h, &body, i64::MIN).is_err(), "{ts}");
    }
}

#[test]
fn an_alipay_answer_with_a_duplicated_key_is_refused() {
    let a = app();
    let platform = AlipayPlatform::default();
    let answer = json!({"code": "10000", "msg": "Success", "trade_no": "T1", "out_trade_no": "IK1",
        "trade_status": "WAIT_BUYER_PAY", "total_amount": "10.00"});
    let good = platform.response("alipay.trade.query", &answer);
    assert!(a.verify_response(&good, "alipay.trade.query").is_ok());
    // The signed object first, a forged one after it: a JSON parser would keep the second.
    let forged = good.replacen(
        ",\"sign\":",
        ",\"alipay_trade_query_response\":{\"code\":\"10000\",\"trade_status\":\"TRADE_SUCCESS\"},\"sign\":",
        1,
    );
    assert!(matches!(
        a.verify_response(&forged, "alipay.trade.query"),
        Err(AlipayError::Malformed(_))
    ));
    // A duplicate inside the signed object is refused too, as is a duplicated sign.
    let inner = json!({"code": "10000"}).to_string();
    let dup_inner = platform.response("alipay.trade.query", &answer).replacen(
        "\"code\":\"10000\"",
        "\"code\":\"10000\",\"code\":\"10000\"",
        1,
    );
    assert!(
        a.verify_response(&dup_inner, "alipay.trade.query").is_err(),
        "{inner}"
    );
    let dup_sign = good.replacen("{\"alipay", "{\"sign\":\"x\",\"alipay", 1);
    assert!(a.verify_response(&dup_sign, "alipay.trade.query").is_err());
}

#[test]
fn alipay_notifications_must_name_this_app_and_seller() {
    let platform = AlipayPlatform::default();
    let a = app();
    let good = alipay_paid_params("IK1", "10.00");
    assert!(a
        .paid_from_notify(&a.verify_notify(&platform.notify_body(&good)).unwrap())
        .is_ok());
    for (field, err) in [("app_id", "app_id"), ("seller_id", "seller_id")] {
        let mut p = good.clone();
        p.remove(field);
        let n = a.verify_notify(&platform.notify_body(&p)).unwrap();
        assert_eq!(
            a.paid_from_notify(&n),
            Err(AlipayError::Mismatch(err)),
            "{field} missing"
        );
    }
    // An app that does not know its seller id takes no notification at all.
    let mut unset = app();
    unset.seller_id = None;
    let n = unset.verify_notify(&platform.notify_body(&good)).unwrap();
    assert_eq!(
        unset.paid_from_notify(&n),
        Err(AlipayError::Mismatch("seller_id"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random and mutated gateway answers: an error or a value, never a panic.
    #[test]
    fn alipay_answers_never_panic(raw in ".{0,400}", cut in 0usize..400, byte in any::<u8>()) {
        let a = app();
        let _ = a.verify_response(&raw, "alipay.trade.query");
        let good = AlipayPlatform::default().response(
            "alipay.trade.query",
            &json!({"code": "10000", "trade_status": "TRADE_SUCCESS"}),
        );
        let mut bytes = good.into_bytes();
        let i = cut % bytes.len();
        bytes[i] = byte;
        let mutated = String::from_utf8_lossy(&bytes).to_string();
        let _ = a.verify_response(&mutated, "alipay.trade.query");
        let _ = a.verify_response(mutated.get(..i).unwrap_or(""), "alipay.trade.query");
    }

    /// Any timestamp header and any clock: a verdict, never an overflow.
    #[test]
    fn wechat_freshness_never_overflows(ts in any::<i64>(), now in any::<i64>()) {
        let m = merchant();
        let (h, body) = WechatPlatform::default().notification(&wechat_transaction("IK1", fen(1000)), NOW);
        let h = SignedHeaders { timestamp: ts.to_string(), ..h };
        let _ = m.verify(&h, &body, now);
    }
}
