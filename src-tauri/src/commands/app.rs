//! About the app itself.

/// The app's version (this crate's version, which the bundles carry too).
#[tauri::command]
#[tracing::instrument]
pub fn app_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
