//! The writing workspace (issue 17): a writer's projects and the documents in them.
//!
//! Every function takes the signed-in profile and acts only on that profile's rows: another
//! profile's id is answered as unknown, never touched. Names are validated (1 to 100
//! characters, no control or bidi-override characters); a document's text is limited to
//! [`MAX_BODY_CHARS`]. Deleting only moves a project or document to the trash, where it stays
//! [`TRASH_DAYS`] days; [`purge_expired`] removes what is older, by the `now` it is given.
//!
//! Saving is optimistic: a save names the revision it was based on and fails with
//! [`WorkspaceError::Conflict`] if the stored one moved on, so a late or repeated autosave
//! can never put older text over newer.

use chrono::{DateTime, Duration, Utc};
use inkstone_domain::{GenerationId, ProfileId};
use serde::Serialize;
use sqlx::Row;

use crate::time::{from_ms, to_ms};
use crate::Database;

/// Longest project or document name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest document, in characters (ten times the 200,000-character bench document).
pub const MAX_BODY_CHARS: usize = 2_000_000;
/// How long the trash keeps what was deleted.
pub const TRASH_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// Occurs when a project or document name is empty, longer than [`MAX_NAME_CHARS`], or
    /// holds control or text-direction characters.
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    /// Occurs when a project id names no project of this profile (or one already purged).
    #[error("unknown project {0}")]
    UnknownProject(i64),
    /// Occurs when a document id names no document of this profile (or one already purged).
    #[error("unknown document {0}")]
    UnknownDocument(i64),
    /// Occurs when a save is based on an older revision than the stored one.
    #[error("document {id} is at revision {current}, the save was based on {base}")]
    Conflict { id: i64, base: i64, current: i64 },
    /// Occurs when a document's text is longer than [`MAX_BODY_CHARS`].
    #[error("the document is too large ({chars} characters, at most {max})")]
    TooLarge { chars: usize, max: usize },
    /// Occurs when a document or project in the trash is edited or used as a destination.
    #[error("it is in the trash; restore it first")]
    InTrash,
    /// Occurs when an imported file's name is not `.txt`, `.md` or `.docx`.
    #[error("only .docx, .md and .txt files can be imported")]
    ImportUnsupported,
    /// Occurs when an imported file is not what its name says (not UTF-8 text, not a Word
    /// file) or is damaged.
    #[error("the file cannot be read: {0}")]
    ImportUnreadable(&'static str),
    /// Occurs when a version id names no version of this profile's document.
    #[error("unknown version {0}")]
    UnknownVersion(i64),
    /// Occurs when a generation id names no generation of this profile.
    #[error("unknown generation {0}")]
    UnknownGeneration(GenerationId),
    /// Occurs when a note id names no note of this profile's project.
    #[error("unknown note {0}")]
    UnknownNote(i64),
    /// Occurs when a note's text is longer than [`crate::notes::MAX_NOTE_CHARS`].
    #[error("the note is too long ({chars} characters, at most {max})")]
    NoteTooLong { chars: usize, max: usize },
    /// Occurs when a run attaches more than [`crate::notes::MAX_ATTACHED`] notes.
    #[error("too many notes attached (at most {max})")]
    TooManyNotes { max: usize },
    /// Occurs when the prompt, the attached notes and the document context together would
    /// not fit the model's context window (estimated; nothing is charged).
    #[error("too much for the model: about {tokens} tokens, the model takes {limit}")]
    ContextTooLong { tokens: usize, limit: usize },
    /// Occurs when SQLite fails; details stay in the logs.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl WorkspaceError {
    /// Every `kind()` this type can return (the UI has a text for each).
    pub const KINDS: &'static [&'static str] = &[
        "invalid_name",
        "unknown_project",
        "unknown_document",
        "document_conflict",
        "document_too_large",
        "in_trash",
        "import_unsupported",
        "import_unreadable",
        "unknown_version",
        "unknown_generation",
        "unknown_note",
        "note_too_long",
        "too_many_notes",
        "context_too_long",
        "database",
    ];

    /// A stable machine-readable name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidName(_) => "invalid_name",
            Self::UnknownProject(_) => "unknown_project",
            Self::UnknownDocument(_) => "unknown_document",
            Self::Conflict { .. } => "document_conflict",
            Self::TooLarge { .. } => "document_too_large",
            Self::InTrash => "in_trash",
            Self::ImportUnsupported => "import_unsupported",
            Self::ImportUnreadable(_) => "import_unreadable",
            Self::UnknownVersion(_) => "unknown_version",
            Self::UnknownGeneration(_) => "unknown_generation",
            Self::UnknownNote(_) => "unknown_note",
            Self::NoteTooLong { .. } => "note_too_long",
            Self::TooManyNotes { .. } => "too_many_notes",
            Self::ContextTooLong { .. } => "context_too_long",
            Self::Database(_) => "database",
        }
    }
}

pub type WorkspaceResult<T> = Result<T, WorkspaceError>;

/// Characters that would make a name lie about itself in a list: bidi embeddings, overrides
/// and isolates (U+202A–202E, U+2066–2069), besides every control character.
fn is_forbidden_in_name(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069)
}

/// A project or document name as stored: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no
/// control or text-direction characters.
pub fn validate_name(name: &str) -> WorkspaceResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(WorkspaceError::InvalidName("must not be empty"));
    }
    if trimmed.chars().any(is_forbidden_in_name) {
        return Err(WorkspaceError::InvalidName("contains control characters"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(WorkspaceError::InvalidName("longer than 100 characters"));
    }
    Ok(trimmed.to_string())
}

fn check_body(body: &str) -> WorkspaceResult<()> {
    // Bytes first: more than 4 bytes per character cannot be, so a huge text is refused
    // without counting it.
    if body.len() > MAX_BODY_CHARS * 4 {
        return Err(WorkspaceError::TooLarge {
            chars: body.len() / 4,
            max: MAX_BODY_CHARS,
        });
    }
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(WorkspaceError::TooLarge {
            chars,
            max: MAX_BODY_CHARS,
        });
    }
    Ok(())
}

/// Most bytes an imported file may have.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// The text of an imported `.txt` or `.md` file: UTF-8 (a byte-order mark is dropped), no NUL
/// bytes (a binary file with a text name), line ends made `\n`, within [`MAX_BODY_CHARS`].
pub fn text_from_bytes(bytes: &[u8]) -> WorkspaceResult<String> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(WorkspaceError::TooLarge {
            chars: bytes.len(),
            max: MAX_BODY_CHARS,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| WorkspaceError::ImportUnreadable("not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(WorkspaceError::ImportUnreadable("not a text file"));
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    check_body(&text)?;
    Ok(text)
}

/// The title and the lower-case extension of an imported file's name (its last path part).
pub fn split_file_name(name: &str) -> WorkspaceResult<(String, String)> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base
        .rsplit_once('.')
        .ok_or(WorkspaceError::ImportUnsupported)?;
    let ext = ext.to_ascii_lowercase();
    if !matches!(ext.as_str(), "txt" | "md" | "markdown" | "docx") {
        return Err(WorkspaceError::ImportUnsupported);
    }
    Ok((validate_name(stem)?, ext))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    /// Set while it is in the trash.
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document without its text (the sidebar's rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentMeta {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub revision: i64,
    /// Length of the text in characters.
    pub chars: i64,
    pub archived: bool,
    /// Set while it is in the trash.
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    #[serde(flatten)]
    pub meta: DocumentMeta,
    pub body: String,
}

/// What a save stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Saved {
    pub id: i64,
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
}

/// Everything the sidebar shows: live projects with their live documents, and the trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    pub projects: Vec<ProjectNode>,
    pub trash: Trash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectNode {
    #[serde(flatten)]
    pub project: Project,
    pub documents: Vec<DocumentMeta>,
}

/// Deleted projects (each with its documents) and deleted documents of live projects; each
/// goes for good at `deleted_at` + [`TRASH_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trash {
    pub projects: Vec<ProjectNode>,
    pub documents: Vec<DocumentMeta>,
    pub keep_days: i64,
}

const PROJECT_COLUMNS: &str =
    "id, name, archived_at_ms, deleted_at_ms, created_at_ms, updated_at_ms";
const META_COLUMNS: &str = "id, project_id, title, revision, length(body) AS chars, \
     archived_at_ms, deleted_at_ms, created_at_ms, updated_at_ms";

fn row_to_project(row: &sqlx::sqlite::SqliteRow) -> WorkspaceResult<Project> {
    Ok(Project {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        archived: row.try_get::<Option<i64>, _>("archived_at_ms")?.is_some(),
        deleted_at: row.try_get::<Option<i64>, _>("deleted_at_ms")?.map(from_ms),
        created_at: from_ms(row.try_get("created_at_ms")?),
        updated_at: from_ms(row.try_get("updated_at_ms")?),
    })
}

fn row_to_meta(row: &sqlx::sqlite::SqliteRow) -> WorkspaceResult<DocumentMeta> {
    Ok(DocumentMeta {
        id: row.try_get("id")?,
        project_id: row.try_get("project_id")?,
        title: row.try_get("title")?,
        revision: row.try_get("revision")?,
        chars: row.try_get("chars")?,
        archived: row.try_get::<Option<i64>, _>("archived_at_ms")?.is_some(),
        deleted_at: row.try_get::<Option<i64>, _>("deleted_at_ms")?.map(from_ms),
        created_at: from_ms(row.try_get("created_at_ms")?),
        updated_at: from_ms(row.try_get("updated_at_ms")?),
    })
}

/// Puts the document's title and text in the search index (replacing what was there).
async fn index(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    title: &str,
    body: &str,
) -> WorkspaceResult<()> {
    write_index(
        conn,
        id,
        &crate::search::index_text(&format!("{title}\n{body}")),
    )
    .await?;
    // Whatever a save left pending is now current.
    sqlx::query("DELETE FROM documents_unindexed WHERE document_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces document `id`'s row of the search index with `indexed` (already tokenised).
async fn write_index(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    indexed: &str,
) -> WorkspaceResult<()> {
    sqlx::query("DELETE FROM documents_fts WHERE rowid = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO documents_fts (rowid, body) VALUES (?, ?)")
        .bind(id)
        .bind(indexed)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A document found by [`search`]: where it is and a little of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    /// The first 80 characters of its text.
    pub excerpt: String,
    pub updated_at: DateTime<Utc>,
}

/// The profile's live documents whose title or text holds every term of `query` (Chinese as
/// written, other words as prefixes), newest first, at most `limit` (1 to 100).
pub async fn search(
    db: &Database,
    profile_id: ProfileId,
    query: &str,
    limit: u32,
) -> WorkspaceResult<Vec<Found>> {
    let Some(expr) = crate::search::match_query(query) else {
        return Ok(Vec::new());
    };
    // Saved text the index has not caught up with yet is found too.
    while index_pending(db, profile_id).await? == INDEX_BATCH as usize {}
    let rows = sqlx::query(
        "SELECT d.id, d.project_id, d.title, substr(d.body, 1, 80) AS excerpt, d.updated_at_ms
         FROM documents_fts f JOIN documents d ON d.id = f.rowid
         JOIN projects p ON p.id = d.project_id
         WHERE documents_fts MATCH ? AND d.profile_id = ?
           AND d.deleted_at_ms IS NULL AND p.deleted_at_ms IS NULL
         ORDER BY d.updated_at_ms DESC LIMIT ?",
    )
    .bind(expr)
    .bind(profile_id)
    .bind(limit.clamp(1, 100))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Found {
                id: row.try_get("id")?,
                project_id: row.try_get("project_id")?,
                title: row.try_get("title")?,
                excerpt: row.try_get("excerpt")?,
                updated_at: from_ms(row.try_get("updated_at_ms")?),
            })
        })
        .collect()
}

/// The profile's project `id`, in the trash or not.
pub async fn get_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<Project> {
    let row = sqlx::query(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(WorkspaceError::UnknownProject(id))?;
    row_to_project(&row)
}

/// The profile's project `id`, which must not be in the trash.
pub(crate) async fn live_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<Project> {
    let project = get_project(db, profile_id, id).await?;
    if project.deleted_at.is_some() {
        return Err(WorkspaceError::InTrash);
    }
    Ok(project)
}

pub async fn create_project(
    db: &Database,
    profile_id: ProfileId,
    name: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<Project> {
    let name = validate_name(name)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (profile_id, name, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(profile_id)
    .bind(&name)
    .bind(to_ms(now))
    .bind(to_ms(now))
    .fetch_one(db)
    .await?;
    get_project(db, profile_id, id).await
}

pub async fn rename_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<Project> {
    let name = validate_name(name)?;
    live_project(db, profile_id, id).await?;
    sqlx::query("UPDATE projects SET name = ?, updated_at_ms = ? WHERE id = ? AND profile_id = ?")
        .bind(&name)
        .bind(to_ms(now))
        .bind(id)
        .bind(profile_id)
        .execute(db)
        .await?;
    get_project(db, profile_id, id).await
}

/// Archives (`true`) or brings back (`false`) a project: archived ones are listed apart.
pub async fn archive_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    archived: bool,
    now: DateTime<Utc>,
) -> WorkspaceResult<Project> {
    live_project(db, profile_id, id).await?;
    Shelf::Projects
        .set_archived(db, profile_id, id, archived, now)
        .await?;
    get_project(db, profile_id, id).await
}

/// Moves a project, with its documents, to the trash. Deleting it again changes nothing (its
/// 30 days do not start over).
pub async fn trash_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<Project> {
    get_project(db, profile_id, id).await?;
    Shelf::Projects.trash(db, profile_id, id, now).await?;
    get_project(db, profile_id, id).await
}

pub async fn restore_project(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<Project> {
    get_project(db, profile_id, id).await?;
    Shelf::Projects.restore(db, profile_id, id).await?;
    get_project(db, profile_id, id).await
}

/// Projects and documents are archived, trashed and restored by the same rules; only the table
/// differs.
#[derive(Clone, Copy)]
enum Shelf {
    Projects,
    Documents,
}

impl Shelf {
    fn table(self) -> &'static str {
        match self {
            Shelf::Projects => "projects",
            Shelf::Documents => "documents",
        }
    }

    /// Archiving again keeps the first archive time.
    async fn set_archived(
        self,
        db: &Database,
        profile_id: ProfileId,
        id: i64,
        archived: bool,
        now: DateTime<Utc>,
    ) -> WorkspaceResult<()> {
        sqlx::query(&format!(
            "UPDATE {} SET archived_at_ms = CASE WHEN ? THEN coalesce(archived_at_ms, ?) END,
                           updated_at_ms = ?
             WHERE id = ? AND profile_id = ?",
            self.table()
        ))
        .bind(archived)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .bind(id)
        .bind(profile_id)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Trashing again keeps the first time, so the 30 days do not start over.
    async fn trash(
        self,
        db: &Database,
        profile_id: ProfileId,
        id: i64,
        now: DateTime<Utc>,
    ) -> WorkspaceResult<()> {
        sqlx::query(&format!(
            "UPDATE {} SET deleted_at_ms = coalesce(deleted_at_ms, ?)
             WHERE id = ? AND profile_id = ?",
            self.table()
        ))
        .bind(to_ms(now))
        .bind(id)
        .bind(profile_id)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn restore<'c, E>(self, db: E, profile_id: ProfileId, id: i64) -> WorkspaceResult<()>
    where
        E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
    {
        sqlx::query(&format!(
            "UPDATE {} SET deleted_at_ms = NULL WHERE id = ? AND profile_id = ?",
            self.table()
        ))
        .bind(id)
        .bind(profile_id)
        .execute(db)
        .await?;
        Ok(())
    }
}

async fn get_meta(db: &Database, profile_id: ProfileId, id: i64) -> WorkspaceResult<DocumentMeta> {
    let row = sqlx::query(&format!(
        "SELECT {META_COLUMNS} FROM documents WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(WorkspaceError::UnknownDocument(id))?;
    row_to_meta(&row)
}

/// The document with its text, in the trash or not (the trash can show it).
pub async fn get_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<Document> {
    let row = sqlx::query(&format!(
        "SELECT {META_COLUMNS}, body FROM documents WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(WorkspaceError::UnknownDocument(id))?;
    Ok(Document {
        meta: row_to_meta(&row)?,
        body: row.try_get("body")?,
    })
}

/// A document that may be changed: neither it nor its project is in the trash.
async fn live_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<DocumentMeta> {
    let meta = get_meta(db, profile_id, id).await?;
    if meta.deleted_at.is_some() {
        return Err(WorkspaceError::InTrash);
    }
    live_project(db, profile_id, meta.project_id).await?;
    Ok(meta)
}

/// A new document in a live project, with `body` as its first text (revision 0).
pub async fn create_document(
    db: &Database,
    profile_id: ProfileId,
    project_id: i64,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<Document> {
    let title = validate_name(title)?;
    check_body(body)?;
    live_project(db, profile_id, project_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO documents (profile_id, project_id, title, body, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(profile_id)
    .bind(project_id)
    .bind(&title)
    .bind(body)
    .bind(to_ms(now))
    .bind(to_ms(now))
    .fetch_one(db)
    .await?;
    let mut conn = db.acquire().await?;
    index(&mut conn, id, &title, body).await?;
    drop(conn);
    get_document(db, profile_id, id).await
}

pub async fn rename_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    title: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<DocumentMeta> {
    let title = validate_name(title)?;
    live_document(db, profile_id, id).await?;
    sqlx::query(
        "UPDATE documents SET title = ?, updated_at_ms = ? WHERE id = ? AND profile_id = ?",
    )
    .bind(&title)
    .bind(to_ms(now))
    .bind(id)
    .bind(profile_id)
    .execute(db)
    .await?;
    let doc = get_document(db, profile_id, id).await?;
    let mut conn = db.acquire().await?;
    index(&mut conn, id, &title, &doc.body).await?;
    drop(conn);
    Ok(doc.meta)
}

/// Moves a document into another live project of the same profile.
pub async fn move_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    project_id: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<DocumentMeta> {
    live_document(db, profile_id, id).await?;
    live_project(db, profile_id, project_id).await?;
    sqlx::query(
        "UPDATE documents SET project_id = ?, updated_at_ms = ? WHERE id = ? AND profile_id = ?",
    )
    .bind(project_id)
    .bind(to_ms(now))
    .bind(id)
    .bind(profile_id)
    .execute(db)
    .await?;
    get_meta(db, profile_id, id).await
}

pub async fn archive_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    archived: bool,
    now: DateTime<Utc>,
) -> WorkspaceResult<DocumentMeta> {
    live_document(db, profile_id, id).await?;
    Shelf::Documents
        .set_archived(db, profile_id, id, archived, now)
        .await?;
    get_meta(db, profile_id, id).await
}

/// Moves a document to the trash (again: no change, its 30 days do not start over).
pub async fn trash_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<DocumentMeta> {
    get_meta(db, profile_id, id).await?;
    Shelf::Documents.trash(db, profile_id, id, now).await?;
    get_meta(db, profile_id, id).await
}

/// Takes a document out of the trash. Its project comes back with it if it was deleted too,
/// so a restored document is always somewhere the writer can see it.
pub async fn restore_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
) -> WorkspaceResult<DocumentMeta> {
    let meta = get_meta(db, profile_id, id).await?;
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    Shelf::Documents.restore(&mut *tx, profile_id, id).await?;
    Shelf::Projects
        .restore(&mut *tx, profile_id, meta.project_id)
        .await?;
    tx.commit().await?;
    get_meta(db, profile_id, id).await
}

/// Stores the document's new text if `base_revision` is still the stored revision; one
/// transaction, so a crash leaves either the old text or the new, never a mix.
///
/// The autosave's path, so it does only what durability needs: the text is stored and the
/// document marked for the search index ([`index_pending`] catches up when typing pauses,
/// and before every [`search`]). A save of the text already stored writes nothing and keeps
/// the revision.
pub async fn save_document(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    body: &str,
    base_revision: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<Saved> {
    check_body(body)?;
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    // The same text again (an edit undone, a repeated flush): nothing to write.
    let unchanged: Option<i64> = sqlx::query_scalar(
        "SELECT updated_at_ms FROM documents
         WHERE id = ? AND profile_id = ? AND revision = ? AND deleted_at_ms IS NULL AND body = ?
           AND project_id IN (SELECT id FROM projects WHERE deleted_at_ms IS NULL)",
    )
    .bind(id)
    .bind(profile_id)
    .bind(base_revision)
    .bind(body)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(updated_at_ms) = unchanged {
        drop(tx);
        return Ok(Saved {
            id,
            revision: base_revision,
            updated_at: from_ms(updated_at_ms),
        });
    }
    // Every 10 minutes of editing, the text this save replaces is kept as a version.
    crate::versions::auto_before_save(&mut tx, profile_id, id, base_revision, now).await?;
    let saved: Option<i64> = sqlx::query_scalar(
        "UPDATE documents SET body = ?, revision = revision + 1, updated_at_ms = ?
         WHERE id = ? AND profile_id = ? AND revision = ? AND deleted_at_ms IS NULL
           AND project_id IN (SELECT id FROM projects WHERE deleted_at_ms IS NULL)
         RETURNING revision",
    )
    .bind(body)
    .bind(to_ms(now))
    .bind(id)
    .bind(profile_id)
    .bind(base_revision)
    .fetch_optional(&mut *tx)
    .await?;
    if saved.is_some() {
        mark_unindexed(&mut tx, id).await?;
        tx.commit().await?;
    } else {
        // Nothing to keep: the version taken above (if any) goes with the transaction.
        drop(tx);
    }
    if let Some(revision) = saved {
        return Ok(Saved {
            id,
            revision,
            updated_at: now,
        });
    }
    // Nothing stored: say why.
    let meta = live_document(db, profile_id, id).await?;
    Err(WorkspaceError::Conflict {
        id,
        base: base_revision,
        current: meta.revision,
    })
}

/// Notes that document `id`'s search index lags its text (in the caller's transaction).
pub(crate) async fn mark_unindexed(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
) -> WorkspaceResult<()> {
    sqlx::query("INSERT OR IGNORE INTO documents_unindexed (document_id) VALUES (?)")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Most documents [`index_pending`] indexes in one call (each in its own transaction).
pub const INDEX_BATCH: u32 = 50;

/// Brings the search index up to date for the profile's documents whose text changed since
/// they were last indexed (at most [`INDEX_BATCH`]); returns how many were indexed. The index
/// text is computed outside the write lock, and each document is written in its own short
/// transaction only if no save came in meanwhile (that one stays pending for the next call).
pub async fn index_pending(db: &Database, profile_id: ProfileId) -> WorkspaceResult<usize> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT u.document_id FROM documents_unindexed u JOIN documents d ON d.id = u.document_id
         WHERE d.profile_id = ? ORDER BY u.document_id LIMIT ?",
    )
    .bind(profile_id)
    .bind(INDEX_BATCH)
    .fetch_all(db)
    .await?;
    let mut indexed = 0;
    for id in ids {
        let Some(row) = sqlx::query("SELECT title, body, revision FROM documents WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?
        else {
            continue; // purged meanwhile (its pending row went with it)
        };
        let title: String = row.try_get("title")?;
        let body: String = row.try_get("body")?;
        let revision: i64 = row.try_get("revision")?;
        let text = crate::search::index_text(&format!("{title}\n{body}"));
        let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT d.revision FROM documents d JOIN documents_unindexed u ON u.document_id = d.id
             WHERE d.id = ? AND d.title = ?",
        )
        .bind(id)
        .bind(&title)
        .fetch_optional(&mut *tx)
        .await?;
        if current != Some(revision) {
            continue; // changed (or indexed) meanwhile: the transaction rolls back
        }
        write_index(&mut tx, id, &text).await?;
        sqlx::query("DELETE FROM documents_unindexed WHERE document_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        indexed += 1;
    }
    Ok(indexed)
}

/// Removes for good what has been in the trash [`TRASH_DAYS`] days or longer at `now`.
/// Returns how many projects and documents went.
pub async fn purge_expired(
    db: &Database,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> WorkspaceResult<(u64, u64)> {
    let cutoff = to_ms(now - Duration::days(TRASH_DAYS));
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    // What goes for good leaves the search index too.
    sqlx::query(
        "DELETE FROM documents_fts WHERE rowid IN (
             SELECT d.id FROM documents d JOIN projects p ON p.id = d.project_id
             WHERE d.profile_id = ?1 AND ((d.deleted_at_ms IS NOT NULL AND d.deleted_at_ms <= ?2)
                                       OR (p.deleted_at_ms IS NOT NULL AND p.deleted_at_ms <= ?2)))",
    )
    .bind(profile_id)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let documents = sqlx::query(
        "DELETE FROM documents WHERE profile_id = ? AND deleted_at_ms IS NOT NULL
                                  AND deleted_at_ms <= ?",
    )
    .bind(profile_id)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Their documents go with them (ON DELETE CASCADE).
    let projects = sqlx::query(
        "DELETE FROM projects WHERE profile_id = ? AND deleted_at_ms IS NOT NULL
                                 AND deleted_at_ms <= ?",
    )
    .bind(profile_id)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok((projects, documents))
}

/// The sidebar: after purging what expired at `now`, every project (archived ones flagged)
/// with its documents, and the trash. Ordered by creation (ids), newest last.
pub async fn tree(
    db: &Database,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> WorkspaceResult<Tree> {
    purge_expired(db, profile_id, now).await?;
    let projects = sqlx::query(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE profile_id = ? ORDER BY id"
    ))
    .bind(profile_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(row_to_project)
    .collect::<WorkspaceResult<Vec<_>>>()?;
    let documents = sqlx::query(&format!(
        "SELECT {META_COLUMNS} FROM documents WHERE profile_id = ? ORDER BY id"
    ))
    .bind(profile_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(row_to_meta)
    .collect::<WorkspaceResult<Vec<_>>>()?;
    let mut live = Vec::new();
    let mut trashed_projects = Vec::new();
    let mut trashed_documents = Vec::new();
    let mut by_project: std::collections::HashMap<i64, Vec<DocumentMeta>> = Default::default();
    for d in documents {
        by_project.entry(d.project_id).or_default().push(d);
    }
    for project in projects {
        let docs = by_project.remove(&project.id).unwrap_or_default();
        if project.deleted_at.is_some() {
            // A deleted project shows every document it holds, deleted or not.
            trashed_projects.push(ProjectNode {
                project,
                documents: docs,
            });
        } else {
            let (gone, kept): (Vec<_>, Vec<_>) =
                docs.into_iter().partition(|d| d.deleted_at.is_some());
            trashed_documents.extend(gone);
            live.push(ProjectNode {
                project,
                documents: kept,
            });
        }
    }
    Ok(Tree {
        projects: live,
        trash: Trash {
            projects: trashed_projects,
            documents: trashed_documents,
            keep_days: TRASH_DAYS,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{open_in_memory, profiles};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap()
    }

    async fn setup() -> (Database, ProfileId, ProfileId) {
        let db = open_in_memory().await.unwrap();
        let a = profiles::create_profile(&db, "writer", "long enough", false, t0())
            .await
            .unwrap();
        let b = profiles::create_profile(&db, "other", "long enough", false, t0())
            .await
            .unwrap();
        (db, a.id, b.id)
    }

    #[test]
    fn names_are_trimmed_and_bad_ones_refused() {
        assert_eq!(validate_name("  春天的故事 ").unwrap(), "春天的故事");
        assert_eq!(
            validate_name(&"字".repeat(100)).unwrap().chars().count(),
            100
        );
        for bad in [
            "",
            "   ",
            "a\nb",
            "tab\there",
            "nul\0",
            "esc\u{1b}[31m",
            "bidi\u{202E}txt.exe",
            "iso\u{2066}x",
        ] {
            assert!(
                matches!(validate_name(bad), Err(WorkspaceError::InvalidName(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            validate_name(&"字".repeat(101)),
            Err(WorkspaceError::InvalidName(_))
        ));
    }

    proptest! {
        /// Any string: no panic, and what is accepted follows the rules exactly.
        #[test]
        fn any_name_is_accepted_only_when_it_follows_the_rules(name in any::<String>()) {
            match validate_name(&name) {
                Ok(stored) => {
                    prop_assert_eq!(stored.as_str(), name.trim());
                    prop_assert!(!stored.is_empty());
                    prop_assert!(stored.chars().count() <= MAX_NAME_CHARS);
                    prop_assert!(!stored.chars().any(is_forbidden_in_name));
                }
                Err(WorkspaceError::InvalidName(_)) => {
                    let t = name.trim();
                    prop_assert!(
                        t.is_empty()
                            || t.chars().count() > MAX_NAME_CHARS
                            || t.chars().any(is_forbidden_in_name)
                    );
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// A valid name with one character swapped for a control character is refused.
        #[test]
        fn a_control_character_anywhere_is_refused(
            name in "[a-z春天]{1,50}",
            at in 0usize..50,
            c in prop_oneof![(0u32..0x20), (0x7Fu32..0xA0)],
        ) {
            let mut chars: Vec<char> = name.chars().collect();
            let at = at % chars.len();
            chars[at] = char::from_u32(c).unwrap_or('\0');
            let mutated: String = chars.into_iter().collect();
            // Leading/trailing whitespace controls (\t, \n, …) are trimmed away, not refused.
            if mutated.trim().chars().any(char::is_control) {
                prop_assert!(validate_name(&mutated).is_err());
            }
        }
    }

    #[test]
    fn imported_text_is_utf8_without_nul_and_with_unix_line_ends() {
        assert_eq!(
            text_from_bytes(b"\xEF\xBB\xBFa\r\nb\rc").unwrap(),
            "a\nb\nc"
        );
        assert_eq!(text_from_bytes("春眠".as_bytes()).unwrap(), "春眠");
        assert!(matches!(
            text_from_bytes(b"\xff\xfe\x00a"),
            Err(WorkspaceError::ImportUnreadable(_))
        ));
        assert!(matches!(
            text_from_bytes(b"PK\x03\x04\0\0binary"),
            Err(WorkspaceError::ImportUnreadable(_))
        ));
        assert!(matches!(
            text_from_bytes(&vec![b'a'; MAX_IMPORT_BYTES + 1]),
            Err(WorkspaceError::TooLarge { .. })
        ));
        assert_eq!(
            split_file_name("/home/w/草稿.MD").unwrap(),
            ("草稿".to_string(), "md".to_string())
        );
        assert!(matches!(
            split_file_name("a.pdf"),
            Err(WorkspaceError::ImportUnsupported)
        ));
        assert!(matches!(
            split_file_name("noext"),
            Err(WorkspaceError::ImportUnsupported)
        ));
        assert!(matches!(
            split_file_name(".md"),
            Err(WorkspaceError::InvalidName(_))
        ));
    }

    proptest! {
        /// Any bytes: text or a typed error, never a panic; text has no NUL and no CR.
        #[test]
        fn any_bytes_import_as_text_or_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            match text_from_bytes(&bytes) {
                Ok(t) => prop_assert!(!t.contains('\0') && !t.contains('\r')),
                Err(WorkspaceError::ImportUnreadable(_)) | Err(WorkspaceError::TooLarge { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn create_rename_move_archive_and_list() {
        let (db, me, _) = setup().await;
        let novel = create_project(&db, me, "长篇小说", t0()).await.unwrap();
        let essays = create_project(&db, me, "散文", t0()).await.unwrap();
        let doc = create_document(&db, me, novel.id, "第一章", "", t0())
            .await
            .unwrap();
        assert_eq!(doc.meta.revision, 0);
        let renamed = rename_document(&db, me, doc.meta.id, " 第一章 开端 ", t0())
            .await
            .unwrap();
        assert_eq!(renamed.title, "第一章 开端");
        let moved = move_document(&db, me, doc.meta.id, essays.id, t0())
            .await
            .unwrap();
        assert_eq!(moved.project_id, essays.id);
        let p = rename_project(&db, me, novel.id, "长篇", t0())
            .await
            .unwrap();
        assert_eq!(p.name, "长篇");
        let archived = archive_project(&db, me, novel.id, true, t0())
            .await
            .unwrap();
        assert!(archived.archived);
        let archived_doc = archive_document(&db, me, doc.meta.id, true, t0())
            .await
            .unwrap();
        assert!(archived_doc.archived);
        let tree = tree(&db, me, t0()).await.unwrap();
        assert_eq!(tree.projects.len(), 2);
        assert!(tree.projects[0].project.archived);
        assert!(tree.projects[0].documents.is_empty());
        assert_eq!(tree.projects[1].documents[0].title, "第一章 开端");
        assert!(tree.trash.projects.is_empty() && tree.trash.documents.is_empty());
    }

    #[tokio::test]
    async fn bad_input_changes_nothing() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "文稿", "原文", t0())
            .await
            .unwrap();
        assert!(matches!(
            rename_project(&db, me, p.id, "a\u{7}b", t0()).await,
            Err(WorkspaceError::InvalidName(_))
        ));
        assert!(matches!(
            rename_document(&db, me, d.meta.id, "", t0()).await,
            Err(WorkspaceError::InvalidName(_))
        ));
        assert!(matches!(
            create_project(&db, me, "\u{202E}abc", t0()).await,
            Err(WorkspaceError::InvalidName(_))
        ));
        let huge = "字".repeat(MAX_BODY_CHARS + 1);
        assert!(matches!(
            save_document(&db, me, d.meta.id, &huge, 0, t0()).await,
            Err(WorkspaceError::TooLarge { .. })
        ));
        assert!(matches!(
            move_document(&db, me, d.meta.id, 999, t0()).await,
            Err(WorkspaceError::UnknownProject(999))
        ));
        let after = get_document(&db, me, d.meta.id).await.unwrap();
        assert_eq!(after, d);
        assert_eq!(get_project(&db, me, p.id).await.unwrap(), p);
        let tree = tree(&db, me, t0()).await.unwrap();
        assert_eq!(tree.projects.len(), 1);
        assert_eq!(tree.projects[0].documents.len(), 1);
    }

    #[tokio::test]
    async fn another_profiles_rows_are_unknown_and_untouched() {
        let (db, me, other) = setup().await;
        let p = create_project(&db, me, "我的", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "私密", "只给我看", t0())
            .await
            .unwrap();
        let theirs = create_project(&db, other, "他的", t0()).await.unwrap();
        assert!(matches!(
            get_document(&db, other, d.meta.id).await,
            Err(WorkspaceError::UnknownDocument(_))
        ));
        assert!(matches!(
            save_document(&db, other, d.meta.id, "改掉", 0, t0()).await,
            Err(WorkspaceError::UnknownDocument(_))
        ));
        assert!(matches!(
            trash_document(&db, other, d.meta.id, t0()).await,
            Err(WorkspaceError::UnknownDocument(_))
        ));
        assert!(matches!(
            rename_project(&db, other, p.id, "x", t0()).await,
            Err(WorkspaceError::UnknownProject(_))
        ));
        // Nor can a document be moved into someone else's project.
        assert!(matches!(
            move_document(&db, me, d.meta.id, theirs.id, t0()).await,
            Err(WorkspaceError::UnknownProject(_))
        ));
        assert!(matches!(
            create_document(&db, me, theirs.id, "x", "", t0()).await,
            Err(WorkspaceError::UnknownProject(_))
        ));
        assert_eq!(get_document(&db, me, d.meta.id).await.unwrap(), d);
        assert_eq!(tree(&db, other, t0()).await.unwrap().projects.len(), 1);
    }

    #[tokio::test]
    async fn a_save_on_an_old_revision_never_overwrites_newer_text() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "文稿", "", t0())
            .await
            .unwrap();
        let first = save_document(&db, me, d.meta.id, "春眠不觉晓", 0, t0())
            .await
            .unwrap();
        assert_eq!(first.revision, 1);
        let second = save_document(&db, me, d.meta.id, "春眠不觉晓，处处闻啼鸟", 1, t0())
            .await
            .unwrap();
        assert_eq!(second.revision, 2);
        // A late save based on revision 1 (or a repeated one) is refused.
        match save_document(&db, me, d.meta.id, "春眠", 1, t0()).await {
            Err(WorkspaceError::Conflict { base, current, .. }) => {
                assert_eq!((base, current), (1, 2))
            }
            other => panic!("{other:?}"),
        }
        let stored = get_document(&db, me, d.meta.id).await.unwrap();
        assert_eq!(stored.body, "春眠不觉晓，处处闻啼鸟");
        assert_eq!(stored.meta.chars, 11);
        assert_eq!(stored.meta.revision, 2);
    }

    #[tokio::test]
    async fn the_trash_keeps_things_thirty_days_by_the_clock_given() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let kept = create_document(&db, me, p.id, "留下", "a", t0())
            .await
            .unwrap();
        let gone = create_document(&db, me, p.id, "删掉", "b", t0())
            .await
            .unwrap();
        trash_document(&db, me, gone.meta.id, t0()).await.unwrap();
        // In the trash: cannot be edited, is listed in the trash only.
        assert!(matches!(
            save_document(&db, me, gone.meta.id, "x", 0, t0()).await,
            Err(WorkspaceError::InTrash)
        ));
        let day29 = t0() + Duration::days(29);
        // Deleting again does not restart its 30 days.
        trash_document(&db, me, gone.meta.id, day29).await.unwrap();
        let listed = tree(&db, me, day29).await.unwrap();
        assert_eq!(listed.projects[0].documents.len(), 1);
        assert_eq!(listed.trash.documents.len(), 1);
        assert_eq!(listed.trash.documents[0].deleted_at, Some(t0()));
        // Restored on day 29 it is back, text and all; trashed again it waits 30 more days.
        restore_document(&db, me, gone.meta.id).await.unwrap();
        assert_eq!(
            tree(&db, me, day29).await.unwrap().projects[0]
                .documents
                .len(),
            2
        );
        trash_document(&db, me, gone.meta.id, day29).await.unwrap();
        let day58 = day29 + Duration::days(30) - Duration::milliseconds(1);
        assert_eq!(tree(&db, me, day58).await.unwrap().trash.documents.len(), 1);
        let day59 = day29 + Duration::days(30);
        let listed = tree(&db, me, day59).await.unwrap();
        assert!(listed.trash.documents.is_empty());
        assert!(matches!(
            get_document(&db, me, gone.meta.id).await,
            Err(WorkspaceError::UnknownDocument(_))
        ));
        assert_eq!(get_document(&db, me, kept.meta.id).await.unwrap().body, "a");
    }

    #[tokio::test]
    async fn a_deleted_project_takes_its_documents_and_restoring_one_brings_it_back() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "旧稿", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "一", "x", t0())
            .await
            .unwrap();
        trash_project(&db, me, p.id, t0()).await.unwrap();
        let listed = tree(&db, me, t0()).await.unwrap();
        assert!(listed.projects.is_empty());
        assert_eq!(listed.trash.projects[0].documents.len(), 1);
        assert!(matches!(
            save_document(&db, me, d.meta.id, "y", 0, t0()).await,
            Err(WorkspaceError::InTrash)
        ));
        assert!(matches!(
            create_document(&db, me, p.id, "二", "", t0()).await,
            Err(WorkspaceError::InTrash)
        ));
        restore_document(&db, me, d.meta.id).await.unwrap();
        let listed = tree(&db, me, t0()).await.unwrap();
        assert_eq!(listed.projects.len(), 1);
        assert_eq!(listed.projects[0].documents.len(), 1);
        // Deleted again and left 30 days: project and documents go together.
        trash_project(&db, me, p.id, t0()).await.unwrap();
        let later = t0() + Duration::days(TRASH_DAYS);
        let listed = tree(&db, me, later).await.unwrap();
        assert!(listed.trash.projects.is_empty() && listed.projects.is_empty());
        assert!(get_document(&db, me, d.meta.id).await.is_err());
    }

    #[tokio::test]
    async fn search_finds_live_documents_in_chinese_and_english_and_costs_a_save_little() {
        let (db, me, other) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let spring = create_document(&db, me, p.id, "春天", "", t0())
            .await
            .unwrap();
        save_document(&db, me, spring.meta.id, "春眠不觉晓，Spring sleep", 0, t0())
            .await
            .unwrap();
        let winter = create_document(&db, me, p.id, "冬", "北风卷地白草折", t0())
            .await
            .unwrap();
        let ids = |found: Vec<Found>| found.iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(
            ids(search(&db, me, "不觉", 20).await.unwrap()),
            [spring.meta.id]
        );
        assert_eq!(
            ids(search(&db, me, "spr", 20).await.unwrap()),
            [spring.meta.id]
        );
        assert_eq!(
            ids(search(&db, me, "北风", 20).await.unwrap()),
            [winter.meta.id]
        );
        // The title is searched too; another profile finds nothing of mine.
        assert_eq!(
            ids(search(&db, me, "春天", 20).await.unwrap()),
            [spring.meta.id]
        );
        assert!(search(&db, other, "春眠", 20).await.unwrap().is_empty());
        // A newer save replaces the old text in the index; the trash hides it; purged, gone.
        save_document(&db, me, spring.meta.id, "夜来风雨声", 1, t0())
            .await
            .unwrap();
        assert!(search(&db, me, "不觉", 20).await.unwrap().is_empty());
        trash_document(&db, me, winter.meta.id, t0()).await.unwrap();
        assert!(search(&db, me, "北风", 20).await.unwrap().is_empty());
        purge_expired(&db, me, t0() + Duration::days(TRASH_DAYS))
            .await
            .unwrap();
        let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM documents_fts WHERE rowid = ?")
            .bind(winter.meta.id)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(indexed, 0);
        assert!(search(&db, me, "  ", 20).await.unwrap().is_empty());
        // A 200,000-character document: what one save costs with its index.
        let line: String = "春眠不觉晓，处处闻啼鸟。"
            .chars()
            .cycle()
            .take(100)
            .collect();
        let long = vec![line; 2000].join("\n");
        let started = std::time::Instant::now();
        save_document(&db, me, spring.meta.id, &long, 2, t0())
            .await
            .unwrap();
        let saved = started.elapsed();
        let started = std::time::Instant::now();
        index_pending(&db, me).await.unwrap();
        eprintln!(
            "save of 200,000 characters: {saved:?}; its index when typing pauses: {:?}",
            started.elapsed()
        );
    }

    /// What the search index holds for document `id` matches `query` (read from the index
    /// itself, not through [`search`], which catches up first).
    async fn indexed_as(db: &Database, id: i64, query: &str) -> bool {
        let expr = crate::search::match_query(query).unwrap();
        let hits: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH ? AND rowid = ?",
        )
        .bind(expr)
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
        hits > 0
    }

    async fn pending(db: &Database) -> Vec<i64> {
        sqlx::query_scalar("SELECT document_id FROM documents_unindexed ORDER BY document_id")
            .fetch_all(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_save_defers_the_index_and_search_catches_up_first() {
        let (db, me, other) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "春", "北风卷地", t0())
            .await
            .unwrap();
        let theirs_p = create_project(&db, other, "他", t0()).await.unwrap();
        let theirs = create_document(&db, other, theirs_p.id, "他的", "", t0())
            .await
            .unwrap();
        assert!(pending(&db).await.is_empty(), "creating indexes at once");
        save_document(&db, me, d.meta.id, "春眠不觉晓", 0, t0())
            .await
            .unwrap();
        save_document(&db, other, theirs.meta.id, "夜来风雨声", 0, t0())
            .await
            .unwrap();
        // The save stored the text and left the index for later.
        assert_eq!(pending(&db).await, [d.meta.id, theirs.meta.id]);
        assert!(indexed_as(&db, d.meta.id, "北风").await);
        assert!(!indexed_as(&db, d.meta.id, "不觉").await);
        // A search finds the saved text all the same (and catches up only its own profile).
        let found = search(&db, me, "不觉", 20).await.unwrap();
        assert_eq!(found.iter().map(|f| f.id).collect::<Vec<_>>(), [d.meta.id]);
        assert!(search(&db, me, "北风", 20).await.unwrap().is_empty());
        assert_eq!(pending(&db).await, [theirs.meta.id]);
        // The pause job: indexes what is pending, once.
        assert_eq!(index_pending(&db, other).await.unwrap(), 1);
        assert_eq!(index_pending(&db, other).await.unwrap(), 0);
        assert!(indexed_as(&db, theirs.meta.id, "风雨").await);
        assert!(pending(&db).await.is_empty());
        // A rename indexes at once and clears what a save left pending.
        save_document(&db, me, d.meta.id, "处处闻啼鸟", 1, t0())
            .await
            .unwrap();
        rename_document(&db, me, d.meta.id, "晓", t0())
            .await
            .unwrap();
        assert!(pending(&db).await.is_empty());
        assert!(indexed_as(&db, d.meta.id, "啼鸟").await);
        // Purged documents leave nothing pending behind.
        save_document(&db, me, d.meta.id, "花落知多少", 2, t0())
            .await
            .unwrap();
        trash_document(&db, me, d.meta.id, t0()).await.unwrap();
        purge_expired(&db, me, t0() + Duration::days(TRASH_DAYS))
            .await
            .unwrap();
        assert!(pending(&db).await.is_empty());
        assert_eq!(index_pending(&db, me).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn saving_the_stored_text_again_writes_nothing() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "文稿", "", t0())
            .await
            .unwrap();
        let first = save_document(&db, me, d.meta.id, "春眠", 0, t0())
            .await
            .unwrap();
        assert_eq!(first.revision, 1);
        index_pending(&db, me).await.unwrap();
        let later = t0() + Duration::minutes(30);
        let again = save_document(&db, me, d.meta.id, "春眠", 1, later)
            .await
            .unwrap();
        // Same revision, same time, no version (30 minutes would have kept one), no re-index.
        assert_eq!(again.revision, 1);
        assert_eq!(again.updated_at, t0());
        let doc = get_document(&db, me, d.meta.id).await.unwrap();
        assert_eq!((doc.meta.revision, doc.meta.updated_at), (1, t0()));
        assert!(crate::versions::list(&db, me, d.meta.id)
            .await
            .unwrap()
            .is_empty());
        assert!(pending(&db).await.is_empty());
        // The same text on an old revision is still a conflict, never a silent success.
        save_document(&db, me, d.meta.id, "春眠不觉", 1, later)
            .await
            .unwrap();
        let stale = save_document(&db, me, d.meta.id, "春眠", 1, later).await;
        assert!(matches!(
            stale,
            Err(WorkspaceError::Conflict { current: 2, .. })
        ));
        // Too large: refused, nothing changes.
        let big = "字".repeat(MAX_BODY_CHARS + 1);
        assert!(matches!(
            save_document(&db, me, d.meta.id, &big, 2, later).await,
            Err(WorkspaceError::TooLarge { .. })
        ));
        assert_eq!(
            get_document(&db, me, d.meta.id).await.unwrap().body,
            "春眠不觉"
        );
    }

    #[tokio::test]
    async fn deleting_a_profile_takes_its_workspace() {
        let (db, me, _) = setup().await;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        create_document(&db, me, p.id, "文稿", "x", t0())
            .await
            .unwrap();
        profiles::delete_profile(&db, me, "long enough", "writer", t0())
            .await
            .unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }
}
