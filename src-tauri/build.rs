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
    "payment_info",
    "settings_get",
    "settings_set",
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
    "workspace_search",
    "workspace_on_close",
    "workspace_close_ready",
];

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=../ui/dist");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; there is no caller to return to.
        panic!("tauri-build failed: {error:#}");
    }
}
