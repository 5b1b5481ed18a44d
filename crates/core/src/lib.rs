//! Inkstone's business rules, once, with no Tauri, HTTP or UI dependency.
//!
//! The desktop shell only translates commands into calls here. Every function
//! takes the database and, where time matters, `now`: the clock is passed in so
//! tests are deterministic.
//!
//! * [`ledger`]: credits — consume, refund, grant, expire, history, statistics;
//! * [`orders`]: the desktop's own record of orders it started, to resume waiting;
//! * [`purchases`]: signed receipts applied once, membership status and sales;
//! * [`catalog`]: the cached price list;
//! * [`generations`]: one charged path for every tool, history and its search;
//! * [`profiles`]: local accounts with argon2id passwords, the owner, deletion;
//! * [`sign_in`]: slowed-down failed sign-ins and "keep me signed in" sessions;
//! * [`profile_export`]: a profile's history and ledger, exported before deletion;
//! * [`backup`]: consistent copies of the database and the checks before a restore;
//! * [`demo`]: the seed report's demo users (demo mode only);
//! * [`workspace`]: the writing workspace's projects and documents, with a 30-day trash;
//! * [`document_ai`]: AI on a document's text, as the messages of an ordinary generation;
//! * [`versions`]: versions of a document, restore that never loses the current text.
//! * [`notes`]: a project's memory (characters, places, outline, style rules) and the
//!   token estimate that keeps an AI run within its model's context window.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use inkstone_core::{ledger, profiles, open_in_memory};
//! let db = open_in_memory().await.unwrap();
//! let now = chrono::Utc::now();
//! let p = profiles::create_profile(&db, "writer", "long enough", false, now).await.unwrap();
//! use inkstone_domain::Credits;
//! let grant = ledger::Grant { kind: ledger::GrantKind::Recharge, credits: Credits::new(20),
//!     description: "top-up".into(), order_no: None, expires_at: None };
//! ledger::add_credits(&db, p.id, &grant, now).await.unwrap();
//! let charge = ledger::check_and_consume(&db, p.id, inkstone_domain::Tool::Article, "AI写作", now).await.unwrap();
//! assert_eq!((charge.charged, charge.balance_after), (Credits::new(10), Credits::new(10)));
//! assert!(ledger::audit(&db).await.unwrap().is_empty());
//! # });
//! ```
#![forbid(unsafe_code)]

pub mod backup;
#[cfg(feature = "bench-support")]
pub mod bench_support;
pub mod catalog;
pub mod claims;
pub mod db;
pub mod demo;
pub mod document_ai;
pub mod error;
pub mod generations;
pub mod history_import;
pub mod ledger;
pub mod models;
pub mod notes;
pub mod orders;
pub mod profile_export;
pub mod profiles;
pub mod prompts;
pub mod purchases;
pub mod revocations;
pub mod search;
pub mod sign_in;
mod time;
pub mod versions;
pub mod workspace;
pub use time::Clock;

pub use db::{open, open_in_memory, Database};
pub use error::{CoreError, CoreResult};
