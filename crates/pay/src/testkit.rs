//! Plays WeChat Pay and Alipay for tests: signs and encrypts notifications
//! and answers exactly as the providers do, with the test-only keys in
//! `tests/keys/` (they protect nothing).

use std::collections::BTreeMap;

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use serde_json::{json, Value};

use crate::alipay::signing_content;
use crate::rsa_keys::PrivateKey;
use crate::wechat::{SignedHeaders, Transaction};

pub const WECHAT_MERCHANT_PRIVATE: &str = include_str!("../tests/keys/wechat_merchant_private.pem");
pub const WECHAT_MERCHANT_PUBLIC: &str = include_str!("../tests/keys/wechat_merchant_public.pem");
pub const WECHAT_PLATFORM_PRIVATE: &str = include_str!("../tests/keys/wechat_platform_private.pem");
pub const WECHAT_PLATFORM_PUBLIC: &str = include_str!("../tests/keys/wechat_platform_public.pem");
pub const WECHAT_PLATFORM_CERT: &str = include_str!("../tests/keys/wechat_platform_cert.pem");
pub const WECHAT_PLATFORM_CERT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const WECHAT_PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
pub const WECHAT_APIV3_KEY: &str = "inkstone-test-apiv3-key-32-bytes";
pub const WECHAT_MCHID: &str = "1900007291";
pub const WECHAT_APPID: &str = "wxd678efh567hg6787";
pub const ALIPAY_APP_PRIVATE: &str = include_str!("../tests/keys/alipay_app_private.pem");
pub const ALIPAY_APP_PUBLIC: &str = include_str!("../tests/keys/alipay_app_public.pem");
pub const ALIPAY_PLATFORM_PRIVATE: &str = include_str!("../tests/keys/alipay_platform_private.pem");
pub const ALIPAY_PLATFORM_PUBLIC: &str = include_str!("../tests/keys/alipay_platform_public.pem");
pub const ALIPAY_APP_ID: &str = "2021000000000001";
pub const ALIPAY_SELLER_ID: &str = "2088000000000001";

/// The WeChat Pay side: its signing key (public-key mode id or certificate serial) and the APIv3 key.
pub struct WechatPlatform {
    key: PrivateKey,
    pub serial: String,
    apiv3: Vec<u8>,
}

impl Default for WechatPlatform {
    fn default() -> Self {
        WechatPlatform::new(WECHAT_PUB_KEY_ID)
    }
}

impl WechatPlatform {
    /// Signs as the test platform key under `serial` (a `PUB_KEY_ID_…` or the certificate serial).
    pub fn new(serial: &str) -> Self {
        WechatPlatform {
            key: PrivateKey::from_text(WECHAT_PLATFORM_PRIVATE)
                .unwrap_or_else(|e| panic!("test key: {e}")),
            serial: serial.into(),
            apiv3: WECHAT_APIV3_KEY.as_bytes().to_vec(),
        }
    }

    pub fn sign(&self, body: &[u8], timestamp: i64) -> SignedHeaders {
        let nonce = crate::wechat::nonce();
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        let signature = self
            .key
            .sign_b64(&message)
            .unwrap_or_else(|e| panic!("sign: {e}"));
        SignedHeaders {
            timestamp: timestamp.to_string(),
            nonce,
            signature,
            serial: self.serial.clone(),
        }
    }

    /// A TRANSACTION.SUCCESS notification carrying `transaction`, encrypted and signed.
    pub fn notification(
        &self,
        transaction: &Transaction,
        timestamp: i64,
    ) -> (SignedHeaders, Vec<u8>) {
        let plain = serde_json::to_vec(transaction).unwrap_or_default();
        let nonce: String = crate::wechat::nonce().chars().take(12).collect();
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.apiv3).unwrap_or_else(|_| panic!("apiv3 key")),
        );
        let mut data = plain;
        key.seal_in_place_append_tag(
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).unwrap_or_else(|_| panic!("nonce")),
            Aad::from(b"transaction"),
            &mut data,
        )
        .unwrap_or_else(|_| panic!("seal"));
        let body = json!({
            "id": format!("EV-{}", crate::wechat::nonce()), "create_time": "2026-11-25T12:00:00+08:00",
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64::engine::general_purpose::STANDARD.encode(&data),
                         "associated_data": "transaction", "nonce": nonce},
        });
        let body = body.to_string().into_bytes();
        (self.sign(&body, timestamp), body)
    }
}

/// A paid WeChat transaction of the test merchant.
pub fn wechat_transaction(order_no: &str, total_fen: i64) -> Transaction {
    serde_json::from_value(json!({
        "appid": WECHAT_APPID, "mchid": WECHAT_MCHID, "out_trade_no": order_no,
        "transaction_id": format!("4200{order_no}"), "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "success_time": "2026-11-25T12:03:10+08:00",
        "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY"},
    }))
    .unwrap_or_else(|e| panic!("transaction: {e}"))
}

/// The Alipay side.
pub struct AlipayPlatform {
    key: PrivateKey,
}

impl Default for AlipayPlatform {
    fn default() -> Self {
        AlipayPlatform {
            key: PrivateKey::from_text(ALIPAY_PLATFORM_PRIVATE)
                .unwrap_or_else(|e| panic!("test key: {e}")),
        }
    }
}

impl AlipayPlatform {
    /// A signed notification form body for these parameters.
    pub fn notify_body(&self, params: &BTreeMap<String, String>) -> String {
        let mut params = params.clone();
        params.insert("sign_type".into(), "RSA2".into());
        let sign = self
            .key
            .sign_b64(signing_content(&params, true).as_bytes())
            .unwrap_or_else(|e| panic!("sign: {e}"));
        params.insert("sign".into(), sign);
        serde_urlencoded::to_string(&params).unwrap_or_default()
    }

    /// A gateway answer as raw text, signed over the exact `…_response` text.
    pub fn response(&self, method: &str, response: &Value) -> String {
        let inner = response.to_string();
        let sign = self
            .key
            .sign_b64(inner.as_bytes())
            .unwrap_or_else(|e| panic!("sign: {e}"));
        format!(
            "{{\"{}_response\":{inner},\"sign\":\"{sign}\"}}",
            method.replace('.', "_")
        )
    }
}

/// The parameters of a TRADE_SUCCESS notification of the test app.
pub fn alipay_paid_params(order_no: &str, total_amount: &str) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for (k, v) in [
        ("notify_time", "2026-11-25 12:03:12"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("app_id", ALIPAY_APP_ID),
        ("auth_app_id", ALIPAY_APP_ID),
        ("out_trade_no", order_no),
        ("seller_id", ALIPAY_SELLER_ID),
        ("buyer_id", "2088102122524333"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", total_amount),
        ("receipt_amount", total_amount),
        ("subject", "墨砚积分"),
        ("gmt_create", "2026-11-25 12:02:50"),
        ("gmt_payment", "2026-11-25 12:03:10"),
    ] {
        p.insert(k.to_string(), v.to_string());
    }
    // One trade per order, as Alipay numbers them.
    p.insert("trade_no".into(), format!("20261125220014{order_no}"));
    p
}
