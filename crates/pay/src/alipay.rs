//! Alipay 当面付 (precreate / query / close) with RSA2: signed requests, the
//! raw-text response signature, and verified async notifications.
//! Pure protocol: HTTP is the caller's; this builds and checks bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use inkstone_domain::Fen;
use serde_json::{json, Value};

use crate::money::{fen_to_yuan, yuan_to_fen};
use crate::rsa_keys::{KeyError, PrivateKey, PublicKey};
use crate::{HttpRequest, PaidTransaction};

pub const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// The exact body Alipay needs to stop resending a notification.
pub const NOTIFY_SUCCESS: &str = "success";
/// The method that answers where the day's bill can be downloaded.
pub const BILL_URL_QUERY: &str = "alipay.data.dataservice.bill.downloadurl.query";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlipayError {
    #[error("key: {0}")]
    Key(#[from] KeyError),
    #[error("bad signature")]
    BadSignature,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("Alipay answered {code} {sub_code}: {message}")]
    Business {
        code: String,
        sub_code: String,
        message: String,
    },
    #[error("{0} does not match this app")]
    Mismatch(&'static str),
    #[error("not paid (trade_status {0})")]
    NotPaid(String),
}

/// The signing content: every parameter but `sign` (and, for notifications,
/// `sign_type`), empty values dropped, sorted by key, `k=v` joined by `&`.
pub fn signing_content(params: &BTreeMap<String, String>, drop_sign_type: bool) -> String {
    params
        .iter()
        .filter(|(k, v)| {
            k.as_str() != "sign" && !(drop_sign_type && k.as_str() == "sign_type") && !v.is_empty()
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The exact text of the JSON object that follows `"key":` in `raw`.
pub fn raw_object<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\"");
    let start = raw.find(&needle)? + needle.len();
    let rest = raw[start..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let offset = raw.len() - rest.len();
    if !rest.starts_with('{') {
        return None;
    }
    let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
    for (i, c) in rest.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&raw[offset..offset + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// A verified notification's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    pub params: BTreeMap<String, String>,
}

impl Notify {
    pub fn get(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("")
    }
}

pub struct App {
    pub app_id: String,
    /// The merchant's Alipay user id (`seller_id` in notifications), if known.
    pub seller_id: Option<String>,
    pub gateway: String,
    key: PrivateKey,
    alipay_key: PublicKey,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("UTC+8 is a valid offset"))
}

impl App {
    pub fn new(
        app_id: &str,
        app_private_key: &str,
        alipay_public_key: &str,
    ) -> Result<Self, AlipayError> {
        Ok(App {
            app_id: app_id.into(),
            seller_id: None,
            gateway: GATEWAY.into(),
            key: PrivateKey::from_text(app_private_key)?,
            alipay_key: PublicKey::from_text(alipay_public_key)?,
        })
    }

    /// The signed parameters of an API call, as a form body for the gateway.
    fn request(
        &self,
        method: &str,
        biz: Value,
        notify_url: Option<&str>,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        let mut params = BTreeMap::new();
        params.insert("app_id".to_string(), self.app_id.clone());
        params.insert("method".to_string(), method.to_string());
        params.insert("format".to_string(), "JSON".to_string());
        params.insert("charset".to_string(), "utf-8".to_string());
        params.insert("sign_type".to_string(), "RSA2".to_string());
        params.insert(
            "timestamp".to_string(),
            now.with_timezone(&beijing())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
        );
        params.insert("version".to_string(), "1.0".to_string());
        params.insert("biz_content".to_string(), biz.to_string());
        if let Some(url) = notify_url {
            params.insert("notify_url".to_string(), url.to_string());
        }
        let sign = self
            .key
            .sign_b64(signing_content(&params, false).as_bytes())?;
        params.insert("sign".to_string(), sign);
        let body = serde_urlencoded::to_string(&params)
            .map_err(|e| AlipayError::Malformed(e.to_string()))?;
        Ok(HttpRequest {
            method: "POST",
            url: self.gateway.clone(),
            headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded;charset=utf-8".into(),
            )],
            body,
        })
    }

    /// `alipay.trade.precreate`: the answer's `qr_code` is the QR text.
    pub fn precreate(
        &self,
        order_no: &str,
        subject: &str,
        amount_fen: Fen,
        timeout_minutes: u32,
        notify_url: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        let biz = json!({"out_trade_no": order_no, "total_amount": fen_to_yuan(amount_fen),
                         "subject": subject.chars().take(128).collect::<String>(), "timeout_express": format!("{}m", timeout_minutes.clamp(1, 21600))});
        self.request("alipay.trade.precreate", biz, Some(notify_url), now)
    }

    pub fn query(
        &self,
        order_no: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        self.request(
            "alipay.trade.query",
            json!({"out_trade_no": order_no}),
            None,
            now,
        )
    }

    pub fn close(
        &self,
        order_no: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        self.request(
            "alipay.trade.close",
            json!({"out_trade_no": order_no}),
            None,
            now,
        )
    }

    /// `alipay.trade.refund`: `refund_no` is our stable out_request_no, so a call sent
    /// again after a timeout refunds once (Alipay answers `fund_change: "N"`).
    pub fn refund(
        &self,
        order_no: &str,
        refund_no: &str,
        refund_fen: Fen,
        reason: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        self.request(
            "alipay.trade.refund",
            json!({"out_trade_no": order_no, "refund_amount": fen_to_yuan(refund_fen),
                   "out_request_no": refund_no, "refund_reason": reason.chars().take(256).collect::<String>()}),
            None,
            now,
        )
    }

    /// `alipay.trade.fastpay.refund.query` for our `out_request_no`.
    pub fn refund_query(
        &self,
        order_no: &str,
        refund_no: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        self.request(
            "alipay.trade.fastpay.refund.query",
            json!({"out_trade_no": order_no, "out_request_no": refund_no,
                   "query_options": ["gmt_refund_pay"]}),
            None,
            now,
        )
    }

    /// `alipay.data.dataservice.bill.downloadurl.query` for the day's trade bill
    /// (`bill_date` `yyyy-MM-dd`): the answer's `bill_download_url` is a zip of GBK CSVs.
    pub fn bill_url_query(
        &self,
        bill_date: &str,
        now: DateTime<chrono::Utc>,
    ) -> Result<HttpRequest, AlipayError> {
        if !crate::wechat::valid_bill_date(bill_date) {
            return Err(AlipayError::Malformed("bill_date".into()));
        }
        self.request(
            BILL_URL_QUERY,
            json!({"bill_type": "trade", "bill_date": bill_date}),
            None,
            now,
        )
    }

    /// Verifies a gateway answer over the raw text of its `…_response`
    /// object (never re-serialised) and returns it if `code` is 10000.
    pub fn verify_response(&self, raw: &str, method: &str) -> Result<Value, AlipayError> {
        let key = format!("{}_response", method.replace('.', "_"));
        let (object, key_used) = match raw_object(raw, &key) {
            Some(o) => (o, key),
            None => (
                raw_object(raw, "error_response")
                    .ok_or_else(|| AlipayError::Malformed("no response object".into()))?,
                "error_response".into(),
            ),
        };
        // A duplicated key anywhere would let the signed object (the first) differ from
        // the one a JSON parser keeps (the last): refused before anything is read.
        serde_json::from_str::<NoDuplicateKeys>(raw)
            .map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let whole: Value =
            serde_json::from_str(raw).map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let sign = whole
            .get("sign")
            .and_then(Value::as_str)
            .ok_or(AlipayError::BadSignature)?;
        if !self.alipay_key.verify_b64(object.as_bytes(), sign) {
            return Err(AlipayError::BadSignature);
        }
        let v = whole.get(&key_used).cloned().unwrap_or(Value::Null);
        let code = v.get("code").and_then(Value::as_str).unwrap_or("");
        if code != "10000" {
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            return Err(AlipayError::Business {
                code: code.into(),
                sub_code: s("sub_code"),
                message: s("sub_msg") + &s("msg"),
            });
        }
        Ok(v)
    }

    /// A notification (form body, decoded once): signature checked first.
    pub fn verify_notify(&self, form_body: &str) -> Result<Notify, AlipayError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(form_body)
            .map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let mut params = BTreeMap::new();
        for (k, v) in pairs {
            if params.insert(k, v).is_some() {
                return Err(AlipayError::Malformed("a repeated parameter".into()));
            }
        }
        let sign = params
            .get("sign")
            .cloned()
            .ok_or(AlipayError::BadSignature)?;
        if params.get("sign_type").is_some_and(|t| t != "RSA2") {
            return Err(AlipayError::BadSignature);
        }
        if !self
            .alipay_key
            .verify_b64(signing_content(&params, true).as_bytes(), &sign)
        {
            return Err(AlipayError::BadSignature);
        }
        Ok(Notify { params })
    }

    /// A paid trade of this app from a verified notification or query answer.
    /// `require_ids`: the message must name this app and seller (notifications, which
    /// anyone's Alipay app could have sent us); a query answer answers our own signed
    /// call and carries them only sometimes, so there they are checked when present.
    pub fn paid(
        &self,
        fields: &dyn Fn(&str) -> String,
        require_ids: bool,
    ) -> Result<PaidTransaction, AlipayError> {
        let app_id = fields("app_id");
        if (require_ids || !app_id.is_empty()) && app_id != self.app_id {
            return Err(AlipayError::Mismatch("app_id"));
        }
        let seller = fields("seller_id");
        match &self.seller_id {
            Some(ours) if (require_ids || !seller.is_empty()) && &seller != ours => {
                return Err(AlipayError::Mismatch("seller_id"));
            }
            None if require_ids => return Err(AlipayError::Mismatch("seller_id")),
            _ => {}
        }
        let status = fields("trade_status");
        if status != "TRADE_SUCCESS" && status != "TRADE_FINISHED" {
            return Err(AlipayError::NotPaid(status));
        }
        let amount_fen = yuan_to_fen(&fields("total_amount"))
            .map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let paid = fields("gmt_payment");
        let paid_at = NaiveDateTime::parse_from_str(&paid, "%Y-%m-%d %H:%M:%S")
            .ok()
            .and_then(|n| beijing().from_local_datetime(&n).single())
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_else(chrono::Utc::now);
        let trade_no = fields("trade_no");
        if trade_no.is_empty() {
            return Err(AlipayError::Malformed("trade_no".into()));
        }
        Ok(PaidTransaction {
            order_no: fields("out_trade_no"),
            amount_fen,
            currency: "CNY".into(),
            provider_txn_id: trade_no,
            paid_at,
        })
    }

    pub fn paid_from_notify(&self, n: &Notify) -> Result<PaidTransaction, AlipayError> {
        self.paid(&|k| n.get(k).to_string(), true)
    }

    pub fn paid_from_query(&self, answer: &Value) -> Result<PaidTransaction, AlipayError> {
        self.paid(
            &|k| {
                answer
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            },
            false,
        )
    }
}

/// Deserialises any JSON and fails on a key that appears twice in one object, at any depth.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeysVisitor)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON without duplicated keys")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(serde::de::Error::custom("duplicated key"));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
}
