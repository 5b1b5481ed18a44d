//! Refunds: money back to the payer (issue 13, item 2).
//!
//! `inkstone-server refund ORDER_NO [--fen N] --reason TEXT` writes the refund row first,
//! under a stable refund number (`RF<order_no>N<seq>`), and only then asks the provider
//! (WeChat Pay `POST /v3/refund/domestic/refunds` with that `out_refund_no`, Alipay
//! `alipay.trade.refund` with that `out_request_no`). The provider refunds a number at
//! most once, so a request lost in a timeout is simply sent again under the same number:
//! running the command again resumes the refund in progress instead of starting another.
//!
//! The refund is followed to its end by the command itself, by WeChat Pay's refund
//! notifications and Alipay's refund notifies (both only a reason to ask), and by the
//! sweeper (`follow_open`), each asking the provider (`refund_query`, verified answers).
//! When it succeeds, in the same transaction, the account gets a signed revocation of
//! the order's receipt (`GET /v1/revocations?after=CURSOR`), once per refund.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};

use inkstone_domain::{Fen, OrderNo};
use inkstone_pay::receipt::{Purchase, SignedReceipt};
use inkstone_pay::revocation::{taken_back, Revocation};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::app::{account, AppState};
use crate::error::ApiError;
use crate::orders::{self, now_ms};
use crate::providers::RefundState;

/// How long one instance holds a refund it is following.
const CLAIM_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundRow {
    pub refund_no: String,
    pub order_no: OrderNo,
    pub provider: String,
    pub amount_fen: Fen,
    pub reason: String,
    /// REQUESTED, PROCESSING, SUCCESS, CLOSED or ABNORMAL.
    pub status: String,
    pub provider_refund_id: Option<String>,
}

impl RefundRow {
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "SUCCESS" | "CLOSED" | "ABNORMAL")
    }
}

impl fmt::Display for RefundRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.status.as_str() {
            "SUCCESS" => "refunded; the receipt is revoked",
            "CLOSED" => "closed by the provider: nothing was refunded",
            "ABNORMAL" => {
                "abnormal: the payer's account cannot take it (WeChat Pay merchant platform)"
            }
            _ => "in progress: the server follows it; run the same command again to check",
        };
        write!(
            f,
            "refund {} of order {} ({}, {} fen): {} — {what}",
            self.refund_no, self.order_no, self.provider, self.amount_fen, self.status
        )
    }
}

fn row(r: &sqlx::any::AnyRow) -> Result<RefundRow, sqlx::Error> {
    Ok(RefundRow {
        refund_no: r.try_get("refund_no")?,
        order_no: r.try_get("order_no")?,
        provider: r.try_get("provider")?,
        amount_fen: r.try_get("amount_fen")?,
        reason: r.try_get("reason")?,
        status: r.try_get("status")?,
        provider_refund_id: r.try_get("provider_refund_id")?,
    })
}

const COLUMNS: &str =
    "refund_no, order_no, provider, amount_fen, reason, status, provider_refund_id";

pub async fn fetch(state: &AppState, refund_no: &str) -> Result<Option<RefundRow>, ApiError> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE refund_no = $1"
    ))
    .bind(refund_no)
    .fetch_optional(&state.db)
    .await?;
    Ok(r.as_ref().map(row).transpose()?)
}

/// Whether we asked `provider` for refund `refund_no` of `order_no` (reconciliation).
pub async fn known_refund(
    state: &AppState,
    provider: &str,
    order_no: &OrderNo,
    refund_no: &str,
) -> Result<bool, ApiError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM refunds WHERE refund_no = $1 AND order_no = $2 AND provider = $3",
    )
    .bind(refund_no)
    .bind(order_no)
    .bind(provider)
    .fetch_one(&state.db)
    .await?;
    Ok(n > 0)
}

/// The stable number of an order's `seq`-th refund: ≤ 64 characters of
/// `[0-9A-Za-z_-|*]`, valid for both providers.
pub fn refund_no(order_no: &OrderNo, seq: i64) -> String {
    format!("RF{order_no}N{seq}")
}

/// Starts a refund of `fen` (default: all that is left) of a paid order, or returns the
/// refund of that order still in progress (the retry of a command that timed out).
/// Bad input changes nothing: an unknown or unpaid order, an amount over what is left,
/// another amount while one is in progress, a provider this server does not offer.
pub async fn request(
    state: &AppState,
    order_no: &OrderNo,
    fen: Option<Fen>,
    reason: &str,
) -> Result<RefundRow, ApiError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > crate::cli::MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(
            "a reason of 1 to 80 characters".into(),
        ));
    }
    if fen.is_some_and(|f| !f.is_positive()) {
        return Err(ApiError::BadRequest("--fen must be positive".into()));
    }
    let order = orders::fetch(&state.db, order_no)
        .await?
        .ok_or_else(|| ApiError::BadRequest("unknown order".into()))?;
    if order.status != "PAID" {
        return Err(ApiError::BadRequest(format!(
            "order {order_no} is {}, not paid: nothing to refund",
            order.status.to_lowercase()
        )));
    }
    let offered = match order.provider.as_str() {
        "wechat" => state.wechat.is_some(),
        "alipay" => state.alipay.is_some(),
        _ => false,
    };
    if !offered {
        return Err(ApiError::BadRequest(format!(
            "refunds go through WeChat Pay or Alipay as configured here; order {order_no} was paid through {}",
            order.provider
        )));
    }
    for _ in 0..3 {
        let open = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE order_no = $1 AND status IN ('REQUESTED', 'PROCESSING') ORDER BY seq LIMIT 1"
        ))
        .bind(order_no)
        .fetch_optional(&state.db)
        .await?;
        if let Some(open) = open.as_ref().map(row).transpose()? {
            if fen.is_some_and(|f| f != open.amount_fen) {
                return Err(ApiError::BadRequest(format!(
                    "refund {} of {} fen is still in progress: run without --fen (or with --fen {}) to resume it",
                    open.refund_no, open.amount_fen, open.amount_fen
                )));
            }
            return Ok(open);
        }
        let (refunded, seq): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'SUCCESS' THEN amount_fen ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(MAX(seq), 0) AS BIGINT)
             FROM refunds WHERE order_no = $1",
        )
        .bind(order_no)
        .fetch_one(&state.db)
        .await?;
        // More refunded than paid cannot be: treated as nothing left.
        let left = Fen::new(refunded)
            .and_then(|refunded| order.amount_fen.checked_sub(refunded))
            .unwrap_or(Fen::ZERO);
        let amount = fen.unwrap_or(left);
        if !left.is_positive() {
            return Err(ApiError::BadRequest(format!(
                "order {order_no} is refunded in full already"
            )));
        }
        if amount > left {
            return Err(ApiError::BadRequest(format!(
                "at most {left} fen of order {order_no} can still be refunded"
            )));
        }
        let now = now_ms();
        let no = refund_no(order_no, seq + 1);
        // Two runs at once: the (order_no, seq) key lets one in; the other finds it open.
        let inserted = sqlx::query(
            "INSERT INTO refunds (refund_no, order_no, seq, provider, amount_fen, reason, status, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 'REQUESTED', $7, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&no)
        .bind(order_no)
        .bind(seq + 1)
        .bind(&order.provider)
        .bind(amount)
        .bind(reason)
        .bind(now)
        .execute(&state.db)
        .await?;
        if inserted.rows_affected() == 1 {
            tracing::warn!(order_no = %order_no, refund_no = %no, amount = amount.get(), "refund requested");
            return fetch(state, &no)
                .await?
                .ok_or_else(|| ApiError::Internal("refund row vanished".into()));
        }
    }
    Err(ApiError::Conflict)
}

/// Asks the provider where refund `refund_no` stands (sending the request again while
/// the provider does not know it) and records what it says; a success revokes the
/// receipt in the same transaction. Final refunds are returned as they are.
pub async fn follow(state: &AppState, refund_no: &str) -> Result<RefundRow, ApiError> {
    let r = fetch(state, refund_no)
        .await?
        .ok_or_else(|| ApiError::BadRequest("unknown refund".into()))?;
    if r.is_final() {
        return Ok(r);
    }
    let order = orders::fetch(&state.db, &r.order_no)
        .await?
        .ok_or_else(|| ApiError::Internal("refund of a missing order".into()))?;
    let seen: Option<RefundState> = match r.provider.as_str() {
        "wechat" => {
            let w = state
                .wechat
                .as_ref()
                .ok_or_else(|| ApiError::BadRequest("WeChat Pay is not configured".into()))?;
            match w
                .refund_query(&r.order_no, &r.refund_no, r.amount_fen)
                .await?
            {
                Some(s) => Some(s),
                // Never arrived: ask (again) under the same number.
                None => Some(
                    w.refund(
                        &r.order_no,
                        &r.refund_no,
                        &r.reason,
                        r.amount_fen,
                        order.amount_fen,
                    )
                    .await?,
                ),
            }
        }
        "alipay" => {
            let a = state
                .alipay
                .as_ref()
                .ok_or_else(|| ApiError::BadRequest("Alipay is not configured".into()))?;
            match a
                .refund_query(&r.order_no, &r.refund_no, r.amount_fen)
                .await?
            {
                Some(s) => Some(s),
                None => {
                    a.refund(&r.order_no, &r.refund_no, r.amount_fen, &r.reason)
                        .await?;
                    a.refund_query(&r.order_no, &r.refund_no, r.amount_fen)
                        .await?
                        .or(Some(RefundState {
                            status: "PROCESSING".into(),
                            provider_refund_id: None,
                            refund_fen: r.amount_fen,
                        }))
                }
            }
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "no refunds through provider {other}"
            )))
        }
    };
    if let Some(seen) = seen {
        record(state, &r, &order, &seen).await?;
    }
    fetch(state, refund_no)
        .await?
        .ok_or_else(|| ApiError::Internal("refund row vanished".into()))
}

/// Records the provider's word: a conditional update from an open state (so a refund
/// ends once), and on SUCCESS the signed revocation in the same transaction.
async fn record(
    state: &AppState,
    r: &RefundRow,
    order: &orders::OrderRow,
    seen: &RefundState,
) -> Result<(), ApiError> {
    let status = match seen.status.as_str() {
        "SUCCESS" | "CLOSED" | "ABNORMAL" | "PROCESSING" => seen.status.as_str(),
        other => {
            return Err(ApiError::Provider(format!(
                "unknown refund status {}",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    let now = now_ms();
    let revocation = if status == "SUCCESS" {
        Some(revocation_json(state, r, order, now).await?)
    } else {
        None
    };
    let mut tx = state.db.begin().await?;
    let moved = sqlx::query(
        "UPDATE refunds SET status = $1, provider_refund_id = COALESCE($2, provider_refund_id), updated_at_ms = $3
         WHERE refund_no = $4 AND status IN ('REQUESTED', 'PROCESSING')",
    )
    .bind(status)
    .bind(&seen.provider_refund_id)
    .bind(now)
    .bind(&r.refund_no)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 1 {
        if let Some(json) = revocation {
            sqlx::query(
                "INSERT INTO revocations (account_id, order_no, refund_no, signed_json, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (refund_no) DO NOTHING",
            )
            .bind(&order.account_id)
            .bind(&r.order_no)
            .bind(&r.refund_no)
            .bind(json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tracing::warn!(order_no = %r.order_no, refund_no = %r.refund_no, "refunded; receipt revoked");
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The signed revocation of the order's receipt for this refund.
async fn revocation_json(
    state: &AppState,
    r: &RefundRow,
    order: &orders::OrderRow,
    now: i64,
) -> Result<String, ApiError> {
    let receipt: Option<String> =
        sqlx::query_scalar("SELECT signed_json FROM receipts WHERE order_no = $1")
            .bind(&r.order_no)
            .fetch_optional(&state.db)
            .await?;
    let purchase: Purchase = match receipt {
        Some(j) => {
            serde_json::from_str::<SignedReceipt>(&j)
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .receipt
                .purchase
        }
        None => serde_json::from_str(&order.purchase_json)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let (credits, days) = taken_back(&purchase, r.amount_fen, order.amount_fen);
    let revocation = Revocation {
        order_no: r.order_no.clone(),
        account_id: order.account_id.clone(),
        refund_no: r.refund_no.clone(),
        refund_fen: r.amount_fen,
        amount_fen: order.amount_fen,
        credits,
        days,
        reason: r.reason.clone(),
        revoked_at: chrono::TimeZone::timestamp_millis_opt(&chrono::Utc, now)
            .single()
            .unwrap_or_else(chrono::Utc::now),
    };
    // Sandbox orders never reach here (no refunds through the sandbox): production key.
    let signed = state
        .signer
        .sign_revocation(revocation)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    serde_json::to_string(&signed).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The command: request (or resume), then follow for up to `rounds` × 2 s.
pub async fn refund_and_follow(
    state: &AppState,
    order_no: &OrderNo,
    fen: Option<Fen>,
    reason: &str,
) -> Result<RefundRow, ApiError> {
    let r = request(state, order_no, fen, reason).await?;
    let mut last = r.clone();
    for round in 0..10 {
        if round > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        last = follow(state, &r.refund_no).await?;
        if last.is_final() {
            break;
        }
    }
    Ok(last)
}

/// A provider said something happened to refund `refund_no` (a notification): follow
/// it now. Unknown numbers are ignored (not ours, or not yet written).
pub async fn notified(state: &AppState, refund_no: &str) -> Result<(), ApiError> {
    if fetch(state, refund_no).await?.is_some() {
        follow(state, refund_no).await?;
    }
    Ok(())
}

/// The sweeper's part: open refunds not followed for a while, claimed per instance.
pub async fn follow_open(state: &AppState, now: i64) -> Result<(usize, usize), ApiError> {
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT refund_no FROM refunds WHERE status IN ('REQUESTED', 'PROCESSING') AND claim_ms <= $1
         ORDER BY updated_at_ms LIMIT 100",
    )
    .bind(now)
    .fetch_all(&state.db)
    .await?;
    let (mut followed, mut failed) = (0, 0);
    for no in open {
        let claimed =
            sqlx::query("UPDATE refunds SET claim_ms = $1 WHERE refund_no = $2 AND claim_ms <= $3")
                .bind(now + CLAIM_MS)
                .bind(&no)
                .bind(now)
                .execute(&state.db)
                .await?;
        if claimed.rows_affected() == 0 {
            continue;
        }
        match follow(state, &no).await {
            Ok(_) => followed += 1,
            Err(error) => {
                failed += 1;
                tracing::warn!(refund_no = %no, %error, "following a refund failed; next round tries again");
            }
        }
    }
    Ok((followed, failed))
}

#[derive(Debug, Deserialize)]
struct AfterQuery {
    after: Option<i64>,
}

/// `GET /v1/revocations?after=CURSOR`: the account's signed revocations.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/revocations", get(list_revocations))
}

async fn list_revocations(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    query: Result<Query<AfterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::BadRequest("after must be >= 0".into()));
    }
    Ok(Json(revocations_after(&s, &account_id, after).await?))
}

/// One page of an account's revocations after `cursor`, oldest first:
/// `{"revocations": [{"cursor", "signed"}], "next": cursor}`.
pub async fn revocations_after(
    state: &AppState,
    account_id: &str,
    cursor: i64,
) -> Result<serde_json::Value, ApiError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, signed_json FROM revocations WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT 100",
    )
    .bind(account_id)
    .bind(cursor)
    .fetch_all(&state.db)
    .await?;
    let next = rows.last().map(|(id, _)| *id).unwrap_or(cursor);
    let items = rows
        .into_iter()
        .map(|(id, json)| {
            serde_json::from_str::<serde_json::Value>(&json)
                .map(|signed| serde_json::json!({"cursor": id, "signed": signed}))
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::json!({"revocations": items, "next": next}))
}

#[cfg(test)]
mod tests {
    use inkstone_domain::OrderNo;

    #[test]
    fn refund_numbers_are_stable_and_valid_for_both_providers() {
        let order: OrderNo = "IK20261125120000ABCDEFGHJK".parse().unwrap();
        let no = super::refund_no(&order, 1);
        assert_eq!(no, "RFIK20261125120000ABCDEFGHJKN1");
        assert_eq!(no, super::refund_no(&order, 1));
        let longest = super::refund_no(&"A".repeat(32).parse().unwrap(), 999_999);
        assert!(longest.len() <= 64);
    }
}
