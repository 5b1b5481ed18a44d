//! Settings → Backups, and the page the window opens on when the database is not well
//! (issue 19). The rules live in `inkstone_desktop::backups`; these only translate.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use inkstone_desktop::backups::{
    self, BackupEntry, DataTrouble, StartNotice, TroubleAction, TroubleKind,
};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::{AppError, CommandResult};
use crate::state::AppState;

/// What start-up did that the writer hears about once (a restore, the copy before an upgrade).
#[derive(Default)]
pub struct StartNotices(Mutex<Vec<StartNotice>>);

/// The database's trouble while the window shows the trouble page; `None` once the app runs.
#[derive(Default)]
pub struct TroubleState(Mutex<Option<TroubleView>>);

/// What the trouble page shows.
#[derive(Debug, Clone, Serialize)]
pub struct TroubleView {
    pub kind: TroubleKind,
    /// The newest daily backup that passed its check, if any.
    pub latest_backup: Option<BackupEntry>,
    /// After a failed upgrade: where the copy from before it is kept.
    pub upgrade_copy: Option<String>,
    pub data_dir: String,
    /// The writer's language from the settings file (the page shows before anything else
    /// can answer).
    pub locale: inkstone_desktop::preferences::Locale,
}

pub fn set_notices<R: Runtime>(app: &AppHandle<R>, notices: Vec<StartNotice>) {
    if let Some(state) = app.try_state::<StartNotices>() {
        if let Ok(mut list) = state.0.lock() {
            *list = notices;
        }
    }
}

pub fn set_trouble<R: Runtime>(app: &AppHandle<R>, data_dir: &Path, trouble: &DataTrouble) {
    let latest = tauri::async_runtime::block_on(backups::latest_good_backup(data_dir));
    store_trouble(app, data_dir, trouble, latest);
}

fn store_trouble<R: Runtime>(
    app: &AppHandle<R>,
    data_dir: &Path,
    trouble: &DataTrouble,
    latest_backup: Option<BackupEntry>,
) {
    let locale =
        crate::commands::settings::load(app, &data_dir.join(backups::SETTINGS_FILE)).locale;
    let view = TroubleView {
        kind: trouble.kind,
        latest_backup,
        upgrade_copy: trouble
            .upgrade_copy
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        data_dir: data_dir.to_string_lossy().into_owned(),
        locale,
    };
    if let Some(state) = app.try_state::<TroubleState>() {
        if let Ok(mut current) = state.0.lock() {
            *current = Some(view);
        }
    }
}

/// A backup a day: checked a minute after start and then every hour (the date decides).
pub fn spawn_daily<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let mut wait = std::time::Duration::from_secs(60);
        loop {
            tokio::time::sleep(wait).await;
            wait = std::time::Duration::from_secs(3600);
            let Some(state) = app.try_state::<AppState>() else {
                return;
            };
            match state.services.daily_backup().await {
                Ok(Some(written)) => tracing::info!(name = %written.name, "daily backup written"),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "the daily backup failed"),
            }
        }
    });
}

/// The daily backups, newest first.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn backups_list(state: State<'_, AppState>) -> CommandResult<Vec<BackupEntry>> {
    let profile = state.profile()?;
    Ok(state.services.backups(Some(profile)).await?)
}

fn path_argument(value: &str, field: &'static str) -> CommandResult<PathBuf> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.len() > 4096 {
        return Err(AppError::InvalidArgument {
            field,
            reason: "a full path",
        });
    }
    Ok(PathBuf::from(trimmed))
}

/// "Back up now" into a folder the writer picked.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn backup_now(state: State<'_, AppState>, folder: String) -> CommandResult<BackupEntry> {
    let profile = state.profile()?;
    let folder = path_argument(&folder, "folder")?;
    Ok(state.services.back_up_to(Some(profile), &folder).await?)
}

/// Restores `file` (checked first): the app restarts, puts it in place and keeps the current
/// data aside.
#[tauri::command]
#[tracing::instrument(skip(app, state), err)]
pub async fn backup_restore<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    file: String,
) -> CommandResult<backups::BackupCheck> {
    let profile = state.profile()?;
    let file = path_argument(&file, "file")?;
    let check = state
        .services
        .restore_on_restart(Some(profile), &file)
        .await?;
    // Time for this answer to reach the page before the process is replaced.
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        tracing::info!("restarting to restore a backup");
        app.restart();
    });
    Ok(check)
}

/// What start-up did, once (a second call gets nothing).
#[tauri::command]
#[tracing::instrument(skip(notices))]
pub fn start_notices(notices: State<'_, StartNotices>) -> Vec<StartNotice> {
    notices
        .0
        .lock()
        .map(|mut list| std::mem::take(&mut *list))
        .unwrap_or_default()
}

/// The database's trouble, or `null` when the app runs.
#[tauri::command]
#[tracing::instrument(skip(trouble))]
pub fn data_trouble(trouble: State<'_, TroubleState>) -> Option<TroubleView> {
    trouble.0.lock().ok().and_then(|t| t.clone())
}

/// The trouble page's choice: try again, restore the latest backup, or start fresh (the
/// broken file moved aside, nothing deleted); then the database is opened again. Returns the
/// trouble that remains, or `null` when the app now runs.
#[tauri::command]
#[tracing::instrument(skip(app, trouble), err)]
pub async fn data_trouble_resolve<R: Runtime>(
    app: AppHandle<R>,
    trouble: State<'_, TroubleState>,
    action: TroubleAction,
) -> CommandResult<Option<TroubleView>> {
    let Some(current) = trouble.0.lock().ok().and_then(|t| t.clone()) else {
        // The app already runs: nothing to resolve.
        return Ok(None);
    };
    let data_dir = PathBuf::from(&current.data_dir);
    // The system clock: this is the app, and the time only names the folder set aside.
    let now = chrono::Utc::now();
    backups::resolve_trouble(&data_dir, action, now).await?;
    match crate::reopen(&app)
        .await
        .map_err(|e| AppError::Storage(e.to_string()))?
    {
        None => {
            if let Ok(mut t) = trouble.0.lock() {
                *t = None;
            }
            Ok(None)
        }
        Some(still) => {
            tracing::error!(error = %still, "the database still cannot be used");
            let latest = backups::latest_good_backup(&data_dir).await;
            store_trouble(&app, &data_dir, &still, latest);
            Ok(trouble.0.lock().ok().and_then(|t| t.clone()))
        }
    }
}

/// "Export everything" of the signed-in profile into a folder the writer picked: one zip.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn export_everything(
    state: State<'_, AppState>,
    folder: String,
) -> CommandResult<inkstone_desktop::archive::ExportReport> {
    let profile = state.profile()?;
    let folder = path_argument(&folder, "folder")?;
    Ok(state.services.export_everything(profile, &folder).await?)
}

/// Takes the history of an export back into the signed-in profile (never credits).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn import_everything(
    state: State<'_, AppState>,
    file: String,
) -> CommandResult<inkstone_desktop::archive::ImportReport> {
    let profile = state.profile()?;
    let file = path_argument(&file, "file")?;
    Ok(state.services.import_everything(profile, &file).await?)
}
