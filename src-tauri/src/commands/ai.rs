//! The DashScope key (OS keychain only) and model configurations.

use inkstone_core::models::{self, ModelConfig, ModelInput};
use inkstone_desktop::KeyStatus;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub fn ai_key_status(state: State<'_, AppState>) -> CommandResult<KeyStatus> {
    Ok(state.services.key_status()?)
}

/// Stores the key in the keychain; the webview only ever gets `KeyStatus` back.
#[tauri::command]
#[tracing::instrument(skip_all, err)]
pub fn ai_set_key(state: State<'_, AppState>, key: String) -> CommandResult<KeyStatus> {
    Ok(state.services.set_api_key(&key)?)
}

#[tauri::command]
pub fn ai_delete_key(state: State<'_, AppState>) -> CommandResult<KeyStatus> {
    Ok(state.services.delete_api_key()?)
}

/// Returns the model label that answered.
#[tauri::command]
pub async fn ai_test_connection(state: State<'_, AppState>) -> CommandResult<String> {
    Ok(state.services.test_connection().await?)
}

#[tauri::command]
pub async fn ai_models(state: State<'_, AppState>) -> CommandResult<Vec<ModelConfig>> {
    Ok(models::list_models(&state.db).await?)
}

#[tauri::command]
pub async fn ai_model_add(
    state: State<'_, AppState>,
    model: ModelInput,
) -> CommandResult<ModelConfig> {
    state.services.require_owner(state.profile()?).await?;
    Ok(models::add_model(&state.db, &model, state.services.now().timestamp_millis()).await?)
}

#[tauri::command]
pub async fn ai_model_update(
    state: State<'_, AppState>,
    id: i64,
    model: ModelInput,
) -> CommandResult<ModelConfig> {
    state.services.require_owner(state.profile()?).await?;
    Ok(models::update_model(&state.db, id, &model).await?)
}

#[tauri::command]
pub async fn ai_model_activate(state: State<'_, AppState>, id: i64) -> CommandResult<ModelConfig> {
    state.services.require_owner(state.profile()?).await?;
    Ok(models::activate_model(&state.db, id).await?)
}

#[tauri::command]
pub async fn ai_model_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    state.services.require_owner(state.profile()?).await?;
    Ok(models::delete_model(&state.db, id).await?)
}
