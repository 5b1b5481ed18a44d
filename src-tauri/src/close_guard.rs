//! Unsaved text is saved before the window closes (issue 17). The workspace page registers a
//! channel; when the writer closes the window the close is held, the page is told to save,
//! and the window closes when it says it is done, or after [`FLUSH_TIMEOUT`] whatever it says,
//! so a page that hangs can never keep the window open.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tauri::ipc::Channel;
use tauri::{Manager, Runtime, WindowEvent};

/// Longest the close waits for the page's last save.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct CloseGuard {
    page: Mutex<Option<Channel<&'static str>>>,
    closing: AtomicBool,
    flushed: tokio::sync::Notify,
}

impl CloseGuard {
    /// The page to tell before closing (the last one registered).
    pub fn register(&self, channel: Channel<&'static str>) {
        if let Ok(mut page) = self.page.lock() {
            *page = Some(channel);
        }
    }

    /// The page has saved.
    pub fn flushed(&self) {
        self.flushed.notify_one();
    }

    /// True when the close must wait for the page (and was told to it); false to close now.
    fn hold(&self) -> bool {
        if self.closing.swap(true, Ordering::SeqCst) {
            return false;
        }
        let page = self.page.lock().ok().and_then(|p| p.clone());
        match page {
            Some(channel) => channel.send("flush").is_ok(),
            None => false,
        }
    }
}

/// Holds the main window's close until the page saved (or [`FLUSH_TIMEOUT`] passed).
pub fn install<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    let closing = window.clone();
    window.on_window_event(move |event| {
        let WindowEvent::CloseRequested { api, .. } = event else {
            return;
        };
        let Some(guard) = closing.try_state::<CloseGuard>() else {
            return;
        };
        if !guard.hold() {
            tracing::info!("the window closes");
            return;
        }
        tracing::info!("the window closes once the page has saved");
        api.prevent_close();
        let window = closing.clone();
        tauri::async_runtime::spawn(async move {
            if let Some(guard) = window.try_state::<CloseGuard>() {
                let waited = tokio::time::timeout(FLUSH_TIMEOUT, guard.flushed.notified()).await;
                if waited.is_err() {
                    tracing::warn!("the page did not confirm its last save; closing anyway");
                }
            }
            if let Err(error) = window.close() {
                tracing::error!(%error, "cannot close the window");
            }
        });
    });
}
