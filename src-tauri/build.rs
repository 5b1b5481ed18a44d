//! Generates the app's permission manifest: one `allow-<command>` permission per command in
//! `COMMANDS`. `capabilities/default.json` grants the main window exactly these, so a command
//! that is registered but not listed here (or not granted there) is refused by Tauri.

const COMMANDS: &[&str] = &[
    "app_version",
    "open_link",
    "login",
    "logout",
    "register_profile",
    "change_password",
    "profile_export",
    "delete_profile",
    "session_info",
    "credit_balance",
    "credit_transactions",
    "credit_prices",
    "credit_statistics",
    "credit_orders",
    "membership_status",
    "membership_prices",
    "membership_preview",
    "membership_orders",
    "membership_statistics",
    "generate_writing",
    "generate_vision",
    "generate_slides",
    "generate_media",
    "cancel_generation",
    "history_list",
    "history_get",
    "history_delete",
    "history_export",
    "history_export_to",
    "ai_key_status",
    "ai_set_key",
    "ai_delete_key",
    "ai_test_connection",
    "ai_models",
    "ai_model_add",
    "ai_model_update",
    "ai_model_has_key",
    "ai_model_activate",
    "ai_model_delete",
    "order_create",
    "order_wait",
    "order_check",
    "order_cancel",
    "restore_purchases",
    "account_set_credentials",
    "account_sign_in",
    "purchase_account_status",
    "purchase_account_sign_out_everywhere",
    "purchases_elsewhere",
    "payment_info",
    "settings_get",
    "settings_set",
    "backups_list",
    "backup_now",
    "backup_restore",
    "start_notices",
    "data_trouble",
    "data_trouble_resolve",
    "export_everything",
    "import_everything",
    "update_status",
    "update_check",
    "update_install",
    // The writing workspace (commands/workspace.rs).
    "workspace_tree",
    "project_create",
    "project_rename",
    "project_archive",
    "project_trash",
    "project_restore",
    "document_create",
    "document_get",
    "document_rename",
    "document_move",
    "document_archive",
    "document_trash",
    "document_restore",
    "document_save",
    "document_ai",
    "version_list",
    "version_get",
    "version_create",
    "version_before_ai",
    "version_restore",
    "document_import",
    "document_export",
    "project_export",
    "export_pick_folder",
    "workspace_search",
    "workspace_on_close",
    "workspace_close_ready",
    "note_list",
    "note_create",
    "note_update",
    "note_delete",
    "outline_generate",
];

fn main() {
    web_extension();
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=../ui/dist");
    // The built-in public update key (commands/updates.rs).
    println!("cargo:rerun-if-env-changed=INKSTONE_UPDATE_PUBLIC_KEY");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; there is no caller to return to.
        panic!("tauri-build failed: {error:#}");
    }
}

/// Compiles the web-process extension (`crates/webext`, Linux only) and puts it in `webext/`
/// next to the app's binary, where `webview_tuning::web_extension_dir` finds it in every build
/// (debug, E2E, bench); `tauri.conf.json` puts it in the installers. A cdylib cannot be a
/// dependency of a binary, so it is compiled here, with the same rustc and flags: one small
/// file, no dependencies, a few seconds.
fn web_extension() {
    use std::path::PathBuf;
    use std::process::Command;

    const SOURCE: &str = "../crates/webext/src/lib.rs";
    println!("cargo:rerun-if-changed={SOURCE}");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let out_dir = PathBuf::from(var("OUT_DIR"));
    let library = out_dir.join("libinkstone_webext.so");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut command = Command::new(rustc);
    command
        .args(["--crate-name", "inkstone_webext", "--crate-type", "cdylib"])
        .args(["--edition", "2021", "--target", &var("TARGET")])
        .args([
            "-C",
            "opt-level=2",
            "-C",
            "panic=abort",
            "-C",
            "strip=debuginfo",
        ])
        .arg("-o")
        .arg(&library)
        .arg(SOURCE);
    // The workspace's own flags (mold, in .cargo/config.toml) and the target's linker when one
    // is configured (cross builds), as cargo gives them to the app's own rustc.
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    command.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        command.arg("-C").arg(format!("linker={linker}"));
    }
    match command.status() {
        Ok(status) if status.success() => {}
        other => panic!("the web extension ({SOURCE}) did not compile: {other:?}"),
    }
    // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
    let Some(profile_dir) = out_dir.ancestors().nth(3) else {
        panic!("unexpected OUT_DIR {}", out_dir.display());
    };
    let dir = profile_dir.join("webext");
    let built = std::fs::read(&library).unwrap_or_else(|e| panic!("{}: {e}", library.display()));
    let placed = dir.join("libinkstone_webext.so");
    // Unchanged bytes keep their file (and its time): nothing downstream reruns for nothing.
    if std::fs::read(&placed).ok().as_deref() != Some(built.as_slice()) {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        std::fs::write(&placed, &built).unwrap_or_else(|e| panic!("{}: {e}", placed.display()));
    }
}
