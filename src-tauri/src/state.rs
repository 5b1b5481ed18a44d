//! What every command can reach through `tauri::State<AppState>`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use inkstone_core::Database;
use inkstone_desktop::Services;
use inkstone_domain::ProfileId;

use crate::error::{AppError, CommandResult};

pub struct AppState {
    /// The migrated SQLite pool (`<data dir>/inkstone.db`).
    pub db: Database,
    /// The folder holding the database (and logs when it was given explicitly).
    pub data_dir: PathBuf,
    /// Demo mode: demo users seeded, labelled in the UI. Never true in a build without the `demo` feature.
    pub demo: bool,
    /// Studio, models and keys, the payment endpoint and buying (crates/desktop).
    pub services: Arc<Services>,
    /// The signed-in local profile.
    pub session: Mutex<Option<ProfileId>>,
    /// Where `<video>` reads generated files (`media::serve_loopback`), once it listens.
    pub media_base: std::sync::OnceLock<String>,
}

impl AppState {
    /// The signed-in profile, or `not_signed_in`.
    pub fn profile(&self) -> CommandResult<ProfileId> {
        self.session
            .lock()
            .ok()
            .and_then(|s| *s)
            .ok_or(AppError::NotSignedIn)
    }

    pub fn set_profile(&self, profile: Option<ProfileId>) {
        if let Ok(mut s) = self.session.lock() {
            *s = profile;
        }
    }
}
