//! Routes. Account routes need `Authorization: Bearer <token>`; one account
//! never sees another's orders or receipts (they are "not found").

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use inkstone_domain::{Fen, OrderNo};
use inkstone_pay::receipt::{PublicKeyInfo, Purchase, ReceiptSigner, SignedReceipt};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::catalog;
use crate::config::Config;
use crate::error::{ApiError, REQUEST_ID};
use crate::orders::{self, now_ms, OrderView, PaidOutcome};
use crate::sandbox::{self, SandboxKey};
use crate::settlement::Settler;
use crate::store::Db;

/// Per order: who to wake and how many wait (the entry goes with the last one).
type Waiters = Arc<Mutex<HashMap<String, (Arc<Notify>, usize)>>>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub signer: Arc<ReceiptSigner>,
    pub sandbox: SandboxKey,
    /// The sandbox's own receipt key; `None` when the sandbox is off, and then no
    /// sandbox evidence is ever turned into a receipt.
    pub sandbox_signer: Option<Arc<ReceiptSigner>>,
    /// Keys signed with before a rotation, still listed so old receipts verify.
    pub retired_keys: Arc<Vec<PublicKeyInfo>>,
    pub config: Arc<Config>,
    /// Notifications refused since start (each is also a row in `refused_notifications`).
    pub refused_notifications: Arc<AtomicU64>,
    /// Wakes waiters of this instance at once; on PostgreSQL other instances hear of
    /// the change through LISTEN/NOTIFY (`notify`), and every waiter still reads the
    /// database once a second as a fallback. An entry exists only while someone
    /// who owns the order waits on it (the count), so its size is bounded by them.
    waiters: Waiters,
    limiter: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    /// SQLite only: its one writer commits PAID transitions in groups (see
    /// `settlement`). Started on first use, inside the runtime.
    settler: Option<Arc<OnceLock<Settler>>>,
    pub wechat: Option<Arc<crate::providers::Wechat>>,
    pub alipay: Option<Arc<crate::providers::Alipay>>,
    /// What `/metrics` reports (`metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
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
        let metrics: Arc<crate::metrics::Metrics> = Default::default();
        // The providers time their calls into this instance's metrics.
        let wechat = wechat.map(|mut w| {
            w.metrics = metrics.clone();
            w
        });
        let alipay = alipay.map(|mut a| {
            a.metrics = metrics.clone();
            a
        });
        AppState {
            metrics,
            db,
            signer: Arc::new(signer),
            sandbox,
            sandbox_signer: None,
            retired_keys: Default::default(),
            refused_notifications: Default::default(),
            config: Arc::new(config),
            settler: sqlite.then(Default::default),
            wechat: wechat.map(Arc::new),
            alipay: alipay.map(Arc::new),
            waiters: Default::default(),
            limiter: Default::default(),
        }
    }

    /// The sandbox on, with its own receipt key (see `load_sandbox_signer`).
    pub fn with_sandbox_signer(mut self, signer: Option<ReceiptSigner>) -> Self {
        self.sandbox_signer = signer.map(Arc::new);
        self
    }

    pub fn with_retired_keys(mut self, keys: Vec<PublicKeyInfo>) -> Self {
        self.retired_keys = Arc::new(keys);
        self
    }

    pub fn sandbox_on(&self) -> bool {
        self.config.sandbox && self.sandbox_signer.is_some()
    }

    /// Provider-verified evidence → PAID once (with receipt and audit row).
    /// Sandbox evidence is signed with the sandbox key, and refused when the sandbox
    /// is off: an old sandbox order can never be paid by a server that no longer offers it.
    pub async fn paid(&self, evidence: &orders::PaymentEvidence) -> Result<PaidOutcome, ApiError> {
        let outcome = self.paid_once(evidence).await?;
        if outcome == PaidOutcome::Paid {
            self.metrics.inc(
                "inkstone_orders_paid_total",
                &[("provider", &evidence.provider)],
            );
        }
        Ok(outcome)
    }

    async fn paid_once(&self, evidence: &orders::PaymentEvidence) -> Result<PaidOutcome, ApiError> {
        let signer = if evidence.provider == sandbox::PROVIDER {
            self.sandbox_signer
                .as_deref()
                .filter(|_| self.config.sandbox)
                .ok_or_else(|| ApiError::Rejected("the sandbox is off".into()))?
        } else {
            &self.signer
        };
        let Some(settler) = &self.settler else {
            return orders::mark_paid(&self.db, signer, evidence).await;
        };
        let Some(write) = orders::prepare_paid(&self.db, signer, evidence).await? else {
            return Ok(PaidOutcome::AlreadyPaid);
        };
        settler
            .get_or_init(|| Settler::spawn(self.db.clone()))
            .settle(write)
            .await
    }

    fn notify(&self, order_no: &str) {
        if let Ok(w) = self.waiters.lock() {
            if let Some((n, _)) = w.get(order_no) {
                n.notify_waiters();
            }
        }
    }

    /// Registers a waiter of an order whose ownership was checked; the entry goes
    /// when the last waiter's guard is dropped.
    fn waiter(&self, order_no: &str) -> WaiterGuard {
        let notify = match self.waiters.lock() {
            Ok(mut w) => {
                let entry = w.entry(order_no.to_string()).or_default();
                entry.1 += 1;
                entry.0.clone()
            }
            Err(_) => Arc::new(Notify::new()),
        };
        WaiterGuard {
            waiters: self.waiters.clone(),
            order_no: order_no.to_string(),
            notify,
        }
    }

    /// How many orders have a waiter on this instance (for tests and metrics).
    pub fn waiter_entries(&self) -> usize {
        self.waiters.lock().map(|w| w.len()).unwrap_or(0)
    }

    /// How many long-polls wait on this instance.
    pub fn waiters(&self) -> usize {
        self.waiters
            .lock()
            .map(|w| w.values().map(|(_, n)| *n).sum())
            .unwrap_or(0)
    }

    /// A notification verified and taken (a duplicate too).
    pub(crate) fn accepted(&self, provider: &str) {
        self.metrics.inc(
            "inkstone_notifications_accepted_total",
            &[("provider", provider)],
        );
    }

    /// A notification that was refused: written to the audit table with its reason,
    /// and counted. Best effort: an audit row that cannot be written is logged.
    pub async fn refused(&self, provider: &str, reason: &str, body: &[u8]) {
        self.refused_notifications.fetch_add(1, Ordering::Relaxed);
        self.metrics.inc(
            "inkstone_notifications_refused_total",
            &[
                ("provider", provider),
                ("reason", crate::metrics::refusal_reason(reason)),
            ],
        );
        let reason: String = reason.chars().take(300).collect();
        tracing::warn!(provider, %reason, "notification refused");
        let result = sqlx::query(
            "INSERT INTO refused_notifications (provider, reason, body_sha256, received_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(provider)
        .bind(&reason)
        .bind(hex::encode(Sha256::digest(body)))
        .bind(now_ms())
        .execute(&self.db)
        .await;
        if let Err(error) = result {
            tracing::error!(%error, "cannot audit a refused notification");
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

/// Removes its order's waiter entry when the last waiter leaves (also on a timeout
/// or a dropped connection, which drop the handler's future).
struct WaiterGuard {
    waiters: Waiters,
    order_no: String,
    notify: Arc<Notify>,
}

impl Drop for WaiterGuard {
    fn drop(&mut self) {
        if let Ok(mut w) = self.waiters.lock() {
            if let Some(entry) = w.get_mut(&self.order_no) {
                entry.1 = entry.1.saturating_sub(1);
                if entry.1 == 0 {
                    w.remove(&self.order_no);
                }
            }
        }
    }
}

/// Every request: an id (answered in `x-request-id` and in every error), the body read
/// within `body_timeout_secs` and at most `body_limit_bytes`, and the handler within
/// `handler_timeout_secs` (the long-poll: plus `wait_max_secs`).
async fn limits(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut idb = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut idb);
    let id = hex::encode(idb);
    let work = async {
        let (parts, body) = req.into_parts();
        let body_timeout = Duration::from_secs(s.config.body_timeout_secs);
        let bytes = match tokio::time::timeout(
            body_timeout,
            axum::body::to_bytes(body, s.config.body_limit_bytes),
        )
        .await
        {
            Err(_) => return ApiError::Timeout.into_response(),
            Ok(Err(_)) => return ApiError::TooLarge.into_response(),
            Ok(Ok(b)) => b,
        };
        let long_poll = parts.uri.path().ends_with("/wait");
        let budget = Duration::from_secs(
            s.config.handler_timeout_secs + if long_poll { s.config.wait_max_secs } else { 0 },
        );
        let req = Request::from_parts(parts, Body::from(bytes));
        match tokio::time::timeout(budget, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::Timeout.into_response(),
        }
    };
    let mut response = REQUEST_ID.scope(id.clone(), work).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let sandbox = state.sandbox_on();
    let mut router = Router::new()
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
        .route("/notify/wechat", post(wechat_notify))
        .route("/notify/alipay", post(alipay_notify))
        .merge(crate::credentials::routes())
        .merge(crate::claims::routes())
        .merge(crate::refund::routes())
        .merge(crate::metrics::routes(&state))
        .merge(crate::updates::routes(
            state.config.updates_manifest.clone(),
        ));
    // Off means absent: no page, no confirm, no notification route.
    if sandbox {
        router = router
            .route("/sandbox/pay/{order_no}", get(sandbox_page))
            .route("/sandbox/pay/{order_no}/confirm", post(sandbox_confirm))
            .route("/notify/sandbox", post(sandbox_notify));
    }
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits))
        .with_state(state)
}

async fn health(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&s.db).await?;
    let sandbox = s.sandbox_on();
    Ok(Json(serde_json::json!({"status": "ok", "sandbox": sandbox,
            "providers": {"sandbox": sandbox, "wechat": s.wechat.is_some(), "alipay": s.alipay.is_some()},
            "refused_notifications": s.refused_notifications.load(Ordering::Relaxed)})))
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries
/// further left were written by the client and prove nothing).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            // A garbled entry: stop at the last address we could trust.
            Err(_) => break,
        }
    }
    client
}

pub(crate) fn ip_of(
    s: &AppState,
    headers: &HeaderMap,
    connect: &ConnectInfo<SocketAddr>,
) -> String {
    client_ip(connect.0.ip(), headers, &s.config.trusted_proxies).to_string()
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
        format!("ip:{}", ip_of(s, headers, connect)),
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
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    // Registration is cheap to abuse: a tighter limit per IP.
    s.allow(format!("register:{}", ip_of(&s, &headers, &connect)), 30)?;
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

/// A published receipt key: what a desktop pins (`key_id`, `public_key`) and what it is.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct KeyListing {
    pub key_id: String,
    pub public_key: String,
    /// Signs only sandbox receipts (test money): a release desktop never pins it.
    pub sandbox: bool,
    /// Signed before a rotation; still valid for the receipts it signed.
    pub retired: bool,
}

async fn keys(State(s): State<AppState>) -> Json<Vec<KeyListing>> {
    let listing = |k: PublicKeyInfo, sandbox, retired| KeyListing {
        key_id: k.key_id,
        public_key: k.public_key,
        sandbox,
        retired,
    };
    let mut out = vec![listing(s.signer.public_key(), false, false)];
    out.extend(
        s.retired_keys
            .iter()
            .cloned()
            .map(|k| listing(k, false, true)),
    );
    if let Some(sandbox) = s.sandbox_signer.as_ref().filter(|_| s.config.sandbox) {
        out.push(listing(sandbox.public_key(), true, false));
    }
    Json(out)
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
    // Each order is a signed call to the provider: capped per account.
    s.allow(
        format!("orders:{account_id}"),
        s.config.orders_per_minute_per_account,
    )?;
    let now = now_ms();
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE account_id = $1 AND status = 'PENDING' AND expires_at_ms > $2",
    )
    .bind(&account_id)
    .bind(now)
    .fetch_one(&s.db)
    .await?;
    if pending >= i64::from(s.config.max_pending_orders_per_account) {
        return Err(ApiError::TooManyPending);
    }
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
    let expires_at = now + s.config.order_ttl_secs * 1000;
    let subject = format!("墨砚 Inkstone {}", req.sku);
    // The provider's order first: only an order with a QR code is stored.
    let qr = match req.provider.as_str() {
        sandbox::PROVIDER if s.sandbox_on() => {
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
    s.metrics.inc(
        "inkstone_orders_created_total",
        &[("provider", &req.provider)],
    );
    let order = orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    Ok((StatusCode::CREATED, Json(orders::view(&s.db, order).await?)).into_response())
}

async fn current(
    s: &AppState,
    account_id: &str,
    order_no: &OrderNo,
) -> Result<OrderView, ApiError> {
    let mut order = orders::fetch_owned(&s.db, account_id, order_no).await?;
    if orders::expire_if_due(&s.db, &mut order, now_ms()).await? {
        s.metrics.inc("inkstone_orders_expired_total", &[]);
        finish_at_provider(s, &order.order_no);
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
    let order_no = order_no_in_path(&order_no)?;
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
    let order_no = order_no_in_path(&order_no)?;
    let deadline = Instant::now()
        + Duration::from_secs(
            q.timeout
                .unwrap_or(s.config.wait_max_secs)
                .min(s.config.wait_max_secs),
        );
    // Ownership first: only then does the order get a waiter entry.
    current(&s, &account_id, &order_no).await?;
    let waiter = s.waiter(&order_no);
    let query_every = Duration::from_secs(s.config.query_interval_secs.max(1) as u64);
    let mut next_query = Instant::now();
    let mut check_failed = false;
    loop {
        // Listening before reading: a change in between still wakes us.
        let notified = waiter.notify.notified();
        let mut view = current(&s, &account_id, &order_no).await?;
        if view.status != "pending" || Instant::now() >= deadline {
            view.check_failed = check_failed && view.status == "pending";
            return Ok(Json(view));
        }
        // A waiting desktop is a reason to ask the provider; across waiters and
        // instances the database claim in `reconcile` limits it per order. A failed
        // query never ends the wait: the writer may be paying right now.
        if Instant::now() >= next_query {
            next_query = Instant::now() + query_every;
            match reconcile(&s, &order_no).await {
                Ok(paid) => {
                    check_failed = false;
                    if paid {
                        continue;
                    }
                }
                Err(error) => {
                    tracing::warn!(%order_no, %error, "asking the provider failed; still waiting");
                    check_failed = true;
                }
            }
        }
        let poll = Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now()));
        let _ = tokio::time::timeout(poll, notified).await;
    }
}

/// Asks the provider about a pending order, at most once per interval across
/// all instances (a conditional update claims the slot). True when it became paid.
pub async fn reconcile(s: &AppState, order_no: &OrderNo) -> Result<bool, ApiError> {
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
    let Some(evidence) = query_provider(s, &order.provider, order_no).await? else {
        return Ok(false);
    };
    let outcome = s.paid(&evidence).await?;
    s.notify(order_no);
    Ok(outcome == PaidOutcome::Paid)
}

/// What the order's provider says: `Some` when paid. A provider this server no longer
/// offers (the sandbox turned off, merchant keys removed) is never asked: `None`.
pub(crate) async fn query_provider(
    s: &AppState,
    provider: &str,
    order_no: &OrderNo,
) -> Result<Option<orders::PaymentEvidence>, ApiError> {
    match provider {
        "wechat" => match &s.wechat {
            Some(w) => w.query(order_no).await,
            None => Ok(None),
        },
        "alipay" => match &s.alipay {
            Some(a) => a.query(order_no).await,
            None => Ok(None),
        },
        sandbox::PROVIDER if s.sandbox_on() => sandbox_query(s, order_no).await,
        _ => Ok(None),
    }
}

/// The sandbox provider's order query: its own books.
async fn sandbox_query(
    s: &AppState,
    order_no: &OrderNo,
) -> Result<Option<orders::PaymentEvidence>, ApiError> {
    let paid: Option<(String, Fen, i64)> = sqlx::query_as(
        "SELECT txn_id, amount_fen, paid_at_ms FROM sandbox_payments WHERE order_no = $1",
    )
    .bind(order_no)
    .fetch_optional(&s.db)
    .await?;
    Ok(
        paid.map(|(txn_id, amount_fen, paid_at_ms)| orders::PaymentEvidence {
            provider: sandbox::PROVIDER.into(),
            order_no: order_no.clone(),
            amount_fen,
            currency: "CNY".into(),
            provider_txn_id: txn_id,
            paid_at: chrono::TimeZone::timestamp_millis_opt(&chrono::Utc, paid_at_ms)
                .single()
                .unwrap_or_else(chrono::Utc::now),
        }),
    )
}

/// Wakes this instance's waiters of an order (the sweeper found it changed, or
/// PostgreSQL said another instance changed it: `notify`).
pub(crate) fn wake(s: &AppState, order_no: &str) {
    s.notify(order_no);
}

/// Wakes every waiter of this instance to read the database again (the LISTEN
/// connection was lost: notifications may have been missed).
pub(crate) fn wake_all(s: &AppState) {
    if let Ok(w) = s.waiters.lock() {
        for (n, _) in w.values() {
            n.notify_waiters();
        }
    }
}

/// An expired or cancelled order is asked about once more and then closed at the
/// provider, in the background. Until both succeeded its `close_state` stays
/// `pending`, and the sweeper tries again: a payment that still lands is recorded as
/// late, never lost.
fn finish_at_provider(s: &AppState, order_no: &OrderNo) {
    let (s, no) = (s.clone(), order_no.clone());
    tokio::spawn(async move {
        if let Err(error) = finish_order(&s, &no).await {
            tracing::warn!(order_no = %no, %error, "closing at the provider failed; the sweeper retries");
        }
    });
}

/// The last query and the close of an ended order; `close_state` becomes `done`.
/// True when the query found it paid (late) and this call recorded it.
pub(crate) async fn finish_order(s: &AppState, order_no: &OrderNo) -> Result<bool, ApiError> {
    let Some(order) = orders::fetch(&s.db, order_no).await? else {
        return Ok(false);
    };
    let mut paid = false;
    if let Some(evidence) = query_provider(s, &order.provider, order_no).await? {
        paid = s.paid(&evidence).await? == PaidOutcome::Paid;
        s.notify(order_no);
    } else {
        match (order.provider.as_str(), &s.wechat, &s.alipay) {
            ("wechat", Some(w), _) => w.close(order_no).await?,
            ("alipay", _, Some(a)) => a.close(order_no).await?,
            _ => {}
        }
    }
    sqlx::query("UPDATE orders SET close_state = 'done' WHERE order_no = $1")
        .bind(order_no)
        .execute(&s.db)
        .await?;
    Ok(paid)
}

async fn check_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let order_no = order_no_in_path(&order_no)?;
    orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    // A provider that cannot be asked now is said so; the order stays as it is.
    let failed = match reconcile(&s, &order_no).await {
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(%order_no, %error, "asking the provider failed");
            true
        }
    };
    let mut view = current(&s, &account_id, &order_no).await?;
    view.check_failed = failed && view.status == "pending";
    Ok(Json(view))
}

async fn cancel_order(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let order_no = order_no_in_path(&order_no)?;
    orders::fetch_owned(&s.db, &account_id, &order_no).await?;
    let done = sqlx::query("UPDATE orders SET status = 'CLOSED', close_state = 'pending', updated_at_ms = $1 WHERE order_no = $2 AND status = 'PENDING'")
        .bind(now_ms())
        .bind(&order_no)
        .execute(&s.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::Conflict);
    }
    finish_at_provider(&s, &order_no);
    s.notify(&order_no);
    Ok(Json(current(&s, &account_id, &order_no).await?))
}

async fn list_orders(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let nos: Vec<OrderNo> = sqlx::query_scalar(
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

/// An order number from a URL: one that cannot exist is "not found", never looked up.
fn order_no_in_path(s: &str) -> Result<OrderNo, ApiError> {
    OrderNo::parse(s).map_err(|_| ApiError::NotFound)
}

async fn sandbox_page(
    State(s): State<AppState>,
    Path(order_no): Path<String>,
) -> Result<Html<String>, ApiError> {
    let order_no = order_no_in_path(&order_no)?;
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
    let order_no = order_no_in_path(&order_no)?;
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
        let (txn_id, amount_fen, paid_at_ms): (String, Fen, i64) = sqlx::query_as(
            "SELECT txn_id, amount_fen, paid_at_ms FROM sandbox_payments WHERE order_no = $1",
        )
        .bind(&order.order_no)
        .fetch_one(&s.db)
        .await?;
        let note = sandbox::Notification {
            order_no: order.order_no.to_string(),
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
    if let Err(e) = handle_sandbox_notification(
        &s,
        &get(sandbox::TIMESTAMP_HEADER),
        &get(sandbox::SIGNATURE_HEADER),
        &body,
    )
    .await
    {
        if !matches!(e, ApiError::Internal(_)) {
            s.refused(sandbox::PROVIDER, &e.to_string(), &body).await;
        }
        return Err(e);
    }
    s.accepted(sandbox::PROVIDER);
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
        match w.notification_any(&headers, &body)? {
            inkstone_pay::wechat::Notified::Transaction(t) => {
                let evidence = w.evidence(&t)?;
                s.paid(&evidence).await?;
                s.notify(&evidence.order_no);
            }
            // A refund changed: only a reason to ask (the verified query decides).
            inkstone_pay::wechat::Notified::Refund(n) => {
                if let Err(error) = crate::refund::notified(&s, &n.out_refund_no).await {
                    tracing::warn!(refund_no = %n.out_refund_no, %error, "following a notified refund failed; the sweeper retries");
                }
            }
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => {
            s.accepted("wechat");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            let status = if matches!(e, ApiError::Internal(_)) {
                tracing::warn!(error = %e, "wechat notification not taken now");
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                s.refused("wechat", &e.to_string(), &body).await;
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
        // A refund notify (refund_fee, out_biz_no): a reason to ask about that refund.
        if let Some(refund_no) = a.refund_notice(&body)? {
            if let Err(error) = crate::refund::notified(&s, &refund_no).await {
                tracing::warn!(%refund_no, %error, "following a notified refund failed; the sweeper retries");
            }
            return Ok(());
        }
        if let Some(evidence) = a.notification(&body)? {
            s.paid(&evidence).await?;
            s.notify(&evidence.order_no);
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => {
            s.accepted("alipay");
            (StatusCode::OK, inkstone_pay::alipay::NOTIFY_SUCCESS).into_response()
        }
        Err(e) => {
            if matches!(e, ApiError::Internal(_)) {
                tracing::warn!(error = %e, "alipay notification not taken now");
            } else {
                s.refused("alipay", &e.to_string(), body.as_bytes()).await;
            }
            (StatusCode::BAD_REQUEST, "fail").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any X-Forwarded-For bytes from any peer: an address, never a panic; an
        /// untrusted peer is always itself.
        #[test]
        fn forwarded_headers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300), trusted in any::<bool>()) {
            let peer: IpAddr = "10.0.0.2".parse().unwrap_or(IpAddr::from([10, 0, 0, 2]));
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&raw) {
                h.insert("x-forwarded-for", v);
            }
            let proxies = if trusted { vec![peer] } else { Vec::new() };
            let ip = client_ip(peer, &h, &proxies);
            if !trusted {
                prop_assert_eq!(ip, peer);
            }
        }
    }
}
