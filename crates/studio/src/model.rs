//! What the runner needs from a model provider. `inkstone-qwen` implements
//! these for DashScope and OpenAI-compatible endpoints.

use std::path::PathBuf;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use inkstone_core::prompts::Message;
use tokio_util::sync::CancellationToken;

/// One event of a streamed text generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextEvent {
    /// New text (incremental).
    Delta(String),
    Usage {
        input_tokens: i64,
        output_tokens: i64,
    },
    /// The model finished normally (`stop`, `length`, …).
    Finished { reason: String },
}

/// A provider failure, already classified by the provider client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ModelError {
    /// Stable machine name (`invalid_api_key`, `throttled`, `moderation`, `network`, …).
    pub kind: String,
    /// What the writer is told.
    pub message: String,
}

impl ModelError {
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

pub trait TextModel: Send + Sync {
    /// The model name recorded in history.
    fn name(&self) -> String;
    /// Starts a streamed chat completion. Dropping the stream must close the
    /// connection: that is how a stop reaches the provider.
    fn stream(&self, messages: Vec<Message>) -> BoxStream<'static, Result<TextEvent, ModelError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

#[derive(Debug, Clone)]
pub struct MediaRequest {
    pub kind: MediaKind,
    pub prompt: String,
    /// Validated tool parameters (size, n, style, negative prompt).
    pub params: serde_json::Value,
    /// Where result files go; they are downloaded at once (provider URLs expire).
    pub dest_dir: PathBuf,
}

/// Progress callback: percent (0–100) and a short note for the writer.
pub type ProgressFn = Box<dyn FnMut(u8, String) + Send>;

pub trait MediaModel: Send + Sync {
    fn name(&self) -> String;
    /// Submits an async task, polls it, downloads the results; stops early
    /// when `cancel` fires. Returns the saved files in order.
    fn generate(
        &self,
        request: MediaRequest,
        progress: ProgressFn,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<Vec<PathBuf>, ModelError>>;
}
