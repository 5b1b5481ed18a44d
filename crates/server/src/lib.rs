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
//! `POST /v1/receipts/{no}/claim`.
#![forbid(unsafe_code)]

pub mod app;
pub mod catalog;
pub mod claims;
pub mod config;
pub mod credentials;
pub mod error;
pub mod orders;
pub mod providers;
pub mod sandbox;
pub mod settlement;
pub mod store;

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
    Provider(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// The receipt key from the config, or the key file (created on first start).
pub fn load_signer(config: &Config) -> Result<ReceiptSigner, StartError> {
    if let Some(k) = &config.receipt_key {
        return ReceiptSigner::from_base64_secret(k.trim())
            .map_err(|e| StartError::Key(e.to_string()));
    }
    let Some(path) = &config.receipt_key_file else {
        return Ok(ReceiptSigner::generate());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => ReceiptSigner::from_base64_secret(text.trim())
            .map_err(|e| StartError::Key(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let signer = ReceiptSigner::generate();
            write_private(path, &signer.secret_base64())
                .map_err(|e| StartError::Key(e.to_string()))?;
            Ok(signer)
        }
        Err(e) => Err(StartError::Key(e.to_string())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
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
    let db = store::open(&config.database_url, config.database_connections).await?;
    let signer = load_signer(&config)?;
    let sandbox = match &config.sandbox_secret {
        Some(s) => sandbox::SandboxKey::new(s.as_bytes()),
        None => sandbox::SandboxKey::random(),
    };
    catalog::load(&db).await?;
    let wechat = config
        .wechat
        .as_ref()
        .map(providers::Wechat::from_config)
        .transpose()
        .map_err(StartError::Provider)?;
    let alipay = config
        .alipay
        .as_ref()
        .map(providers::Alipay::from_config)
        .transpose()
        .map_err(StartError::Provider)?;
    Ok(AppState::with_providers(
        db, signer, sandbox, config, wechat, alipay,
    ))
}

/// A running server; dropping the handle does not stop it, `shutdown` does.
pub struct RunningServer {
    pub base_url: String,
    pub addr: SocketAddr,
    pub public_keys: Vec<PublicKeyInfo>,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Starts serving `config` on its bind address (port 0 picks a free one).
pub async fn start(mut config: Config) -> Result<RunningServer, StartError> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    if config.bind.port() == 0 || config.public_url.is_empty() {
        config.public_url = base_url.clone();
    }
    let state = build_state(config).await?;
    let public_keys = vec![state.signer.public_key()];
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer {
        base_url,
        addr,
        public_keys,
        state,
        shutdown: tx,
        task,
    })
}

/// The server inside the desktop app: 127.0.0.1, sandbox provider, SQLite
/// and receipt key in `data_dir`. Purchases work out of the box.
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
        sandbox: true,
        ..Config::default()
    };
    start(config).await
}
