//! Versions of a workspace document (issue 17, item 4). A version is a copy of the text as
//! stored at one moment: before an accepted AI change, every [`AUTO_EVERY_MINUTES`] minutes of
//! editing (taken by the save that comes after that long, of the text before it), on demand
//! with a name, and around a restore — which never loses the current text: it is kept as a
//! version first, and the restored text becomes a new version too.

use chrono::{DateTime, Duration, Utc};
use inkstone_domain::{GenerationId, ProfileId};
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

use crate::time::{from_ms, to_ms};
use crate::workspace::{self, validate_name, Document, WorkspaceError, WorkspaceResult};
use crate::Database;

/// An automatic version is taken when the last one is at least this old.
pub const AUTO_EVERY_MINUTES: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Manual,
    Auto,
    BeforeAi,
    BeforeRestore,
    Restored,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Auto => "auto",
            Kind::BeforeAi => "before_ai",
            Kind::BeforeRestore => "before_restore",
            Kind::Restored => "restored",
        }
    }

    fn parse(s: &str) -> WorkspaceResult<Self> {
        Ok(match s {
            "manual" => Kind::Manual,
            "auto" => Kind::Auto,
            "before_ai" => Kind::BeforeAi,
            "before_restore" => Kind::BeforeRestore,
            "restored" => Kind::Restored,
            // Only this module writes the column (and the schema checks it).
            _ => {
                return Err(WorkspaceError::Database(sqlx::Error::Decode(
                    format!("unknown version kind {s}").into(),
                )))
            }
        })
    }
}

/// A version without its text (the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionMeta {
    pub id: i64,
    pub document_id: i64,
    pub kind: Kind,
    pub name: Option<String>,
    pub generation_id: Option<GenerationId>,
    pub restored_from: Option<i64>,
    /// Length of its text in characters.
    pub chars: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    #[serde(flatten)]
    pub meta: VersionMeta,
    pub body: String,
}

const META: &str = "id, document_id, kind, name, generation_id, restored_from, \
     length(body) AS chars, created_at_ms";

fn row_to_meta(row: &sqlx::sqlite::SqliteRow) -> WorkspaceResult<VersionMeta> {
    Ok(VersionMeta {
        id: row.try_get("id")?,
        document_id: row.try_get("document_id")?,
        kind: Kind::parse(row.try_get("kind")?)?,
        name: row.try_get("name")?,
        generation_id: row.try_get("generation_id")?,
        restored_from: row.try_get("restored_from")?,
        chars: row.try_get("chars")?,
        created_at: from_ms(row.try_get("created_at_ms")?),
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    conn: &mut SqliteConnection,
    doc: &Document,
    profile_id: ProfileId,
    kind: Kind,
    name: Option<&str>,
    generation_id: Option<GenerationId>,
    restored_from: Option<i64>,
    body: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO document_versions
             (document_id, profile_id, kind, name, generation_id, restored_from, body, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(doc.meta.id)
    .bind(profile_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(generation_id)
    .bind(restored_from)
    .bind(body)
    .bind(to_ms(now))
    .fetch_one(&mut *conn)
    .await?)
}

/// The profile's live document `id` (not in the trash, nor its project).
async fn live(db: &Database, profile_id: ProfileId, id: i64) -> WorkspaceResult<Document> {
    let doc = workspace::get_document(db, profile_id, id).await?;
    if doc.meta.deleted_at.is_some() {
        return Err(WorkspaceError::InTrash);
    }
    let project = workspace::get_project(db, profile_id, doc.meta.project_id).await?;
    if project.deleted_at.is_some() {
        return Err(WorkspaceError::InTrash);
    }
    Ok(doc)
}

/// Why a version is taken on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot<'a> {
    /// The writer saves one, with a name.
    Named(&'a str),
    /// Before the answer of this generation (the profile's own) replaces part of the text.
    BeforeAi(GenerationId),
}

/// A version of the text as stored now.
pub async fn create(
    db: &Database,
    profile_id: ProfileId,
    document_id: i64,
    why: Snapshot<'_>,
    now: DateTime<Utc>,
) -> WorkspaceResult<VersionMeta> {
    let (kind, name, generation_id) = match why {
        Snapshot::Named(name) => (Kind::Manual, Some(validate_name(name)?), None),
        Snapshot::BeforeAi(g) => (Kind::BeforeAi, None, Some(g)),
    };
    let doc = live(db, profile_id, document_id).await?;
    if let Some(g) = generation_id {
        let owner: Option<ProfileId> =
            sqlx::query_scalar("SELECT profile_id FROM generations WHERE id = ?")
                .bind(g)
                .fetch_optional(db)
                .await?;
        if owner != Some(profile_id) {
            return Err(WorkspaceError::UnknownGeneration(g));
        }
    }
    let mut conn = db.acquire().await?;
    let id = insert(
        &mut conn,
        &doc,
        profile_id,
        kind,
        name.as_deref(),
        generation_id,
        None,
        &doc.body,
        now,
    )
    .await?;
    drop(conn);
    get(db, profile_id, id).await.map(|v| v.meta)
}

/// The document's versions, newest first.
pub async fn list(
    db: &Database,
    profile_id: ProfileId,
    document_id: i64,
) -> WorkspaceResult<Vec<VersionMeta>> {
    workspace::get_document(db, profile_id, document_id).await?;
    sqlx::query(&format!(
        "SELECT {META} FROM document_versions WHERE document_id = ? AND profile_id = ?
         ORDER BY id DESC"
    ))
    .bind(document_id)
    .bind(profile_id)
    .fetch_all(db)
    .await?
    .iter()
    .map(row_to_meta)
    .collect()
}

/// One version with its text.
pub async fn get(db: &Database, profile_id: ProfileId, id: i64) -> WorkspaceResult<Version> {
    let row = sqlx::query(&format!(
        "SELECT {META}, body FROM document_versions WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(WorkspaceError::UnknownVersion(id))?;
    Ok(Version {
        meta: row_to_meta(&row)?,
        body: row.try_get("body")?,
    })
}

/// Puts version `version_id`'s text back as the document's text, if `base_revision` is still
/// current; the text it replaces is kept as a version first, and the restored text is a new
/// version of its own. One transaction: all of it or none.
pub async fn restore(
    db: &Database,
    profile_id: ProfileId,
    document_id: i64,
    version_id: i64,
    base_revision: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<Document> {
    let version = get(db, profile_id, version_id).await?;
    if version.meta.document_id != document_id {
        return Err(WorkspaceError::UnknownVersion(version_id));
    }
    let doc = live(db, profile_id, document_id).await?;
    if doc.meta.revision != base_revision {
        return Err(WorkspaceError::Conflict {
            id: document_id,
            base: base_revision,
            current: doc.meta.revision,
        });
    }
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    insert(
        &mut tx,
        &doc,
        profile_id,
        Kind::BeforeRestore,
        None,
        None,
        None,
        &doc.body,
        now,
    )
    .await?;
    let updated = sqlx::query(
        "UPDATE documents SET body = ?, revision = revision + 1, updated_at_ms = ?
         WHERE id = ? AND profile_id = ? AND revision = ?",
    )
    .bind(&version.body)
    .bind(to_ms(now))
    .bind(document_id)
    .bind(profile_id)
    .bind(base_revision)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        // A save slipped in between the check and the write lock: nothing changes.
        return Err(WorkspaceError::Conflict {
            id: document_id,
            base: base_revision,
            current: base_revision + 1,
        });
    }
    // The restored text is searched for like a saved one.
    workspace::mark_unindexed(&mut tx, document_id).await?;
    insert(
        &mut tx,
        &doc,
        profile_id,
        Kind::Restored,
        None,
        None,
        Some(version_id),
        &version.body,
        now,
    )
    .await?;
    tx.commit().await?;
    workspace::get_document(db, profile_id, document_id).await
}

/// Called by a save, in its transaction, before the new text is written: keeps the text
/// being replaced (if the save will go through: same revision) as an automatic version when
/// the newest version is [`AUTO_EVERY_MINUTES`] old or there is none, and the text is not
/// empty.
pub(crate) async fn auto_before_save(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    document_id: i64,
    base_revision: i64,
    now: DateTime<Utc>,
) -> WorkspaceResult<()> {
    let since = to_ms(now - Duration::minutes(AUTO_EVERY_MINUTES));
    sqlx::query(
        "INSERT INTO document_versions (document_id, profile_id, kind, body, created_at_ms)
         SELECT id, profile_id, 'auto', body, ? FROM documents
         WHERE id = ? AND profile_id = ? AND revision = ? AND body <> ''
           AND NOT EXISTS (SELECT 1 FROM document_versions
                           WHERE document_id = ? AND created_at_ms > ?)",
    )
    .bind(to_ms(now))
    .bind(document_id)
    .bind(profile_id)
    .bind(base_revision)
    .bind(document_id)
    .bind(since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{create_document, create_project, save_document, trash_document};
    use crate::{open_in_memory, profiles};
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2031, 6, 1, 9, 0, 0).unwrap()
    }

    async fn setup() -> (Database, ProfileId, ProfileId, i64) {
        let db = open_in_memory().await.unwrap();
        let me = profiles::create_profile(&db, "writer", "long enough", false, t0())
            .await
            .unwrap()
            .id;
        let other = profiles::create_profile(&db, "other", "long enough", false, t0())
            .await
            .unwrap()
            .id;
        let p = create_project(&db, me, "项目", t0()).await.unwrap();
        let d = create_document(&db, me, p.id, "文稿", "", t0())
            .await
            .unwrap();
        (db, me, other, d.meta.id)
    }

    #[tokio::test]
    async fn saves_keep_a_version_every_ten_minutes_of_editing() {
        let (db, me, _, doc) = setup().await;
        let mut rev = 0;
        let mut at = t0();
        // A save a minute for 25 minutes.
        for i in 0..25 {
            at = t0() + Duration::minutes(i);
            rev = save_document(&db, me, doc, &format!("第{i}稿"), rev, at)
                .await
                .unwrap()
                .revision;
        }
        let versions = list(&db, me, doc).await.unwrap();
        // The empty first text is not kept; then the text before the saves at 1, 11 and 21 min.
        let kept: Vec<(Kind, DateTime<Utc>)> = versions
            .iter()
            .rev()
            .map(|v| (v.kind, v.created_at))
            .collect();
        assert_eq!(
            kept,
            [1, 11, 21]
                .map(|m| (Kind::Auto, t0() + Duration::minutes(m)))
                .to_vec()
        );
        assert_eq!(get(&db, me, versions[2].id).await.unwrap().body, "第0稿");
        assert_eq!(get(&db, me, versions[0].id).await.unwrap().body, "第20稿");
        // A refused save keeps no version.
        let before = list(&db, me, doc).await.unwrap().len();
        let late = at + Duration::minutes(30);
        assert!(save_document(&db, me, doc, "旧", rev - 1, late)
            .await
            .is_err());
        assert_eq!(list(&db, me, doc).await.unwrap().len(), before);
    }

    #[tokio::test]
    async fn restoring_keeps_the_current_text_and_is_a_new_version() {
        let (db, me, _, doc) = setup().await;
        save_document(&db, me, doc, "初稿", 0, t0()).await.unwrap();
        let named = create(&db, me, doc, Snapshot::Named(" 初稿定稿 "), t0())
            .await
            .unwrap();
        assert_eq!(
            (named.kind, named.name.as_deref()),
            (Kind::Manual, Some("初稿定稿"))
        );
        save_document(&db, me, doc, "改坏了的稿", 1, t0())
            .await
            .unwrap();
        // An outdated revision changes nothing.
        assert!(matches!(
            restore(&db, me, doc, named.id, 1, t0()).await,
            Err(WorkspaceError::Conflict { .. })
        ));
        let restored = restore(&db, me, doc, named.id, 2, t0()).await.unwrap();
        assert_eq!(restored.body, "初稿");
        assert_eq!(restored.meta.revision, 3);
        let kinds: Vec<Kind> = list(&db, me, doc)
            .await
            .unwrap()
            .iter()
            .map(|v| v.kind)
            .collect();
        assert_eq!(kinds, [Kind::Restored, Kind::BeforeRestore, Kind::Manual]);
        let versions = list(&db, me, doc).await.unwrap();
        assert_eq!(
            get(&db, me, versions[1].id).await.unwrap().body,
            "改坏了的稿"
        );
        assert_eq!(versions[0].restored_from, Some(named.id));
        // The restored text is what search finds, the text it replaced is not.
        crate::workspace::index_pending(&db, me).await.unwrap();
        let found = crate::workspace::search(&db, me, "初稿", 20).await.unwrap();
        assert_eq!(found.iter().map(|f| f.id).collect::<Vec<_>>(), [doc]);
        assert!(crate::workspace::search(&db, me, "改坏", 20)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn bad_requests_change_nothing() {
        let (db, me, other, doc) = setup().await;
        save_document(&db, me, doc, "正文", 0, t0()).await.unwrap();
        assert!(matches!(
            create(&db, me, doc, Snapshot::Named("a\u{1}"), t0()).await,
            Err(WorkspaceError::InvalidName(_))
        ));
        // Another profile's generation, document or version is unknown.
        assert!(matches!(
            create(&db, me, doc, Snapshot::BeforeAi(GenerationId::new(12345)), t0()).await,
            Err(WorkspaceError::UnknownGeneration(g)) if g == GenerationId::new(12345)
        ));
        assert!(matches!(
            create(&db, other, doc, Snapshot::Named("x"), t0()).await,
            Err(WorkspaceError::UnknownDocument(_))
        ));
        let v = create(&db, me, doc, Snapshot::Named("v1"), t0())
            .await
            .unwrap();
        assert!(matches!(
            get(&db, other, v.id).await,
            Err(WorkspaceError::UnknownVersion(_))
        ));
        assert!(matches!(
            restore(&db, other, doc, v.id, 1, t0()).await,
            Err(WorkspaceError::UnknownVersion(_))
        ));
        trash_document(&db, me, doc, t0()).await.unwrap();
        assert!(matches!(
            restore(&db, me, doc, v.id, 1, t0()).await,
            Err(WorkspaceError::InTrash)
        ));
        assert_eq!(list(&db, me, doc).await.unwrap().len(), 1);
    }
}
