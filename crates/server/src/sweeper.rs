//! The sweeper: no payment is lost when nobody is waiting. Every
//! `sweep_interval_secs` it asks the provider about pending orders shortly before
//! they expire, and about ended orders (expired or cancelled) whose last query and
//! close at the provider have not succeeded yet (`close_state = 'pending'`).
//!
//! Several instances share one database: an order is worked on only by the instance
//! whose conditional update claimed it (`sweep_claim_ms` moved into the future), so
//! the work is shared and never doubled.

use std::time::Duration;

use inkstone_domain::OrderNo;
use tokio::sync::watch;

use crate::app::{self, AppState};
use crate::error::ApiError;
use crate::orders::{self, now_ms};

/// How long a claim holds: longer than one provider round trip, shorter than a round.
const CLAIM_MS: i64 = 60_000;
/// Orders per round and kind, so one round stays short.
const BATCH: i64 = 100;

/// What one round did, for tests and the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Orders asked about (claimed by this instance).
    pub asked: usize,
    /// Of these, found paid.
    pub paid: usize,
    /// Expired by this round after a last query.
    pub expired: usize,
    /// Ended orders finished at the provider (asked once more, then closed).
    pub finished: usize,
    /// Provider queries or closes that failed (tried again next round).
    pub failed: usize,
    /// Open refunds asked about (`refund::follow_open`).
    pub refunds_followed: usize,
}

/// Starts the sweeper, unless `sweep_interval_secs` is 0.
pub(crate) fn spawn(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let secs = state.config.sweep_interval_secs;
    if secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = crate::serve::stopped(&mut stop) => return,
            }
            match sweep(&state, now_ms()).await {
                Ok(round) if round != Round::default() => tracing::info!(?round, "sweep"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "sweep failed"),
            }
        }
    }))
}

/// Claims `order_no` for this instance until `now + CLAIM_MS`; false when another
/// instance holds it.
async fn claim(state: &AppState, order_no: &OrderNo, now: i64) -> Result<bool, ApiError> {
    let done = sqlx::query(
        "UPDATE orders SET sweep_claim_ms = $1 WHERE order_no = $2 AND sweep_claim_ms <= $3",
    )
    .bind(now + CLAIM_MS)
    .bind(order_no)
    .bind(now)
    .execute(&state.db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One round at `now` (Unix ms).
pub async fn sweep(state: &AppState, now: i64) -> Result<Round, ApiError> {
    let mut round = Round::default();
    // Shortly before expiry: one round's interval ahead, at least a minute.
    let lead_ms = (state.config.sweep_interval_secs as i64)
        .saturating_mul(2000)
        .max(60_000);
    let due: Vec<(OrderNo, String, i64)> = sqlx::query_as(
        "SELECT order_no, provider, expires_at_ms FROM orders
         WHERE status = 'PENDING' AND expires_at_ms <= $1 AND sweep_claim_ms <= $2
         ORDER BY expires_at_ms LIMIT $3",
    )
    .bind(now.saturating_add(lead_ms))
    .bind(now)
    .bind(BATCH)
    .fetch_all(&state.db)
    .await?;
    for (order_no, provider, expires_at_ms) in due {
        if !claim(state, &order_no, now).await? {
            continue;
        }
        round.asked += 1;
        match app::query_provider(state, &provider, &order_no).await {
            Ok(Some(evidence)) => {
                if state.paid(&evidence).await? == orders::PaidOutcome::Paid {
                    round.paid += 1;
                }
                app::wake(state, &order_no);
            }
            Ok(None) if now >= expires_at_ms => {
                // Asked once more, not paid: now it may expire, and be closed.
                if let Some(mut order) = orders::fetch(&state.db, &order_no).await? {
                    if orders::expire_if_due(&state.db, &mut order, now).await? {
                        round.expired += 1;
                        state.metrics.inc("inkstone_orders_expired_total", &[]);
                        app::wake(state, &order_no);
                        match app::finish_order(state, &order_no).await {
                            Ok(paid) => {
                                round.finished += 1;
                                round.paid += usize::from(paid);
                            }
                            Err(error) => {
                                round.failed += 1;
                                tracing::warn!(%order_no, %error, "closing at the provider failed");
                            }
                        }
                    }
                }
            }
            Ok(None) => {
                // Not yet expired: look again right at expiry, not before.
                sqlx::query("UPDATE orders SET sweep_claim_ms = $1 WHERE order_no = $2")
                    .bind(expires_at_ms)
                    .bind(&order_no)
                    .execute(&state.db)
                    .await?;
            }
            Err(error) => {
                // Not expired on a failed query: the claim runs out and the next round asks again.
                round.failed += 1;
                tracing::warn!(%order_no, %error, "asking the provider failed");
            }
        }
    }
    let ended: Vec<OrderNo> = sqlx::query_scalar(
        "SELECT order_no FROM orders
         WHERE close_state = 'pending' AND status IN ('EXPIRED', 'CLOSED') AND sweep_claim_ms <= $1
         ORDER BY updated_at_ms LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&state.db)
    .await?;
    for order_no in ended {
        if !claim(state, &order_no, now).await? {
            continue;
        }
        round.asked += 1;
        match app::finish_order(state, &order_no).await {
            Ok(paid) => {
                round.finished += 1;
                round.paid += usize::from(paid);
            }
            Err(error) => {
                round.failed += 1;
                tracing::warn!(%order_no, %error, "finishing at the provider failed");
            }
        }
    }
    // Refunds still open: ask the provider, claimed per instance like orders.
    let (followed, failed) = crate::refund::follow_open(state, now).await?;
    round.refunds_followed = followed;
    round.failed += failed;
    Ok(round)
}
