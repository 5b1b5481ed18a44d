//! Signed updates (issue 19, item 1): check, download with progress, verify, install, through
//! `tauri-plugin-updater` (`crate::updater`). The rules live in `inkstone_desktop::updates`;
//! these only translate.
//!
//! The update endpoint is `--update-endpoint` / `INKSTONE_UPDATE_ENDPOINT`, else the payment
//! endpoint (`--payment-server`); the public key is built in (`INKSTONE_UPDATE_PUBLIC_KEY` at
//! build time, Tauri's format). A build without a key checks nothing.

use std::sync::Mutex;

use inkstone_desktop::updates::{InstallPlan, Offer, UpdateSource};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::CommandResult;
use crate::state::AppState;
use crate::updater::PluginDriver;

/// The built-in public update key (never the private one, which stays with the operator).
pub const PUBLIC_KEY: Option<&str> = option_env!("INKSTONE_UPDATE_PUBLIC_KEY");

/// The last offer the automatic check found.
#[derive(Default)]
pub struct UpdateState(Mutex<Option<Offer>>);

/// Where updates come from for this launch.
pub fn source<R: Runtime>(app: &AppHandle<R>) -> UpdateSource {
    let endpoint = app.try_state::<crate::Launch>().and_then(|l| {
        l.options
            .update_endpoint
            .clone()
            .or_else(|| l.options.payment_server.as_ref().map(|p| p.url.clone()))
    });
    UpdateSource {
        endpoint: endpoint.unwrap_or_default(),
        public_key: PUBLIC_KEY.unwrap_or_default().to_string(),
        current_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// At start (after a minute) and then daily, unless the writer turned it off.
pub fn spawn_checks<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let mut wait = std::time::Duration::from_secs(60);
        loop {
            tokio::time::sleep(wait).await;
            wait = std::time::Duration::from_secs(24 * 3600);
            let Some(state) = app.try_state::<AppState>() else {
                return;
            };
            let prefs = crate::commands::settings::load(
                &app,
                &crate::commands::settings::store_path(&state),
            );
            if !prefs.check_updates {
                continue;
            }
            let driver = PluginDriver::new(app.clone());
            match state.services.check_update(&driver, &source(&app)).await {
                Ok(offer) => {
                    if let Some(found) = &offer {
                        tracing::info!(version = %found.version, "an update is available");
                    }
                    if let Some(updates) = app.try_state::<UpdateState>() {
                        if let Ok(mut last) = updates.0.lock() {
                            *last = offer;
                        }
                    }
                }
                Err(error) => tracing::info!(%error, "no update check"),
            }
        }
    });
}

/// What the automatic check found, if anything.
#[tauri::command]
#[tracing::instrument(skip(updates))]
pub fn update_status(updates: State<'_, UpdateState>) -> Option<Offer> {
    updates.0.lock().ok().and_then(|o| o.clone())
}

/// "Check for updates" now.
#[tauri::command]
#[tracing::instrument(skip(app, state), err)]
pub async fn update_check<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<Option<Offer>> {
    let driver = PluginDriver::new(app.clone());
    Ok(state.services.check_update(&driver, &source(&app)).await?)
}

#[derive(Clone, Serialize)]
pub struct Progress {
    pub received: u64,
    pub total: Option<u64>,
}

/// Downloads, verifies and installs the newer version, reporting progress; `null` when
/// there is none any more.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_progress), err)]
pub async fn update_install<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_progress: Channel<Progress>,
) -> CommandResult<Option<InstallPlan>> {
    let mut last_sent = 0u64;
    let mut report = |received: u64, total: Option<u64>| {
        // About every 256 KiB: a progress bar, not a message per packet.
        if received - last_sent >= 256 * 1024 || Some(received) == total {
            last_sent = received;
            let _ = on_progress.send(Progress { received, total });
        }
    };
    let driver = PluginDriver::new(app.clone());
    Ok(state
        .services
        .install_update(&driver, &source(&app), &mut report)
        .await?)
}

#[cfg(test)]
mod tests {
    /// A release is built with `INKSTONE_UPDATE_PUBLIC_KEY`: it must be a key that can
    /// verify, or that build would never update. (Without one, updates are off.)
    #[test]
    fn the_built_in_update_key_is_a_real_public_key() {
        if let Some(key) = super::PUBLIC_KEY {
            assert!(
                inkstone_desktop::updates::check_public_key(key).is_ok(),
                "INKSTONE_UPDATE_PUBLIC_KEY is not a minisign public key in Tauri's format"
            );
        }
    }

    /// The key this build carries verifies what the test builds' signing key signs
    /// (scripts/checks/06-update-key.sh signs a file with `tauri signer sign` and names it in
    /// INKSTONE_UPDATE_KEY_CHECK; without it there is nothing to check against).
    #[test]
    fn the_built_in_update_key_verifies_what_the_test_key_signs() {
        use inkstone_desktop::updates::verify;
        let Ok(file) = std::env::var("INKSTONE_UPDATE_KEY_CHECK") else {
            return;
        };
        let key = super::PUBLIC_KEY
            .expect("this build carries no update key (INKSTONE_UPDATE_PUBLIC_KEY at build time)");
        let bytes = std::fs::read(&file).expect("the signed file");
        let signature = std::fs::read_to_string(format!("{file}.sig")).expect("its .sig");
        verify(key, signature.trim(), &bytes)
            .expect("the built-in update key does not match the key test bundles are signed with");
        let mut changed = bytes;
        changed[0] ^= 1;
        assert!(verify(key, signature.trim(), &changed).is_err());
    }
}
