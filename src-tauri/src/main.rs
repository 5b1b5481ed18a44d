// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod malloc_tuning;

fn main() -> std::process::ExitCode {
    // Before any other thread allocates (issue 18).
    malloc_tuning::tune_malloc(&inkstone_app::webview_tuning::Levers::from_env().0);
    inkstone_app::run()
}
