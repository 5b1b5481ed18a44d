//! The sandbox provider: what the server offers when no merchant keys are
//! configured. Its QR code opens a page on this server; "confirm" there
//! books the payment in the sandbox's own ledger (as a real provider would)
//! and sends a notification signed with HMAC-SHA256, which goes through the
//! same verify → match → mark-paid path as WeChat Pay and Alipay.

use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use inkstone_domain::{Fen, OrderNo};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::ApiError;
use crate::orders::{evidence_order_no, PaymentEvidence};

pub const PROVIDER: &str = "sandbox";
pub const SIGNATURE_HEADER: &str = "x-sandbox-signature";
pub const TIMESTAMP_HEADER: &str = "x-sandbox-timestamp";
/// Notifications older or newer than this are refused (replays).
pub const WINDOW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// Text on the wire: parsed by [`SandboxKey::verify`] like any provider's.
    pub order_no: String,
    /// Integer fen; a negative amount is a malformed body.
    pub amount_fen: Fen,
    pub currency: String,
    pub txn_id: String,
    /// Unix seconds.
    pub paid_at: i64,
}

#[derive(Clone)]
pub struct SandboxKey(Vec<u8>);

impl SandboxKey {
    pub fn new(secret: &[u8]) -> Self {
        SandboxKey(secret.to_vec())
    }

    pub fn random() -> Self {
        SandboxKey((0..32).map(|_| rand::random::<u8>()).collect())
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(body);
        mac
    }

    /// Signature header value for `body` sent at `timestamp` (Unix seconds).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        hex::encode(self.mac(timestamp, body).finalize().into_bytes())
    }

    /// Checks signature and freshness over the raw bytes, then parses them.
    pub fn verify(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now_secs: i64,
    ) -> Result<PaymentEvidence, ApiError> {
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| ApiError::Rejected("bad timestamp".into()))?;
        // abs_diff: any i64 in the header is a 400, never an overflow.
        if now_secs.abs_diff(ts) >= WINDOW_SECS.unsigned_abs() {
            return Err(ApiError::Rejected("stale or future timestamp".into()));
        }
        let sig = hex::decode(signature.trim())
            .map_err(|_| ApiError::Rejected("bad signature".into()))?;
        self.mac(ts, body)
            .verify_slice(&sig)
            .map_err(|_| ApiError::Rejected("bad signature".into()))?;
        let n: Notification = serde_json::from_slice(body)
            .map_err(|_| ApiError::Rejected("malformed body".into()))?;
        let paid_at = Utc
            .timestamp_opt(n.paid_at, 0)
            .single()
            .ok_or_else(|| ApiError::Rejected("bad paid_at".into()))?;
        Ok(PaymentEvidence {
            provider: PROVIDER.into(),
            order_no: evidence_order_no(&n.order_no)?,
            amount_fen: n.amount_fen,
            currency: n.currency,
            provider_txn_id: n.txn_id,
            paid_at,
        })
    }
}

/// The pay page a phone opens from the QR code.
pub fn pay_page(order_no: &OrderNo, amount_fen: Fen, sku: &str, status: &str) -> String {
    let yuan = inkstone_pay::money::fen_to_yuan(amount_fen);
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let action = if status == "PENDING" {
        format!(
            r#"<form method="post" action="/sandbox/pay/{no}/confirm"><button id="confirm" type="submit">确认支付 / Confirm payment ¥{yuan}</button></form>"#,
            no = esc(order_no)
        )
    } else {
        format!(r#"<p id="status">订单状态 / status: {}</p>"#, esc(status))
    };
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>沙箱支付 Sandbox</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto"><h1>沙箱支付 · Sandbox payment</h1>
<p>这是测试环境，不会扣真实的钱。This is a sandbox: no real money moves.</p>
<p>订单 / order: <code>{no}</code><br>商品 / item: {sku}<br>金额 / amount: ¥{yuan}</p>{action}</body></html>"#,
        no = esc(order_no),
        sku = esc(sku)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The sandbox's message is parsed like a provider's: integer fen that is never
    /// negative, and an order number that must parse (else "unknown order", as a lookup
    /// would answer).
    #[test]
    fn amounts_and_order_numbers_are_parsed_where_the_notification_comes_in() {
        let key = SandboxKey::new(b"test-sandbox-key");
        let now = 1_795_000_000;
        let verify = |body: serde_json::Value| {
            let body = body.to_string().into_bytes();
            key.verify(&now.to_string(), &key.sign(now, &body), &body, now)
        };
        let good = json!({"order_no": "IK20261125120000ABCDEFGHJK", "amount_fen": 1000,
                          "currency": "CNY", "txn_id": "SBX1", "paid_at": now});
        let evidence = verify(good.clone()).unwrap();
        assert_eq!(evidence.order_no, "IK20261125120000ABCDEFGHJK");
        assert_eq!(evidence.amount_fen, Fen::new(1000).unwrap());
        for (field, value, why) in [
            ("amount_fen", json!(-1000), "malformed body"),
            ("amount_fen", json!(10.5), "malformed body"),
            (
                "amount_fen",
                json!(9_223_372_036_854_775_808u64),
                "malformed body",
            ),
            ("order_no", json!("IK/../x"), "unknown order"),
            ("order_no", json!("IK1"), "unknown order"),
        ] {
            let mut body = good.clone();
            body[field] = value.clone();
            match verify(body) {
                Err(ApiError::Rejected(text)) => assert_eq!(text, why, "{field} {value}"),
                other => panic!("{field} {value}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_pay_page_shows_yuan_with_two_decimals() {
        let no: OrderNo = "IK20261125120000ABCDEFGHJK".parse().unwrap();
        let page = pay_page(&no, Fen::new(1005).unwrap(), "credits_100", "PENDING");
        assert!(page.contains("¥10.05"), "{page}");
        assert!(page.contains("/sandbox/pay/IK20261125120000ABCDEFGHJK/confirm"));
    }
}
