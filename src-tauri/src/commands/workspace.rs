//! The writing workspace (issue 17): projects, documents, the trash and the autosave. Each
//! command calls one method of `inkstone_desktop::Services` for the signed-in profile.

use base64::Engine;
use inkstone_desktop::workspace::{
    Document, DocumentAiRequest, DocumentMeta, Found, Generation, Project, Saved, Tree, Update,
    Version, VersionMeta,
};
use inkstone_desktop::workspace_io::ExportFormat;
use tauri::ipc::Channel;
use tauri::State;

use crate::close_guard::CloseGuard;
use crate::error::{AppError, CommandResult};
use crate::state::AppState;

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn workspace_tree(state: State<'_, AppState>) -> CommandResult<Tree> {
    Ok(state.services.workspace_tree(state.profile()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_create(state: State<'_, AppState>, name: String) -> CommandResult<Project> {
    Ok(state
        .services
        .project_create(state.profile()?, &name)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_rename(
    state: State<'_, AppState>,
    id: i64,
    name: String,
) -> CommandResult<Project> {
    Ok(state
        .services
        .project_rename(state.profile()?, id, &name)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_archive(
    state: State<'_, AppState>,
    id: i64,
    archived: bool,
) -> CommandResult<Project> {
    Ok(state
        .services
        .project_archive(state.profile()?, id, archived)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_trash(state: State<'_, AppState>, id: i64) -> CommandResult<Project> {
    Ok(state.services.project_trash(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_restore(state: State<'_, AppState>, id: i64) -> CommandResult<Project> {
    Ok(state.services.project_restore(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_create(
    state: State<'_, AppState>,
    project_id: i64,
    title: String,
) -> CommandResult<Document> {
    Ok(state
        .services
        .document_create(state.profile()?, project_id, &title)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_get(state: State<'_, AppState>, id: i64) -> CommandResult<Document> {
    Ok(state.services.document_get(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_rename(
    state: State<'_, AppState>,
    id: i64,
    title: String,
) -> CommandResult<DocumentMeta> {
    Ok(state
        .services
        .document_rename(state.profile()?, id, &title)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_move(
    state: State<'_, AppState>,
    id: i64,
    project_id: i64,
) -> CommandResult<DocumentMeta> {
    Ok(state
        .services
        .document_move(state.profile()?, id, project_id)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_archive(
    state: State<'_, AppState>,
    id: i64,
    archived: bool,
) -> CommandResult<DocumentMeta> {
    Ok(state
        .services
        .document_archive(state.profile()?, id, archived)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_trash(state: State<'_, AppState>, id: i64) -> CommandResult<DocumentMeta> {
    Ok(state.services.document_trash(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_restore(state: State<'_, AppState>, id: i64) -> CommandResult<DocumentMeta> {
    Ok(state
        .services
        .document_restore(state.profile()?, id)
        .await?)
}

/// The autosave. The writer's text is never logged.
#[tauri::command]
#[tracing::instrument(skip(state, body), fields(bytes = body.len()), err)]
pub async fn document_save(
    state: State<'_, AppState>,
    id: i64,
    body: String,
    base_revision: i64,
) -> CommandResult<Saved> {
    Ok(state
        .services
        .document_save(state.profile()?, id, &body, base_revision)
        .await?)
}

/// The workspace page asks to be told before the window closes, to save its last text (a
/// window matter of the shell: no business rule, nothing stored).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn workspace_on_close(guard: State<'_, CloseGuard>, on_close: Channel<&'static str>) {
    guard.register(on_close);
}

/// The page saved after being told the window closes: it may close now.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn workspace_close_ready(guard: State<'_, CloseGuard>) {
    guard.flushed();
}

/// AI on the document's text: streams over `on_event` like every generation (stop it with
/// `cancel_generation`). The writer's text is not logged.
#[tauri::command]
#[tracing::instrument(skip(state, request, on_event), fields(document_id = request.document_id, action = request.action.name()), err)]
pub async fn document_ai(
    state: State<'_, AppState>,
    request: DocumentAiRequest,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let profile = state.profile()?;
    let mut sink = move |u: Update| {
        // A page that went away is not an error: the run goes on to its end.
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .document_ai(profile, request, &mut sink)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn version_list(
    state: State<'_, AppState>,
    document_id: i64,
) -> CommandResult<Vec<VersionMeta>> {
    Ok(state
        .services
        .version_list(state.profile()?, document_id)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn version_get(state: State<'_, AppState>, id: i64) -> CommandResult<Version> {
    Ok(state.services.version_get(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn version_create(
    state: State<'_, AppState>,
    document_id: i64,
    name: String,
) -> CommandResult<VersionMeta> {
    Ok(state
        .services
        .version_create(state.profile()?, document_id, &name)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn version_before_ai(
    state: State<'_, AppState>,
    document_id: i64,
    generation_id: inkstone_domain::GenerationId,
) -> CommandResult<VersionMeta> {
    Ok(state
        .services
        .version_before_ai(state.profile()?, document_id, generation_id)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn version_restore(
    state: State<'_, AppState>,
    document_id: i64,
    version_id: i64,
    base_revision: i64,
) -> CommandResult<Document> {
    Ok(state
        .services
        .version_restore(state.profile()?, document_id, version_id, base_revision)
        .await?)
}

/// Largest file the import takes (`inkstone_core::workspace::MAX_IMPORT_BYTES`, 10 MB), checked
/// on the base64 text before it is decoded.
const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

fn decode_import(content_base64: &str) -> CommandResult<Vec<u8>> {
    let encoded = content_base64.trim();
    if encoded.len() > MAX_IMPORT_BYTES.div_ceil(3) * 4 {
        return Err(AppError::InvalidArgument {
            field: "content_base64",
            reason: "the file is larger than 10 MB",
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| AppError::InvalidArgument {
            field: "content_base64",
            reason: "not valid base64",
        })
}

/// A new document from a `.docx`, `.md` or `.txt` file (its bytes as base64: the webview has
/// no paths).
#[tauri::command]
#[tracing::instrument(skip(state, content_base64), err)]
pub async fn document_import(
    state: State<'_, AppState>,
    project_id: i64,
    file_name: String,
    content_base64: String,
) -> CommandResult<Document> {
    let bytes = decode_import(&content_base64)?;
    drop(content_base64);
    Ok(state
        .services
        .document_import(state.profile()?, project_id, &file_name, bytes)
        .await?)
}

/// Asks the writer for a folder to export into, with the system's folder picker (opened from
/// Rust: the webview has no dialog API). `None` when they cancel. The path goes back to
/// `document_export` / `project_export`, which check it (`Services::export_folder`).
#[tauri::command]
#[tracing::instrument(skip(app), err)]
pub async fn export_pick_folder<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    title: String,
) -> CommandResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    // The E2E suite cannot drive the system's folder picker: with the test doubles built in
    // (feature `demo`, never in the installer) this variable answers for the writer.
    #[cfg(feature = "demo")]
    if let Some(folder) = std::env::var_os("INKSTONE_E2E_EXPORT_FOLDER") {
        return Ok(Some(folder.to_string_lossy().into_owned()));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title.chars().take(100).collect::<String>())
        .pick_folder(move |picked| {
            let _ = tx.send(picked);
        });
    // A dialog closed without an answer (the window went away) is a cancel.
    let picked = rx.await.ok().flatten();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into_owned()))
}

/// Writes the document as `docx`, `md` or `txt` into `folder` (one the writer picked; checked
/// by the services) or, without one, under `<data dir>/exports/`; returns the path.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn document_export(
    state: State<'_, AppState>,
    id: i64,
    format: ExportFormat,
    folder: Option<String>,
) -> CommandResult<String> {
    let path = state
        .services
        .document_export(
            state.profile()?,
            id,
            format,
            folder.as_deref().map(std::path::Path::new),
        )
        .await?;
    Ok(path.to_string_lossy().into_owned())
}

/// Writes every document of the project into a new folder inside `folder` (or under
/// `<data dir>/exports/`); returns the new folder.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn project_export(
    state: State<'_, AppState>,
    id: i64,
    format: ExportFormat,
    folder: Option<String>,
) -> CommandResult<String> {
    let path = state
        .services
        .project_export(
            state.profile()?,
            id,
            format,
            folder.as_deref().map(std::path::Path::new),
        )
        .await?;
    Ok(path.to_string_lossy().into_owned())
}

/// History search's documents (the same Chinese-aware index as history).
#[tauri::command]
#[tracing::instrument(skip(state, query), err)]
pub async fn workspace_search(
    state: State<'_, AppState>,
    query: String,
) -> CommandResult<Vec<Found>> {
    Ok(state
        .services
        .workspace_search(state.profile()?, &query)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_arrives_as_base64_and_bad_input_is_typed() {
        assert_eq!(decode_import(" 5pil\n").unwrap(), "春".as_bytes());
        for bad in ["not base64!", "data:text/plain;base64,5pil"] {
            assert_eq!(
                decode_import(bad).unwrap_err().kind(),
                "invalid_argument",
                "{bad}"
            );
        }
        let big = "A".repeat(MAX_IMPORT_BYTES.div_ceil(3) * 4 + 4);
        assert_eq!(decode_import(&big).unwrap_err().kind(), "invalid_argument");
    }
}
