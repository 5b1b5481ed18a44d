//! A project's memory (issue 17, item 5): notes on its characters, places, outline and style
//! rules. The writer attaches notes to an AI run on a document; they go into the run's
//! system message, and [`check_context`] refuses the run before anything is charged when the
//! prompt, the notes and the document context would not fit the model's context window.
//!
//! Token counts are estimates ([`estimate_tokens`]): Qwen's tokenizer is not shipped with the
//! app, and the estimate errs on the high side so a refusal comes before the provider's.

use chrono::{DateTime, Utc};
use inkstone_domain::ProfileId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::time::{from_ms, to_ms};
use crate::workspace::{get_project, live_project, validate_name, WorkspaceError, WorkspaceResult};
use crate::Database;

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 50_000;
/// Most notes one run can take.
pub const MAX_ATTACHED: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Character,
    Place,
    Outline,
    Style,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Character => "character",
            NoteKind::Place => "place",
            NoteKind::Outline => "outline",
            NoteKind::Style => "style",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "character" => NoteKind::Character,
            "place" => NoteKind::Place,
            "outline" => NoteKind::Outline,
            "style" => NoteKind::Style,
            _ => return None,
        })
    }

    /// The heading the model reads above the note.
    fn heading(self) -> &'static str {
        match self {
            NoteKind::Character => "人物",
            NoteKind::Place => "地点",
            NoteKind::Outline => "大纲",
            NoteKind::Style => "风格规则",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: i64,
    pub project_id: i64,
    pub kind: NoteKind,
    pub name: String,
    pub body: String,
    /// [`estimate_tokens`] of the note as it goes into a run (heading, name and text).
    pub tokens: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Estimated tokens of `text`, rounded up: each Han character (and each full-width CJK
/// punctuation mark or kana/hangul) counts 1 token, every other character 1/4 token (about
/// four Latin characters per token). Qwen's tokenizer usually does better on Chinese (about
/// 1.5 characters per token), so the estimate is on the safe, high side.
pub fn estimate_tokens(text: &str) -> usize {
    let (mut wide, mut other) = (0usize, 0usize);
    for c in text.chars() {
        if is_wide(c) {
            wide += 1;
        } else {
            other += 1;
        }
    }
    wide + other.div_ceil(4)
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FFF      // CJK radicals, Kangxi
        | 0x3000..=0x30FF    // CJK punctuation, kana
        | 0x3100..=0x31FF    // bopomofo, CJK strokes
        | 0x3400..=0x4DBF    // extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xAC00..=0xD7AF    // hangul
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFF00..=0xFFEF    // full-width forms
        | 0x20000..=0x3FFFF  // extensions B and later
    )
}

/// A model's context window in tokens (input and answer together), by the longest known
/// prefix of its id; an unknown model gets [`DEFAULT_CONTEXT_TOKENS`]. The figures are the
/// smallest DashScope has published for each family, so a dated snapshot is not overrated.
pub const CONTEXT_WINDOWS: &[(&str, usize)] = &[
    ("qwen-max", 32_768),
    ("qwen-plus", 131_072),
    ("qwen-turbo", 131_072),
    ("qwen-long", 1_000_000),
    ("qwen-flash", 131_072),
    ("qwen3", 32_768),
    ("qwen2.5", 32_768),
    ("qwen-vl", 32_768),
];
/// An unknown model's window: small enough for any chat model in use.
pub const DEFAULT_CONTEXT_TOKENS: usize = 8_192;
/// Tokens kept free for the answer when the model sets no `max_tokens`.
pub const DEFAULT_ANSWER_TOKENS: usize = 2_000;

pub fn context_window(model: &str) -> usize {
    let model = model.trim().to_ascii_lowercase();
    CONTEXT_WINDOWS
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, tokens)| *tokens)
        .unwrap_or(DEFAULT_CONTEXT_TOKENS)
}

/// Refuses (typed, before any charge) when `input_tokens` plus the answer's room would not
/// fit `model`'s window.
pub fn check_context(
    model: &str,
    input_tokens: usize,
    answer_tokens: Option<u32>,
) -> WorkspaceResult<()> {
    let limit = context_window(model);
    let answer = answer_tokens.map_or(DEFAULT_ANSWER_TOKENS, |t| t as usize);
    let tokens = input_tokens.saturating_add(answer);
    if tokens > limit {
        return Err(WorkspaceError::ContextTooLong { tokens, limit });
    }
    Ok(())
}

/// The notes as the system message's context block (empty when none is attached).
pub fn context_block(notes: &[Note]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n\n以下是作者为这个项目记下的资料，写作时请遵守，不要原样输出：");
    for n in notes {
        s.push_str(&note_text(n.kind, &n.name, &n.body));
    }
    s
}

fn note_text(kind: NoteKind, name: &str, body: &str) -> String {
    format!("\n\n【{}：{}】\n{}", kind.heading(), name, body.trim())
}

fn check_note_body(body: &str) -> WorkspaceResult<()> {
    if body.len() > MAX_NOTE_CHARS * 4 {
        return Err(WorkspaceError::NoteTooLong {
            chars: body.len() / 4,
            max: MAX_NOTE_CHARS,
        });
    }
    let chars = body.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(WorkspaceError::NoteTooLong {
            chars,
            max: MAX_NOTE_CHARS,
        });
    }
    Ok(())
}

const COLUMNS: &str = "id, project_id, kind, name, body, created_at_ms, updated_at_ms";

fn row_to_note(row: &sqlx::sqlite::SqliteRow) -> WorkspaceResult<Note> {
    let kind: String = row.try_get("kind")?;
    let id: i64 = row.try_get("id")?;
    // The table's CHECK allows only the four kinds; anything else is a damaged row.
    let kind = NoteKind::parse(&kind).ok_or(WorkspaceError::UnknownNote(id))?;
    let name: String = row.try_get("name")?;
    let body: String = row.try_get("body")?;
    Ok(Note {
        id,
        project_id: row.try_get("project_id")?,
        kind,
        tokens: estimate_tokens(&note_text(kind, &name, &body)),
        name,
        body,
        created_at: from_ms(row.try_get("created_at_ms")?),
        updated_at: from_ms(row.try_get("updated_at_ms")?),
    })
}

/// The project's notes, by kind then age.
pub async fn list(
    db: &Database,
    profile_id: ProfileId,
    project_id: i64,
) -> WorkspaceResult<Vec<Note>> {
    get_project(db, profile_id, project_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM project_notes WHERE profile_id = ? AND project_id = ?
         ORDER BY CASE kind WHEN 'outline' THEN 0 WHEN 'character' THEN 1 WHEN 'place' THEN 2
         ELSE 3 END, id"
    ))
    .bind(profile_id)
    .bind(project_id)
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_note).collect()
}

pub async fn get(db: &Database, profile_id: ProfileId, id: i64) -> WorkspaceResult<Note> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM project_notes WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(WorkspaceError::UnknownNote(id))?;
    row_to_note(&row)
}

/// A new note in a live project of the profile.
pub async fn create(
    db: &Database,
    profile_id: ProfileId,
    project_id: i64,
    kind: NoteKind,
    name: &str,
    body: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<Note> {
    let name = validate_name(name)?;
    check_note_body(body)?;
    live_project(db, profile_id, project_id).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO project_notes (profile_id, project_id, kind, name, body, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(profile_id)
    .bind(project_id)
    .bind(kind.as_str())
    .bind(&name)
    .bind(body)
    .bind(to_ms(now))
    .bind(to_ms(now))
    .fetch_one(db)
    .await?;
    get(db, profile_id, id).await
}

/// Changes a note's name and text (its project must not be in the trash).
pub async fn update(
    db: &Database,
    profile_id: ProfileId,
    id: i64,
    name: &str,
    body: &str,
    now: DateTime<Utc>,
) -> WorkspaceResult<Note> {
    let name = validate_name(name)?;
    check_note_body(body)?;
    let note = get(db, profile_id, id).await?;
    live_project(db, profile_id, note.project_id).await?;
    sqlx::query(
        "UPDATE project_notes SET name = ?, body = ?, updated_at_ms = ? WHERE id = ? AND profile_id = ?",
    )
    .bind(&name)
    .bind(body)
    .bind(to_ms(now))
    .bind(id)
    .bind(profile_id)
    .execute(db)
    .await?;
    get(db, profile_id, id).await
}

pub async fn delete(db: &Database, profile_id: ProfileId, id: i64) -> WorkspaceResult<()> {
    let note = get(db, profile_id, id).await?;
    live_project(db, profile_id, note.project_id).await?;
    sqlx::query("DELETE FROM project_notes WHERE id = ? AND profile_id = ?")
        .bind(id)
        .bind(profile_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The notes a run attaches: each must be the profile's and belong to `project_id` (the
/// document's project); repeated ids count once; at most [`MAX_ATTACHED`].
pub async fn attached(
    db: &Database,
    profile_id: ProfileId,
    project_id: i64,
    ids: &[i64],
) -> WorkspaceResult<Vec<Note>> {
    let mut unique: Vec<i64> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.len() > MAX_ATTACHED {
        return Err(WorkspaceError::TooManyNotes { max: MAX_ATTACHED });
    }
    let mut notes = Vec::with_capacity(unique.len());
    for id in unique {
        let note = get(db, profile_id, id).await?;
        if note.project_id != project_id {
            return Err(WorkspaceError::UnknownNote(id));
        }
        notes.push(note);
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{open_in_memory, profiles, workspace};
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn han_characters_count_one_token_and_other_text_four_characters_per_token() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("春眠不觉晓"), 5);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        // Mixed: 2 Han + full-width comma (3 wide) and 8 others (2 tokens).
        assert_eq!(estimate_tokens("你好，Hello wo"), 3 + 2);
        assert_eq!(estimate_tokens("𠀀"), 1);
    }

    #[test]
    fn each_model_family_has_its_window_and_an_unknown_model_the_safe_default() {
        assert_eq!(context_window("qwen-max"), 32_768);
        assert_eq!(context_window("qwen-max-2025-01-25"), 32_768);
        assert_eq!(context_window("qwen-plus"), 131_072);
        assert_eq!(context_window("qwen-turbo-latest"), 131_072);
        assert_eq!(context_window("QWEN-PLUS"), 131_072);
        assert_eq!(context_window("llama-local"), DEFAULT_CONTEXT_TOKENS);
        assert_eq!(context_window(""), DEFAULT_CONTEXT_TOKENS);
        assert!(check_context("qwen-max", 30_000, Some(2_768)).is_ok());
        match check_context("qwen-max", 30_000, Some(2_769)) {
            Err(WorkspaceError::ContextTooLong { tokens, limit }) => {
                assert_eq!((tokens, limit), (32_769, 32_768))
            }
            other => panic!("{other:?}"),
        }
        // No max_tokens: the default answer room is kept.
        assert!(check_context(
            "unknown",
            DEFAULT_CONTEXT_TOKENS - DEFAULT_ANSWER_TOKENS,
            None
        )
        .is_ok());
        assert!(check_context(
            "unknown",
            DEFAULT_CONTEXT_TOKENS - DEFAULT_ANSWER_TOKENS + 1,
            None
        )
        .is_err());
        assert!(check_context("qwen-max", usize::MAX, Some(u32::MAX)).is_err());
    }

    #[tokio::test]
    async fn notes_are_kept_per_project_edited_and_only_their_owner_sees_them() {
        let db = open_in_memory().await.unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap();
        let me = profiles::create_profile(&db, "writer", "long enough", false, now)
            .await
            .unwrap()
            .id;
        let other = profiles::create_profile(&db, "other", "long enough", false, now)
            .await
            .unwrap()
            .id;
        let p = workspace::create_project(&db, me, "长篇", now)
            .await
            .unwrap();
        let q = workspace::create_project(&db, me, "短篇", now)
            .await
            .unwrap();
        let hero = create(
            &db,
            me,
            p.id,
            NoteKind::Character,
            "林黛玉",
            "多愁善感",
            now,
        )
        .await
        .unwrap();
        let outline = create(&db, me, p.id, NoteKind::Outline, "大纲", "第一章", now)
            .await
            .unwrap();
        assert_eq!(
            hero.tokens,
            estimate_tokens(&note_text(NoteKind::Character, "林黛玉", "多愁善感"))
        );
        // Outline first.
        let listed = list(&db, me, p.id).await.unwrap();
        assert_eq!(
            listed.iter().map(|n| n.id).collect::<Vec<_>>(),
            [outline.id, hero.id]
        );
        assert!(list(&db, me, q.id).await.unwrap().is_empty());
        let later = now + chrono::Duration::minutes(1);
        let edited = update(&db, me, hero.id, " 黛玉 ", "葬花", later)
            .await
            .unwrap();
        assert_eq!(
            (edited.name.as_str(), edited.body.as_str()),
            ("黛玉", "葬花")
        );
        assert_eq!(edited.updated_at, later);

        // Another profile: unknown, untouched.
        assert!(matches!(
            list(&db, other, p.id).await,
            Err(WorkspaceError::UnknownProject(_))
        ));
        assert!(matches!(
            update(&db, other, hero.id, "x", "y", now).await,
            Err(WorkspaceError::UnknownNote(_))
        ));
        assert!(matches!(
            delete(&db, other, hero.id).await,
            Err(WorkspaceError::UnknownNote(_))
        ));
        assert!(matches!(
            attached(&db, other, p.id, &[hero.id]).await,
            Err(WorkspaceError::UnknownNote(_))
        ));
        // Bad input changes nothing.
        assert!(matches!(
            update(&db, me, hero.id, "a\u{202E}b", "z", now).await,
            Err(WorkspaceError::InvalidName(_))
        ));
        let long = "字".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(
            update(&db, me, hero.id, "黛玉", &long, now).await,
            Err(WorkspaceError::NoteTooLong { .. })
        ));
        assert!(matches!(
            create(&db, me, p.id, NoteKind::Place, "x", &long, now).await,
            Err(WorkspaceError::NoteTooLong { .. })
        ));
        assert_eq!(get(&db, me, hero.id).await.unwrap(), edited);
        // Attaching: only this project's notes, each once.
        let got = attached(&db, me, p.id, &[hero.id, outline.id, hero.id])
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        assert!(matches!(
            attached(&db, me, q.id, &[hero.id]).await,
            Err(WorkspaceError::UnknownNote(_))
        ));
        let block = context_block(&got);
        assert!(block.contains("【人物：黛玉】\n葬花") && block.contains("【大纲：大纲】"));
        assert_eq!(context_block(&[]), "");
        // A project in the trash: its notes stay but cannot change.
        workspace::trash_project(&db, me, p.id, now).await.unwrap();
        assert!(matches!(
            update(&db, me, hero.id, "黛玉", "x", now).await,
            Err(WorkspaceError::InTrash)
        ));
        assert!(matches!(
            create(&db, me, p.id, NoteKind::Style, "s", "", now).await,
            Err(WorkspaceError::InTrash)
        ));
        delete(&db, me, outline.id).await.unwrap_err();
        assert_eq!(list(&db, me, p.id).await.unwrap().len(), 2);
    }

    proptest! {
        /// Any text: the estimate never panics, is at least a quarter of the characters, at
        /// most one token per character, and adding text never lowers it.
        #[test]
        fn the_estimate_is_bounded_and_monotonic(a in any::<String>(), b in any::<String>()) {
            let chars = a.chars().count();
            let t = estimate_tokens(&a);
            prop_assert!(t <= chars);
            prop_assert!(t >= chars.div_ceil(4));
            let joined = format!("{a}{b}");
            prop_assert!(estimate_tokens(&joined) >= t);
        }
    }
}
