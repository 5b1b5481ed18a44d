//! Inkstone's payment endpoint: a desktop cannot receive payment callbacks,
//! so this small server does, and nothing else (ARCHITECTURE.md, "Money").
//! Orders are priced from the server's catalog; an order becomes PAID only
//! from provider-signed evidence, exactly once, together with its Ed25519
//! receipt — the only thing the desktop credits from.
//!
//! Routes (JSON): `POST /v1/accounts`, `GET /v1/catalog` (ETag),
//! `GET /v1/keys`, `POST|GET /v1/orders`, `GET /v1/orders/{no}`,
//! `GET /v1/orders/{no}/wait?timeout=30`, `POST /v1/orders/{no}/cancel`,
//! `POST /v1/orders/{no}/check`, `GET /v1/receipts`; the sandbox provider's
//! `GET /sandbox/pay/{no}`, `POST /sandbox/pay/{no}/confirm`,
//! `POST /notify/sandbox`; WeChat Pay's `POST /notify/wechat` and Alipay's
//! `POST /notify/alipay` when configured; `GET /healthz`. Signing back in to an account
//! (`credentials`): `GET /v1/account`, `PUT /v1/account/credentials`, `POST /v1/sessions`,
//! `POST /v1/sessions/revoke`; claims of credit receipts per installation (`claims`):
//! `POST /v1/receipts/{no}/claim`; signed revocations of refunded receipts (`refund`):
//! `GET /v1/revocations?after=CURSOR`; `GET /metrics` when configured (`metrics`).
//! Operator commands: `reconcile --date` (`reconcile`), `refund` (`refund`).
//!
//! Invariants:
//! * an order's price comes from this server's catalog, never from the client;
//! * an order becomes PAID only from evidence the provider signed (a verified notification,
//!   or the provider's answer to our own query), checked against the order's amount, currency
//!   and merchant, and exactly once whatever arrives twice: the receipt is written in the same
//!   transaction;
//! * a client sees only its own account's orders, receipts and revocations; provider error
//!   text stays in the log (a client gets a kind and a request id);
//! * the sandbox provider is off unless turned on, and its receipts are signed with their own
//!   key, which a release desktop never pins.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use inkstone_pay::receipt::{SignedReceipt, TrustedKeys};
//! use serde_json::{json, Value};
//!
//! // The endpoint as demo mode embeds it: SQLite in a folder, the sandbox provider on.
//! let dir = tempfile::tempdir().unwrap();
//! let server = inkstone_server::start_embedded(dir.path(), ([127, 0, 0, 1], 0).into())
//!     .await
//!     .unwrap();
//! let http = reqwest::Client::new();
//! let url = |path: &str| format!("{}{path}", server.base_url);
//!
//! // A desktop profile's account, then an order priced by the server's catalog.
//! let account: Value = http.post(url("/v1/accounts")).send().await.unwrap().json().await.unwrap();
//! let token = account["token"].as_str().unwrap();
//! let order: Value = http
//!     .post(url("/v1/orders"))
//!     .bearer_auth(token)
//!     .json(&json!({"sku": "credits_100", "provider": "sandbox"}))
//!     .send().await.unwrap().json().await.unwrap();
//! assert_eq!(order["amount_fen"], 1000);
//!
//! // The writer pays (the sandbox's confirm page), and the receipt verifies with the key the
//! // desktop pins, for exactly that order.
//! let no = order["order_no"].as_str().unwrap();
//! http.post(url(&format!("/sandbox/pay/{no}/confirm"))).send().await.unwrap();
//! let receipts: Vec<SignedReceipt> = http
//!     .get(url("/v1/receipts"))
//!     .bearer_auth(token)
//!     .send().await.unwrap().json().await.unwrap();
//! let keys = TrustedKeys::new(server.sandbox_public_key.clone());
//! let receipt = keys.verify(&receipts[0]).unwrap();
//! assert_eq!((receipt.order_no.as_str(), receipt.amount_fen.get()), (no, 1000));
//! // Paying again changes nothing: still one receipt.
//! http.post(url(&format!("/sandbox/pay/{no}/confirm"))).send().await.unwrap();
//! let again: Vec<Value> = http
//!     .get(url("/v1/receipts"))
//!     .bearer_auth(token)
//!     .send().await.unwrap().json().await.unwrap();
//! assert_eq!(again.len(), 1);
//! server.shutdown().await;
//! # });
//! ```
#![forbid(unsafe_code)]

pub mod app;
pub mod catalog;
pub mod claims;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
pub mod metrics;
pub mod notify;
pub mod orders;
pub mod providers;
pub mod reconcile;
pub mod refund;
pub mod sandbox;
mod serve;
pub mod settlement;
pub mod store;
pub mod sweeper;
pub mod updates;

use std::net::SocketAddr;
use std::path::Path;

use inkstone_pay::receipt::{PublicKeyInfo, ReceiptSigner};

pub use app::{router, AppState};
pub use config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("receipt key: {0}")]
    Key(String),
    #[error("payment provider: {0}")]
    Provider(#[from] providers::ProviderConfigError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// The production receipt key. With a real provider it must be chosen: the
/// environment or config (`receipt_key`), or an existing file at an absolute path
/// (`receipt_key_file`); a missing one is an error naming the setting, never a fresh
/// key (two instances would sign with different keys and paid customers be refused).
/// Without one (sandbox or nothing offered) a missing file is created, and no file at
/// all means a throwaway key for this start.
pub fn load_signer(config: &Config) -> Result<ReceiptSigner, StartError> {
    let real = config.wechat.is_some() || config.alipay.is_some();
    if let Some(k) = &config.receipt_key {
        return ReceiptSigner::from_base64_secret(k.trim())
            .map_err(|e| StartError::Key(format!("receipt_key: {e}")));
    }
    let Some(path) = &config.receipt_key_file else {
        if real {
            return Err(StartError::Key(
                "a real payment provider needs its receipt key: set receipt_key \
                 (INKSTONE_SERVER_RECEIPT_KEY) or receipt_key_file (an absolute path to an existing \
                 file; `inkstone-server gen-receipt-key FILE` makes one)"
                    .into(),
            ));
        }
        tracing::warn!("no receipt key configured: a throwaway key for this start");
        return Ok(ReceiptSigner::generate());
    };
    if real && !path.is_absolute() {
        return Err(StartError::Key(format!(
            "receipt_key_file must be an absolute path, not {}",
            path.display()
        )));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => ReceiptSigner::from_base64_secret(text.trim())
            .map_err(|e| StartError::Key(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !real => {
            let signer = ReceiptSigner::generate();
            write_private(path, &signer.secret_base64())
                .map_err(|e| StartError::Key(format!("{}: {e}", path.display())))?;
            Ok(signer)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StartError::Key(format!(
            "receipt_key_file {} does not exist (set receipt_key or create the file with \
             `inkstone-server gen-receipt-key FILE`)",
            path.display()
        ))),
        Err(e) => Err(StartError::Key(format!("{}: {e}", path.display()))),
    }
}

/// The sandbox's own receipt key: configured, from its file (created when missing), or
/// fresh. Never the production key, so a desktop that pins only production keys can
/// never credit a sandbox receipt.
pub fn load_sandbox_signer(
    config: &Config,
    production: &ReceiptSigner,
) -> Result<ReceiptSigner, StartError> {
    let signer = if let Some(k) = &config.sandbox_receipt_key {
        ReceiptSigner::from_base64_secret(k.trim())
            .map_err(|e| StartError::Key(format!("sandbox_receipt_key: {e}")))?
    } else if let Some(path) = &config.sandbox_receipt_key_file {
        match std::fs::read_to_string(path) {
            Ok(text) => ReceiptSigner::from_base64_secret(text.trim())
                .map_err(|e| StartError::Key(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let signer = ReceiptSigner::generate();
                write_private(path, &signer.secret_base64())
                    .map_err(|e| StartError::Key(format!("{}: {e}", path.display())))?;
                signer
            }
            Err(e) => return Err(StartError::Key(format!("{}: {e}", path.display()))),
        }
    } else {
        ReceiptSigner::generate()
    };
    if signer.key_id() == production.key_id() {
        return Err(StartError::Key(
            "the sandbox receipt key must differ from the production receipt key".into(),
        ));
    }
    Ok(signer)
}

/// The retired public keys, checked (base64 of 32 bytes) and given their key ids.
pub fn retired_keys(config: &Config) -> Result<Vec<PublicKeyInfo>, StartError> {
    config
        .retired_receipt_public_keys
        .iter()
        .map(|b64| {
            let info = PublicKeyInfo {
                key_id: String::new(),
                public_key: b64.trim().to_string(),
            };
            inkstone_pay::receipt::key_id_of_public(&info.public_key)
                .map(|key_id| PublicKeyInfo { key_id, ..info })
                .map_err(|e| StartError::Key(format!("retired_receipt_public_keys: {e}")))
        })
        .collect()
}

/// Writes a secret to a new file only the owner can read (never over an existing one).
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(&mut opts.open(path)?, text.as_bytes())
}

pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    config.validate()?;
    let signer = load_signer(&config)?;
    let sandbox_signer = if config.sandbox {
        Some(load_sandbox_signer(&config, &signer)?)
    } else {
        None
    };
    let retired = retired_keys(&config)?;
    let db = store::open(&config.database_url, config.database_connections).await?;
    let real = config.wechat.is_some() || config.alipay.is_some();
    if config.sandbox && real {
        tracing::warn!(
            "the sandbox is on next to a real provider (allow_sandbox_with_real_providers): \
             anyone can confirm sandbox orders; their receipts use the sandbox key"
        );
    }
    tracing::info!(
        key_id = %signer.key_id(),
        retired = ?retired.iter().map(|k| &k.key_id).collect::<Vec<_>>(),
        sandbox_key_id = ?sandbox_signer.as_ref().map(|s| s.key_id().to_string()),
        "receipt keys"
    );
    let sandbox = match &config.sandbox_secret {
        Some(s) => sandbox::SandboxKey::new(s.as_bytes()),
        None => sandbox::SandboxKey::random(),
    };
    catalog::load(&db).await?;
    let provider_timeout = std::time::Duration::from_secs(config.provider_timeout_secs);
    let wechat = config
        .wechat
        .as_ref()
        .map(|c| providers::Wechat::from_config(c, provider_timeout))
        .transpose()
        .map_err(StartError::Provider)?;
    let alipay = config
        .alipay
        .as_ref()
        .map(|c| providers::Alipay::from_config(c, provider_timeout))
        .transpose()
        .map_err(StartError::Provider)?;
    Ok(
        AppState::with_providers(db, signer, sandbox, config, wechat, alipay)
            .with_sandbox_signer(sandbox_signer)
            .with_retired_keys(retired),
    )
}

/// A running server; dropping the handle does not stop it, `shutdown` does.
pub struct RunningServer {
    pub base_url: String,
    pub addr: SocketAddr,
    /// The production keys (current, then retired) a desktop pins.
    pub public_keys: Vec<PublicKeyInfo>,
    /// The sandbox's key when the sandbox is on: pinned only by a desktop in demo mode.
    pub sandbox_public_key: Option<PublicKeyInfo>,
    /// Where `/metrics` is served on its own (`metrics_bind`), if it is.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts serving `config` on its bind address (port 0 picks a free one).
pub async fn start(mut config: Config) -> Result<RunningServer, StartError> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    if config.bind.port() == 0 || config.public_url.is_empty() {
        config.public_url = base_url.clone();
    }
    let state = build_state(config).await?;
    let mut public_keys = vec![state.signer.public_key()];
    public_keys.extend(state.retired_keys.iter().cloned());
    let sandbox_public_key = state.sandbox_signer.as_ref().map(|s| s.public_key());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let sweeper = sweeper::spawn(state.clone(), rx.clone());
    // PostgreSQL: hear of settlements made by other instances at once (ends on shutdown).
    let _listener = notify::spawn(state.clone(), rx.clone());
    let metrics_addr = match metrics_listener {
        Some(l) => {
            let addr = l.local_addr()?;
            let (app, mut stop) = (metrics::own_router(state.clone()), rx.clone());
            tokio::spawn(async move {
                let _ = axum::serve(l, app)
                    .with_graceful_shutdown(async move { serve::stopped(&mut stop).await })
                    .await;
            });
            tracing::info!(%addr, "metrics listening");
            Some(addr)
        }
        None => None,
    };
    let task = tokio::spawn(serve::serve(listener, state.clone(), rx, sweeper));
    Ok(RunningServer {
        base_url,
        addr,
        public_keys,
        sandbox_public_key,
        metrics_addr,
        state,
        shutdown: tx,
        task,
    })
}

/// The server inside the desktop app (demo mode): 127.0.0.1, the sandbox provider turned
/// on explicitly, SQLite and both receipt keys in `data_dir`. Purchases work out of the box.
pub async fn start_embedded(
    data_dir: &Path,
    bind: SocketAddr,
) -> Result<RunningServer, StartError> {
    std::fs::create_dir_all(data_dir)?;
    let config = Config {
        bind,
        public_url: String::new(),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("payments.db").display()
        ),
        receipt_key_file: Some(data_dir.join("receipt-key.b64")),
        sandbox_receipt_key_file: Some(data_dir.join("sandbox-receipt-key.b64")),
        sandbox: true,
        ..Config::default()
    };
    start(config).await
}
