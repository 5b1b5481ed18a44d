//! Buying by QR code through the payment endpoint.

use std::time::Duration;

use inkstone_desktop::preferences::Locale;
use inkstone_desktop::shop::{AccountSignIn, Order, Settled};
use inkstone_desktop::{OrderWithQr, PaymentInfo};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_notification::NotificationExt;

use crate::error::CommandResult;
use crate::state::AppState;

#[derive(serde::Serialize)]
pub struct OrderState {
    /// `applied`, `ended` or `pending`.
    pub state: &'static str,
    pub order: Order,
    /// Pending, and asking the payment provider failed just now: still waiting.
    pub check_failed: bool,
    /// `elsewhere` only: when another computer of the same purchase account credited it.
    pub claimed_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn view(s: Settled) -> OrderState {
    match s {
        Settled::Applied { order, .. } => OrderState {
            state: "applied",
            order,
            check_failed: false,
            claimed_at: None,
        },
        Settled::Ended(order) => OrderState {
            state: "ended",
            order,
            check_failed: false,
            claimed_at: None,
        },
        Settled::Pending {
            order,
            check_failed,
        } => OrderState {
            state: "pending",
            order,
            check_failed,
            claimed_at: None,
        },
        Settled::CreditedElsewhere { order, elsewhere } => OrderState {
            state: "elsewhere",
            order,
            check_failed: false,
            claimed_at: Some(elsewhere.claimed_at),
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
#[tracing::instrument(skip(app, state), err)]
pub async fn order_wait<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let settled = state
        .services
        .wait_order(state.profile()?, &order_no, Duration::from_secs(25))
        .await?;
    announce(&app, &state, &settled);
    Ok(view(settled))
}

/// A desktop notification when a purchase has just been credited: the writer may have turned
/// to their phone and away from the window. Best effort: no notification daemon, no message.
pub(crate) fn announce<R: Runtime>(app: &AppHandle<R>, state: &AppState, settled: &Settled) {
    if !matches!(settled, Settled::Applied { newly: true, .. }) {
        return;
    }
    let locale = super::settings::load(app, &super::settings::store_path(state)).locale;
    let Some((title, body)) = announcement(settled, locale) else {
        return;
    };
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, "no desktop notification");
    }
}

/// The notification's title and text, or none: only the call that credited a purchase
/// announces it, so asking about a paid order again never repeats the news.
fn announcement(settled: &Settled, locale: Locale) -> Option<(&'static str, &'static str)> {
    let Settled::Applied { order, newly: true } = settled else {
        return None;
    };
    Some(match (locale, order.kind.as_str()) {
        (Locale::En, "membership") => ("Payment received", "Your membership is active."),
        (Locale::En, _) => ("Payment received", "Your credits have arrived."),
        (Locale::ZhCn, "membership") => ("支付成功", "会员已开通。"),
        (Locale::ZhCn, _) => ("支付成功", "积分已到账。"),
    })
}

/// "I have paid, check again".
#[tauri::command]
#[tracing::instrument(skip(app, state), err)]
pub async fn order_check<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    let settled = state
        .services
        .check_order(state.profile()?, &order_no)
        .await?;
    announce(&app, &state, &settled);
    Ok(view(settled))
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn order_cancel(
    state: State<'_, AppState>,
    order_no: String,
) -> CommandResult<OrderState> {
    Ok(view(
        state
            .services
            .cancel_order(state.profile()?, &order_no)
            .await?,
    ))
}

#[derive(serde::Serialize)]
pub struct Restored {
    pub applied: usize,
    /// Credit packages another computer of the account credited first: listed, not credited.
    pub elsewhere: usize,
    /// Each receipt that could not be applied, by error kind (the rest were).
    pub failures: Vec<RestoreFailure>,
}

#[derive(serde::Serialize)]
pub struct RestoreFailure {
    pub order_no: inkstone_domain::OrderNo,
    pub kind: &'static str,
}

/// Applies every receipt of this profile's account that this machine lacks.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn restore_purchases(state: State<'_, AppState>) -> CommandResult<Restored> {
    let report = state.services.restore_purchases(state.profile()?).await?;
    Ok(Restored {
        applied: report.applied,
        elsewhere: report.elsewhere.len(),
        failures: report
            .failures
            .into_iter()
            .map(|f| RestoreFailure {
                order_no: f.order_no,
                kind: f.kind,
            })
            .collect(),
    })
}

/// Gives the signed-in profile's purchase account a name and password; returns the one-time
/// recovery code (shown once).
#[tauri::command]
#[tracing::instrument(skip(state, password), err)]
pub async fn account_set_credentials(
    state: State<'_, AppState>,
    login_name: String,
    password: String,
) -> CommandResult<String> {
    Ok(state
        .services
        .set_purchase_account_credentials(state.profile()?, &login_name, &password)
        .await?)
}

/// Signs the profile in to its purchase account (by name and password, or recovery code);
/// returns the account id.
#[tauri::command]
#[tracing::instrument(skip(state, password, recovery_code), err)]
pub async fn account_sign_in(
    state: State<'_, AppState>,
    login_name: Option<String>,
    password: Option<String>,
    recovery_code: Option<String>,
) -> CommandResult<String> {
    let how = match (login_name, password, recovery_code) {
        (Some(login_name), Some(password), None) => AccountSignIn::Password {
            login_name,
            password,
        },
        (None, None, Some(code)) => AccountSignIn::RecoveryCode(code),
        _ => {
            return Err(crate::error::AppError::InvalidArgument {
                field: "account",
                reason: "a name and password, or a recovery code",
            })
        }
    };
    Ok(state
        .services
        .sign_in_purchase_account(state.profile()?, &how)
        .await?)
}

/// Where purchases go and which ways to pay are offered.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn payment_info(state: State<'_, AppState>) -> CommandResult<PaymentInfo> {
    Ok(state.services.payment_info().await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkstone_desktop::shop::OrderStatus;

    fn order(kind: &str) -> Order {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 0, 0, 0).unwrap();
        Order {
            order_no: "IK20261125000000ABCDEFGHJK".parse().unwrap(),
            profile_id: inkstone_domain::ProfileId::new(1),
            kind: kind.into(),
            sku: "x".into(),
            provider: "sandbox".into(),
            amount_fen: inkstone_domain::Fen::new(990).unwrap(),
            qr_payload: "http://127.0.0.1/sandbox/pay/x".into(),
            status: OrderStatus::Paid,
            expires_at: now,
            created_at: now,
            updated_at: now,
            applied: true,
        }
    }

    #[test]
    fn a_purchase_is_announced_once_in_the_writers_language() {
        let newly = |kind: &str| Settled::Applied {
            order: order(kind),
            newly: true,
        };
        assert_eq!(
            announcement(&newly("credits"), Locale::ZhCn),
            Some(("支付成功", "积分已到账。"))
        );
        assert_eq!(
            announcement(&newly("membership"), Locale::En),
            Some(("Payment received", "Your membership is active."))
        );
        let again = Settled::Applied {
            order: order("credits"),
            newly: false,
        };
        assert_eq!(announcement(&again, Locale::ZhCn), None);
        assert_eq!(
            announcement(
                &Settled::Pending {
                    order: order("credits"),
                    check_failed: false
                },
                Locale::ZhCn
            ),
            None
        );
    }
}
