//! Local profiles: the welcome page's first profile, signing in and out ("keep me signed in"
//! lives in crates/desktop, its secret in the OS keychain), password changes, deletion.

use inkstone_desktop::profiles::{DeletedProfile, Profile};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[derive(serde::Serialize)]
pub struct SessionInfo {
    pub profile: Option<Profile>,
    /// Demo mode: the UI shows the demo accounts and a 演示 label.
    pub demo: bool,
    /// False on a fresh data folder: the UI shows the welcome page to create the first profile.
    pub has_profiles: bool,
    /// Base URL `<video>` reads generated files from (see `media::serve_loopback`).
    pub media_base: Option<String>,
}

/// Signs in. `remember` ("keep me signed in on this computer") left out means no.
#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
    remember: Option<bool>,
) -> CommandResult<Profile> {
    let profile = state
        .services
        .sign_in(username.trim(), &password, remember.unwrap_or(false))
        .await?;
    state.set_profile(Some(profile.id));
    Ok(profile)
}

/// Signs out and forgets the remembered session of this computer.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn logout(state: State<'_, AppState>) -> CommandResult<()> {
    state.services.sign_out().await;
    state.set_profile(None);
    Ok(())
}

/// Creates a profile and signs it in; the first one on this computer is its owner.
#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn register_profile(
    state: State<'_, AppState>,
    username: String,
    password: String,
    remember: Option<bool>,
) -> CommandResult<Profile> {
    let profile = state
        .services
        .register(username.trim(), &password, remember.unwrap_or(false))
        .await?;
    state.set_profile(Some(profile.id));
    Ok(profile)
}

#[tauri::command]
#[tracing::instrument(skip(state, current, new), err)]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> CommandResult<()> {
    Ok(state
        .services
        .change_password(state.profile()?, &current, &new)
        .await?)
}

/// Writes the signed-in profile's history, ledger and files under `<data dir>/exports/` and
/// returns the folder (offered before deleting a profile).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn profile_export(state: State<'_, AppState>) -> CommandResult<String> {
    let folder = state.services.export_profile(state.profile()?).await?;
    Ok(folder.to_string_lossy().into_owned())
}

/// Deletes the signed-in profile after its name is typed again and its password given.
#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn delete_profile(
    state: State<'_, AppState>,
    password: String,
    confirmation: String,
) -> CommandResult<DeletedProfile> {
    let deleted = state
        .services
        .delete_profile(state.profile()?, &password, &confirmation)
        .await?;
    state.set_profile(None);
    Ok(deleted)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn session_info(state: State<'_, AppState>) -> CommandResult<SessionInfo> {
    let profile = match state.profile() {
        Ok(id) => Some(state.services.profile(id).await?),
        Err(_) => None,
    };
    Ok(SessionInfo {
        has_profiles: profile.is_some() || state.services.has_profiles().await?,
        profile,
        demo: state.demo,
        media_base: state.media_base.get().cloned(),
    })
}
