//! Credits and membership, named after the report's API.

use chrono::{DateTime, Utc};
use inkstone_desktop::books::{
    Balance, CachedCatalog, MembershipStatistics, MembershipStatus, Order, PageRequest, Statistics,
    TxFilter, TxPage,
};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn credit_balance(state: State<'_, AppState>) -> CommandResult<Balance> {
    Ok(state.services.balance(state.profile()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn credit_transactions(
    state: State<'_, AppState>,
    filter: TxFilter,
    page: PageRequest,
) -> CommandResult<TxPage> {
    Ok(state
        .services
        .transactions(state.profile()?, &filter, page)
        .await?)
}

/// Prices from the server (refreshed when reachable, cached for offline use).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn credit_prices(state: State<'_, AppState>) -> CommandResult<CachedCatalog> {
    Ok(state.services.prices().await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn membership_prices(state: State<'_, AppState>) -> CommandResult<CachedCatalog> {
    Ok(state.services.prices().await?)
}

/// Totals per type and per day; the owner of this computer may ask for every profile.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn credit_statistics(
    state: State<'_, AppState>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    all_profiles: Option<bool>,
) -> CommandResult<Statistics> {
    Ok(state
        .services
        .statistics(state.profile()?, from, to, all_profiles.unwrap_or(false))
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn membership_status(state: State<'_, AppState>) -> CommandResult<MembershipStatus> {
    Ok(state.services.membership_status(state.profile()?).await?)
}

/// What a membership plan bought now would end at (shown before paying).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn membership_preview(
    state: State<'_, AppState>,
    days: i64,
) -> CommandResult<DateTime<Utc>> {
    Ok(state
        .services
        .membership_preview(state.profile()?, days)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn membership_orders(state: State<'_, AppState>) -> CommandResult<Vec<Order>> {
    Ok(state.services.membership_orders(state.profile()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn credit_orders(state: State<'_, AppState>) -> CommandResult<Vec<Order>> {
    Ok(state.services.credit_orders(state.profile()?).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn membership_statistics(
    state: State<'_, AppState>,
) -> CommandResult<MembershipStatistics> {
    Ok(state
        .services
        .membership_statistics(state.profile()?)
        .await?)
}
