//! Qwen for Inkstone: DashScope's native protocol (streamed text, vision,
//! async image/video tasks) and any OpenAI-compatible chat endpoint, behind
//! [`ChatProvider`]. Errors are typed by the documented codes with words for
//! writers ([`QwenError::user_message_zh`]); retries only happen where they
//! are safe; every request has connect, first-byte and idle timeouts.
#![forbid(unsafe_code)]

mod chat;
mod error;
pub mod sse;
mod tasks;
pub mod validate;

pub use chat::{
    ChatEvent, ChatMessage, ChatParams, ChatProvider, ChatResponse, ChatStream, DashScope,
    ImageInput, OpenAiCompatible, Settings, BEIJING, SINGAPORE,
};
pub use error::QwenError;
pub use tasks::{TaskKind, TaskRequest, MAX_RESULT_BYTES};
