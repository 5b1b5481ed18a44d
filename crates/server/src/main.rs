//! `inkstone-server --help` says it all (crates/server/src/cli.rs).

use std::path::PathBuf;

use inkstone_server::config::ConfigError;
use inkstone_server::error::ApiError;
use inkstone_server::{catalog, cli, store, Config, StartError};

/// Why a command of the binary failed; printed as one line before exit code 1.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the catalog file is not a catalog: {0}")]
    CatalogJson(#[from] serde_json::Error),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    /// A reconciliation or refund that failed, with the operator's detail.
    #[error("{error}: {detail}", detail = .error.detail())]
    Operation { error: ApiError },
    #[error("no real provider is configured: nothing to reconcile")]
    NothingToReconcile,
}

impl From<ApiError> for RunError {
    fn from(error: ApiError) -> Self {
        RunError::Operation { error }
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run().await {
        eprintln!("inkstone-server: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), RunError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("inkstone-server: {e}\n\n{}", cli::USAGE);
            std::process::exit(2);
        }
    };
    match command {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        cli::Command::GenReceiptKey { file } => {
            let signer = inkstone_pay::receipt::ReceiptSigner::generate();
            inkstone_server::write_private(&file, &signer.secret_base64()).map_err(|source| {
                RunError::File {
                    path: file.clone(),
                    source,
                }
            })?;
            let public = signer.public_key();
            println!("key_id={} public_key={}", public.key_id, public.public_key);
            Ok(())
        }
        cli::Command::SetCatalog { file, config } => {
            let config = Config::load(config.as_deref())?;
            let text = std::fs::read_to_string(&file).map_err(|source| RunError::File {
                path: file.clone(),
                source,
            })?;
            let cat: catalog::Catalog = serde_json::from_str(&text)?;
            cat.validate()?;
            let db = store::open(&config.database_url, config.database_connections).await?;
            catalog::store(&db, &cat, chrono::Utc::now().timestamp_millis()).await?;
            println!("catalog updated");
            Ok(())
        }
        cli::Command::Reconcile { date, config } => {
            let config = Config::load(config.as_deref())?;
            let state = inkstone_server::build_state(config).await?;
            let reports = inkstone_server::reconcile::reconcile_day(&state, date).await?;
            if reports.is_empty() {
                return Err(RunError::NothingToReconcile);
            }
            for r in &reports {
                print!("{r}");
            }
            if reports.iter().any(|r| r.error.is_some()) {
                std::process::exit(1);
            }
            if reports.iter().any(|r| !r.findings.is_empty()) {
                std::process::exit(3);
            }
            Ok(())
        }
        cli::Command::Refund {
            order_no,
            fen,
            reason,
            config,
        } => {
            let config = Config::load(config.as_deref())?;
            let state = inkstone_server::build_state(config).await?;
            let refund =
                inkstone_server::refund::refund_and_follow(&state, &order_no, fen, &reason).await?;
            println!("{refund}");
            Ok(())
        }
        cli::Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            tracing::info!(config = ?config, "starting");
            let server = inkstone_server::start(config).await?;
            tracing::info!(url = %server.base_url, "listening");
            shutdown_signal().await;
            tracing::info!("shutting down");
            server.shutdown().await;
            Ok(())
        }
    }
}

/// SIGINT, or SIGTERM from systemd / a container runtime.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
