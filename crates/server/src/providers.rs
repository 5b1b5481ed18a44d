//! WeChat Pay and Alipay as the server uses them: create the provider's
//! order (QR text), ask about it, close it, and turn verified messages into
//! [`PaymentEvidence`]. The protocol bytes are crates/pay's.

use std::time::Duration;

use chrono::{FixedOffset, TimeZone, Utc};
use inkstone_domain::{Fen, OrderNo};
use inkstone_pay::alipay::{self, AlipayError};
use inkstone_pay::wechat::{Merchant, SignedHeaders, WechatError};
use inkstone_pay::{bill, HttpRequest, PaidTransaction};

use crate::config::{AlipayConfig, WechatConfig};
use crate::error::ApiError;
use crate::orders::{evidence_order_no, PaymentEvidence};

/// Why a provider's settings cannot be used (at start, before anything is served).
#[derive(Debug, thiserror::Error)]
pub enum ProviderConfigError {
    /// Occurs when a key or certificate file named in the config cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// Occurs when WeChat Pay's merchant key, platform key or certificate is refused.
    #[error("WeChat Pay settings: {0}")]
    Wechat(#[from] inkstone_pay::wechat::WechatError),
    /// Occurs when the Alipay app key or Alipay's public key is refused.
    #[error("Alipay settings: {0}")]
    Alipay(#[from] inkstone_pay::alipay::AlipayError),
    /// Occurs when a setting that must be given is empty.
    #[error("{0} is required")]
    Missing(&'static str),
}

fn read(path: &std::path::Path) -> Result<String, ProviderConfigError> {
    std::fs::read_to_string(path).map_err(|source| ProviderConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// One timed provider call (metrics: `inkstone_provider_call_seconds`).
async fn timed<T>(
    metrics: &crate::metrics::Metrics,
    provider: &str,
    call: &str,
    f: impl std::future::Future<Output = T>,
) -> T {
    let start = std::time::Instant::now();
    let out = f.await;
    metrics.provider_call(provider, call, start.elapsed().as_secs_f64());
    out
}

async fn send(
    http: &reqwest::Client,
    timeout: Duration,
    req: &HttpRequest,
    url: &str,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), ApiError> {
    let mut r = match req.method {
        "GET" => http.get(url),
        _ => http.post(url),
    };
    for (k, v) in &req.headers {
        r = r.header(k, v);
    }
    if !req.body.is_empty() {
        r = r.body(req.body.clone());
    }
    let resp =
        r.timeout(timeout).send().await.map_err(|e| {
            ApiError::Provider(format!("provider unreachable: {}", e.without_url()))
        })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| ApiError::Provider(e.without_url().to_string()))?
        .to_vec();
    Ok((status, headers, body))
}

/// GETs a bill file: at most `MAX_BILL_BYTES`, read as it arrives (never a larger
/// allocation), within a minute.
pub(crate) async fn download(
    http: &reqwest::Client,
    req: &HttpRequest,
) -> Result<Vec<u8>, ApiError> {
    let mut r = http.get(&req.url);
    for (k, v) in &req.headers {
        r = r.header(k, v);
    }
    let mut resp = r
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| ApiError::Provider(format!("bill download: {}", e.without_url())))?;
    if resp.status().as_u16() != 200 {
        return Err(ApiError::Provider(format!(
            "bill download answered {}",
            resp.status().as_u16()
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ApiError::Provider(format!("bill download: {}", e.without_url())))?
    {
        if out.len() + chunk.len() > bill::MAX_BILL_BYTES {
            return Err(ApiError::Provider("bill download: too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn bill_err(provider: &str) -> impl Fn(bill::BillError) -> ApiError + '_ {
    move |e| ApiError::Provider(format!("{provider} bill: {e}"))
}

/// A provider's verified word as evidence; its order number is parsed here, where it
/// comes in (one that cannot be ours is an unknown order, as a lookup would find).
fn evidence(provider: &str, p: PaidTransaction) -> Result<PaymentEvidence, ApiError> {
    Ok(PaymentEvidence {
        provider: provider.into(),
        order_no: evidence_order_no(&p.order_no)?,
        amount_fen: p.amount_fen,
        currency: p.currency,
        provider_txn_id: p.provider_txn_id,
        paid_at: p.paid_at,
    })
}

/// Where a refund stands at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundState {
    /// `PROCESSING`, `SUCCESS`, `CLOSED` or `ABNORMAL`.
    pub status: String,
    pub provider_refund_id: Option<String>,
    pub refund_fen: Fen,
}

pub struct Wechat {
    pub merchant: Merchant,
    pub notify_url: String,
    pub api_host: String,
    http: reqwest::Client,
    call_timeout: Duration,
    pub(crate) metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// WeChat Pay's signature headers (`Wechatpay-*`), from a notification or an answer.
fn signed_headers(headers: &reqwest::header::HeaderMap) -> Result<SignedHeaders, WechatError> {
    SignedHeaders::from_lookup(|k| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    })
}

/// The `code` of a WeChat Pay error answer; empty when it has none.
fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A notification that fails a check: refused (and audited by the caller).
fn wx(e: WechatError) -> ApiError {
    ApiError::Rejected(e.to_string())
}

/// An answer to our own call that fails a check: a provider error, whose text stays
/// in the log (the client gets a kind and a request id).
fn wx_call(e: WechatError) -> ApiError {
    ApiError::Provider(format!("WeChat Pay: {e}"))
}

impl Wechat {
    /// `call_timeout`: how long one API call may take (`Config::provider_timeout_secs`).
    pub fn from_config(
        c: &WechatConfig,
        call_timeout: Duration,
    ) -> Result<Self, ProviderConfigError> {
        let mut merchant = Merchant::new(
            &c.mchid,
            &c.appid,
            &c.serial_no,
            &read(&c.private_key_file)?,
            &c.apiv3_key,
        )?;
        if let (Some(id), Some(file)) = (&c.platform_public_key_id, &c.platform_public_key_file) {
            merchant.add_platform_public_key(id, &read(file)?)?;
        }
        for file in &c.platform_certificate_files {
            merchant.add_platform_certificate(&read(file)?)?;
        }
        Ok(Wechat {
            merchant,
            notify_url: c.notify_url.clone(),
            api_host: c.api_host.trim_end_matches('/').into(),
            http: reqwest::Client::new(),
            call_timeout,
            metrics: Default::default(),
        })
    }

    fn url(&self, req: &HttpRequest) -> String {
        req.url
            .replacen(inkstone_pay::wechat::API_HOST, &self.api_host, 1)
    }

    /// One timed call to WeChat Pay's API: status, headers, body.
    async fn call(
        &self,
        name: &str,
        req: &HttpRequest,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), ApiError> {
        timed(
            &self.metrics,
            "wechat",
            name,
            send(&self.http, self.call_timeout, req, &self.url(req)),
        )
        .await
    }

    /// Native order → `code_url` for the QR code.
    pub async fn create(
        &self,
        order_no: &OrderNo,
        description: &str,
        amount_fen: Fen,
        expires_at_ms: i64,
    ) -> Result<String, ApiError> {
        // Whole seconds: WeChat Pay's time_expire has no fraction.
        let expire = FixedOffset::east_opt(8 * 3600)
            .and_then(|tz| tz.timestamp_opt(expires_at_ms.div_euclid(1000), 0).single())
            .ok_or_else(|| ApiError::Internal("expiry time".into()))?;
        let req = self
            .merchant
            .native_create(
                order_no,
                description,
                amount_fen,
                expire,
                &self.notify_url,
                Utc::now().timestamp(),
            )
            .map_err(wx_call)?;
        let (status, headers, body) = self.call("create", &req).await?;
        if status != 200 {
            return Err(ApiError::Provider(format!(
                "WeChat Pay create answered {status}"
            )));
        }
        self.verify_answer(&headers, &body)?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| ApiError::Provider(e.to_string()))?;
        v["code_url"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ApiError::Provider("WeChat Pay: no code_url".into()))
    }

    fn verify_answer(
        &self,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let h = signed_headers(headers).map_err(wx_call)?;
        self.merchant
            .verify(&h, body, Utc::now().timestamp())
            .map_err(wx_call)
    }

    /// A notification: verified over the raw body, decrypted, checked against this merchant.
    pub fn notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<PaymentEvidence, ApiError> {
        let h = signed_headers(headers).map_err(wx)?;
        let t = self
            .merchant
            .notification(&h, body, Utc::now().timestamp())
            .map_err(wx)?;
        evidence("wechat", self.merchant.paid(&t).map_err(wx)?)
    }

    /// The active query: `Some` when WeChat Pay says the order is paid.
    pub async fn query(&self, order_no: &OrderNo) -> Result<Option<PaymentEvidence>, ApiError> {
        let req = self
            .merchant
            .query(order_no, Utc::now().timestamp())
            .map_err(wx_call)?;
        let (status, headers, body) = self.call("query", &req).await?;
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            return Err(ApiError::Provider(format!(
                "WeChat Pay query answered {status}"
            )));
        }
        let h = signed_headers(&headers).map_err(wx_call)?;
        let t = self
            .merchant
            .query_answer(&h, &body, Utc::now().timestamp())
            .map_err(wx_call)?;
        match self.merchant.paid(&t) {
            Ok(p) => evidence("wechat", p).map(Some),
            Err(WechatError::NotPaid(_)) => Ok(None),
            Err(e) => Err(wx_call(e)),
        }
    }

    fn signed(headers: &reqwest::header::HeaderMap) -> Result<SignedHeaders, ApiError> {
        signed_headers(headers).map_err(wx_call)
    }

    /// Asks for a refund under our stable `refund_no` (sent again, it refunds once).
    pub async fn refund(
        &self,
        order_no: &OrderNo,
        refund_no: &str,
        reason: &str,
        refund_fen: Fen,
        total_fen: Fen,
    ) -> Result<RefundState, ApiError> {
        let req = self
            .merchant
            .refund(
                order_no,
                refund_no,
                reason,
                refund_fen,
                total_fen,
                &self.notify_url,
                Utc::now().timestamp(),
            )
            .map_err(wx_call)?;
        let (status, headers, body) = self.call("refund", &req).await?;
        if status != 200 {
            let code = error_code(&body);
            return Err(ApiError::Provider(format!(
                "WeChat Pay refund answered {status} {code}"
            )));
        }
        let r = self
            .merchant
            .refund_answer(&Self::signed(&headers)?, &body, Utc::now().timestamp())
            .map_err(wx_call)?;
        Self::refund_state(r, order_no, refund_no, refund_fen)
    }

    /// Where our refund `refund_no` stands; `None` when WeChat Pay does not know it.
    pub async fn refund_query(
        &self,
        order_no: &OrderNo,
        refund_no: &str,
        refund_fen: Fen,
    ) -> Result<Option<RefundState>, ApiError> {
        let req = self
            .merchant
            .refund_query(refund_no, Utc::now().timestamp())
            .map_err(wx_call)?;
        let (status, headers, body) = self.call("refund_query", &req).await?;
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            return Err(ApiError::Provider(format!(
                "WeChat Pay refund query answered {status}"
            )));
        }
        let r = self
            .merchant
            .refund_answer(&Self::signed(&headers)?, &body, Utc::now().timestamp())
            .map_err(wx_call)?;
        Self::refund_state(r, order_no, refund_no, refund_fen).map(Some)
    }

    /// A signed refund answer must be the refund we asked for.
    fn refund_state(
        r: inkstone_pay::wechat::Refund,
        order_no: &OrderNo,
        refund_no: &str,
        refund_fen: Fen,
    ) -> Result<RefundState, ApiError> {
        if r.out_refund_no != refund_no || r.out_trade_no != order_no.as_str() {
            return Err(ApiError::Provider(
                "WeChat Pay refund answer names another refund".into(),
            ));
        }
        if r.amount.refund != refund_fen {
            return Err(ApiError::Provider(format!(
                "WeChat Pay refund amount {} is not the {refund_fen} fen asked",
                r.amount.refund
            )));
        }
        Ok(RefundState {
            status: r.status,
            provider_refund_id: Some(r.refund_id),
            refund_fen: r.amount.refund,
        })
    }

    /// A notification of either kind, verified.
    pub fn notification_any(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Result<inkstone_pay::wechat::Notified, ApiError> {
        let h = signed_headers(headers).map_err(wx)?;
        self.merchant
            .notification_any(&h, body, Utc::now().timestamp())
            .map_err(wx)
    }

    /// Evidence from a verified transaction (see `notification`).
    pub fn evidence(
        &self,
        t: &inkstone_pay::wechat::Transaction,
    ) -> Result<PaymentEvidence, ApiError> {
        evidence("wechat", self.merchant.paid(t).map_err(wx)?)
    }

    /// The day's trade bill (`yyyy-MM-dd`): the signed answer's SHA-1 checked against
    /// the downloaded, uncompressed file. `None` when WeChat Pay has no bill for the day
    /// (`NO_STATEMENT_EXIST`: nothing was paid).
    pub async fn trade_bill(&self, date: &str) -> Result<Option<bill::Bill>, ApiError> {
        let req = self
            .merchant
            .trade_bill(date, Utc::now().timestamp())
            .map_err(wx_call)?;
        let (status, headers, body) = self.call("trade_bill", &req).await?;
        if status != 200 {
            let code = error_code(&body);
            if code == "NO_STATEMENT_EXIST" {
                return Ok(None);
            }
            return Err(ApiError::Provider(format!(
                "WeChat Pay trade bill answered {status} {code}"
            )));
        }
        let h = signed_headers(&headers).map_err(wx_call)?;
        let answer = self
            .merchant
            .trade_bill_answer(&h, &body, Utc::now().timestamp())
            .map_err(wx_call)?;
        let get = self
            .merchant
            .bill_download(&answer.download_url, Utc::now().timestamp())
            .map_err(wx_call)?;
        let packed = timed(
            &self.metrics,
            "wechat",
            "bill_download",
            download(&self.http, &get),
        )
        .await?;
        let plain = bill::wechat_plain(&packed).map_err(bill_err("WeChat Pay"))?;
        bill::check_wechat_hash(&plain, &answer.hash_type, &answer.hash_value)
            .map_err(bill_err("WeChat Pay"))?;
        bill::parse_wechat(&plain)
            .map(Some)
            .map_err(bill_err("WeChat Pay"))
    }

    pub async fn close(&self, order_no: &OrderNo) -> Result<(), ApiError> {
        let req = self
            .merchant
            .close(order_no, Utc::now().timestamp())
            .map_err(wx_call)?;
        let (status, _, _) = self.call("close", &req).await?;
        // 204: closed; 400 ORDER_CLOSED / 404: nothing left to close.
        if status >= 500 || status == 429 {
            return Err(ApiError::Provider(format!(
                "WeChat Pay close answered {status}"
            )));
        }
        Ok(())
    }
}

pub struct Alipay {
    pub app: alipay::App,
    pub notify_url: String,
    http: reqwest::Client,
    call_timeout: Duration,
    pub(crate) metrics: std::sync::Arc<crate::metrics::Metrics>,
}

fn ali(e: AlipayError) -> ApiError {
    ApiError::Rejected(e.to_string())
}

fn ali_call(e: AlipayError) -> ApiError {
    ApiError::Provider(format!("Alipay: {e}"))
}

impl Alipay {
    /// `call_timeout`: how long one gateway call may take (`Config::provider_timeout_secs`).
    pub fn from_config(
        c: &AlipayConfig,
        call_timeout: Duration,
    ) -> Result<Self, ProviderConfigError> {
        let mut app = alipay::App::new(
            &c.app_id,
            &read(&c.app_private_key_file)?,
            &read(&c.alipay_public_key_file)?,
        )?;
        if c.seller_id.trim().is_empty() || c.app_id.trim().is_empty() {
            return Err(ProviderConfigError::Missing("alipay: app_id and seller_id"));
        }
        app.seller_id = Some(c.seller_id.clone());
        app.gateway = c.gateway.clone();
        Ok(Alipay {
            app,
            notify_url: c.notify_url.clone(),
            http: reqwest::Client::new(),
            call_timeout,
            metrics: Default::default(),
        })
    }

    /// Sends a gateway call: `Err` when Alipay cannot be reached or answers
    /// other than 200; `Ok(Err(…))` for an answer that fails a check or is a
    /// business error (the caller decides which are expected).
    async fn call(
        &self,
        req: HttpRequest,
        method: &str,
    ) -> Result<Result<serde_json::Value, AlipayError>, ApiError> {
        let (status, _, body) = timed(
            &self.metrics,
            "alipay",
            method,
            send(&self.http, self.call_timeout, &req, &req.url),
        )
        .await?;
        if status != 200 {
            return Err(ApiError::Provider(format!("Alipay answered {status}")));
        }
        let raw = String::from_utf8(body)
            .map_err(|_| ApiError::Provider("Alipay answer not UTF-8".into()))?;
        Ok(self.app.verify_response(&raw, method))
    }

    pub async fn create(
        &self,
        order_no: &OrderNo,
        subject: &str,
        amount_fen: Fen,
        ttl_minutes: u32,
    ) -> Result<String, ApiError> {
        let req = self
            .app
            .precreate(
                order_no,
                subject,
                amount_fen,
                ttl_minutes,
                &self.notify_url,
                Utc::now(),
            )
            .map_err(ali_call)?;
        let v = self
            .call(req, "alipay.trade.precreate")
            .await?
            .map_err(ali_call)?;
        v["qr_code"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ApiError::Provider("Alipay: no qr_code".into()))
    }

    pub fn notification(&self, form_body: &str) -> Result<Option<PaymentEvidence>, ApiError> {
        let n = self.app.verify_notify(form_body).map_err(ali)?;
        match self.app.paid_from_notify(&n) {
            Ok(p) => evidence("alipay", p).map(Some),
            // WAIT_BUYER_PAY, TRADE_CLOSED: acknowledged, nothing to do.
            Err(AlipayError::NotPaid(_)) => Ok(None),
            Err(e) => Err(ali(e)),
        }
    }

    pub async fn query(&self, order_no: &OrderNo) -> Result<Option<PaymentEvidence>, ApiError> {
        let req = self.app.query(order_no, Utc::now()).map_err(ali_call)?;
        match self.call(req, "alipay.trade.query").await? {
            Ok(v) => match self.app.paid_from_query(&v) {
                Ok(p) => evidence("alipay", p).map(Some),
                Err(AlipayError::NotPaid(_)) => Ok(None),
                Err(e) => Err(ali_call(e)),
            },
            // Not scanned yet: Alipay has no trade for it.
            Err(AlipayError::Business { sub_code, .. }) if sub_code == "ACQ.TRADE_NOT_EXIST" => {
                Ok(None)
            }
            Err(e) => Err(ali_call(e)),
        }
    }

    /// Asks for a refund under our stable out_request_no `refund_no`; Alipay refunds
    /// synchronously (code 10000), and answers a repeated call without refunding again.
    pub async fn refund(
        &self,
        order_no: &OrderNo,
        refund_no: &str,
        refund_fen: Fen,
        reason: &str,
    ) -> Result<(), ApiError> {
        let req = self
            .app
            .refund(order_no, refund_no, refund_fen, reason, Utc::now())
            .map_err(ali_call)?;
        let v = self
            .call(req, "alipay.trade.refund")
            .await?
            .map_err(ali_call)?;
        if v["out_trade_no"]
            .as_str()
            .is_some_and(|o| o != order_no.as_str())
        {
            return Err(ApiError::Provider(
                "Alipay refund answer names another order".into(),
            ));
        }
        Ok(())
    }

    /// Where our refund stands: `Some(SUCCESS)` once Alipay reports it refunded,
    /// `None` while it knows no such refund.
    pub async fn refund_query(
        &self,
        order_no: &OrderNo,
        refund_no: &str,
        refund_fen: Fen,
    ) -> Result<Option<RefundState>, ApiError> {
        let req = self
            .app
            .refund_query(order_no, refund_no, Utc::now())
            .map_err(ali_call)?;
        let v = match self.call(req, "alipay.trade.fastpay.refund.query").await? {
            Ok(v) => v,
            Err(AlipayError::Business { sub_code, .. }) if sub_code == "ACQ.TRADE_NOT_EXIST" => {
                return Ok(None)
            }
            Err(e) => return Err(ali_call(e)),
        };
        let Some(amount) = v["refund_amount"].as_str().filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        if v["out_request_no"].as_str().is_some_and(|r| r != refund_no) {
            return Err(ApiError::Provider(
                "Alipay refund query names another refund".into(),
            ));
        }
        let fen = inkstone_pay::money::yuan_to_fen(amount)
            .map_err(|e| ApiError::Provider(format!("Alipay refund_amount: {e}")))?;
        if fen != refund_fen {
            return Err(ApiError::Provider(format!(
                "Alipay refund amount {fen} is not the {refund_fen} fen asked"
            )));
        }
        let status = match v["refund_status"].as_str() {
            None | Some("REFUND_SUCCESS") => "SUCCESS",
            Some(_) => "PROCESSING",
        };
        Ok(Some(RefundState {
            status: status.into(),
            provider_refund_id: v["trade_no"].as_str().map(str::to_string),
            refund_fen: fen,
        }))
    }

    /// The out_request_no of a verified refund notification (`refund_fee` and
    /// `out_biz_no` set), if this is one.
    pub fn refund_notice(&self, form_body: &str) -> Result<Option<String>, ApiError> {
        let n = self.app.verify_notify(form_body).map_err(ali)?;
        let (fee, biz) = (n.get("refund_fee"), n.get("out_biz_no"));
        Ok((!fee.is_empty() && !biz.is_empty()).then(|| biz.to_string()))
    }

    /// The day's trade bill (`yyyy-MM-dd`) from the URL in the signed answer. `None`
    /// when Alipay has no bill for the day (`isp.bill_not_exist`).
    pub async fn trade_bill(&self, date: &str) -> Result<Option<bill::Bill>, ApiError> {
        let req = self
            .app
            .bill_url_query(date, Utc::now())
            .map_err(ali_call)?;
        let v = match self.call(req, alipay::BILL_URL_QUERY).await? {
            Ok(v) => v,
            Err(AlipayError::Business { sub_code, .. }) if sub_code.contains("bill_not_exist") => {
                return Ok(None)
            }
            Err(e) => return Err(ali_call(e)),
        };
        let url = v["bill_download_url"]
            .as_str()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .ok_or_else(|| ApiError::Provider("Alipay: no bill_download_url".into()))?;
        let get = HttpRequest {
            method: "GET",
            url: url.to_string(),
            headers: Vec::new(),
            body: String::new(),
        };
        let zipped = timed(
            &self.metrics,
            "alipay",
            "bill_download",
            download(&self.http, &get),
        )
        .await?;
        let text = bill::alipay_detail(&zipped).map_err(bill_err("Alipay"))?;
        bill::parse_alipay(&text)
            .map(Some)
            .map_err(bill_err("Alipay"))
    }

    pub async fn close(&self, order_no: &OrderNo) -> Result<(), ApiError> {
        let req = self.app.close(order_no, Utc::now()).map_err(ali_call)?;
        match self.call(req, "alipay.trade.close").await? {
            // Closed, or never scanned (nothing to close), or already final.
            Ok(_) | Err(AlipayError::Business { .. }) => Ok(()),
            Err(e) => Err(ali_call(e)),
        }
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    fn alipay(dir: &std::path::Path) -> AlipayConfig {
        serde_json::from_value(serde_json::json!({
            "app_id": "2021000000000000",
            "seller_id": "2088000000000000",
            "app_private_key_file": dir.join("missing-app-key.pem"),
            "alipay_public_key_file": dir.join("alipay-public.pem"),
            "notify_url": "https://pay.example.com/notify/alipay",
        }))
        .unwrap()
    }

    #[test]
    fn unusable_provider_settings_are_typed_errors_that_name_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let Err(error) = Alipay::from_config(&alipay(dir.path()), Duration::from_secs(10)) else {
            panic!("a missing key file was accepted");
        };
        assert!(
            matches!(&error, ProviderConfigError::Read { path, .. } if path.ends_with("missing-app-key.pem")),
            "{error}"
        );
        std::fs::write(dir.path().join("missing-app-key.pem"), "not a key").unwrap();
        std::fs::write(dir.path().join("alipay-public.pem"), "not a key either").unwrap();
        let Err(error) = Alipay::from_config(&alipay(dir.path()), Duration::from_secs(10)) else {
            panic!("a malformed key was accepted");
        };
        assert!(matches!(error, ProviderConfigError::Alipay(_)), "{error}");
    }
}
