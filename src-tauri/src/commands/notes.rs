//! A project's memory (issue 17, item 5): its notes, and an outline made by AI. Each command
//! calls one method of `inkstone_desktop::Services` for the signed-in profile; a note's text
//! is the writer's and is not logged.

use inkstone_desktop::workspace::{Note, NoteKind, OutlineRun, Update};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn note_list(state: State<'_, AppState>, project_id: i64) -> CommandResult<Vec<Note>> {
    Ok(state
        .services
        .note_list(state.profile()?, project_id)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, name, body), err)]
pub async fn note_create(
    state: State<'_, AppState>,
    project_id: i64,
    kind: NoteKind,
    name: String,
    body: String,
) -> CommandResult<Note> {
    Ok(state
        .services
        .note_create(state.profile()?, project_id, kind, &name, &body)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, name, body), err)]
pub async fn note_update(
    state: State<'_, AppState>,
    id: i64,
    name: String,
    body: String,
) -> CommandResult<Note> {
    Ok(state
        .services
        .note_update(state.profile()?, id, &name, &body)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn note_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    Ok(state.services.note_delete(state.profile()?, id).await?)
}

/// An outline of the document by AI, streamed over `on_event` like every generation (stop
/// it with `cancel_generation`); a successful run's answer comes back as a new outline note.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_event), err)]
pub async fn outline_generate<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    document_id: i64,
    notes: Vec<i64>,
    on_event: Channel<Update>,
) -> CommandResult<OutlineRun> {
    let profile = state.profile()?;
    // The note is named in the writer's language.
    let locale = super::settings::load(&app, &super::settings::store_path(&state)).locale;
    let mut sink = move |u: Update| {
        // A page that went away is not an error: the run goes on to its end.
        let _ = on_event.send(u);
    };
    Ok(state
        .services
        .outline_generate(profile, document_id, notes, locale, &mut sink)
        .await?)
}
