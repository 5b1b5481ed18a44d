//! Non-secret settings (language, theme, DashScope region), kept in the
//! `tauri-plugin-store` file `settings.json` in the data folder. What a valid
//! value is lives in `inkstone_desktop::preferences`.

use inkstone_desktop::preferences::Preferences;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_store::StoreExt;

use crate::error::{AppError, CommandResult};
use crate::state::AppState;

const KEY: &str = "preferences";

/// The store file of this data folder.
pub fn store_path(state: &AppState) -> std::path::PathBuf {
    state.data_dir.join("settings.json")
}

/// Reads the stored preferences (defaults for anything missing or damaged).
pub fn load<R: Runtime>(app: &AppHandle<R>, path: &std::path::Path) -> Preferences {
    match app.store(path) {
        Ok(store) => Preferences::from_stored(store.get(KEY)),
        Err(error) => {
            tracing::warn!(%error, "settings store unreadable; using defaults");
            Preferences::default()
        }
    }
}

#[tauri::command]
#[tracing::instrument(skip(app, state))]
pub fn settings_get<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Preferences {
    load(&app, &store_path(&state))
}

/// Validates, applies and saves; returns what is now stored.
#[tauri::command]
#[tracing::instrument(skip_all, err)]
pub fn settings_set<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    preferences: Preferences,
) -> CommandResult<Preferences> {
    state
        .services
        .set_preferences(&preferences)
        .map_err(AppError::from)?;
    let store = app
        .store(store_path(&state))
        .map_err(|e| AppError::Storage(e.to_string()))?;
    let value = serde_json::to_value(&preferences).map_err(|e| AppError::Storage(e.to_string()))?;
    store.set(KEY, value);
    store.save().map_err(|e| AppError::Storage(e.to_string()))?;
    Ok(preferences)
}
