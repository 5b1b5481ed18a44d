//! WeChat Pay APIv3, Native (QR) payments: signed requests, verified
//! answers and notifications (platform public key or certificate, 5-minute
//! window, probe signatures refused), AEAD_AES_256_GCM resources.
//! Pure protocol: HTTP is the caller's; this builds and checks bytes.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, FixedOffset};
use inkstone_domain::Fen;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::rsa_keys::{KeyError, PrivateKey, PublicKey};
use crate::{HttpRequest, PaidTransaction};

pub const API_HOST: &str = "https://api.mch.weixin.qq.com";
/// Notifications and answers older or newer than this are refused.
pub const WINDOW_SECS: i64 = 300;
const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    #[error("key: {0}")]
    Key(#[from] KeyError),
    #[error("the APIv3 key must be 32 bytes")]
    ApiV3Key,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("timestamp outside the 5-minute window")]
    Stale,
    #[error("a probe signature (WECHATPAY/SIGNTEST/) is never valid")]
    Probe,
    #[error("no platform key with serial {0}")]
    UnknownSerial(String),
    #[error("bad signature")]
    BadSignature,
    #[error("cannot decrypt the resource")]
    Decrypt,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("{0} does not match this merchant")]
    Mismatch(&'static str),
    #[error("not paid (trade_state {0})")]
    NotPaid(String),
}

/// The four headers that sign an answer or a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

impl SignedHeaders {
    /// From any header map, by a case-insensitive lookup function.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, WechatError> {
        Ok(SignedHeaders {
            timestamp: get("wechatpay-timestamp")
                .ok_or(WechatError::MissingHeader("Wechatpay-Timestamp"))?,
            nonce: get("wechatpay-nonce").ok_or(WechatError::MissingHeader("Wechatpay-Nonce"))?,
            signature: get("wechatpay-signature")
                .ok_or(WechatError::MissingHeader("Wechatpay-Signature"))?,
            serial: get("wechatpay-serial")
                .ok_or(WechatError::MissingHeader("Wechatpay-Serial"))?,
        })
    }
}

/// Integer fen on the wire; a negative or out-of-range amount fails to parse (`Malformed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub total: Fen,
    #[serde(default)]
    pub payer_total: Option<Fen>,
    #[serde(default = "cny")]
    pub currency: String,
}

/// JSON from WeChat Pay (an answer or a decrypted resource) into `T`, or `Malformed`.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WechatError> {
    serde_json::from_slice(bytes).map_err(|e| WechatError::Malformed(e.to_string()))
}

fn cny() -> String {
    "CNY".into()
}

/// The transaction resource (notification plaintext and query answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub trade_type: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub amount: Option<Amount>,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

#[derive(Debug, Deserialize)]
struct NotificationEnvelope {
    #[serde(default)]
    event_type: String,
    resource: Resource,
}

/// A refund's amounts (answers and notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: Fen,
    pub refund: Fen,
    #[serde(default = "cny")]
    pub currency: String,
}

/// The Refund resource: the answer of a refund request and of a refund query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// SUCCESS, CLOSED, PROCESSING or ABNORMAL.
    pub status: String,
    pub amount: RefundAmount,
    #[serde(default)]
    pub success_time: Option<String>,
}

/// A refund notification's plaintext (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: String,
    pub amount: RefundAmount,
    #[serde(default)]
    pub success_time: Option<String>,
}

/// A verified notification of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    Transaction(Transaction),
    Refund(RefundNotice),
}

/// The signed answer to a trade bill request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TradeBillAnswer {
    pub hash_type: String,
    pub hash_value: String,
    pub download_url: String,
}

/// `yyyy-MM-dd`, a real date.
pub fn valid_bill_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// `time_expire` as WeChat Pay takes it: RFC 3339 in whole seconds with the offset
/// (`2026-11-25T12:15:00+08:00`), never a fraction.
pub fn time_expire_text(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A merchant's credentials and the platform keys it trusts.
pub struct Merchant {
    pub mchid: String,
    pub appid: String,
    /// Serial of the merchant API certificate (goes into `Authorization`).
    pub serial_no: String,
    key: PrivateKey,
    apiv3_key: Vec<u8>,
    platform: HashMap<String, PublicKey>,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

pub fn nonce() -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..32)
        .map(|_| A[rand::random::<usize>() % A.len()] as char)
        .collect()
}

impl Merchant {
    pub fn new(
        mchid: &str,
        appid: &str,
        serial_no: &str,
        private_key: &str,
        apiv3_key: &str,
    ) -> Result<Self, WechatError> {
        if apiv3_key.len() != 32 {
            return Err(WechatError::ApiV3Key);
        }
        Ok(Merchant {
            mchid: mchid.into(),
            appid: appid.into(),
            serial_no: serial_no.into(),
            key: PrivateKey::from_text(private_key)?,
            apiv3_key: apiv3_key.as_bytes().to_vec(),
            platform: HashMap::new(),
        })
    }

    /// WeChat Pay public-key mode: `id` is `PUB_KEY_ID_…`.
    pub fn add_platform_public_key(&mut self, id: &str, pem: &str) -> Result<(), WechatError> {
        self.platform
            .insert(id.to_string(), PublicKey::from_text(pem)?);
        Ok(())
    }

    /// Platform-certificate mode; returns the certificate serial. Both modes
    /// may be configured at once during a switch.
    pub fn add_platform_certificate(&mut self, pem: &str) -> Result<String, WechatError> {
        let (serial, key) = PublicKey::from_certificate(pem)?;
        self.platform.insert(serial.clone(), key);
        Ok(serial)
    }

    /// `Authorization` for a request: signs `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        timestamp: i64,
        nonce: &str,
    ) -> Result<String, WechatError> {
        let message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = self.key.sign_b64(message.as_bytes())?;
        Ok(format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{}\",signature=\"{signature}\"",
            self.mchid, self.serial_no
        ))
    }

    fn request(
        &self,
        method: &'static str,
        path: String,
        body: String,
        timestamp: i64,
    ) -> Result<HttpRequest, WechatError> {
        let auth = self.authorization(method, &path, &body, timestamp, &nonce())?;
        let mut headers = vec![
            ("Authorization".to_string(), auth),
            ("Accept".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), "inkstone-server".to_string()),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        Ok(HttpRequest {
            method,
            url: format!("{API_HOST}{path}"),
            headers,
            body,
        })
    }

    /// `POST /v3/pay/transactions/native`; the answer holds `code_url` (the QR text).
    pub fn native_create(
        &self,
        order_no: &str,
        description: &str,
        amount_fen: Fen,
        time_expire: DateTime<FixedOffset>,
        notify_url: &str,
        timestamp: i64,
    ) -> Result<HttpRequest, WechatError> {
        let body = json!({
            "appid": self.appid, "mchid": self.mchid, "description": description.chars().take(127).collect::<String>(),
            "out_trade_no": order_no, "time_expire": time_expire_text(time_expire), "notify_url": notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
        });
        self.request(
            "POST",
            "/v3/pay/transactions/native".into(),
            body.to_string(),
            timestamp,
        )
    }

    pub fn query(&self, order_no: &str, timestamp: i64) -> Result<HttpRequest, WechatError> {
        self.request(
            "GET",
            format!(
                "/v3/pay/transactions/out-trade-no/{order_no}?mchid={}",
                self.mchid
            ),
            String::new(),
            timestamp,
        )
    }

    pub fn close(&self, order_no: &str, timestamp: i64) -> Result<HttpRequest, WechatError> {
        let body = json!({"mchid": self.mchid}).to_string();
        self.request(
            "POST",
            format!("/v3/pay/transactions/out-trade-no/{order_no}/close"),
            body,
            timestamp,
        )
    }

    /// `POST /v3/refund/domestic/refunds`: `refund_no` is our stable out_refund_no, so a
    /// request sent again after a timeout refunds once.
    #[allow(clippy::too_many_arguments)]
    pub fn refund(
        &self,
        order_no: &str,
        refund_no: &str,
        reason: &str,
        refund_fen: Fen,
        total_fen: Fen,
        notify_url: &str,
        timestamp: i64,
    ) -> Result<HttpRequest, WechatError> {
        let body = json!({
            "out_trade_no": order_no, "out_refund_no": refund_no,
            "reason": reason.chars().take(80).collect::<String>(), "notify_url": notify_url,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        });
        self.request(
            "POST",
            "/v3/refund/domestic/refunds".into(),
            body.to_string(),
            timestamp,
        )
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
    pub fn refund_query(
        &self,
        refund_no: &str,
        timestamp: i64,
    ) -> Result<HttpRequest, WechatError> {
        if refund_no.is_empty()
            || refund_no.len() > 64
            || !refund_no
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
        {
            return Err(WechatError::Malformed("out_refund_no".into()));
        }
        self.request(
            "GET",
            format!("/v3/refund/domestic/refunds/{refund_no}"),
            String::new(),
            timestamp,
        )
    }

    /// A signed answer: its signature verified first, then its JSON read.
    fn verified_json<T: serde::de::DeserializeOwned>(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<T, WechatError> {
        self.verify(headers, body, now)?;
        parse_json(body)
    }

    /// The answer of [`Merchant::refund`] or [`Merchant::refund_query`], verified, then parsed.
    pub fn refund_answer(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<Refund, WechatError> {
        self.verified_json(headers, body, now)
    }

    /// Any notification: verified, decrypted and parsed by its `event_type`
    /// (`TRANSACTION.*` or `REFUND.*`); a refund must be of this merchant.
    pub fn notification_any(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<Notified, WechatError> {
        self.verify(headers, body, now)?;
        let env: NotificationEnvelope = parse_json(body)?;
        if env.event_type.starts_with("REFUND.") {
            let plain = self.decrypt(&env.resource)?;
            let n: RefundNotice = parse_json(&plain)?;
            if n.mchid != self.mchid {
                return Err(WechatError::Mismatch("mchid"));
            }
            return Ok(Notified::Refund(n));
        }
        self.notification(headers, body, now)
            .map(Notified::Transaction)
    }

    /// `GET /v3/bill/tradebill`: the day's `ALL` trade bill (`bill_date` is
    /// `yyyy-MM-dd`), gzip-compressed. The signed answer is read by [`Merchant::trade_bill_answer`].
    pub fn trade_bill(&self, bill_date: &str, timestamp: i64) -> Result<HttpRequest, WechatError> {
        if !valid_bill_date(bill_date) {
            return Err(WechatError::Malformed(format!(
                "bill_date {}",
                bill_date.chars().take(16).collect::<String>()
            )));
        }
        self.request(
            "GET",
            format!("/v3/bill/tradebill?bill_date={bill_date}&bill_type=ALL&tar_type=GZIP"),
            String::new(),
            timestamp,
        )
    }

    /// The answer of [`Merchant::trade_bill`], verified, then parsed.
    pub fn trade_bill_answer(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<TradeBillAnswer, WechatError> {
        self.verified_json(headers, body, now)
    }

    /// The GET of a bill's `download_url`: signed like any call (over the URL's path and
    /// query); its answer is not signed, the bill's SHA-1 is checked instead.
    pub fn bill_download(
        &self,
        download_url: &str,
        timestamp: i64,
    ) -> Result<HttpRequest, WechatError> {
        let rest = download_url
            .strip_prefix("https://")
            .or_else(|| download_url.strip_prefix("http://"))
            .ok_or_else(|| WechatError::Malformed("download_url".into()))?;
        let path = rest
            .find('/')
            .map(|i| &rest[i..])
            .ok_or_else(|| WechatError::Malformed("download_url".into()))?;
        let auth = self.authorization("GET", path, "", timestamp, &nonce())?;
        Ok(HttpRequest {
            method: "GET",
            url: download_url.to_string(),
            headers: vec![
                ("Authorization".to_string(), auth),
                ("User-Agent".to_string(), "inkstone-server".to_string()),
            ],
            body: String::new(),
        })
    }

    /// Checks a signed answer or notification over the raw body bytes.
    pub fn verify(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<(), WechatError> {
        if headers.signature.starts_with(PROBE_PREFIX) {
            return Err(WechatError::Probe);
        }
        let ts: i64 = headers
            .timestamp
            .trim()
            .parse()
            .map_err(|_| WechatError::Stale)?;
        // abs_diff: no overflow or panic for any i64 in the header (i64::MIN included).
        if now.abs_diff(ts) >= WINDOW_SECS.unsigned_abs() {
            return Err(WechatError::Stale);
        }
        let key = self
            .platform
            .get(headers.serial.trim())
            .ok_or_else(|| WechatError::UnknownSerial(headers.serial.chars().take(64).collect()))?;
        let mut message = Vec::with_capacity(body.len() + 64);
        message.extend_from_slice(headers.timestamp.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(headers.nonce.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(body);
        message.push(b'\n');
        if !key.verify_b64(&message, &headers.signature) {
            return Err(WechatError::BadSignature);
        }
        Ok(())
    }

    fn decrypt(&self, r: &Resource) -> Result<Vec<u8>, WechatError> {
        if r.algorithm != "AEAD_AES_256_GCM" {
            return Err(WechatError::Malformed(format!("algorithm {}", r.algorithm)));
        }
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.apiv3_key).map_err(|_| WechatError::ApiV3Key)?,
        );
        let nonce = Nonce::try_assume_unique_for_key(r.nonce.as_bytes())
            .map_err(|_| WechatError::Decrypt)?;
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(&r.ciphertext)
            .map_err(|_| WechatError::Decrypt)?;
        let plain = key
            .open_in_place(nonce, Aad::from(r.associated_data.as_bytes()), &mut data)
            .map_err(|_| WechatError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// A payment notification: verified, decrypted, parsed. Not yet matched to an order.
    pub fn notification(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<Transaction, WechatError> {
        self.verify(headers, body, now)?;
        let env: NotificationEnvelope = parse_json(body)?;
        if !env.event_type.is_empty() && !env.event_type.starts_with("TRANSACTION.") {
            return Err(WechatError::Malformed(format!("event {}", env.event_type)));
        }
        let plain = self.decrypt(&env.resource)?;
        parse_json(&plain)
    }

    /// The answer of [`Merchant::query`]: verified, then parsed.
    pub fn query_answer(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
    ) -> Result<Transaction, WechatError> {
        self.verified_json(headers, body, now)
    }

    /// A paid transaction of this merchant, or why not.
    pub fn paid(&self, t: &Transaction) -> Result<PaidTransaction, WechatError> {
        if t.mchid != self.mchid {
            return Err(WechatError::Mismatch("mchid"));
        }
        if t.appid != self.appid {
            return Err(WechatError::Mismatch("appid"));
        }
        if t.trade_state != "SUCCESS" {
            return Err(WechatError::NotPaid(t.trade_state.clone()));
        }
        // We only sell by QR code: a paid JSAPI or APP trade is not one of our orders.
        if t.trade_type.as_deref() != Some("NATIVE") {
            return Err(WechatError::Mismatch("trade_type"));
        }
        let amount = t
            .amount
            .as_ref()
            .ok_or_else(|| WechatError::Malformed("no amount".into()))?;
        let paid_at = t
            .success_time
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&chrono::Utc))
            .ok_or_else(|| WechatError::Malformed("success_time".into()))?;
        Ok(PaidTransaction {
            order_no: t.out_trade_no.clone(),
            amount_fen: amount.total,
            currency: amount.currency.clone(),
            provider_txn_id: t
                .transaction_id
                .clone()
                .ok_or_else(|| WechatError::Malformed("transaction_id".into()))?,
            paid_at,
        })
    }
}
