//! One path for every generation, whatever the tool (ARCHITECTURE.md, "A
//! generation"): charge and record it as running in one transaction; end it
//! as succeeded, failed (refunded), stopped (refunded only if nothing came
//! back) or, after a crash, interrupted (refunded) — each ending at most once.
//! History is searchable offline through [`crate::search`].

use chrono::{DateTime, Utc};
use inkstone_domain::{Credits, GenerationId, ProfileId, Tool};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::error::{invalid, CoreError, CoreResult};
use crate::ledger::{self, begin_write, Charge, PageRequest, MAX_PAGE};
use crate::search;
use crate::time::{from_ms, to_ms};
use crate::Database;

pub const MAX_PROMPT_CHARS: usize = 100_000;
pub const MAX_PARAMS_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    Stopped,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Stopped => "stopped",
            Status::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> CoreResult<Self> {
        Ok(match s {
            "running" => Status::Running,
            "succeeded" => Status::Succeeded,
            "failed" => Status::Failed,
            "stopped" => Status::Stopped,
            "interrupted" => Status::Interrupted,
            _ => return Err(CoreError::Corrupt(format!("generation status {s}"))),
        })
    }
}

/// What the writer asked for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NewGeneration {
    pub profile_id: ProfileId,
    /// It decides the price ([`ledger::TOOL_COSTS`]); parsed where the request arrives.
    pub tool: Tool,
    pub model: String,
    pub prompt: String,
    /// Tool parameters (tone, length, size, …) as a JSON object.
    #[serde(default)]
    pub params: serde_json::Value,
    /// Set for "regenerate": the run this one replaces (charged again).
    #[serde(default)]
    pub regenerated_from: Option<GenerationId>,
    /// Files the writer gave the run (the picture of a vision run), already copied into the
    /// app's files folder.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
}

/// A file the writer gave a generation: the app's copy, and the name the writer knew it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: String,
    pub name: String,
}

/// At most this many input files per generation.
pub const MAX_INPUTS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    pub generation_id: GenerationId,
    pub charge: Charge,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    pub id: GenerationId,
    pub profile_id: ProfileId,
    pub tool: Tool,
    pub model: String,
    pub prompt: String,
    pub params: serde_json::Value,
    pub status: Status,
    pub output_text: String,
    /// Paths of files the run produced (images, video, .pptx), in order.
    pub files: Vec<String>,
    /// Files the writer gave it (the picture a vision run was about).
    pub inputs: Vec<InputFile>,
    pub usage: Usage,
    /// Credits taken; 0 for a member.
    pub cost: Credits,
    pub refunded: bool,
    pub consume_id: Option<i64>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub regenerated_from: Option<GenerationId>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, profile_id, tool, model, prompt, params_json, status, output_text, \
     files_json, input_tokens, output_tokens, cost, consume_id, refund_id, error_kind, \
     error_message, regenerated_from, created_at_ms, finished_at_ms, inputs_json";

fn corrupt(e: serde_json::Error) -> CoreError {
    CoreError::Corrupt(e.to_string())
}

fn row_to_generation(row: &sqlx::sqlite::SqliteRow) -> CoreResult<Generation> {
    Ok(Generation {
        id: row.try_get("id")?,
        profile_id: row.try_get("profile_id")?,
        tool: row.try_get("tool")?,
        model: row.try_get("model")?,
        prompt: row.try_get("prompt")?,
        params: serde_json::from_str(row.try_get("params_json")?).map_err(corrupt)?,
        status: Status::parse(row.try_get("status")?)?,
        output_text: row.try_get("output_text")?,
        files: serde_json::from_str(row.try_get("files_json")?).map_err(corrupt)?,
        inputs: serde_json::from_str(row.try_get("inputs_json")?).map_err(corrupt)?,
        usage: Usage {
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
        },
        cost: row.try_get("cost")?,
        refunded: row.try_get::<Option<i64>, _>("refund_id")?.is_some(),
        consume_id: row.try_get("consume_id")?,
        error_kind: row.try_get("error_kind")?,
        error_message: row.try_get("error_message")?,
        regenerated_from: row.try_get("regenerated_from")?,
        created_at: from_ms(row.try_get("created_at_ms")?),
        finished_at: row
            .try_get::<Option<i64>, _>("finished_at_ms")?
            .map(from_ms),
    })
}

pub(crate) fn check_text(
    field: &'static str,
    text: &str,
    max_chars: usize,
    allow_newlines: bool,
) -> CoreResult<()> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(invalid(field, "too long"));
    }
    let bad = |c: char| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t'));
    if text.chars().any(bad) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

/// The checked params and inputs, as stored.
fn validate(new: &NewGeneration) -> CoreResult<(String, String)> {
    check_text("model", &new.model, 100, false)?;
    check_text("prompt", &new.prompt, MAX_PROMPT_CHARS, true)?;
    let params = match &new.params {
        serde_json::Value::Null => serde_json::Value::Object(Default::default()),
        v @ serde_json::Value::Object(_) => v.clone(),
        _ => return Err(invalid("params", "must be a JSON object")),
    };
    let json = params.to_string();
    if json.len() > MAX_PARAMS_BYTES {
        return Err(invalid("params", "too large"));
    }
    if new.inputs.len() > MAX_INPUTS {
        return Err(invalid("inputs", "at most 8 files"));
    }
    for input in &new.inputs {
        check_text("inputs.path", &input.path, 4096, false)?;
        check_text("inputs.name", &input.name, 255, false)?;
    }
    let inputs = serde_json::to_string(&new.inputs).map_err(corrupt)?;
    Ok((json, inputs))
}

pub(crate) async fn index(
    conn: &mut SqliteConnection,
    id: GenerationId,
    prompt: &str,
    output: &str,
) -> CoreResult<()> {
    sqlx::query("DELETE FROM generations_fts WHERE rowid = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let body = search::index_text(&format!("{prompt}\n{output}"));
    sqlx::query("INSERT INTO generations_fts (rowid, body) VALUES (?, ?)")
        .bind(id)
        .bind(body)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Charges (unless member) and records the run as `running`, atomically:
/// either both happen or neither. `InsufficientCredits` charges nothing.
pub async fn start(db: &Database, new: &NewGeneration, now: DateTime<Utc>) -> CoreResult<Started> {
    let (params_json, inputs_json) = validate(new)?;
    let mut tx = begin_write(db).await?;
    if let Some(from) = new.regenerated_from {
        let owner: Option<ProfileId> =
            sqlx::query_scalar("SELECT profile_id FROM generations WHERE id = ?")
                .bind(from)
                .fetch_optional(&mut *tx)
                .await?;
        if owner != Some(new.profile_id) {
            return Err(CoreError::UnknownGeneration(from));
        }
    }
    let id: GenerationId = sqlx::query_scalar(
        "INSERT INTO generations (profile_id, tool, model, prompt, params_json, inputs_json,
                                  status, regenerated_from, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id",
    )
    .bind(new.profile_id)
    .bind(new.tool)
    .bind(&new.model)
    .bind(&new.prompt)
    .bind(&params_json)
    .bind(&inputs_json)
    .bind(new.regenerated_from)
    .bind(to_ms(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match e {
        // The profile foreign key: report it as what it is.
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            CoreError::UnknownProfile(new.profile_id)
        }
        other => other.into(),
    })?;
    // The row keeps the tool and the generation id, never the writer's words: deleting
    // the generation then deletes its text everywhere.
    let charge = ledger::consume_in(&mut tx, new.profile_id, new.tool, "", Some(id), now).await?;
    sqlx::query("UPDATE generations SET consume_id = ?, cost = ? WHERE id = ?")
        .bind(charge.transaction_id)
        .bind(charge.charged)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    index(&mut tx, id, &new.prompt, "").await?;
    tx.commit().await?;
    Ok(Started {
        generation_id: id,
        charge,
    })
}

/// How a running generation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded {
        output_text: String,
        files: Vec<String>,
        usage: Usage,
    },
    /// Provider error, moderation, network, timeout: refunded.
    Failed {
        error_kind: String,
        error_message: String,
        partial_text: String,
    },
    /// The writer pressed stop. Refunded only if nothing had arrived yet.
    Stopped {
        partial_text: String,
        files: Vec<String>,
        usage: Usage,
    },
}

/// Ends a running generation once; a second ending is `GenerationNotRunning`.
pub async fn finish(
    db: &Database,
    id: GenerationId,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> CoreResult<Generation> {
    let (status, text, files, usage, error, refund) = match outcome {
        Outcome::Succeeded {
            output_text,
            files,
            usage,
        } => (Status::Succeeded, output_text, files, usage, None, false),
        Outcome::Failed {
            error_kind,
            error_message,
            partial_text,
        } => (
            Status::Failed,
            partial_text,
            Vec::new(),
            Usage::default(),
            Some((error_kind, error_message)),
            true,
        ),
        Outcome::Stopped {
            partial_text,
            files,
            usage,
        } => {
            let nothing = partial_text.is_empty() && files.is_empty();
            (Status::Stopped, partial_text, files, usage, None, nothing)
        }
    };
    let files_json = serde_json::to_string(&files).map_err(corrupt)?;
    let mut tx = begin_write(db).await?;
    end_in(
        &mut tx,
        id,
        status,
        &text,
        &files_json,
        usage,
        error,
        refund,
        now,
    )
    .await?;
    let generation = fetch(&mut tx, id).await?;
    tx.commit().await?;
    Ok(generation)
}

#[allow(clippy::too_many_arguments)]
async fn end_in(
    conn: &mut SqliteConnection,
    id: GenerationId,
    status: Status,
    text: &str,
    files_json: &str,
    usage: Usage,
    error: Option<(String, String)>,
    refund: bool,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let (error_kind, error_message) = error.unzip();
    let row: Option<(Option<i64>, String)> = sqlx::query_as(
        "UPDATE generations SET status = ?, output_text = ?, files_json = ?, input_tokens = ?,
                output_tokens = ?, error_kind = ?, error_message = ?, finished_at_ms = ?
         WHERE id = ? AND status = 'running' RETURNING consume_id, prompt",
    )
    .bind(status.as_str())
    .bind(text)
    .bind(files_json)
    .bind(usage.input_tokens)
    .bind(usage.output_tokens)
    .bind(error_kind)
    .bind(error_message.map(|m| snippet(&m, 1000)))
    .bind(to_ms(now))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((consume_id, prompt)) = row else {
        let exists: Option<GenerationId> =
            sqlx::query_scalar("SELECT id FROM generations WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        return Err(match exists {
            Some(_) => CoreError::GenerationNotRunning(id),
            None => CoreError::UnknownGeneration(id),
        });
    };
    if refund {
        if let Some(consume_id) = consume_id {
            let why = match status {
                Status::Failed => ledger::Reason::RefundFailed,
                Status::Interrupted => ledger::Reason::RefundInterrupted,
                _ => ledger::Reason::RefundStopped,
            };
            if let Some(row) = ledger::refund_in(conn, consume_id, why, "", now).await? {
                sqlx::query("UPDATE generations SET refund_id = ? WHERE id = ?")
                    .bind(row.id)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    index(conn, id, &prompt, text).await?;
    Ok(())
}

async fn fetch(conn: &mut SqliteConnection, id: GenerationId) -> CoreResult<Generation> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM generations WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(CoreError::UnknownGeneration(id))?;
    row_to_generation(&row)
}

/// At start-up: every run still `running` was cut off by a crash or a kill.
/// Each is closed as interrupted and refunded, once, keeping any text saved.
pub async fn recover_interrupted(db: &Database, now: DateTime<Utc>) -> CoreResult<Vec<Generation>> {
    let mut tx = begin_write(db).await?;
    let ids: Vec<GenerationId> =
        sqlx::query_scalar("SELECT id FROM generations WHERE status = 'running' ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let text: String = sqlx::query_scalar("SELECT output_text FROM generations WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let error = Some((
            "interrupted".to_string(),
            "应用在生成过程中退出 / the app quit during the generation".to_string(),
        ));
        end_in(
            &mut tx,
            id,
            Status::Interrupted,
            &text,
            "[]",
            Usage::default(),
            error,
            true,
            now,
        )
        .await?;
        out.push(fetch(&mut tx, id).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// Saves streamed text of a running generation so far, so a crash keeps it.
pub async fn save_progress(db: &Database, id: GenerationId, text: &str) -> CoreResult<()> {
    let done =
        sqlx::query("UPDATE generations SET output_text = ? WHERE id = ? AND status = 'running'")
            .bind(text)
            .bind(id)
            .execute(db)
            .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::GenerationNotRunning(id));
    }
    Ok(())
}

/// One of the profile's generations; another profile's is unknown.
pub async fn get(db: &Database, profile_id: ProfileId, id: GenerationId) -> CoreResult<Generation> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM generations WHERE id = ? AND profile_id = ?"
    ))
    .bind(id)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(CoreError::UnknownGeneration(id))?;
    row_to_generation(&row)
}

/// Removes a finished generation from history. Its ledger rows stay: money
/// history is never rewritten.
pub async fn delete(db: &Database, profile_id: ProfileId, id: GenerationId) -> CoreResult<()> {
    let mut tx = begin_write(db).await?;
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM generations WHERE id = ? AND profile_id = ?")
            .bind(id)
            .bind(profile_id)
            .fetch_optional(&mut *tx)
            .await?;
    match status.as_deref() {
        None => return Err(CoreError::UnknownGeneration(id)),
        Some("running") => return Err(invalid("generation", "still running")),
        Some(_) => {}
    }
    sqlx::query("DELETE FROM generations_fts WHERE rowid = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE generations SET regenerated_from = NULL WHERE regenerated_from = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM generations WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HistoryFilter {
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    pub text: Option<String>,
}

/// A history list entry: enough to show a row without the whole output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub id: GenerationId,
    pub tool: Tool,
    pub model: String,
    pub status: Status,
    pub prompt: String,
    pub output: String,
    pub file_count: i64,
    pub cost: Credits,
    pub refunded: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPage {
    pub items: Vec<Summary>,
    pub next_before_id: Option<i64>,
}

/// The profile's generations, newest first, filtered, searched, paginated.
pub async fn history(
    db: &Database,
    profile_id: ProfileId,
    filter: &HistoryFilter,
    page: PageRequest,
) -> CoreResult<HistoryPage> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(invalid("limit", "must be 1 to 100"));
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT g.id, g.tool, g.model, g.status, substr(g.prompt, 1, 200) AS prompt,
                substr(g.output_text, 1, 300) AS output, json_array_length(g.files_json) AS file_count,
                g.cost, g.refund_id IS NOT NULL AS refunded, g.created_at_ms
         FROM generations g WHERE g.profile_id = ",
    );
    q.push_bind(profile_id);
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > 200 {
            return Err(invalid("search text", "too long"));
        }
        let Some(expr) = search::match_query(text) else {
            return Ok(HistoryPage {
                items: Vec::new(),
                next_before_id: None,
            });
        };
        q.push(" AND g.id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH ")
            .push_bind(expr)
            .push(")");
    }
    if let Some(before) = page.before_id {
        q.push(" AND g.id < ").push_bind(before);
    }
    if !filter.tools.is_empty() {
        q.push(" AND g.tool IN (");
        let mut sep = q.separated(", ");
        for tool in &filter.tools {
            sep.push_bind(tool.as_str());
        }
        q.push(")");
    }
    if !filter.statuses.is_empty() {
        q.push(" AND g.status IN (");
        let mut sep = q.separated(", ");
        for status in &filter.statuses {
            sep.push_bind(status.as_str());
        }
        q.push(")");
    }
    if let Some(from) = filter.from {
        q.push(" AND g.created_at_ms >= ").push_bind(to_ms(from));
    }
    if let Some(to) = filter.to {
        q.push(" AND g.created_at_ms < ").push_bind(to_ms(to));
    }
    q.push(" ORDER BY g.id DESC LIMIT ")
        .push_bind(page.limit as i64 + 1);
    let rows = q.build().fetch_all(db).await?;
    let mut items = rows
        .iter()
        .map(|row| {
            Ok(Summary {
                id: row.try_get("id")?,
                tool: row.try_get("tool")?,
                model: row.try_get("model")?,
                status: Status::parse(row.try_get("status")?)?,
                prompt: row.try_get("prompt")?,
                output: row.try_get("output")?,
                file_count: row.try_get("file_count")?,
                cost: row.try_get("cost")?,
                refunded: row.try_get("refunded")?,
                created_at: from_ms(row.try_get("created_at_ms")?),
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    let next_before_id = if items.len() > page.limit as usize {
        items.truncate(page.limit as usize);
        items.last().map(|s| s.id.get())
    } else {
        None
    };
    Ok(HistoryPage {
        items,
        next_before_id,
    })
}

/// The name a writer sees for a stored tool name (zh-CN, `inkstone_domain::Tool`'s label).
pub fn tool_label(tool: &str) -> &'static str {
    tool.parse::<inkstone_domain::Tool>()
        .map(inkstone_domain::Tool::label_zh)
        .unwrap_or("生成")
}

fn snippet(text: &str, max_chars: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Markdown export: the prompt as a quote, the output as written.
pub fn export_markdown(g: &Generation) -> String {
    let mut out = format!(
        "# {} · {}\n\n- 模型 / model: {}\n- 时间 / time: {}\n- 状态 / status: {}\n\n",
        g.tool.label_zh(),
        g.created_at.format("%Y-%m-%d %H:%M UTC"),
        g.model,
        g.created_at.to_rfc3339(),
        g.status.as_str()
    );
    for line in g.prompt.lines() {
        out.push_str("> ");
        out.push_str(line);
        out.push('\n');
    }
    // The picture the run was about, next to the question.
    for input in &g.inputs {
        let alt = input.name.replace('[', "\\[").replace(']', "\\]");
        let path = input.path.replace('<', "%3C").replace('>', "%3E");
        out.push_str(&format!(">\n> ![{alt}](<{path}>)\n"));
    }
    out.push('\n');
    out.push_str(&g.output_text);
    out.push('\n');
    for file in &g.files {
        out.push_str(&format!("\n- {file}"));
    }
    out
}

/// Plain-text export: just the output, as the writer would paste it.
pub fn export_text(g: &Generation) -> String {
    let mut out = g.output_text.clone();
    for file in &g.files {
        out.push('\n');
        out.push_str(file);
    }
    out
}
