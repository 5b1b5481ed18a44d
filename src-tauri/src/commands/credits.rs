//! Credits and membership, named after the report's API.

use chrono::{DateTime, Duration, Utc};
use inkstone_core::catalog;
use inkstone_core::catalog::CachedCatalog;
use inkstone_core::ledger::{self, Balance, PageRequest, Statistics, TxFilter, TxPage};
use inkstone_core::orders::{self, Order};
use inkstone_core::purchases::{self, MembershipStatistics, MembershipStatus};
use tauri::State;

use crate::error::{AppError, CommandResult};
use crate::state::AppState;

#[tauri::command]
pub async fn credit_balance(state: State<'_, AppState>) -> CommandResult<Balance> {
    Ok(ledger::balance(&state.db, state.profile()?, state.services.now()).await?)
}

#[tauri::command]
pub async fn credit_transactions(
    state: State<'_, AppState>,
    filter: TxFilter,
    page: PageRequest,
) -> CommandResult<TxPage> {
    Ok(ledger::transactions(&state.db, state.profile()?, &filter, page).await?)
}

/// Prices from the server (refreshed when reachable, cached for offline use).
#[tauri::command]
pub async fn credit_prices(state: State<'_, AppState>) -> CommandResult<CachedCatalog> {
    match state.services.shop() {
        Ok(shop) => Ok(shop
            .refresh_catalog()
            .await
            .map_err(inkstone_desktop::DesktopError::from)?),
        Err(_) => Ok(catalog::cached_catalog(&state.db).await?),
    }
}

#[tauri::command]
pub async fn membership_prices(state: State<'_, AppState>) -> CommandResult<CachedCatalog> {
    credit_prices(state).await
}

/// Totals per type and per day; the owner of this computer may ask for every profile.
#[tauri::command]
pub async fn credit_statistics(
    state: State<'_, AppState>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    all_profiles: Option<bool>,
) -> CommandResult<Statistics> {
    let me = state.profile()?;
    // The owner of this computer sees every profile; everyone else their own.
    let scope = if all_profiles.unwrap_or(false) {
        state.services.require_owner(Some(me)).await?;
        None
    } else {
        Some(me)
    };
    let to = to.unwrap_or_else(|| state.services.now() + Duration::days(1));
    let from = from.unwrap_or(to - Duration::days(30));
    Ok(ledger::statistics(&state.db, scope, from, to).await?)
}

#[tauri::command]
pub async fn membership_status(state: State<'_, AppState>) -> CommandResult<MembershipStatus> {
    Ok(purchases::membership_status(&state.db, state.profile()?, state.services.now()).await?)
}

/// What a membership plan bought now would end at (shown before paying).
#[tauri::command]
pub async fn membership_preview(
    state: State<'_, AppState>,
    days: i64,
) -> CommandResult<DateTime<Utc>> {
    if !(1..=3650).contains(&days) {
        return Err(AppError::InvalidArgument {
            field: "days",
            reason: "1 to 3650",
        });
    }
    let status =
        purchases::membership_status(&state.db, state.profile()?, state.services.now()).await?;
    Ok(purchases::extended_until(
        status.member_until,
        days,
        state.services.now(),
    ))
}

#[tauri::command]
pub async fn membership_orders(state: State<'_, AppState>) -> CommandResult<Vec<Order>> {
    Ok(orders::list_orders(&state.db, state.profile()?, Some("membership")).await?)
}

#[tauri::command]
pub async fn credit_orders(state: State<'_, AppState>) -> CommandResult<Vec<Order>> {
    Ok(orders::list_orders(&state.db, state.profile()?, Some("credits")).await?)
}

#[tauri::command]
pub async fn membership_statistics(
    state: State<'_, AppState>,
) -> CommandResult<MembershipStatistics> {
    state.services.require_owner(Some(state.profile()?)).await?;
    Ok(purchases::membership_statistics(&state.db, state.services.now()).await?)
}
