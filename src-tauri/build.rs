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
];

fn main() {
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
