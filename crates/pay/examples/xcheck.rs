//! The Rust half of scripts/checks/21-pay-python.sh: one operation per call,
//! JSON in arguments, JSON out, so Python libraries we did not write can
//! check our signatures and we can check theirs.

use std::collections::BTreeMap;

use inkstone_pay::alipay::{self, App};
use inkstone_pay::receipt::Fen;
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::{Merchant, SignedHeaders};
use serde_json::{json, Value};

fn merchant() -> Merchant {
    let mut m = Merchant::new(
        WECHAT_MCHID,
        WECHAT_APPID,
        "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        WECHAT_MERCHANT_PRIVATE,
        WECHAT_APIV3_KEY,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    m.add_platform_public_key(WECHAT_PUB_KEY_ID, WECHAT_PLATFORM_PUBLIC)
        .unwrap_or_else(|e| panic!("{e}"));
    m
}

fn app() -> App {
    let mut a = App::new(ALIPAY_APP_ID, ALIPAY_APP_PRIVATE, ALIPAY_PLATFORM_PUBLIC)
        .unwrap_or_else(|e| panic!("{e}"));
    a.seller_id = Some(ALIPAY_SELLER_ID.into());
    a
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let out = match arg(0).as_str() {
        "wechat-verify" => {
            let v: Value = serde_json::from_str(&arg(1)).unwrap_or_default();
            let h = |k: &str| v["headers"][k].as_str().unwrap_or("").to_string();
            let headers = SignedHeaders {
                timestamp: h("timestamp"),
                nonce: h("nonce"),
                signature: h("signature"),
                serial: h("serial"),
            };
            let m = merchant();
            match m
                .notification(
                    &headers,
                    v["body"].as_str().unwrap_or("").as_bytes(),
                    v["now"].as_i64().unwrap_or(0),
                )
                .and_then(|t| m.paid(&t))
            {
                Ok(p) => json!({"ok": true, "order_no": p.order_no, "amount_fen": p.amount_fen}),
                Err(e) => json!({"ok": false, "error": e.to_string()}),
            }
        }
        "wechat-notify" => {
            let (h, body) = WechatPlatform::default().notification(
                &wechat_transaction(
                    &arg(1),
                    Fen::new(arg(2).parse().unwrap_or(0)).unwrap_or(Fen::ZERO),
                ),
                arg(3).parse().unwrap_or(0),
            );
            json!({"headers": {"Wechatpay-Timestamp": h.timestamp, "Wechatpay-Nonce": h.nonce, "Wechatpay-Signature": h.signature,
                               "Wechatpay-Serial": h.serial, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"},
                   "body": String::from_utf8_lossy(&body)})
        }
        "wechat-auth" => {
            let auth = merchant()
                .authorization(
                    &arg(1),
                    &arg(2),
                    &arg(3),
                    arg(4).parse().unwrap_or(0),
                    &arg(5),
                )
                .unwrap_or_default();
            json!({"authorization": auth})
        }
        "alipay-verify-notify" => match app()
            .verify_notify(&arg(1))
            .and_then(|n| app().paid_from_notify(&n))
        {
            Ok(p) => json!({"ok": true, "order_no": p.order_no, "amount_fen": p.amount_fen}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        },
        "alipay-request" => {
            let now = chrono::DateTime::parse_from_rfc3339(&arg(2))
                .map(|d| d.with_timezone(&chrono::Utc))
                .unwrap_or_default();
            let req = app()
                .precreate(
                    &arg(1),
                    "墨砚积分 100",
                    Fen::new(1000).unwrap_or(Fen::ZERO),
                    15,
                    "https://pay.example.com/notify/alipay",
                    now,
                )
                .unwrap_or_else(|e| panic!("{e}"));
            let params: BTreeMap<String, String> =
                serde_urlencoded::from_str::<Vec<(String, String)>>(&req.body)
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
            json!({"params": params})
        }
        "alipay-response" => {
            let v: Value = serde_json::from_str(&arg(2)).unwrap_or_default();
            json!({"raw": AlipayPlatform::default().response(&arg(1), &v)})
        }
        "alipay-verify-response" => match app().verify_response(&arg(2), &arg(1)) {
            Ok(v) => json!({"ok": true, "response": v}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        },
        other => json!({"error": format!("unknown operation {other}")}),
    };
    println!("{out}");
    let _ = alipay::NOTIFY_SUCCESS;
}
