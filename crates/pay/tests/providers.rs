//! WeChat Pay and Alipay protocol code against the testkit providers: every
//! acceptance, and every rejection the issue lists.

use std::collections::BTreeMap;

use inkstone_pay::alipay::{self, AlipayError};
use inkstone_pay::receipt::Fen;
use inkstone_pay::rsa_keys::PublicKey;
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::{Merchant, SignedHeaders, WechatError};
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

fn auth_field<'a>(header: &'a str, name: &str) -> &'a str {
    let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    &header[start..start + header[start..].find('"').unwrap()]
}

#[test]
fn wechat_requests_carry_a_signature_the_merchant_key_verifies() {
    let m = merchant();
    let expire = chrono::DateTime::parse_from_rfc3339("2026-11-25T12:15:00+08:00").unwrap();
    let req = m
        .native_create(
            "IK20261125ABCDEF0123",
            "墨砚积分 100",
            fen(1000),
            expire,
            "https://pay.example.com/notify/wechat",
            NOW,
        )
        .unwrap();
    assert_eq!(
        (req.method, req.url.as_str()),
        (
            "POST",
            "https://api.mch.weixin.qq.com/v3/pay/transactions/native"
        )
    );
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["amount"]["total"], 1000);
    let auth = &req
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .unwrap()
        .1;
    assert!(auth.starts_with("WECHATPAY2-SHA256-RSA2048 "));
    let message = format!(
        "POST\n/v3/pay/transactions/native\n{}\n{}\n{}\n",
        auth_field(auth, "timestamp"),
        auth_field(auth, "nonce_str"),
        req.body
    );
    let public = PublicKey::from_text(WECHAT_MERCHANT_PUBLIC).unwrap();
    assert!(public.verify_b64(message.as_bytes(), auth_field(auth, "signature")));
    assert!(!public.verify_b64(
        message.replace("1000", "1").as_bytes(),
        auth_field(auth, "signature")
    ));
    let q = m.query("IK20261125ABCDEF0123", NOW).unwrap();
    assert!(
        q.url
            .ends_with("/v3/pay/transactions/out-trade-no/IK20261125ABCDEF0123?mchid=1900007291")
            && q.body.is_empty()
    );
}

#[test]
fn wechat_notifications_verify_decrypt_and_become_paid_transactions() {
    let m = merchant();
    let (headers, body) =
        WechatPlatform::default().notification(&wechat_transaction("IK1", fen(1000)), NOW);
    let t = m.notification(&headers, &body, NOW + 10).unwrap();
    let paid = m.paid(&t).unwrap();
    assert_eq!(
        (
            paid.order_no.as_str(),
            paid.amount_fen,
            paid.currency.as_str()
        ),
        ("IK1", fen(1000), "CNY")
    );
    // Certificate mode, configured beside public-key mode during a switch.
    let mut both = merchant();
    assert_eq!(
        both.add_platform_certificate(WECHAT_PLATFORM_CERT).unwrap(),
        WECHAT_PLATFORM_CERT_SERIAL
    );
    let (headers, body) = WechatPlatform::new(WECHAT_PLATFORM_CERT_SERIAL)
        .notification(&wechat_transaction("IK2", fen(990)), NOW);
    assert_eq!(
        both.paid(&both.notification(&headers, &body, NOW).unwrap())
            .unwrap()
            .amount_fen,
        990
    );
}

#[test]
fn wechat_rejections() {
    let m = merchant();
    let platform = WechatPlatform::default();
    let (headers, body) = platform.notification(&wechat_transaction("IK1", fen(1000)), NOW);
    let mut tampered = body.clone();
    let i = tampered.iter().position(|b| *b == b'"').unwrap();
    tampered.insert(i, b' ');
    assert_eq!(
        m.notification(&headers, &tampered, NOW),
        Err(WechatError::BadSignature)
    );
    let wrong_serial = SignedHeaders {
        serial: "PUB_KEY_ID_SOMEONE_ELSE".into(),
        ..headers.clone()
    };
    assert!(matches!(
        m.notification(&wrong_serial, &body, NOW),
        Err(WechatError::UnknownSerial(_))
    ));
    assert_eq!(
        m.notification(&headers, &body, NOW + 300),
        Err(WechatError::Stale)
    );
    assert_eq!(
        m.notification(&headers, &body, NOW - 300),
        Err(WechatError::Stale)
    );
    let probe = SignedHeaders {
        signature: format!("WECHATPAY/SIGNTEST/{}", headers.signature),
        ..headers.clone()
    };
    assert_eq!(m.notification(&probe, &body, NOW), Err(WechatError::Probe));
    // Ciphertext changed and the envelope re-signed by the platform: the AEAD tag catches it.
    let mut env: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let ct = env["resource"]["ciphertext"].as_str().unwrap().to_string();
    let first = if ct.starts_with('A') { "B" } else { "A" };
    let flipped = format!("{first}{}", &ct[1..]);
    env["resource"]["ciphertext"] = json!(flipped);
    let resigned = env.to_string().into_bytes();
    assert_eq!(
        m.notification(&platform.sign(&resigned, NOW), &resigned, NOW),
        Err(WechatError::Decrypt)
    );
    let junk = b"{not json".to_vec();
    assert!(matches!(
        m.notification(&platform.sign(&junk, NOW), &junk, NOW),
        Err(WechatError::Malformed(_))
    ));
    // Signed and decrypted, but not ours or not paid.
    for (field, value, err) in [
        ("mchid", "1900000000", WechatError::Mismatch("mchid")),
        (
            "appid",
            "wx0000000000000000",
            WechatError::Mismatch("appid"),
        ),
    ] {
        let mut t = wechat_transaction("IK1", fen(1000));
        if field == "mchid" {
            t.mchid = value.into()
        } else {
            t.appid = value.into()
        }
        let (h, b) = platform.notification(&t, NOW);
        assert_eq!(m.paid(&m.notification(&h, &b, NOW).unwrap()), Err(err));
    }
    let mut unpaid = wechat_transaction("IK1", fen(1000));
    unpaid.trade_state = "NOTPAY".into();
    let (h, b) = platform.notification(&unpaid, NOW);
    assert_eq!(
        m.paid(&m.notification(&h, &b, NOW).unwrap()),
        Err(WechatError::NotPaid("NOTPAY".into()))
    );
    assert!(Merchant::new(
        WECHAT_MCHID,
        WECHAT_APPID,
        "s",
        WECHAT_MERCHANT_PRIVATE,
        "short"
    )
    .is_err());
    assert!(Merchant::new(
        WECHAT_MCHID,
        WECHAT_APPID,
        "s",
        "not a key",
        WECHAT_APIV3_KEY
    )
    .is_err());
}

fn app() -> alipay::App {
    let mut a =
        alipay::App::new(ALIPAY_APP_ID, ALIPAY_APP_PRIVATE, ALIPAY_PLATFORM_PUBLIC).unwrap();
    a.seller_id = Some(ALIPAY_SELLER_ID.into());
    a
}

#[test]
fn alipay_requests_are_signed_over_sorted_raw_parameters() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T04:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let req = app()
        .precreate(
            "IK3",
            "墨砚会员 月卡",
            fen(990),
            15,
            "https://pay.example.com/notify/alipay",
            now,
        )
        .unwrap();
    let params: BTreeMap<String, String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(&req.body)
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(params["timestamp"], "2026-11-25 12:00:00", "Beijing time");
    let biz: serde_json::Value = serde_json::from_str(&params["biz_content"]).unwrap();
    assert_eq!(
        (
            biz["total_amount"].as_str(),
            biz["timeout_express"].as_str()
        ),
        (Some("9.90"), Some("15m"))
    );
    let public = PublicKey::from_text(ALIPAY_APP_PUBLIC).unwrap();
    assert!(public.verify_b64(
        alipay::signing_content(&params, false).as_bytes(),
        &params["sign"]
    ));
}

#[test]
fn alipay_notifications_and_answers() {
    let a = app();
    let platform = AlipayPlatform::default();
    let body = platform.notify_body(&alipay_paid_params("IK4", "10.00"));
    let paid = a
        .paid_from_notify(&a.verify_notify(&body).unwrap())
        .unwrap();
    assert_eq!(
        (paid.order_no.as_str(), paid.amount_fen),
        ("IK4", fen(1000))
    );
    assert_eq!(paid.paid_at.to_rfc3339(), "2026-11-25T04:03:10+00:00");
    assert_eq!(alipay::NOTIFY_SUCCESS, "success");

    // Tampered after signing: amount, then a field added.
    assert_eq!(
        a.verify_notify(&body.replace("total_amount=10.00", "total_amount=0.01")),
        Err(AlipayError::BadSignature)
    );
    assert_eq!(
        a.verify_notify(&format!("{body}&extra=1")),
        Err(AlipayError::BadSignature)
    );
    assert_eq!(
        a.verify_notify("sign=abc&out_trade_no=IK4"),
        Err(AlipayError::BadSignature)
    );
    assert!(a.verify_notify("%%%").is_err());
    for (k, v, err) in [
        (
            "app_id",
            "2021999999999999",
            AlipayError::Mismatch("app_id"),
        ),
        (
            "seller_id",
            "2088999999999999",
            AlipayError::Mismatch("seller_id"),
        ),
        (
            "trade_status",
            "WAIT_BUYER_PAY",
            AlipayError::NotPaid("WAIT_BUYER_PAY".into()),
        ),
    ] {
        let mut p = alipay_paid_params("IK4", "10.00");
        p.insert(k.into(), v.into());
        let n = a.verify_notify(&platform.notify_body(&p)).unwrap();
        assert_eq!(a.paid_from_notify(&n), Err(err), "{k}");
    }
    let mut odd = alipay_paid_params("IK4", "10.001");
    odd.insert("x".into(), String::new());
    assert!(matches!(
        a.paid_from_notify(&a.verify_notify(&platform.notify_body(&odd)).unwrap()),
        Err(AlipayError::Malformed(_))
    ));

    let answer = json!({"code": "10000", "msg": "Success", "out_trade_no": "IK4", "qr_code": "https://qr.alipay.com/bax0001"});
    let raw = platform.response("alipay.trade.precreate", &answer);
    assert_eq!(
        a.verify_response(&raw, "alipay.trade.precreate").unwrap()["qr_code"],
        "https://qr.alipay.com/bax0001"
    );
    assert_eq!(
        a.verify_response(&raw.replace("bax0001", "bax0002"), "alipay.trade.precreate"),
        Err(AlipayError::BadSignature)
    );
    let not_scanned = json!({"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"});
    let raw = platform.response("alipay.trade.query", &not_scanned);
    assert!(
        matches!(a.verify_response(&raw, "alipay.trade.query"), Err(AlipayError::Business { sub_code, .. }) if sub_code == "ACQ.TRADE_NOT_EXIST")
    );
    let query = json!({"code": "10000", "msg": "Success", "trade_no": "2026112522001", "out_trade_no": "IK4", "trade_status": "TRADE_SUCCESS", "total_amount": "10.00"});
    let v = a
        .verify_response(
            &platform.response("alipay.trade.query", &query),
            "alipay.trade.query",
        )
        .unwrap();
    assert_eq!(a.paid_from_query(&v).unwrap().amount_fen, 1000);
}

#[test]
fn raw_response_text_is_taken_exactly_even_with_spaces_and_braces_in_strings() {
    let raw = r#"{"alipay_trade_precreate_response" : {"code":"10000","msg":"a } b \" {","n":{"x":1}} ,"sign":"s"}"#;
    assert_eq!(
        alipay::raw_object(raw, "alipay_trade_precreate_response"),
        Some(r#"{"code":"10000","msg":"a } b \" {","n":{"x":1}}"#)
    );
    assert_eq!(alipay::raw_object("{}", "x"), None);
}
