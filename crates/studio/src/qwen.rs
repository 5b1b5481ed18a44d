//! The Qwen client as the runner's models: chat providers stream text, the
//! DashScope task API makes images and video.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use inkstone_core::prompts::Message;
use inkstone_qwen::{
    ChatEvent, ChatMessage, ChatParams, ChatProvider, DashScope, ImageInput, QwenError, TaskKind,
    TaskRequest,
};
use tokio_util::sync::CancellationToken;

use crate::model::{
    MediaKind, MediaModel, MediaRequest, ModelError, ProgressFn, TextEvent, TextModel,
};

impl From<QwenError> for ModelError {
    fn from(e: QwenError) -> Self {
        ModelError::new(
            e.kind(),
            format!("{} / {}", e.user_message_zh(), e.user_message_en()),
        )
    }
}

/// A chat model (DashScope or OpenAI-compatible), optionally with images
/// attached to the writer's message (qwen-vl-*).
pub struct QwenText {
    pub provider: Arc<dyn ChatProvider>,
    pub model: String,
    pub params: ChatParams,
    pub images: Vec<ImageInput>,
    /// Shown in history, e.g. `qwen-plus` or `演示模型 (qwen-plus)`.
    pub label: String,
}

impl TextModel for QwenText {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn stream(&self, messages: Vec<Message>) -> BoxStream<'static, Result<TextEvent, ModelError>> {
        let last_user = messages.iter().rposition(|m| m.role == "user");
        let chat: Vec<ChatMessage> = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let mut c = ChatMessage::new(&m.role, m.content);
                if Some(i) == last_user {
                    c.images = self.images.clone();
                }
                c
            })
            .collect();
        self.provider
            .chat_stream(&self.model, &chat, &self.params)
            .map(|item| match item {
                Ok(ChatEvent::Delta(d)) => Ok(TextEvent::Delta(d)),
                Ok(ChatEvent::Usage {
                    input_tokens,
                    output_tokens,
                }) => Ok(TextEvent::Usage {
                    input_tokens,
                    output_tokens,
                }),
                Ok(ChatEvent::Finished { reason }) => Ok(TextEvent::Finished { reason }),
                Err(e) => Err(e.into()),
            })
            .boxed()
    }
}

/// Images (wanx) and video through DashScope's async tasks.
pub struct QwenMedia {
    pub client: DashScope,
    pub model: String,
    pub label: String,
}

impl MediaModel for QwenMedia {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn generate(
        &self,
        request: MediaRequest,
        mut progress: ProgressFn,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<Vec<PathBuf>, ModelError>> {
        let client = self.client.clone();
        let model = self.model.clone();
        Box::pin(async move {
            let p = &request.params;
            let task = TaskRequest {
                kind: match request.kind {
                    MediaKind::Image => TaskKind::Image,
                    MediaKind::Video => TaskKind::Video,
                },
                model,
                prompt: request.prompt.clone(),
                negative_prompt: p
                    .get("negative_prompt")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                size: p
                    .get("size")
                    .and_then(|v| v.as_str())
                    .unwrap_or("1024*1024")
                    .to_string(),
                n: p.get("n").and_then(|v| v.as_u64()).unwrap_or(1) as u32,
                style: p.get("style").and_then(|v| v.as_str()).map(str::to_string),
            };
            let mut forward = |pct: u8, note: String| progress(pct, note);
            client
                .run_task(&task, &request.dest_dir, &mut forward, &cancel)
                .await
                .map_err(ModelError::from)
        })
    }
}
