use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use inkstone_core::generations::{self, Generation, InputFile, NewGeneration, Outcome, Usage};
use inkstone_core::{prompts, Clock, CoreError, Database};
use inkstone_domain::{GenerationId, ProfileId, Tool};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::coalesce::Coalescer;
use crate::model::{MediaKind, MediaModel, MediaRequest, TextEvent, TextModel};

/// Streamed text is saved this often, so a crash keeps what the writer saw.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// What the UI receives over its channel, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// Charged (or free for a member); the id is what `cancel` takes.
    Started {
        generation_id: GenerationId,
        charged: inkstone_domain::Credits,
        balance_after: inkstone_domain::Credits,
        member: bool,
    },
    /// More text, coalesced to at most one message per 50 ms (`Coalescer::for_display`).
    Text { text: String },
    /// Long tasks (image, video): percent and a note.
    Progress { percent: u8, note: String },
    /// The run has ended; `generation.status` says how.
    Finished { generation: Box<Generation> },
}

#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    /// Refused before anything was charged (bad input, not enough credits, …),
    /// or the database failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Occurs when a file the writer gave cannot be kept in the app's files folder (disk
    /// full, permissions); nothing was charged. The OS error is in the log.
    #[error("cannot keep a copy of {0} in the app's files folder")]
    Files(String),
}

/// Why a generation failed, as stored in history (`error_kind`) besides the provider's
/// own kinds (`QwenError::KINDS`); the UI has text for each.
pub const TRUNCATED: &str = "truncated";
pub const SLIDES_UNREADABLE: &str = "slides_unreadable";
pub const NO_RESULT: &str = "no_result";
pub const OWN_FAILURE_KINDS: &[&str] = &[TRUNCATED, SLIDES_UNREADABLE, NO_RESULT];

impl StudioError {
    /// The kinds of its own (besides those of `CoreError`).
    pub const OWN_KINDS: &'static [&'static str] = &["storage"];

    /// Stable machine name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            StudioError::Core(e) => e.kind(),
            StudioError::Files(_) => "storage",
        }
    }
}

/// Row ids start at 1, so 0 names no profile until the shell sets the real one.
fn no_profile() -> ProfileId {
    ProfileId::new(0)
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct WriteRequest {
    /// Never taken from a deserialised request (the page does not choose the profile): the
    /// shell sets the signed-in one.
    #[serde(skip, default = "no_profile")]
    pub profile_id: ProfileId,
    /// A writing tool (`Tool::WRITING` or `Tool::Vision`), parsed where the request arrives.
    pub tool: Tool,
    pub input: String,
    #[serde(default)]
    pub params: serde_json::Value,
    /// "Regenerate": charged again, linked to the run it replaces.
    #[serde(default)]
    pub regenerated_from: Option<GenerationId>,
    /// Files the writer gave the run, kept by [`Studio::keep_input`]; never taken from a
    /// deserialised request, so a path always names the app's own copy.
    #[serde(skip)]
    pub inputs: Vec<InputFile>,
}

/// Runs generations; one per app, shared by every window.
#[derive(Clone)]
pub struct Studio {
    db: Database,
    clock: Clock,
    files_root: PathBuf,
    jobs: Arc<Mutex<HashMap<GenerationId, CancellationToken>>>,
}

/// Unregisters a run's stop button however the run ends.
struct JobGuard {
    jobs: Arc<Mutex<HashMap<GenerationId, CancellationToken>>>,
    id: GenerationId,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.remove(&self.id);
        }
    }
}

type Sink<'a> = &'a mut (dyn FnMut(Update) + Send);

impl Studio {
    /// `files_root` receives one folder per generation for images, video and decks.
    pub fn new(db: Database, files_root: PathBuf) -> Self {
        Studio {
            db,
            clock: Clock::system(),
            files_root,
            jobs: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The same studio reading `clock` for every charge, finish and recovery.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Keeps the app's own copy of a file the writer gave (the picture a vision run is
    /// about), so history shows it after the original is moved or deleted. Stored under
    /// `inputs/` by content (SHA-256), so the same picture asked about twice is kept once
    /// and the writer's file name never becomes a path.
    pub fn keep_input(
        &self,
        bytes: &[u8],
        extension: &str,
        name: &str,
    ) -> Result<InputFile, StudioError> {
        use sha2::Digest;
        if !extension.chars().all(|c| c.is_ascii_alphanumeric()) || extension.is_empty() {
            return Err(CoreError::InvalidInput {
                field: "extension",
                reason: "letters and digits only",
            }
            .into());
        }
        let digest = sha2::Sha256::digest(bytes);
        let hex = hex::encode(digest);
        let dir = self.files_root.join("inputs");
        let path = dir.join(format!("{hex}.{extension}"));
        let failed = |error: std::io::Error| {
            tracing::error!(%error, path = %path.display(), "cannot keep an input file");
            StudioError::Files(name.to_string())
        };
        if !path.is_file() {
            std::fs::create_dir_all(&dir).map_err(failed)?;
            // Written whole and synced under a temporary name, then renamed: a crash or a
            // power cut never leaves half a picture under the name history points to.
            let partial = dir.join(format!("{hex}.{extension}.partial"));
            let write = || -> std::io::Result<()> {
                use std::io::Write;
                let mut file = std::fs::File::create(&partial)?;
                file.write_all(bytes)?;
                file.sync_all()?;
                std::fs::rename(&partial, &path)
            };
            write().map_err(failed)?;
        }
        Ok(InputFile {
            path: path.to_string_lossy().into_owned(),
            name: name.to_string(),
        })
    }

    /// Presses stop on a running generation; false when it is not running here.
    pub fn cancel(&self, generation_id: GenerationId) -> bool {
        let token = self
            .jobs
            .lock()
            .ok()
            .and_then(|jobs| jobs.get(&generation_id).cloned());
        match token {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// Runs still marked running belong to a previous process that died.
    pub async fn recover(&self) -> Result<Vec<Generation>, StudioError> {
        Ok(generations::recover_interrupted(&self.db, self.clock.now()).await?)
    }

    async fn begin(
        &self,
        new: NewGeneration,
        sink: Sink<'_>,
    ) -> Result<(GenerationId, CancellationToken, JobGuard), StudioError> {
        let started = generations::start(&self.db, &new, self.clock.now()).await?;
        let id = started.generation_id;
        let token = CancellationToken::new();
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(id, token.clone());
        }
        sink(Update::Started {
            generation_id: id,
            charged: started.charge.charged,
            balance_after: started.charge.balance_after,
            member: started.charge.member,
        });
        Ok((
            id,
            token,
            JobGuard {
                jobs: self.jobs.clone(),
                id,
            },
        ))
    }

    async fn end(
        &self,
        id: GenerationId,
        outcome: Outcome,
        sink: Sink<'_>,
    ) -> Result<Generation, StudioError> {
        let generation = generations::finish(&self.db, id, outcome, self.clock.now()).await?;
        sink(Update::Finished {
            generation: Box::new(generation.clone()),
        });
        Ok(generation)
    }

    /// Streams text from `model` into the sink until it finishes, fails or is stopped.
    async fn stream_text(
        &self,
        id: GenerationId,
        token: &CancellationToken,
        model: &dyn TextModel,
        messages: Vec<prompts::Message>,
        sink: Sink<'_>,
    ) -> Outcome {
        let mut stream = model.stream(messages);
        let mut text = String::new();
        let mut usage = Usage::default();
        let mut coalescer = Coalescer::for_display();
        let mut last_save = Instant::now();
        let outcome = loop {
            let due = coalescer.due_at();
            let event = tokio::select! {
                biased;
                _ = token.cancelled() => {
                    break Outcome::Stopped { partial_text: text.clone(), files: Vec::new(), usage };
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into()), if due.is_some() => {
                    if let Some(chunk) = coalescer.flush_due(Instant::now()) {
                        sink(Update::Text { text: chunk });
                    }
                    continue;
                }
                event = stream.next() => event,
            };
            match event {
                Some(Ok(TextEvent::Delta(delta))) => {
                    text.push_str(&delta);
                    if let Some(chunk) = coalescer.push(&delta, Instant::now()) {
                        sink(Update::Text { text: chunk });
                    }
                    if last_save.elapsed() >= SAVE_EVERY {
                        last_save = Instant::now();
                        if let Err(e) = generations::save_progress(&self.db, id, &text).await {
                            tracing::warn!(generation = id.get(), error = %e, "could not save progress");
                        }
                    }
                }
                Some(Ok(TextEvent::Usage {
                    input_tokens,
                    output_tokens,
                })) => {
                    usage = Usage {
                        input_tokens: Some(input_tokens),
                        output_tokens: Some(output_tokens),
                    };
                }
                // Whatever the provider called it, an answer a content filter stopped or one
                // without a word is a failure, refunded like any other.
                Some(Ok(TextEvent::Finished { reason })) if reason == "content_filter" => {
                    break Outcome::Failed {
                        error_kind: "moderation".into(),
                        error_message:
                            "内容安全过滤中止了回答 / a content filter stopped the answer".into(),
                        partial_text: text.clone(),
                    };
                }
                Some(Ok(TextEvent::Finished { .. })) if text.trim().is_empty() => {
                    break Outcome::Failed {
                        error_kind: "empty_answer".into(),
                        error_message: "模型没有返回任何内容 / the model returned an empty answer"
                            .into(),
                        partial_text: text.clone(),
                    };
                }
                Some(Ok(TextEvent::Finished { .. })) => {
                    break Outcome::Succeeded {
                        output_text: text.clone(),
                        files: Vec::new(),
                        usage,
                    };
                }
                Some(Err(e)) => {
                    break Outcome::Failed {
                        error_kind: e.kind,
                        error_message: e.message,
                        partial_text: text.clone(),
                    };
                }
                None => {
                    break Outcome::Failed {
                        error_kind: TRUNCATED.into(),
                        error_message:
                            "连接在生成完成前中断 / the stream ended before the model finished"
                                .into(),
                        partial_text: text.clone(),
                    };
                }
            }
        };
        // Dropping the stream closes the connection: the provider stops too.
        drop(stream);
        if let Some(rest) = coalescer.finish() {
            sink(Update::Text { text: rest });
        }
        outcome
    }

    /// A writing tool: generate (or regenerate) with streaming and a stop button.
    pub async fn write(
        &self,
        request: WriteRequest,
        model: &dyn TextModel,
        sink: Sink<'_>,
    ) -> Result<Generation, StudioError> {
        let params = prompts::writing_params(&request.params)?;
        let messages = prompts::writing_messages(request.tool, &request.input, &params)?;
        let new = NewGeneration {
            profile_id: request.profile_id,
            tool: request.tool,
            model: model.name(),
            prompt: request.input,
            params: request.params,
            regenerated_from: request.regenerated_from,
            inputs: request.inputs,
        };
        let (id, token, _guard) = self.begin(new, sink).await?;
        let outcome = self.stream_text(id, &token, model, messages, sink).await;
        self.end(id, outcome, sink).await
    }

    /// A text run whose messages the caller built (the workspace's AI on a document), on the
    /// same path as every other: charged with `new`, streamed, stoppable, refunded by the same
    /// rules. `new.model` is replaced by the model's own name.
    pub async fn write_messages(
        &self,
        new: NewGeneration,
        messages: Vec<prompts::Message>,
        model: &dyn TextModel,
        sink: Sink<'_>,
    ) -> Result<Generation, StudioError> {
        let new = NewGeneration {
            model: model.name(),
            ..new
        };
        let (id, token, _guard) = self.begin(new, sink).await?;
        let outcome = self.stream_text(id, &token, model, messages, sink).await;
        self.end(id, outcome, sink).await
    }

    /// The PPT tool: Qwen writes the outline (streamed), then a real .pptx is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn slides(
        &self,
        profile_id: ProfileId,
        topic: String,
        slides: u32,
        language: String,
        accent: String,
        model: &dyn TextModel,
        sink: Sink<'_>,
    ) -> Result<Generation, StudioError> {
        let messages = prompts::slide_outline_messages(&topic, slides, &language)?;
        inkstone_pptx::Rgb::parse(&accent).map_err(|_| CoreError::InvalidInput {
            field: "accent",
            reason: "must look like #RRGGBB",
        })?;
        let params =
            serde_json::json!({ "slides": slides, "language": language, "accent": accent });
        let new = NewGeneration {
            profile_id,
            tool: Tool::Ppt,
            model: model.name(),
            prompt: topic,
            params,
            regenerated_from: None,
            inputs: Vec::new(),
        };
        let (id, token, _guard) = self.begin(new, sink).await?;
        let outcome = match self.stream_text(id, &token, model, messages, sink).await {
            Outcome::Succeeded {
                output_text, usage, ..
            } => match self.write_deck(id, &output_text, &accent) {
                Ok(path) => {
                    sink(Update::Progress {
                        percent: 100,
                        note: "幻灯片已生成 / deck written".into(),
                    });
                    Outcome::Succeeded {
                        output_text,
                        files: vec![path],
                        usage,
                    }
                }
                Err(e) => Outcome::Failed {
                    error_kind: SLIDES_UNREADABLE.into(),
                    error_message: format!("无法生成PPT文件 / could not write the deck: {e}"),
                    partial_text: output_text,
                },
            },
            other => other,
        };
        self.end(id, outcome, sink).await
    }

    fn write_deck(
        &self,
        id: GenerationId,
        outline: &str,
        accent: &str,
    ) -> Result<String, inkstone_pptx::PptxError> {
        let deck = inkstone_pptx::parse_outline(outline, accent)?;
        let dir = self.files_root.join(id.to_string());
        std::fs::create_dir_all(&dir)?;
        let name: String = deck
            .title
            .chars()
            .filter(|c| {
                !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                    && !c.is_control()
            })
            .take(60)
            .collect();
        let name = if name.trim().is_empty() {
            "deck".to_string()
        } else {
            name.trim().to_string()
        };
        let path = dir.join(format!("{name}.pptx"));
        let file = std::fs::File::create(&path)?;
        inkstone_pptx::write_pptx(&deck, std::io::BufWriter::new(file))?;
        Ok(path.to_string_lossy().into_owned())
    }

    /// Images (wanx) and video: an async provider task with progress.
    pub async fn media(
        &self,
        profile_id: ProfileId,
        kind: MediaKind,
        prompt: String,
        params: serde_json::Value,
        model: &dyn MediaModel,
        sink: Sink<'_>,
    ) -> Result<Generation, StudioError> {
        let tool = match kind {
            MediaKind::Image => {
                prompts::image_params(&params)?;
                Tool::Image
            }
            MediaKind::Video => {
                prompts::video_params(&params)?;
                Tool::Video
            }
        };
        let new = NewGeneration {
            profile_id,
            tool,
            model: model.name(),
            prompt: prompt.clone(),
            params: params.clone(),
            regenerated_from: None,
            inputs: Vec::new(),
        };
        let (id, token, _guard) = self.begin(new, sink).await?;
        let dest_dir = self.files_root.join(id.to_string());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u8, String)>();
        let progress = Box::new(move |percent: u8, note: String| {
            let _ = tx.send((percent.min(100), note));
        });
        let request = MediaRequest {
            kind,
            prompt,
            params,
            dest_dir,
        };
        let mut task = model.generate(request, progress, token.clone());
        let result = loop {
            tokio::select! {
                result = &mut task => break result,
                Some((percent, note)) = rx.recv() => sink(Update::Progress { percent, note }),
            }
        };
        while let Ok((percent, note)) = rx.try_recv() {
            sink(Update::Progress { percent, note });
        }
        let outcome = match result {
            Ok(files) if !files.is_empty() => Outcome::Succeeded {
                output_text: String::new(),
                files: files
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect(),
                usage: Usage::default(),
            },
            _ if token.is_cancelled() => Outcome::Stopped {
                partial_text: String::new(),
                files: Vec::new(),
                usage: Usage::default(),
            },
            Ok(_) => Outcome::Failed {
                error_kind: NO_RESULT.into(),
                error_message: "任务完成但没有返回结果 / the task returned no result".into(),
                partial_text: String::new(),
            },
            Err(e) => Outcome::Failed {
                error_kind: e.kind,
                error_message: e.message,
                partial_text: String::new(),
            },
        };
        self.end(id, outcome, sink).await
    }
}
