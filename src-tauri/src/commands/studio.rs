//! Generations: every tool streams its updates over a `Channel` and can be stopped.

use std::path::{Path, PathBuf};

use base64::Engine;
use inkstone_core::generations::{self, Generation, HistoryFilter, HistoryPage};
use inkstone_core::ledger::PageRequest;
use inkstone_studio::{MediaKind, Update, WriteRequest};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, CommandResult};
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct WritingInput {
    pub tool: String,
    pub input: String,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub regenerated_from: Option<i64>,
    #[serde(default)]
    pub model_id: Option<i64>,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(tool = %input.tool), err)]
pub async fn generate_writing(
    state: State<'_, AppState>,
    input: WritingInput,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let request = WriteRequest {
        profile_id: state.profile()?,
        tool: input.tool,
        input: input.input,
        params: input.params,
        regenerated_from: input.regenerated_from,
    };
    let mut sink = move |u: Update| {
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .write(request, input.model_id, &mut sink)
        .await?)
}

#[tauri::command]
pub async fn generate_vision(
    state: State<'_, AppState>,
    input: WritingInput,
    image_path: String,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let request = WriteRequest {
        profile_id: state.profile()?,
        tool: "vision".into(),
        input: input.input,
        params: input.params,
        regenerated_from: None,
    };
    let mut sink = move |u: Update| {
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .write_about_image(request, Path::new(&image_path), &mut sink)
        .await?)
}

#[tauri::command]
pub async fn generate_slides(
    state: State<'_, AppState>,
    topic: String,
    slides: u32,
    language: String,
    accent: String,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let profile = state.profile()?;
    let mut sink = move |u: Update| {
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .slides(profile, topic, slides, language, accent, &mut sink)
        .await?)
}

#[tauri::command]
pub async fn generate_media(
    state: State<'_, AppState>,
    kind: String,
    prompt: String,
    params: serde_json::Value,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let kind = match kind.as_str() {
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        _ => {
            return Err(AppError::InvalidArgument {
                field: "kind",
                reason: "image or video",
            })
        }
    };
    let profile = state.profile()?;
    let mut sink = move |u: Update| {
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .media(profile, kind, prompt, params, &mut sink)
        .await?)
}

/// The stop button. False when the run already ended.
#[tauri::command]
pub fn cancel_generation(state: State<'_, AppState>, generation_id: i64) -> bool {
    state.services.studio.cancel(generation_id)
}

#[tauri::command]
pub async fn history_list(
    state: State<'_, AppState>,
    filter: HistoryFilter,
    page: PageRequest,
) -> CommandResult<HistoryPage> {
    Ok(generations::history(&state.db, state.profile()?, &filter, page).await?)
}

#[tauri::command]
pub async fn history_get(state: State<'_, AppState>, id: i64) -> CommandResult<Generation> {
    Ok(generations::get(&state.db, state.profile()?, id).await?)
}

#[tauri::command]
pub async fn history_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    Ok(generations::delete(&state.db, state.profile()?, id).await?)
}

/// Markdown (`md`) or plain text (`txt`) of one generation.
#[tauri::command]
pub async fn history_export(
    state: State<'_, AppState>,
    id: i64,
    format: String,
) -> CommandResult<String> {
    let g = generations::get(&state.db, state.profile()?, id).await?;
    match format.as_str() {
        "md" => Ok(generations::export_markdown(&g)),
        "txt" => Ok(generations::export_text(&g)),
        _ => Err(AppError::InvalidArgument {
            field: "format",
            reason: "md or txt",
        }),
    }
}

/// A generated file as a data URL, for `<img>`/`<video>`; only files the app
/// itself wrote (under its data folder) are served.
#[tauri::command]
pub async fn generated_file(state: State<'_, AppState>, path: String) -> CommandResult<String> {
    let root =
        state
            .data_dir
            .join("files")
            .canonicalize()
            .map_err(|_| AppError::InvalidArgument {
                field: "path",
                reason: "no files yet",
            })?;
    let file: PathBuf = Path::new(&path)
        .canonicalize()
        .map_err(|_| AppError::InvalidArgument {
            field: "path",
            reason: "not found",
        })?;
    if !file.starts_with(&root) {
        return Err(AppError::InvalidArgument {
            field: "path",
            reason: "outside the app's files",
        });
    }
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|_| AppError::InvalidArgument {
            field: "path",
            reason: "unreadable",
        })?;
    let mime = match file.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}
