//! Inkstone's business rules, once, with no Tauri, HTTP or UI dependency.
//!
//! The desktop shell (`src-tauri`) only translates commands into calls here.
#![forbid(unsafe_code)]

pub mod db;

pub use db::{open, open_in_memory, Database};
