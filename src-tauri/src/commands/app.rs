//! About the app itself, and the one way out of it: a link opened in the system browser.

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::{AppError, CommandResult};

/// The app's version (this crate's version, which the bundles carry too).
#[tauri::command]
#[tracing::instrument]
pub fn app_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Opens a web link from model output in the system browser. The page shows the address and
/// asks the writer first; here only http(s) links pass, never `file:` or app URLs.
#[tauri::command]
#[tracing::instrument(skip(app), err)]
pub fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> CommandResult<()> {
    let link = crate::navigation::external_link(&url).ok_or(AppError::InvalidArgument {
        field: "url",
        reason: "only http(s) links open outside the app",
    })?;
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| AppError::Open(e.to_string()))
}
