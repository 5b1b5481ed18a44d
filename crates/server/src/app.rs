//! Routes. Account routes need `Authorization: Bearer <token>`; one account
//! never sees another's orders or receipts (they are "not found").

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use inkstone_pay::receipt::{PublicKeyInfo, Purchase, ReceiptSigner, SignedReceipt};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::catalog;
use crate::config::Config;
use crate::error::ApiError;
use crate::orders::{self, now_ms, OrderView, PaidOutcome};
use crate::sandbox::{self, SandboxKey};
use crate::settlement::Settler;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub signer: Arc<ReceiptSigner>,
    pub sandbox: SandboxKey,
    pub config: Arc<Config>,
    /// Wakes waiters of this instance at once; other instances see the
    /// change on their next database poll.
    waiters: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    limiter: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    /// SQLite only: its one writer commits PAID transitions in groups (see
    /// `settlement`). Started on first use, inside the runtime.
    settler: Option<Arc<OnceLock<Settler>>>,
    pub wechat: Option<Arc<crate::providers::Wechat>>,
    pub alipay: Option<Arc<crate::providers::Alipay>>,
}

impl AppState {
    pub fn new(db: Db, signer: ReceiptSigner, sandbox: SandboxKey, config: Config) -> Self {
        Self::with_providers(db, signer, sandbox, config, None, None)
    }

    pub fn with_providers(
        db: Db,
        signer: ReceiptSigner,
        sandbox: SandboxKey,
        config: Config,
        wechat: Option<crate::providers::Wechat>,
        alipay: Option<crate::providers::Alipay>,
    ) -> Self {
        let sqlite = config.database_url.starts_with("sqlite:");
        AppState {
            db,
            signer: Arc::new(signer),
            sandbox,
            config: Arc::new(config),
            settler: sqlite.then(Default::default),
            wechat: wechat.map(Arc::new),
            alipay: alipay.map(Arc::new),
            waiters: Default::default(),
            limiter: Default::default(),
        }
    }

    /// Provider-verified evidence → PAID once (with receipt and audit row).
    pub async fn paid(&self, evidence: &orders::PaymentEvidence) -> Result<PaidOutcome, ApiError> {
        let Some(settler) = &self.settler else {
            return orders::mark_paid(&self.db, &self.signer, evidence).await;
        };
        let Some(write) = orders::prepare_paid(&self.db, &self.signer, evidence).await? else {
            return Ok(PaidOutcome::AlreadyPaid);
        };
        settler
            .get_or_init(|| Settler::spawn(self.db.clone()))
            .settle(write)
            .await
    }

    fn notify(&self, order_no: &str) {
        if let Ok(w) = self.waiters.lock() {
            if let Some(n) = w.get(order_no) {
                n.notify_waiters();
            }
        }
    }

    fn waiter(&self, order_no: &str) -> Arc<Notify> {
        match self.waiters.lock() {
            Ok(mut w) => w.entry(order_no.to_string()).or_default().clone(),
            Err(_) => Arc::new(Notify::new()),
        }
    }

    /// A fixed one-minute window per key; enough to stop a runaway client.
    pub(crate) fn allow(&self, key: String, per_minute: u32) -> Result<(), ApiError> {
        let mut map = self
            .limiter
            .lock()
            .map_err(|_| ApiError::Internal("limiter poisoned".into()))?;
        let now = Instant::now();
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > per_minute {
            return Err(ApiError::RateLimited);
        }
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    Router::new()
        .route("/healthz", get(health))
        .route("/v1/accounts", post(register))
        .route("/v1/catalog", get(get_catalog))
        .route("/v1/keys", get(keys))
        .route("/v1/orders", post(create_order).get(list_orders))
        .route("/v1/orders/{order_no}", get(get_order))
        .route("/v1/orders/{order_no}/wait", get(wait_order))
        .route("/v1/orders/{order_no}/cancel", post(cancel_order))
        .route("/v1/orders/{order_no}/check", post(check_order))
        .route("/v1/receipts", get(list_receipts))
        .route("/sandbox/pay/{order_no}", get(sandbox_page))
        .route("/sandbox/pay/{order_no}/confirm", post(sandbox_confirm))
        .route("/notify/sandbox", post(sandbox_notify))
        .route("/notify/wechat", post(wechat_notify))
        .route("/notify/alipay", post(alipay_notify))
        .merge(crate::credentials::routes())
        .merge(crate::claims::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn health(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&s.db).await?;
    Ok(Json(
        serde_json::json!({"status": "ok", "sandbox": s.config.sandbox,
            "providers": {"sandbox": s.config.sandbox, "wechat": s.wechat.is_some(), "alipay": s.alipay.is_some()}}),
    ))
}

pub(crate) fn ip_of(connect: &ConnectInfo<SocketAddr>) -> String {
    connect.0.ip().to_string()
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh bearer token: 256 random bits, URL-safe base64.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

/// The account behind the bearer token, rate-limited per account and IP.
pub(crate) async fn account(
    s: &AppState,
    headers: &HeaderMap,
    connect: &ConnectInfo<SocketAddr>,
) -> Result<String, ApiError> {
    s.allow(
        format!("ip:{}", ip_of(connect)),
        s.config.rate_per_minute_ip,
    )?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    // The registration token, or one from POST /v1/sessions (credentials.rs).
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE token_sha256 = $1
         UNION ALL SELECT account_id FROM account_sessions WHERE token_sha256 = $1",
    )
    .bind(token_hash(token.trim()))
    .fetch_optional(&s.db)
    .await?;
    let id = id.ok_or(ApiError::Unauthorized)?;
    s.allow(format!("acct:{id}"), s.config.rate_per_minute_account)?;
    Ok(id)
}

async fn register(
    State(s): State<AppState>,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    // Registration is cheap to abuse: a tighter limit per IP.
    s.allow(format!("register:{}", ip_of(&connect)), 30)?;
    let token = new_token();
    let mut idb = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut idb);
    let id = format!("acct_{}", hex::encode(idb));
    sqlx::query("INSERT INTO accounts (id, token_sha256, created_at_ms) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(token_hash(&token))
        .bind(now_ms())
        .execute(&s.db)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"account_id": id, "token": token})),
    )
        .into_response())
}

async fn get_catalog(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (_, body, etag) = catalog::load(&s.db).await?;
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        body,
    )
        .into_response())
}

async fn keys(State(s): State<AppState>) -> Json<Vec<PublicKeyInfo>> {
    Json(vec![s.signer.public_key()])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrder {
    sku: String,
    provider: String,
}

async fn create_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    body: Result<Json<CreateOrder>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let (cat, _, _) = catalog::load(&s.db).await?;
    let (kind, purchase, amount) =
        if let Some(p) = cat.credit_packages.iter().find(|p| p.sku == req.sku) {
            let purchase = Purchase::Credits {
                sku: p.sku.clone(),
                credits: p.credits,
                bonus_credits: p.bonus_credits,
            };
            ("credits", purchase, p.price_fen)
        } else if let Some(m) = cat.membership_plans.iter().find(|m| m.sku == req.sku) {
            let purchase = Purchase::Membership {
                sku: m.sku.clone(),
                plan: m.plan.clone(),
                days: m.days,
            };
            ("membership", purchase, m.price_fen)
        } else {
            return Err(ApiError::BadRequest("unknown sku".into()));
        };
    let order_no = orders::new_order_no();
    let now = now_ms();
    let expires_at = now + s.config.order_ttl_secs * 1000;
    let subject = format!("墨石 Inkstone {}", req.sku);
    // The provider's order first: only an order with a QR code is stored.
    let qr = match req.provider.as_str() {
        sandbox::PROVIDER if s.config.sandbox => {
            format!("{}/sandbox/pay/{order_no}", s.config.public_url)
        }
        "wechat" => match &s.wechat {
            Some(w) => w.create(&order_no, &subject, amount, expires_at).await?,
            None => {
                return Err(ApiError::BadRequest(
                    "wechat is not configured on this server".into(),
                ))
            }
        },
        "alipay" => match &s.alipay {
            Some(a) => {
                a.create(
                    &order_no,
                    &subject,
                    amount,
                    (s.config.order_ttl_secs / 60).max(1) as u32,
                )
                .await?
            }
            None => {
                return Err(ApiError::BadRequest(
                    "alipay is not configured on this server".into(),
                ))
            }
        },
        _ => return Err(ApiError::BadRequest("unknown provider".into())),
    };
    sqlx::query(
        "INSERT INTO orders (order_no, account_id, sku, kind, purchase_json, amount_fen, currency, provider, qr_payload,
                             status, expires_at_ms, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 'CNY', $7, $8, 'PENDING', $9, $10, $10)",
    )
    .bind(&order_no)
    .bind(&account_id)
    .bind(&req.sku)
    .bind(kind)
    .bind(serde_json::to_string(&purchase).map_err(|e| ApiError::Internal(e.to_string()))?)
    .bind(amount)
    .bind(&req.provider)
    .bind(&qr)
    .bind(expires_at)
    .bind(now)
    .execute(&s.db)
    .await?;
    let order = orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    Ok((StatusCode::CREATED, Json(orders::view(&s.db, order).await?)).into_response())
}

async fn current(s: &AppState, account_id: &str, order_no: &str) -> Result<OrderView, ApiError> {
    let mut order = orders::fetch_owned(&s.db, account_id, order_no).await?;
    if orders::expire_if_due(&s.db, &mut order, now_ms()).await? {
        close_at_provider(s, &order.provider, &order.order_no);
    }
    orders::view(&s.db, order).await
}

async fn get_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    Ok(Json(current(&s, &account_id, &order_no).await?))
}

#[derive(Deserialize)]
struct WaitQuery {
    timeout: Option<u64>,
}

/// Long-poll: answers as soon as the order leaves PENDING, or after `timeout`
/// seconds (at most the configured maximum) with the order as it is.
async fn wait_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let deadline = Instant::now()
        + Duration::from_secs(
            q.timeout
                .unwrap_or(s.config.wait_max_secs)
                .min(s.config.wait_max_secs),
        );
    let notify = s.waiter(&order_no);
    let query_every = Duration::from_secs(s.config.query_interval_secs.max(1) as u64);
    let mut next_query = Instant::now();
    loop {
        let notified = notify.notified();
        let view = current(&s, &account_id, &order_no).await?;
        if view.status != "pending" || Instant::now() >= deadline {
            return Ok(Json(view));
        }
        // A waiting desktop is a reason to ask the provider; across waiters and
        // instances the database claim in `reconcile` limits it per order.
        if Instant::now() >= next_query {
            next_query = Instant::now() + query_every;
            if reconcile(&s, &order_no).await? {
                continue;
            }
        }
        let poll = Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now()));
        let _ = tokio::time::timeout(poll, notified).await;
    }
}

/// Asks the provider about a pending order, at most once per interval across
/// all instances (a conditional update claims the slot). True when it became paid.
pub async fn reconcile(s: &AppState, order_no: &str) -> Result<bool, ApiError> {
    let now = now_ms();
    let claimed = sqlx::query(
        "UPDATE orders SET last_query_ms = $1 WHERE order_no = $2 AND status IN ('PENDING', 'EXPIRED') AND last_query_ms <= $3",
    )
    .bind(now)
    .bind(order_no)
    .bind(now - s.config.query_interval_secs * 1000)
    .execute(&s.db)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(false);
    }
    let Some(order) = orders::fetch(&s.db, order_no).await? else {
        return Ok(false);
    };
    let evidence = match order.provider.as_str() {
        "wechat" => match &s.wechat {
            Some(w) => w.query(order_no).await?,
            None => None,
        },
        "alipay" => match &s.alipay {
            Some(a) => a.query(order_no).await?,
            None => None,
        },
        _ => sandbox_query(s, order_no).await?,
    };
    let Some(evidence) = evidence else {
        return Ok(false);
    };
    let outcome = s.paid(&evidence).await?;
    s.notify(order_no);
    Ok(outcome == PaidOutcome::Paid)
}

/// The sandbox provider's order query: its own books.
async fn sandbox_query(
    s: &AppState,
    order_no: &str,
) -> Result<Option<orders::PaymentEvidence>, ApiError> {
    let paid: Option<(String, i64, i64)> = sqlx::query_as(
        "SELECT txn_id, amount_fen, paid_at_ms FROM sandbox_payments WHERE order_no = $1",
    )
    .bind(order_no)
    .fetch_optional(&s.db)
    .await?;
    Ok(
        paid.map(|(txn_id, amount_fen, paid_at_ms)| orders::PaymentEvidence {
            provider: sandbox::PROVIDER.into(),
            order_no: order_no.into(),
            amount_fen,
            currency: "CNY".into(),
            provider_txn_id: txn_id,
            paid_at: chrono::TimeZone::timestamp_millis_opt(&chrono::Utc, paid_at_ms)
                .single()
                .unwrap_or_else(chrono::Utc::now),
        }),
    )
}

/// An expired or cancelled order is closed at the provider too, in the
/// background; a payment that still lands is recorded as late, never lost.
fn close_at_provider(s: &AppState, provider: &str, order_no: &str) {
    let (wechat, alipay, no) = (s.wechat.clone(), s.alipay.clone(), order_no.to_string());
    let provider = provider.to_string();
    tokio::spawn(async move {
        let result = match (provider.as_str(), wechat, alipay) {
            ("wechat", Some(w), _) => w.close(&no).await,
            ("alipay", _, Some(a)) => a.close(&no).await,
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(order_no = %no, error = %e, "closing at the provider failed");
        }
    });
}

async fn check_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    reconcile(&s, &order_no).await?;
    Ok(Json(current(&s, &account_id, &order_no).await?))
}

async fn cancel_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    let done = sqlx::query("UPDATE orders SET status = 'CLOSED', updated_at_ms = $1 WHERE order_no = $2 AND status = 'PENDING'")
        .bind(now_ms())
        .bind(&order_no)
        .execute(&s.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict);
    }
    let order = orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    close_at_provider(&s, &order.provider, &order_no);
    s.notify(&order_no);
    Ok(Json(current(&s, &account_id, &order_no).await?))
}

async fn list_orders(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let nos: Vec<String> = sqlx::query_scalar(
        "SELECT order_no FROM orders WHERE account_id = $1 ORDER BY created_at_ms DESC LIMIT 100",
    )
    .bind(&account_id)
    .fetch_all(&s.db)
    .await?;
    let mut out = Vec::with_capacity(nos.len());
    for no in nos {
        out.push(current(&s, &account_id, &no).await?);
    }
    Ok(Json(out))
}

async fn list_receipts(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Json<Vec<SignedReceipt>>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT signed_json FROM receipts WHERE account_id = $1 ORDER BY created_at_ms",
    )
    .bind(&account_id)
    .fetch_all(&s.db)
    .await?;
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(|e| ApiError::Internal(e.to_string())))
        .collect::<Result<_, _>>()
        .map(Json)
}

async fn sandbox_page(
    State(s): State<AppState>,
    Path(order_no): Path<String>,
) -> Result<Html<String>, ApiError> {
    let order = orders::fetch(&s.db, &order_no)
        .await?
        .filter(|o| o.provider == sandbox::PROVIDER)
        .ok_or(ApiError::NotFound)?;
    Ok(Html(sandbox::pay_page(
        &order.order_no,
        order.amount_fen,
        &order.sku,
        &order.status,
    )))
}

#[derive(Deserialize)]
struct ConfirmQuery {
    /// `false` books the payment without notifying: the lost-notification case.
    notify: Option<bool>,
}

/// The "phone" confirms: the sandbox books the payment, then notifies us
/// through the same verification path as any provider.
async fn sandbox_confirm(
    State(s): State<AppState>,
    Path(order_no): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Result<Html<String>, ApiError> {
    let order = orders::fetch(&s.db, &order_no)
        .await?
        .filter(|o| o.provider == sandbox::PROVIDER)
        .ok_or(ApiError::NotFound)?;
    let now = now_ms();
    let txn_id = format!("SBX{}", &orders::new_order_no()[2..]);
    sqlx::query("INSERT INTO sandbox_payments (order_no, txn_id, amount_fen, paid_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (order_no) DO NOTHING")
        .bind(&order.order_no)
        .bind(&txn_id)
        .bind(order.amount_fen)
        .bind(now)
        .execute(&s.db)
        .await?;
    if q.notify.unwrap_or(true) {
        let (txn_id, amount_fen, paid_at_ms): (String, i64, i64) = sqlx::query_as(
            "SELECT txn_id, amount_fen, paid_at_ms FROM sandbox_payments WHERE order_no = $1",
        )
        .bind(&order.order_no)
        .fetch_one(&s.db)
        .await?;
        let note = sandbox::Notification {
            order_no: order.order_no.clone(),
            amount_fen,
            currency: "CNY".into(),
            txn_id,
            paid_at: paid_at_ms / 1000,
        };
        let body = serde_json::to_vec(&note).map_err(|e| ApiError::Internal(e.to_string()))?;
        let ts = now / 1000;
        let sig = s.sandbox.sign(ts, &body);
        handle_sandbox_notification(&s, &ts.to_string(), &sig, &body).await?;
    }
    let fresh = orders::fetch(&s.db, &order_no)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Html(sandbox::pay_page(
        &fresh.order_no,
        fresh.amount_fen,
        &fresh.sku,
        &fresh.status,
    )))
}

pub async fn handle_sandbox_notification(
    s: &AppState,
    ts: &str,
    sig: &str,
    body: &[u8],
) -> Result<PaidOutcome, ApiError> {
    let evidence = s.sandbox.verify(ts, sig, body, now_ms() / 1000)?;
    let outcome = s.paid(&evidence).await?;
    s.notify(&evidence.order_no);
    Ok(outcome)
}

async fn sandbox_notify(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let get = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    handle_sandbox_notification(
        &s,
        &get(sandbox::TIMESTAMP_HEADER),
        &get(sandbox::SIGNATURE_HEADER),
        &body,
    )
    .await?;
    Ok((StatusCode::OK, "success").into_response())
}

/// WeChat Pay's notification: 204 when taken (or a duplicate), 4xx with
/// `{"code":"FAIL"}` otherwise so that WeChat Pay sends it again.
async fn wechat_notify(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let w = s.wechat.as_ref().ok_or(ApiError::NotFound)?;
        let evidence = w.notification(&headers, &body)?;
        s.paid(&evidence).await?;
        s.notify(&evidence.order_no);
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "wechat notification refused");
            let status = if matches!(e, ApiError::Internal(_)) {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            (
                status,
                Json(serde_json::json!({"code": "FAIL", "message": e.kind()})),
            )
                .into_response()
        }
    }
}

/// Alipay's notification: exactly `success` when taken, else Alipay resends.
async fn alipay_notify(State(s): State<AppState>, body: String) -> Response {
    let result = async {
        let a = s.alipay.as_ref().ok_or(ApiError::NotFound)?;
        if let Some(evidence) = a.notification(&body)? {
            s.paid(&evidence).await?;
            s.notify(&evidence.order_no);
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => (StatusCode::OK, inkstone_pay::alipay::NOTIFY_SUCCESS).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "alipay notification refused");
            (StatusCode::BAD_REQUEST, "fail").into_response()
        }
    }
}
