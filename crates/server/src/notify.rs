//! Waking waiters across instances (issue 13, item 3).
//!
//! On PostgreSQL every change of an order's status sends `NOTIFY inkstone_order,
//! '<order_no>'` from a trigger (migration 0010), delivered when the change commits, by
//! whichever instance (or `inkstone-server reconcile`) made it. Each instance LISTENs on
//! one dedicated connection and wakes its own waiters of that order at once, so a payment
//! settled on instance B answers a long-poll on instance A in milliseconds instead of
//! at A's next one-second database poll (which stays as the fallback).
//!
//! SQLite is one instance by construction (one file, one writer): the in-process wake
//! in `app` is all it needs, and no listener runs.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::app::{self, AppState};

/// The channel the trigger of migration 0010 notifies on.
pub const CHANNEL: &str = "inkstone_order";

/// True for a `postgres://` (or `postgresql://`) database URL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Starts the listener when the database is PostgreSQL; `None` otherwise.
pub(crate) fn spawn(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if !is_postgres(&state.config.database_url) {
        return None;
    }
    let url = state.config.database_url.clone();
    Some(tokio::spawn(async move {
        tokio::select! {
            _ = listen(&state, &url) => {}
            _ = crate::serve::stopped(&mut stop) => {}
        }
    }))
}

/// Listens until stopped. A lost connection is re-made; since notifications sent
/// meanwhile are gone, every local waiter is then woken to read the database again.
async fn listen(state: &AppState, url: &str) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match connect(url).await {
            Ok(l) => l,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for order changes; waiters poll meanwhile");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        // Anything that changed while we were not listening.
        app::wake_all(state);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => app::wake(state, n.payload()),
                Ok(None) => {
                    tracing::warn!("LISTEN connection lost; reconnecting");
                    app::wake_all(state);
                }
                Err(error) => {
                    tracing::warn!(%error, "LISTEN failed; reconnecting");
                    break;
                }
            }
        }
        // Not at once: a connection that fails right after connecting must not spin.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
