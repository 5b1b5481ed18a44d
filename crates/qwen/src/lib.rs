//! Qwen for Inkstone: DashScope's native protocol (streamed text, vision,
//! async image/video tasks) and any OpenAI-compatible chat endpoint, behind
//! [`ChatProvider`]. Errors are typed by the documented codes with words for
//! writers ([`QwenError::user_message_zh`]); retries only happen where they
//! are safe; every request has connect, first-byte and idle timeouts.
//!
//! Invariants: a stream ends in exactly one of `Finished` or an error, never silently; an
//! API key is only sent to the base URL it was configured for and never appears in an error
//! or a log line; bytes from the network are parsed with bounds ([`sse::Parser`] keeps at most
//! one bounded event, result downloads stop at [`MAX_RESULT_BYTES`]).
//!
//! The SSE parser takes bytes as they arrive, split anywhere:
//!
//! ```
//! use inkstone_qwen::sse::Parser;
//! let frame = "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"text\":\"春\"}}\n\n";
//! let (a, b) = frame.as_bytes().split_at(20);
//! let mut parser = Parser::new();
//! let mut events = Vec::new();
//! parser.feed(a, &mut events);
//! assert!(events.is_empty());
//! parser.feed(b, &mut events);
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].event, "result");
//! assert_eq!(events[0].http_status, Some(200));
//! assert!(events[0].data.contains("春"));
//! ```
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
