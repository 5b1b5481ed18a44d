//! Buying by QR code through the payment endpoint.

use std::time::Duration;

use inkstone_core::orders::Order;
use inkstone_desktop::preferences::Locale;
use inkstone_desktop::{DesktopError, OrderWithQr, PaymentInfo};
use inkstone_shop::Settled;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_notification::NotificationExt;

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
        Settled::Applied { order, .. } => OrderState {
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
pub async fn order_wait<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let shop = state.services.shop()?;
    let settled = shop
        .wait(state.profile()?, &order_no, Duration::from_secs(25))
        .await
        .map_err(DesktopError::from)?;
    announce(&app, &state, &settled);
    Ok(view(settled))
}

/// A desktop notification when a purchase has just been credited: the writer may have turned
/// to their phone and away from the window. Only the call that credited it announces it, so
/// asking again never repeats the news. Best effort: no notification daemon, no message.
fn announce<R: Runtime>(app: &AppHandle<R>, state: &AppState, settled: &Settled) {
    let Settled::Applied { order, newly: true } = settled else {
        return;
    };
    let locale = super::settings::load(app, &super::settings::store_path(state)).locale;
    let (title, body) = match (locale, order.kind.as_str()) {
        (Locale::En, "membership") => ("Payment received", "Your membership is active."),
        (Locale::En, _) => ("Payment received", "Your credits have arrived."),
        (Locale::ZhCn, "membership") => ("支付成功", "会员已开通。"),
        (Locale::ZhCn, _) => ("支付成功", "积分已到账。"),
    };
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, "no desktop notification");
    }
}

/// "I have paid, check again".
#[tauri::command]
pub async fn order_check<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let shop = state.services.shop()?;
    let settled = shop
        .check(state.profile()?, &order_no)
        .await
        .map_err(DesktopError::from)?;
    announce(&app, &state, &settled);
    Ok(view(settled))
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

/// Where purchases go and which ways to pay are offered.
#[tauri::command]
pub async fn payment_info(state: State<'_, AppState>) -> CommandResult<PaymentInfo> {
    Ok(state.services.payment_info().await)
}
