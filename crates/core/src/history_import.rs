//! History in and out of an "export everything" archive (issue 19, item 5).
//!
//! [`ArchivedGeneration`] is the archive's machine-readable record of one generation. Import
//! takes history back and nothing else: an imported generation is a finished record with no
//! ledger row behind it (cost 0, no charge, no refund), so an archive can never add credits
//! or a membership, which only come from signed receipts. Importing the same archive twice
//! adds nothing the second time.

use chrono::{DateTime, Utc};
use inkstone_domain::{GenerationId, ProfileId};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, CoreResult};
use crate::generations::{
    self, check_text, Generation, Status, MAX_PARAMS_BYTES, MAX_PROMPT_CHARS,
};
use crate::time::to_ms;
use crate::Database;

/// An output longer than this is not one this app wrote.
pub const MAX_OUTPUT_CHARS: usize = 2_000_000;
/// Files per generation in an archive.
pub const MAX_FILES: usize = 16;

/// One generation as the archive keeps it. `files` are paths inside the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedGeneration {
    pub tool: String,
    pub model: String,
    pub prompt: String,
    #[serde(default)]
    pub params: serde_json::Value,
    pub status: Status,
    #[serde(default)]
    pub output_text: String,
    #[serde(default)]
    pub files: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub input_tokens: Option<i64>,
    #[serde(default)]
    pub output_tokens: Option<i64>,
    #[serde(default)]
    pub error_kind: Option<String>,
}

impl ArchivedGeneration {
    /// The archive's record of `g`, with `files` renamed to their place in the archive.
    pub fn from_generation(g: &Generation, files: Vec<String>) -> Self {
        ArchivedGeneration {
            tool: g.tool.as_str().to_owned(),
            model: g.model.clone(),
            prompt: g.prompt.clone(),
            params: g.params.clone(),
            status: g.status,
            output_text: g.output_text.clone(),
            files,
            created_at: g.created_at,
            finished_at: g.finished_at,
            input_tokens: g.usage.input_tokens,
            output_tokens: g.usage.output_tokens,
            error_kind: g.error_kind.clone(),
        }
    }

    /// Checks a record read from an archive before anything is written.
    pub fn validate(&self) -> CoreResult<()> {
        // An archive is outside bytes: its tool is parsed like any other.
        self.tool
            .parse::<inkstone_domain::Tool>()
            .map_err(|_| invalid("tool", "unknown tool"))?;
        check_text("model", &self.model, 100, false)?;
        check_text("prompt", &self.prompt, MAX_PROMPT_CHARS, true)?;
        if self.output_text.chars().count() > MAX_OUTPUT_CHARS {
            return Err(invalid("output_text", "too long"));
        }
        if self.status == Status::Running {
            return Err(invalid("status", "a running generation cannot be imported"));
        }
        match &self.params {
            serde_json::Value::Null | serde_json::Value::Object(_) => {}
            _ => return Err(invalid("params", "must be a JSON object")),
        }
        if self.params.to_string().len() > MAX_PARAMS_BYTES {
            return Err(invalid("params", "too large"));
        }
        if self.files.len() > MAX_FILES {
            return Err(invalid("files", "too many files"));
        }
        if let Some(kind) = &self.error_kind {
            check_text("error_kind", kind, 64, false)?;
        }
        for tokens in [self.input_tokens, self.output_tokens]
            .into_iter()
            .flatten()
        {
            if !(0..=1_000_000_000).contains(&tokens) {
                return Err(invalid("tokens", "out of range"));
            }
        }
        // Dates a SQLite integer of milliseconds holds, and not before the end of the run.
        let range = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default()
            ..DateTime::<Utc>::from_timestamp(32_503_680_000, 0).unwrap_or_default();
        if !range.contains(&self.created_at) {
            return Err(invalid("created_at", "out of range"));
        }
        if let Some(end) = self.finished_at {
            if !range.contains(&end) || end < self.created_at {
                return Err(invalid("finished_at", "out of range"));
            }
        }
        Ok(())
    }
}

/// Every generation of `profile_id`, oldest first.
pub async fn generations_of(db: &Database, profile_id: ProfileId) -> CoreResult<Vec<Generation>> {
    let ids: Vec<GenerationId> =
        sqlx::query_scalar("SELECT id FROM generations WHERE profile_id = ? ORDER BY id")
            .bind(profile_id)
            .fetch_all(db)
            .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(generations::get(db, profile_id, id).await?);
    }
    Ok(out)
}

/// Whether `profile_id` already has this record (same tool, prompt and start time).
pub async fn already_there(
    db: &Database,
    profile_id: ProfileId,
    g: &ArchivedGeneration,
) -> CoreResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM generations
         WHERE profile_id = ? AND created_at_ms = ? AND tool = ? AND prompt = ?",
    )
    .bind(profile_id)
    .bind(to_ms(g.created_at))
    .bind(&g.tool)
    .bind(&g.prompt)
    .fetch_one(db)
    .await?;
    Ok(n > 0)
}

/// Records `g` in `profile_id`'s history with `stored_files` (paths of the app's own copies),
/// searchable like any other; no ledger row, cost 0. Returns the new id, or `None` when the
/// profile already has it.
pub async fn import_generation(
    db: &Database,
    profile_id: ProfileId,
    g: &ArchivedGeneration,
    stored_files: &[String],
) -> CoreResult<Option<GenerationId>> {
    g.validate()?;
    if stored_files.len() > MAX_FILES {
        return Err(invalid("files", "too many files"));
    }
    let mut tx = crate::ledger::begin_write(db).await?;
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM profiles WHERE id = ?")
        .bind(profile_id)
        .fetch_one(&mut *tx)
        .await?;
    if exists == 0 {
        return Err(crate::CoreError::UnknownProfile(profile_id));
    }
    let dup: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM generations
         WHERE profile_id = ? AND created_at_ms = ? AND tool = ? AND prompt = ?",
    )
    .bind(profile_id)
    .bind(to_ms(g.created_at))
    .bind(&g.tool)
    .bind(&g.prompt)
    .fetch_one(&mut *tx)
    .await?;
    if dup > 0 {
        return Ok(None);
    }
    let params = match &g.params {
        serde_json::Value::Null => serde_json::json!({}),
        other => other.clone(),
    };
    let files_json = serde_json::to_string(stored_files)
        .map_err(|e| crate::CoreError::Corrupt(e.to_string()))?;
    let finished = g.finished_at.unwrap_or(g.created_at);
    let id: GenerationId = sqlx::query_scalar(
        "INSERT INTO generations (profile_id, tool, model, prompt, params_json, status,
             output_text, files_json, input_tokens, output_tokens, cost, error_kind,
             created_at_ms, finished_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING id",
    )
    .bind(profile_id)
    .bind(&g.tool)
    .bind(&g.model)
    .bind(&g.prompt)
    .bind(params.to_string())
    .bind(g.status.as_str())
    .bind(&g.output_text)
    .bind(files_json)
    .bind(g.input_tokens)
    .bind(g.output_tokens)
    .bind(&g.error_kind)
    .bind(to_ms(g.created_at))
    .bind(to_ms(finished))
    .fetch_one(&mut *tx)
    .await?;
    generations::index(&mut tx, id, &g.prompt, &g.output_text).await?;
    tx.commit().await?;
    Ok(Some(id))
}
