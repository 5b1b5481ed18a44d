//! The DashScope key (OS keychain only) and model configurations. Changing either needs the
//! signed-in owner (an admin profile): `inkstone_desktop::Services` checks it.

use inkstone_desktop::ai_models::{ModelConfig, ModelInput};
use inkstone_desktop::KeyStatus;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn ai_key_status(state: State<'_, AppState>) -> CommandResult<KeyStatus> {
    Ok(state.services.key_status()?)
}

/// Stores the key in the keychain; the webview only ever gets `KeyStatus` back.
#[tauri::command]
#[tracing::instrument(skip_all, err)]
pub async fn ai_set_key(state: State<'_, AppState>, key: String) -> CommandResult<KeyStatus> {
    let me = state.profile().ok();
    Ok(state.services.set_api_key(me, &key).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn ai_delete_key(state: State<'_, AppState>) -> CommandResult<KeyStatus> {
    let me = state.profile().ok();
    Ok(state.services.delete_api_key(me).await?)
}

/// Returns the model label that answered.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn ai_test_connection(state: State<'_, AppState>) -> CommandResult<String> {
    Ok(state.services.test_connection().await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn ai_models(state: State<'_, AppState>) -> CommandResult<Vec<ModelConfig>> {
    Ok(state.services.models().await?)
}

/// `api_key`: an OpenAI-compatible model's own key (kept in the keychain, never returned).
#[tauri::command]
#[tracing::instrument(skip(state, api_key), err)]
pub async fn ai_model_add(
    state: State<'_, AppState>,
    model: ModelInput,
    api_key: Option<String>,
) -> CommandResult<ModelConfig> {
    let me = state.profile().ok();
    Ok(state
        .services
        .add_model(me, &model, api_key.as_deref())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, api_key), err)]
pub async fn ai_model_update(
    state: State<'_, AppState>,
    id: i64,
    model: ModelInput,
    api_key: Option<String>,
) -> CommandResult<ModelConfig> {
    let me = state.profile().ok();
    Ok(state
        .services
        .update_model(me, id, &model, api_key.as_deref())
        .await?)
}

/// Whether an OpenAI-compatible model has its own key stored (the key itself never leaves Rust).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn ai_model_has_key(state: State<'_, AppState>, id: i64) -> CommandResult<bool> {
    Ok(state.services.model_has_key(id)?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn ai_model_activate(state: State<'_, AppState>, id: i64) -> CommandResult<ModelConfig> {
    let me = state.profile().ok();
    Ok(state.services.activate_model(me, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn ai_model_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    let me = state.profile().ok();
    Ok(state.services.delete_model(me, id).await?)
}
