//! The generation runner (ARCHITECTURE.md, "A generation"): every tool —
//! writing, slides, images, video — goes through [`Studio`], which charges
//! through `inkstone-core`, streams to the UI, honours stop, and ends the run
//! as succeeded, failed (refunded) or stopped by the rules. Providers plug in
//! through the small [`TextModel`] and [`MediaModel`] traits, so the rules are
//! tested here without a window or a network.
//!
//! Invariants: a run is charged once before the provider is called (members: free, and
//! recorded as such); it ends exactly once, as succeeded, failed (refunded in the same
//! transaction) or stopped (refunded unless text arrived); an interrupted run (the app died)
//! is ended and refunded by [`Studio::recover`] at the next start; times come from the clock
//! handed in ([`Studio::with_clock`]), never from the system in a rule.
//!
//! ```
//! use futures_util::stream::{self, BoxStream, StreamExt};
//! use inkstone_core::ledger::{self, Grant, GrantKind};
//! use inkstone_core::prompts::Message;
//! use inkstone_core::{generations::Status, open_in_memory, profiles, Clock};
//! use inkstone_studio::{ModelError, Studio, TextEvent, TextModel, Update, WriteRequest};
//!
//! /// A model that answers "春天。" (a real one is `QwenText`).
//! struct Spring;
//! impl TextModel for Spring {
//!     fn name(&self) -> String { "spring".into() }
//!     fn stream(&self, _: Vec<Message>) -> BoxStream<'static, Result<TextEvent, ModelError>> {
//!         stream::iter([
//!             Ok(TextEvent::Delta("春天".into())),
//!             Ok(TextEvent::Delta("。".into())),
//!             Ok(TextEvent::Finished { reason: "stop".into() }),
//!         ])
//!         .boxed()
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let now = "2026-11-29T04:00:00Z".parse().unwrap();
//! let db = open_in_memory().await.unwrap();
//! let writer = profiles::create_profile(&db, "writer", "password123", false, now).await.unwrap();
//! let grant = Grant {
//!     kind: GrantKind::Recharge, credits: inkstone_domain::Credits::new(100),
//!     description: "recharge".into(),
//!     order_no: None, expires_at: None,
//! };
//! ledger::add_credits(&db, writer.id, &grant, now).await.unwrap();
//! let files = std::env::temp_dir().join("inkstone-studio-doc");
//! let studio = Studio::new(db.clone(), files).with_clock(Clock::manual(now));
//! let request = WriteRequest {
//!     profile_id: writer.id,
//!     tool: inkstone_domain::Tool::Article,
//!     input: "写一篇关于春天的短文".into(),
//!     params: serde_json::json!({}),
//!     regenerated_from: None,
//!     inputs: Vec::new(),
//! };
//! let mut shown = String::new();
//! let mut sink = |update: Update| {
//!     if let Update::Text { text } = update { shown.push_str(&text) }
//! };
//! let generation = studio.write(request, &Spring, &mut sink).await.unwrap();
//! assert_eq!((generation.status, generation.cost.get()), (Status::Succeeded, 10));
//! assert_eq!(shown, "春天。");
//! assert_eq!(ledger::balance(&db, writer.id, now).await.unwrap().credits, 90);
//! # });
//! ```
#![forbid(unsafe_code)]

mod coalesce;
mod model;
mod qwen;
mod runner;

pub use coalesce::Coalescer;
pub use model::{
    MediaKind, MediaModel, MediaRequest, ModelError, ProgressFn, TextEvent, TextModel,
};
pub use qwen::{QwenMedia, QwenText};
pub use runner::{
    Studio, StudioError, Update, WriteRequest, NO_RESULT, OWN_FAILURE_KINDS, SLIDES_UNREADABLE,
    TRUNCATED,
};
