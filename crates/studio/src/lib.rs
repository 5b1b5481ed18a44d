//! The generation runner (ARCHITECTURE.md, "A generation"): every tool —
//! writing, slides, images, video — goes through [`Studio`], which charges
//! through `inkstone-core`, streams to the UI, honours stop, and ends the run
//! as succeeded, failed (refunded) or stopped by the rules. Providers plug in
//! through the small [`TextModel`] and [`MediaModel`] traits, so the rules are
//! tested here without a window or a network.
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
