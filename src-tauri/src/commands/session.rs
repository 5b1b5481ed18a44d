//! Signing in and out of local profiles.

use inkstone_core::profiles::{self, Profile};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[derive(serde::Serialize)]
pub struct SessionInfo {
    pub profile: Option<Profile>,
    /// Demo mode: the UI shows the demo accounts and a 演示 label.
    pub demo: bool,
}

#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CommandResult<Profile> {
    let profile = profiles::login(&state.db, username.trim(), &password).await?;
    state.set_profile(Some(profile.id));
    Ok(profile)
}

#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> CommandResult<()> {
    state.set_profile(None);
    Ok(())
}

#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn register_profile(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CommandResult<Profile> {
    // The first profile of this data folder owns it (changes AI models and keys).
    let profile =
        profiles::register(&state.db, username.trim(), &password, state.services.now()).await?;
    state.set_profile(Some(profile.id));
    Ok(profile)
}

#[tauri::command]
pub async fn session_info(state: State<'_, AppState>) -> CommandResult<SessionInfo> {
    let profile = match state.profile() {
        Ok(id) => Some(profiles::get_profile(&state.db, id).await?),
        Err(_) => None,
    };
    Ok(SessionInfo {
        profile,
        demo: state.demo,
    })
}
