//! Nothing here: the end-to-end tests live in `tests/` and need a display,
//! tauri-driver and a built app (see scripts/checks/50-e2e.sh).
