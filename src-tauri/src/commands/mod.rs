//! Every command the webview may call, one module per area. Commands only translate: parse
//! arguments, call one method of `inkstone_desktop::Services`, map the error
//! (scripts/checks/05-shape.sh fails when a command reaches around it). Adding one means: write
//! it here, list it in `handler()`, in `build.rs` `COMMANDS`, and in
//! `capabilities/default.json`; add its typed wrapper in `ui/src/api/`.

pub mod ai;
pub mod app;
pub mod backups;
pub mod credits;
pub mod notes;
pub mod purchase_account;
pub mod refunds;
pub mod session;
pub mod settings;
pub mod shop;
pub mod studio;
pub mod updates;
pub mod workspace;

/// The invoke handler with every command registered.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        app::app_version,
        app::open_link,
        session::login,
        session::logout,
        session::register_profile,
        session::change_password,
        session::profile_export,
        session::delete_profile,
        session::session_info,
        credits::credit_balance,
        credits::credit_transactions,
        credits::credit_prices,
        credits::credit_statistics,
        credits::credit_orders,
        credits::membership_status,
        credits::membership_prices,
        credits::membership_preview,
        credits::membership_orders,
        credits::membership_statistics,
        studio::generate_writing,
        studio::generate_vision,
        studio::generate_slides,
        studio::generate_media,
        studio::cancel_generation,
        studio::history_list,
        studio::history_get,
        studio::history_delete,
        studio::history_export,
        studio::history_export_to,
        ai::ai_key_status,
        ai::ai_set_key,
        ai::ai_delete_key,
        ai::ai_test_connection,
        ai::ai_models,
        ai::ai_model_add,
        ai::ai_model_update,
        ai::ai_model_has_key,
        ai::ai_model_activate,
        ai::ai_model_delete,
        shop::order_create,
        shop::order_wait,
        shop::order_check,
        shop::order_cancel,
        shop::restore_purchases,
        shop::account_set_credentials,
        shop::account_sign_in,
        purchase_account::purchase_account_status,
        purchase_account::purchase_account_sign_out_everywhere,
        purchase_account::purchases_elsewhere,
        shop::payment_info,
        settings::settings_get,
        settings::settings_set,
        backups::backups_list,
        backups::backup_now,
        backups::backup_restore,
        backups::start_notices,
        backups::data_trouble,
        backups::data_trouble_resolve,
        backups::export_everything,
        backups::import_everything,
        updates::update_status,
        updates::update_check,
        updates::update_install,
        workspace::workspace_tree,
        workspace::project_create,
        workspace::project_rename,
        workspace::project_archive,
        workspace::project_trash,
        workspace::project_restore,
        workspace::document_create,
        workspace::document_get,
        workspace::document_rename,
        workspace::document_move,
        workspace::document_archive,
        workspace::document_trash,
        workspace::document_restore,
        workspace::document_save,
        workspace::document_ai,
        workspace::version_list,
        workspace::version_get,
        workspace::version_create,
        workspace::version_before_ai,
        workspace::version_restore,
        workspace::document_import,
        workspace::document_export,
        workspace::project_export,
        workspace::export_pick_folder,
        workspace::workspace_search,
        workspace::workspace_on_close,
        workspace::workspace_close_ready,
        notes::note_list,
        notes::note_create,
        notes::note_update,
        notes::note_delete,
        notes::outline_generate,
    ]
}
