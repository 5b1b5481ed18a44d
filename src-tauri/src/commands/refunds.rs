//! Telling the writer about a refunded purchase (issue 13): credits or membership days
//! were taken back because the payment was returned. The rules live in crates/core
//! (`revocations`); this only words the news in the writer's language.

use inkstone_desktop::preferences::Locale;
use inkstone_desktop::shop::RevocationRecord;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// Shows one desktop notification per revocation applied just now.
pub(crate) fn announce<R: Runtime>(app: &AppHandle<R>, state: &AppState, r: &RevocationRecord) {
    let locale = super::settings::load(app, &super::settings::store_path(state)).locale;
    let (title, body) = announcement(r, locale);
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::info!(%error, "no desktop notification");
    }
}

/// The notification's title and text: which order, why, and what was taken back (and
/// what was not, because it had been spent).
pub(crate) fn announcement(r: &RevocationRecord, locale: Locale) -> (&'static str, String) {
    let mut parts = Vec::new();
    match locale {
        Locale::ZhCn => {
            parts.push(format!("订单 {} 已退款（{}）。", r.order_no, r.reason));
            if r.credits_taken.is_positive() {
                parts.push(format!("已收回 {} 积分。", r.credits_taken));
            }
            if r.credits_not_taken.is_positive() {
                parts.push(format!("{} 积分已用掉，不再收回。", r.credits_not_taken));
            }
            if r.days > 0 && r.member_until_before != r.member_until_after {
                parts.push(format!("会员时长减少 {} 天。", r.days));
            }
            ("购买已退款", parts.join(""))
        }
        Locale::En => {
            parts.push(format!("Order {} was refunded ({}).", r.order_no, r.reason));
            if r.credits_taken.is_positive() {
                parts.push(format!("{} credits were taken back.", r.credits_taken));
            }
            if r.credits_not_taken.is_positive() {
                parts.push(format!(
                    "{} credits had been spent and are not taken back.",
                    r.credits_not_taken
                ));
            }
            if r.days > 0 && r.member_until_before != r.member_until_after {
                parts.push(format!("Membership shortened by {} days.", r.days));
            }
            ("Purchase refunded", parts.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkstone_domain::{Credits, Fen};

    fn record() -> RevocationRecord {
        RevocationRecord {
            refund_no: "RFIK1N1".into(),
            order_no: "IK20261125120000ABCDEFGHJK".parse().unwrap(),
            profile_id: inkstone_domain::ProfileId::new(1),
            refund_fen: Fen::new(1000).unwrap(),
            credits: Credits::new(110),
            credits_taken: Credits::new(80),
            credits_not_taken: Credits::new(30),
            days: 0,
            member_until_before: None,
            member_until_after: None,
            reason: "duplicate purchase".into(),
            applied_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_writer_is_told_why_and_what_in_both_languages() {
        let (title, body) = announcement(&record(), Locale::ZhCn);
        assert_eq!(title, "购买已退款");
        assert!(
            body.contains("IK20261125120000ABCDEFGHJK") && body.contains("duplicate purchase"),
            "{body}"
        );
        assert!(
            body.contains("收回 80 积分") && body.contains("30 积分已用掉"),
            "{body}"
        );
        let (title, body) = announcement(&record(), Locale::En);
        assert_eq!(title, "Purchase refunded");
        assert!(body.contains("80 credits were taken back"), "{body}");
        assert!(body.contains("30 credits had been spent"), "{body}");
    }
}
