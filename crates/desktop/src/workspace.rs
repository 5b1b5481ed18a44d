//! The writing workspace's facade (issue 17): one method per command, each acting for the
//! signed-in profile on the clock the services run on. The rules (names, ownership, the
//! 30-day trash, revision-checked saves) are `inkstone_core::workspace`'s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use inkstone_core::document_ai;
use inkstone_core::generations::{NewGeneration, Status};
use inkstone_core::notes;
use inkstone_core::prompts::Message;
use inkstone_core::versions::{self, Snapshot};
use inkstone_core::workspace;
/// What the workspace commands return, re-exported so the shell needs no core import.
pub use inkstone_core::workspace::{
    Document, DocumentMeta, Found, Project, ProjectNode, Saved, Trash, Tree, WorkspaceError,
};
use inkstone_studio::QwenText;

pub use inkstone_core::document_ai::{Action as DocumentAction, Request as DocumentAiRequest};
/// What an AI run on a document streams and returns.
pub use inkstone_core::generations::Generation;
pub use inkstone_core::notes::{Note, NoteKind};
pub use inkstone_core::versions::{Version, VersionMeta};
pub use inkstone_studio::Update;

use inkstone_domain::{GenerationId, ProfileId};

use crate::{DesktopResult, Services};

/// How long typing must pause before the search index catches up with what the autosave
/// stored (the save itself only stores the text: issue 17, item 7).
pub const INDEX_AFTER_PAUSE: std::time::Duration = std::time::Duration::from_millis(1500);

/// Saves counted, so that a catch-up job that wakes up after a newer save leaves the work to
/// the job that save started.
#[derive(Debug, Default)]
pub(crate) struct IndexLater {
    saves: Arc<AtomicU64>,
}

impl IndexLater {
    /// After a save of `profile_id`'s document: indexes what is pending once no other save
    /// came for [`INDEX_AFTER_PAUSE`]. Runs on the async runtime; without one (nothing
    /// drives it), search still catches up itself.
    fn after_save(&self, db: &inkstone_core::Database, profile_id: ProfileId) {
        let this_save = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let saves = self.saves.clone();
        let db = db.clone();
        runtime.spawn(async move {
            tokio::time::sleep(INDEX_AFTER_PAUSE).await;
            if saves.load(Ordering::SeqCst) != this_save {
                return;
            }
            while let Ok(n) = workspace::index_pending(&db, profile_id).await {
                if n < workspace::INDEX_BATCH as usize || saves.load(Ordering::SeqCst) != this_save
                {
                    return;
                }
            }
            tracing::warn!("the search index could not catch up; the next search will");
        });
    }
}

/// The name of an outline note made by AI for the document titled `title`, in the writer's
/// language.
pub fn outline_note_name(locale: crate::preferences::Locale, title: &str) -> String {
    match locale {
        crate::preferences::Locale::ZhCn => format!("大纲 · {title}"),
        crate::preferences::Locale::En => format!("Outline · {title}"),
    }
}

impl Services {
    /// The sidebar, after the trash dropped what it kept 30 days.
    pub async fn workspace_tree(&self, profile_id: ProfileId) -> DesktopResult<Tree> {
        Ok(workspace::tree(&self.db, profile_id, self.now()).await?)
    }

    pub async fn project_create(
        &self,
        profile_id: ProfileId,
        name: &str,
    ) -> DesktopResult<Project> {
        Ok(workspace::create_project(&self.db, profile_id, name, self.now()).await?)
    }

    pub async fn project_rename(
        &self,
        profile_id: ProfileId,
        id: i64,
        name: &str,
    ) -> DesktopResult<Project> {
        Ok(workspace::rename_project(&self.db, profile_id, id, name, self.now()).await?)
    }

    pub async fn project_archive(
        &self,
        profile_id: ProfileId,
        id: i64,
        archived: bool,
    ) -> DesktopResult<Project> {
        Ok(workspace::archive_project(&self.db, profile_id, id, archived, self.now()).await?)
    }

    /// To the trash (kept 30 days), with its documents.
    pub async fn project_trash(&self, profile_id: ProfileId, id: i64) -> DesktopResult<Project> {
        Ok(workspace::trash_project(&self.db, profile_id, id, self.now()).await?)
    }

    pub async fn project_restore(&self, profile_id: ProfileId, id: i64) -> DesktopResult<Project> {
        Ok(workspace::restore_project(&self.db, profile_id, id).await?)
    }

    pub async fn document_create(
        &self,
        profile_id: ProfileId,
        project_id: i64,
        title: &str,
    ) -> DesktopResult<Document> {
        Ok(
            workspace::create_document(&self.db, profile_id, project_id, title, "", self.now())
                .await?,
        )
    }

    pub async fn document_get(&self, profile_id: ProfileId, id: i64) -> DesktopResult<Document> {
        Ok(workspace::get_document(&self.db, profile_id, id).await?)
    }

    pub async fn document_rename(
        &self,
        profile_id: ProfileId,
        id: i64,
        title: &str,
    ) -> DesktopResult<DocumentMeta> {
        Ok(workspace::rename_document(&self.db, profile_id, id, title, self.now()).await?)
    }

    pub async fn document_move(
        &self,
        profile_id: ProfileId,
        id: i64,
        project_id: i64,
    ) -> DesktopResult<DocumentMeta> {
        Ok(workspace::move_document(&self.db, profile_id, id, project_id, self.now()).await?)
    }

    pub async fn document_archive(
        &self,
        profile_id: ProfileId,
        id: i64,
        archived: bool,
    ) -> DesktopResult<DocumentMeta> {
        Ok(workspace::archive_document(&self.db, profile_id, id, archived, self.now()).await?)
    }

    /// To the trash (kept 30 days).
    pub async fn document_trash(
        &self,
        profile_id: ProfileId,
        id: i64,
    ) -> DesktopResult<DocumentMeta> {
        Ok(workspace::trash_document(&self.db, profile_id, id, self.now()).await?)
    }

    /// Out of the trash (its project too, if that was deleted).
    pub async fn document_restore(
        &self,
        profile_id: ProfileId,
        id: i64,
    ) -> DesktopResult<DocumentMeta> {
        Ok(workspace::restore_document(&self.db, profile_id, id).await?)
    }

    /// The autosave: stores `body` if `base_revision` is still current (one durable
    /// transaction on the async runtime, never on the UI thread). The search index follows
    /// once typing pauses ([`INDEX_AFTER_PAUSE`]).
    pub async fn document_save(
        &self,
        profile_id: ProfileId,
        id: i64,
        body: &str,
        base_revision: i64,
    ) -> DesktopResult<Saved> {
        let saved =
            workspace::save_document(&self.db, profile_id, id, body, base_revision, self.now())
                .await?;
        self.index_later.after_save(&self.db, profile_id);
        Ok(saved)
    }

    /// AI on a document (issue 17, item 3): a generation through the one runner (charged,
    /// refunded by its rules, stoppable by its id), in history with the document and the
    /// place it changes. Only the writer's own document, and not one in the trash; a bad
    /// request is refused before anything is charged.
    pub async fn document_ai(
        &self,
        profile_id: ProfileId,
        request: DocumentAiRequest,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<Generation> {
        let doc = workspace::get_document(&self.db, profile_id, request.document_id).await?;
        if doc.meta.deleted_at.is_some() {
            return Err(WorkspaceError::InTrash.into());
        }
        let text = document_ai::prepared_text(&request)?;
        let attached =
            notes::attached(&self.db, profile_id, doc.meta.project_id, &request.notes).await?;
        let context = notes::context_block(&attached);
        let messages = document_ai::messages(&request.action, &text, &context)?;
        let model = self.text_model(None, Vec::new()).await?;
        fits(&model, &messages)?;
        let new = NewGeneration {
            profile_id,
            tool: document_ai::TOOL,
            model: String::new(),
            prompt: text,
            params: document_ai::params(&request),
            regenerated_from: request.regenerated_from,
            inputs: Vec::new(),
        };
        Ok(self
            .studio
            .write_messages(new, messages, &model, sink)
            .await?)
    }

    /// A project's notes (its memory: characters, places, outline, style rules).
    pub async fn note_list(
        &self,
        profile_id: ProfileId,
        project_id: i64,
    ) -> DesktopResult<Vec<Note>> {
        Ok(notes::list(&self.db, profile_id, project_id).await?)
    }

    pub async fn note_create(
        &self,
        profile_id: ProfileId,
        project_id: i64,
        kind: NoteKind,
        name: &str,
        body: &str,
    ) -> DesktopResult<Note> {
        Ok(notes::create(
            &self.db,
            profile_id,
            project_id,
            kind,
            name,
            body,
            self.now(),
        )
        .await?)
    }

    pub async fn note_update(
        &self,
        profile_id: ProfileId,
        id: i64,
        name: &str,
        body: &str,
    ) -> DesktopResult<Note> {
        Ok(notes::update(&self.db, profile_id, id, name, body, self.now()).await?)
    }

    pub async fn note_delete(&self, profile_id: ProfileId, id: i64) -> DesktopResult<()> {
        Ok(notes::delete(&self.db, profile_id, id).await?)
    }

    /// An outline of the document by AI (item 5): a generation through the one runner
    /// (charged, refunded by its rules) whose answer, when the run succeeds, becomes a new
    /// outline note of the document's project, edited like any note. `attach` are notes
    /// the run reads too (style rules, characters). The note is named in the writer's
    /// language (`locale`).
    pub async fn outline_generate(
        &self,
        profile_id: ProfileId,
        document_id: i64,
        attach: Vec<i64>,
        locale: crate::preferences::Locale,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<OutlineRun> {
        let doc = workspace::get_document(&self.db, profile_id, document_id).await?;
        if doc.meta.deleted_at.is_some() {
            return Err(WorkspaceError::InTrash.into());
        }
        let text = document_ai::outline_source(&doc.body)?;
        let attached = notes::attached(&self.db, profile_id, doc.meta.project_id, &attach).await?;
        let context = notes::context_block(&attached);
        let messages = document_ai::outline_messages(&doc.meta.title, &text, &context);
        let model = self.text_model(None, Vec::new()).await?;
        fits(&model, &messages)?;
        let mut params = document_ai::outline_params(document_id);
        if !attach.is_empty() {
            params["notes"] = serde_json::json!(attach);
        }
        let new = NewGeneration {
            profile_id,
            tool: document_ai::TOOL,
            model: String::new(),
            prompt: doc.meta.title.clone(),
            params,
            regenerated_from: None,
            inputs: Vec::new(),
        };
        let generation = self
            .studio
            .write_messages(new, messages, &model, sink)
            .await?;
        let mut note = None;
        if generation.status == Status::Succeeded && !generation.output_text.trim().is_empty() {
            // The title is at most 100 characters; the note's name must be too.
            let title: String = doc.meta.title.chars().take(90).collect();
            let body: String = generation
                .output_text
                .chars()
                .take(notes::MAX_NOTE_CHARS)
                .collect();
            note = Some(
                notes::create(
                    &self.db,
                    profile_id,
                    doc.meta.project_id,
                    NoteKind::Outline,
                    &outline_note_name(locale, &title),
                    &body,
                    self.now(),
                )
                .await?,
            );
        }
        Ok(OutlineRun { generation, note })
    }

    /// The document's versions, newest first.
    pub async fn version_list(
        &self,
        profile_id: ProfileId,
        document_id: i64,
    ) -> DesktopResult<Vec<VersionMeta>> {
        Ok(versions::list(&self.db, profile_id, document_id).await?)
    }

    pub async fn version_get(&self, profile_id: ProfileId, id: i64) -> DesktopResult<Version> {
        Ok(versions::get(&self.db, profile_id, id).await?)
    }

    /// A named version of the stored text.
    pub async fn version_create(
        &self,
        profile_id: ProfileId,
        document_id: i64,
        name: &str,
    ) -> DesktopResult<VersionMeta> {
        Ok(versions::create(
            &self.db,
            profile_id,
            document_id,
            Snapshot::Named(name),
            self.now(),
        )
        .await?)
    }

    /// The version kept before generation `generation_id`'s answer is accepted.
    pub async fn version_before_ai(
        &self,
        profile_id: ProfileId,
        document_id: i64,
        generation_id: GenerationId,
    ) -> DesktopResult<VersionMeta> {
        Ok(versions::create(
            &self.db,
            profile_id,
            document_id,
            Snapshot::BeforeAi(generation_id),
            self.now(),
        )
        .await?)
    }

    /// Restores a version if `base_revision` is current; the replaced text is kept first.
    pub async fn version_restore(
        &self,
        profile_id: ProfileId,
        document_id: i64,
        version_id: i64,
        base_revision: i64,
    ) -> DesktopResult<Document> {
        Ok(versions::restore(
            &self.db,
            profile_id,
            document_id,
            version_id,
            base_revision,
            self.now(),
        )
        .await?)
    }

    /// History search's documents: the profile's live documents holding every term.
    pub async fn workspace_search(
        &self,
        profile_id: ProfileId,
        query: &str,
    ) -> DesktopResult<Vec<Found>> {
        Ok(workspace::search(&self.db, profile_id, query, 20).await?)
    }
}

/// An outline run and the note its answer became (none when the run failed or was stopped).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutlineRun {
    pub generation: Generation,
    pub note: Option<Note>,
}

/// Refuses a run whose estimated input and answer room exceed the model's context window,
/// before the runner charges anything.
fn fits(model: &QwenText, messages: &[Message]) -> DesktopResult<()> {
    let tokens = messages
        .iter()
        .map(|m| notes::estimate_tokens(&m.content))
        .fold(0usize, usize::saturating_add);
    Ok(notes::check_context(
        &model.model,
        tokens,
        model.params.max_tokens,
    )?)
}
