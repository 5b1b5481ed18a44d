//! `inkstone-server [--config server.toml]` serves;
//! `inkstone-server set-catalog catalog.json [--config server.toml]` replaces the catalog.

use std::path::PathBuf;

use inkstone_server::{catalog, store, Config};

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

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config_path = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let config = Config::load(config_path.as_deref()).map_err(|e| e.to_string())?;
    if args.first().map(String::as_str) == Some("set-catalog") {
        let file = args
            .get(1)
            .ok_or("usage: inkstone-server set-catalog FILE.json")?;
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        let cat: catalog::Catalog = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        cat.validate()?;
        let db = store::open(&config.database_url, config.database_connections)
            .await
            .map_err(|e| e.to_string())?;
        catalog::store(&db, &cat, chrono::Utc::now().timestamp_millis())
            .await
            .map_err(|e| e.to_string())?;
        println!("catalog updated");
        return Ok(());
    }
    tracing::info!(config = ?config, "starting");
    let server = inkstone_server::start(config)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(url = %server.base_url, "listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
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
