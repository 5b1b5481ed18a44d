//! Buying by QR code through the payment endpoint.

use std::time::Duration;

use inkstone_core::orders::Order;
use inkstone_desktop::{DesktopError, OrderWithQr};
use inkstone_shop::Settled;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[derive(serde::Serialize)]
pub struct OrderState {
    /// `applied`, `ended` or `pending`.
    pub state: &'static str,
    pub order: Order,
}

fn view(s: Settled) -> OrderState {
    match s {
        Settled::Applied(order) => OrderState {
            state: "applied",
            order,
        },
        Settled::Ended(order) => OrderState {
            state: "ended",
            order,
        },
        Settled::Pending(order) => OrderState {
            state: "pending",
            order,
        },
    }
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn order_create(
    state: State<'_, AppState>,
    sku: String,
    provider: String,
) -> CommandResult<OrderWithQr> {
    Ok(state
        .services
        .start_order(state.profile()?, &sku, &provider)
        .await?)
}

/// Long-polls the server (up to 25 s); a paid order's receipt is verified and applied here.
#[tauri::command]
pub async fn order_wait(state: State<'_, AppState>, order_no: String) -> CommandResult<OrderState> {
    let shop = state.services.shop()?;
    let settled = shop
        .wait(state.profile()?, &order_no, Duration::from_secs(25))
        .await
        .map_err(DesktopError::from)?;
    Ok(view(settled))
}

/// "I have paid, check again".
#[tauri::command]
pub async fn order_check(
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let shop = state.services.shop()?;
    Ok(view(
        shop.check(state.profile()?, &order_no)
            .await
            .map_err(DesktopError::from)?,
    ))
}

#[tauri::command]
pub async fn order_cancel(
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let shop = state.services.shop()?;
    Ok(view(
        shop.cancel(state.profile()?, &order_no)
            .await
            .map_err(DesktopError::from)?,
    ))
}

/// Applies every receipt of this profile's account that this machine lacks.
#[tauri::command]
pub async fn restore_purchases(state: State<'_, AppState>) -> CommandResult<usize> {
    let shop = state.services.shop()?;
    Ok(shop
        .restore_purchases(state.profile()?)
        .await
        .map_err(DesktopError::from)?)
}

#[derive(serde::Serialize)]
pub struct PaymentInfo {
    pub server_url: Option<String>,
    /// The embedded sandbox: the UI labels every purchase 沙箱 / sandbox.
    pub sandbox: bool,
}

#[tauri::command]
pub async fn payment_info(state: State<'_, AppState>) -> CommandResult<PaymentInfo> {
    let url = state.services.payment_server_url().await;
    Ok(PaymentInfo {
        sandbox: url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://127.0.0.1")),
        server_url: url,
    })
}
