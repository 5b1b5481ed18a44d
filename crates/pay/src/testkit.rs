//! Plays WeChat Pay and Alipay for tests: signs and encrypts notifications
//! and answers exactly as the providers do, with the test-only keys in
//! `tests/keys/` (they protect nothing).

use std::collections::BTreeMap;

use base64::Engine;
use inkstone_domain::Fen;
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
        self.event(
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &plain,
            timestamp,
        )
    }

    /// A TRANSACTION.SUCCESS notification carrying any plaintext JSON (what a faulty or
    /// hostile sender could encrypt and sign), encrypted and signed.
    pub fn notification_json(&self, plain: &Value, timestamp: i64) -> (SignedHeaders, Vec<u8>) {
        self.event(
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            plain.to_string().as_bytes(),
            timestamp,
        )
    }

    /// A refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`)
    /// carrying `notice`, encrypted with associated data `refund` and signed.
    pub fn refund_notification(
        &self,
        event_type: &str,
        notice: &crate::wechat::RefundNotice,
        timestamp: i64,
    ) -> (SignedHeaders, Vec<u8>) {
        let plain = serde_json::to_vec(notice).unwrap_or_default();
        self.event(event_type, "退款成功", "refund", &plain, timestamp)
    }

    fn event(
        &self,
        event_type: &str,
        summary: &str,
        original_type: &str,
        plain: &[u8],
        timestamp: i64,
    ) -> (SignedHeaders, Vec<u8>) {
        let nonce: String = crate::wechat::nonce().chars().take(12).collect();
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.apiv3).unwrap_or_else(|_| panic!("apiv3 key")),
        );
        let mut data = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).unwrap_or_else(|_| panic!("nonce")),
            Aad::from(original_type.as_bytes()),
            &mut data,
        )
        .unwrap_or_else(|_| panic!("seal"));
        let body = json!({
            "id": format!("EV-{}", crate::wechat::nonce()), "create_time": "2026-11-25T12:00:00+08:00",
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
            "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64::engine::general_purpose::STANDARD.encode(&data),
                         "associated_data": original_type, "nonce": nonce},
        });
        let body = body.to_string().into_bytes();
        (self.sign(&body, timestamp), body)
    }
}

/// A paid WeChat transaction of the test merchant.
pub fn wechat_transaction(order_no: &str, total_fen: Fen) -> Transaction {
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

/// One line of a fake provider's daily bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    pub order_no: String,
    pub txn_id: String,
    pub amount_fen: Fen,
    /// Beijing time, `yyyy-MM-dd HH:mm:ss`.
    pub time: String,
    /// A refund line: our refund number and its amount.
    pub refund: Option<(String, Fen)>,
}

impl BillRow {
    pub fn payment(order_no: &str, txn_id: &str, amount_fen: Fen, time: &str) -> Self {
        BillRow {
            order_no: order_no.into(),
            txn_id: txn_id.into(),
            amount_fen,
            time: time.into(),
            refund: None,
        }
    }

    pub fn refund(
        order_no: &str,
        txn_id: &str,
        amount_fen: Fen,
        refund_no: &str,
        refund_fen: Fen,
        time: &str,
    ) -> Self {
        BillRow {
            refund: Some((refund_no.into(), refund_fen)),
            ..BillRow::payment(order_no, txn_id, amount_fen, time)
        }
    }
}

/// The WeChat Pay `ALL` trade bill for these rows, as documented (format-trade): the
/// header, detail lines with every field prefixed by a backtick, the summary header and
/// the summary line. Amounts in yuan.
pub fn wechat_trade_bill(appid: &str, mchid: &str, rows: &[BillRow]) -> String {
    use crate::money::fen_to_yuan;
    let mut out = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n",
    );
    let (mut paid, mut refunded) = (Fen::ZERO, Fen::ZERO);
    let sum = |a: Fen, b: Fen| {
        a.checked_add(b)
            .unwrap_or_else(|e| panic!("bill total: {e}"))
    };
    for r in rows {
        let amount = fen_to_yuan(r.amount_fen);
        let (state, refund_id, refund_no, refund, kind, refund_state) = match &r.refund {
            Some((no, fen)) => {
                refunded = sum(refunded, *fen);
                (
                    "REFUND",
                    format!("5030{}", r.txn_id),
                    no.clone(),
                    fen_to_yuan(*fen),
                    "ORIGINAL",
                    "SUCCESS",
                )
            }
            None => {
                paid = sum(paid, r.amount_fen);
                ("SUCCESS", "0".into(), "0".into(), "0.00".into(), "", "")
            }
        };
        let fields = [
            r.time.as_str(),
            appid,
            mchid,
            "0",
            "",
            &r.txn_id,
            &r.order_no,
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "NATIVE",
            state,
            "OTHERS",
            "CNY",
            &amount,
            "0.00",
            &refund_id,
            &refund_no,
            &refund,
            "0.00",
            kind,
            refund_state,
            "墨石积分",
            "",
            "0.06000",
            "0.60%",
            &amount,
            &refund,
            "",
        ];
        let line: Vec<String> = fields.iter().map(|f| format!("`{f}")).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    out.push_str(&format!(
        "`{},`{},`{},`0.00,`0.00000,`{},`{}\r\n",
        rows.len(),
        fen_to_yuan(paid),
        fen_to_yuan(refunded),
        fen_to_yuan(paid),
        fen_to_yuan(refunded)
    ));
    out
}

/// Alipay's bill file for `bill_date` (`yyyy-MM-dd`): a zip holding the detail CSV and
/// its summary, GBK-encoded, with the `#` header and footer lines Alipay writes.
pub fn alipay_bill_zip(account: &str, bill_date: &str, rows: &[BillRow]) -> Vec<u8> {
    use crate::money::fen_to_yuan;
    use std::io::Write;
    let day = bill_date.replace('-', "");
    let mut detail = format!(
        "#支付宝业务明细查询\r\n#账号：[{account}0156]\r\n#起始日期：[{bill_date} 00:00:00]   终止日期：[{bill_date} 23:59:59]\r\n#-----------------------------------------业务明细列表----------------------------------------\r\n\
         支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
    );
    let (mut trades, mut refunds) = (0, 0);
    for r in rows {
        let amount = fen_to_yuan(r.amount_fen);
        let (kind, received, refund_no) = match &r.refund {
            Some((no, fen)) => {
                refunds += 1;
                ("退款", format!("-{}", fen_to_yuan(*fen)), no.clone())
            }
            None => {
                trades += 1;
                ("交易", amount.clone(), String::new())
            }
        };
        let fields = [
            r.txn_id.as_str(),
            &r.order_no,
            kind,
            "墨石积分",
            &r.time,
            &r.time,
            "",
            "",
            "",
            "",
            "buy***@example.com",
            &amount,
            &received,
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00",
            "0.00",
            &refund_no,
            "0.00",
            "0.00",
            "",
        ];
        // Alipay pads each field with a tab and spaces.
        let line: Vec<String> = fields.iter().map(|f| format!("{f}\t")).collect();
        detail.push_str(&line.join(","));
        detail.push_str("\r\n");
    }
    detail.push_str(&format!(
        "#-----------------------------------------业务明细列表结束------------------------------------\r\n#交易合计：{trades}笔，退款合计：{refunds}笔\r\n#导出时间：[{bill_date} 10:00:00]\r\n"
    ));
    let summary = format!(
        "#支付宝业务汇总查询\r\n#账号：[{account}0156]\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）\r\n合计,,{trades},{refunds},0.00,0.00\r\n"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in [
        (format!("{account}0156_{day}_业务明细.csv"), detail),
        (format!("{account}0156_{day}_业务明细(汇总).csv"), summary),
    ] {
        zip.start_file(name, options)
            .unwrap_or_else(|e| panic!("zip: {e}"));
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        zip.write_all(&gbk).unwrap_or_else(|e| panic!("zip: {e}"));
    }
    zip.finish()
        .unwrap_or_else(|e| panic!("zip: {e}"))
        .into_inner()
}

/// Gzip, as WeChat Pay sends a bill with `tar_type=GZIP`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap_or_else(|e| panic!("gzip: {e}"));
    enc.finish().unwrap_or_else(|e| panic!("gzip: {e}"))
}
