//! The purchase account (issue 14): what the settings page shows, "sign out everywhere",
//! and the credit packages credited on another computer. Setting the name and password and
//! signing in are `shop::account_set_credentials` / `shop::account_sign_in`.

use inkstone_desktop::shop::{AccountStatus, PurchaseElsewhere};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// The signed-in profile's purchase account: id, name, whether this computer is signed in.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn purchase_account_status(state: State<'_, AppState>) -> CommandResult<AccountStatus> {
    Ok(state.services.purchase_account(state.profile()?).await?)
}

/// Every token of the purchase account stops working, this computer's included.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn purchase_account_sign_out_everywhere(state: State<'_, AppState>) -> CommandResult<()> {
    Ok(state
        .services
        .sign_out_purchase_account_everywhere(state.profile()?)
        .await?)
}

/// Credit packages of the account that another computer credited (kept here; offline too).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn purchases_elsewhere(
    state: State<'_, AppState>,
) -> CommandResult<Vec<PurchaseElsewhere>> {
    Ok(state.services.purchases_elsewhere(state.profile()?).await?)
}
