//! The stack's floor (issue 18): an empty Tauri 2 window, nothing of Inkstone but the webview
//! levers. `scripts/bench.sh` measures its process tree next to the app's (same Xvfb, session
//! bus and 60 s idle), with the levers (`INKSTONE_WEBVIEW_LEVERS` unset: what production
//! runs on that machine) and without (`INKSTONE_WEBVIEW_LEVERS=none`), so a reader sees how
//! much of the app's memory any Tauri 2 + WebKitGTK window costs here.
//!
//! An example, never part of the shipped app: `cargo build --release -p inkstone-app
//! --features demo --example empty_window` (the `demo` feature only so the release build
//! reuses the bench's compiled library). Its config is `tauri.conf.json` beside this file;
//! the page is `page/index.html` (a source file, not build output).

use inkstone_app::webview_tuning::Levers;

// The app's own malloc settings (one file for both binaries).
#[path = "../../src/malloc_tuning.rs"]
mod malloc_tuning;

fn main() -> std::process::ExitCode {
    // As the app's main and run(): malloc first, then the variables WebKit's processes read.
    let (levers, _) = Levers::from_env();
    malloc_tuning::tune_malloc(&levers);
    levers.apply_environment();
    let result = tauri::Builder::default()
        .setup(move |app| {
            // The app's window size, so both paint the same area.
            let window = tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("index.html".into()),
            )
            .title("empty Tauri 2 window")
            .inner_size(1200.0, 800.0)
            .build()?;
            levers.apply_to(&window);
            Ok(())
        })
        .run(tauri::generate_context!(
            "examples/empty_window/tauri.conf.json"
        ));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("empty_window: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
