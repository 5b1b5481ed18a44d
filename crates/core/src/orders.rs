//! The desktop's record of the orders it started (ARCHITECTURE.md, "Buying").
//! What the server said is remembered so waiting can resume after a restart;
//! an order here never moves money — a verified receipt does (see
//! [`crate::purchases::apply_receipt`], which also marks the order paid).

use chrono::{DateTime, Utc};
use inkstone_domain::{Fen, OrderNo, ProfileId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::{invalid, CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Expired,
    Closed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Expired => "expired",
            OrderStatus::Closed => "closed",
        }
    }

    fn parse(s: &str) -> CoreResult<Self> {
        Ok(match s {
            "pending" => OrderStatus::Pending,
            "paid" => OrderStatus::Paid,
            "expired" => OrderStatus::Expired,
            "closed" => OrderStatus::Closed,
            _ => return Err(CoreError::Corrupt(format!("order status {s}"))),
        })
    }

    /// Paid is final. A payment can still arrive for an expired or closed
    /// order (the server records it, never loses it), so those may become paid.
    fn may_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        match (self, next) {
            (a, b) if a == b => true,
            (Pending, _) => true,
            (Expired | Closed, Paid) => true,
            (Expired, Closed) => true,
            _ => false,
        }
    }
}

/// An order as the server created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_no: OrderNo,
    pub profile_id: ProfileId,
    /// `credits` or `membership`.
    pub kind: String,
    pub sku: String,
    pub provider: String,
    pub amount_fen: Fen,
    /// What the QR code encodes (code_url, qr_code or the sandbox page).
    pub qr_payload: String,
    pub status: OrderStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A receipt for this order has been applied on this machine.
    pub applied: bool,
}

fn check(field: &'static str, text: &str, max: usize) -> CoreResult<()> {
    if text.is_empty() || text.len() > max || text.chars().any(char::is_control) {
        return Err(invalid(field, "empty, too long or has control characters"));
    }
    Ok(())
}

const COLUMNS: &str =
    "o.order_no, o.profile_id, o.kind, o.sku, o.provider, o.amount_fen, o.qr_payload, \
     o.status, o.expires_at_ms, o.created_at_ms, o.updated_at_ms, \
     EXISTS(SELECT 1 FROM purchases p WHERE p.order_no = o.order_no) AS applied";

fn row_to_order(row: &sqlx::sqlite::SqliteRow) -> CoreResult<Order> {
    Ok(Order {
        order_no: row.try_get("order_no")?,
        profile_id: row.try_get("profile_id")?,
        kind: row.try_get("kind")?,
        sku: row.try_get("sku")?,
        provider: row.try_get("provider")?,
        amount_fen: row.try_get("amount_fen")?,
        qr_payload: row.try_get("qr_payload")?,
        status: OrderStatus::parse(row.try_get("status")?)?,
        expires_at: from_ms(row.try_get("expires_at_ms")?),
        created_at: from_ms(row.try_get("created_at_ms")?),
        updated_at: from_ms(row.try_get("updated_at_ms")?),
        applied: row.try_get("applied")?,
    })
}

/// Remembers an order the server just created. Recording it twice is fine
/// (a retried request); a different order under the same number is not.
pub async fn record_order(db: &Database, order: &Order, now: DateTime<Utc>) -> CoreResult<Order> {
    check("order_no", order.order_no.as_str(), 64)?;
    check("sku", &order.sku, 64)?;
    check("provider", &order.provider, 32)?;
    check("qr_payload", &order.qr_payload, 4096)?;
    if !matches!(order.kind.as_str(), "credits" | "membership") {
        return Err(invalid("kind", "must be credits or membership"));
    }
    if !order.amount_fen.is_positive() {
        return Err(CoreError::InvalidAmount("order amount must be positive"));
    }
    sqlx::query(
        "INSERT INTO orders (order_no, profile_id, kind, sku, provider, amount_fen, qr_payload,
                             status, expires_at_ms, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
         ON CONFLICT(order_no) DO NOTHING",
    )
    .bind(&order.order_no)
    .bind(order.profile_id)
    .bind(&order.kind)
    .bind(&order.sku)
    .bind(&order.provider)
    .bind(order.amount_fen)
    .bind(&order.qr_payload)
    .bind(to_ms(order.expires_at))
    .bind(to_ms(order.created_at))
    .bind(to_ms(now))
    .execute(db)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            CoreError::UnknownProfile(order.profile_id)
        }
        other => other.into(),
    })?;
    let stored = get_order(db, order.profile_id, &order.order_no).await?;
    if stored.sku != order.sku || stored.amount_fen != order.amount_fen || stored.kind != order.kind
    {
        return Err(invalid("order_no", "already used for another order"));
    }
    Ok(stored)
}

pub async fn get_order(db: &Database, profile_id: ProfileId, order_no: &str) -> CoreResult<Order> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders o WHERE o.order_no = ? AND o.profile_id = ?"
    ))
    .bind(order_no)
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(invalid("order_no", "unknown order"))?;
    row_to_order(&row)
}

/// Moves an order to what the server now says, if that is a legal step;
/// an illegal one (paid → pending) is ignored and the stored order returned.
pub async fn update_status(
    db: &Database,
    profile_id: ProfileId,
    order_no: &str,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> CoreResult<Order> {
    let current = get_order(db, profile_id, order_no).await?;
    if current.status == status || !current.status.may_become(status) {
        return Ok(current);
    }
    sqlx::query(
        "UPDATE orders SET status = ?, updated_at_ms = ? WHERE order_no = ? AND status = ?",
    )
    .bind(status.as_str())
    .bind(to_ms(now))
    .bind(order_no)
    .bind(current.status.as_str())
    .execute(db)
    .await?;
    get_order(db, profile_id, order_no).await
}

/// Orders still worth waiting for: pending ones, and paid ones whose receipt
/// has not been applied yet (the app died in between) and was not credited on another
/// installation (issue 14). All profiles.
pub async fn unsettled_orders(db: &Database) -> CoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders o
         WHERE o.status = 'pending'
            OR (o.status = 'paid' AND NOT EXISTS(SELECT 1 FROM purchases p WHERE p.order_no = o.order_no)
                AND NOT EXISTS(SELECT 1 FROM purchases_elsewhere e WHERE e.order_no = o.order_no))
         ORDER BY o.created_at_ms"
    ))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_order).collect()
}

/// The profile's orders, newest first; `kind` is `credits` or `membership`.
pub async fn list_orders(
    db: &Database,
    profile_id: ProfileId,
    kind: Option<&str>,
) -> CoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders o WHERE o.profile_id = ? AND (? IS NULL OR o.kind = ?)
         ORDER BY o.created_at_ms DESC, o.order_no DESC LIMIT 200"
    ))
    .bind(profile_id)
    .bind(kind)
    .bind(kind)
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_order).collect()
}

/// How long an expired or closed order is still asked about: a payment can land after
/// the code's end (the writer scanned it just before), and must still be credited.
pub const FOLLOW_UP_HOURS: i64 = 48;

/// The wait before the next ask after `attempts` asks: 1 minute, doubling, at most 2 hours.
pub fn follow_up_backoff(attempts: i64) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(0, 7);
    chrono::Duration::minutes(minutes.min(120))
}

/// Expired or closed orders not yet credited here, ended less than 48 hours ago: all of
/// them (`due_only` false, at start), or only those whose backoff has run out.
pub async fn follow_up_orders(
    db: &Database,
    now: DateTime<Utc>,
    due_only: bool,
) -> CoreResult<Vec<Order>> {
    let since = to_ms(now - chrono::Duration::hours(FOLLOW_UP_HOURS));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders o
         WHERE o.status IN ('expired', 'closed')
           AND o.expires_at_ms >= ?
           AND (? = 0 OR o.next_followup_at_ms <= ?)
           AND NOT EXISTS(SELECT 1 FROM purchases p WHERE p.order_no = o.order_no)
         ORDER BY o.created_at_ms"
    ))
    .bind(since)
    .bind(i64::from(due_only))
    .bind(to_ms(now))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_order).collect()
}

/// Records one more ask about an ended order and schedules the next one (backing off).
pub async fn followed_up(db: &Database, order_no: &str, now: DateTime<Utc>) -> CoreResult<()> {
    let attempts: Option<i64> =
        sqlx::query_scalar("SELECT followup_attempts FROM orders WHERE order_no = ?")
            .bind(order_no)
            .fetch_optional(db)
            .await?;
    let attempts = attempts.ok_or(invalid("order_no", "unknown order"))?;
    sqlx::query(
        "UPDATE orders SET followup_attempts = ?, next_followup_at_ms = ? WHERE order_no = ?",
    )
    .bind(attempts.saturating_add(1))
    .bind(to_ms(now + follow_up_backoff(attempts)))
    .bind(order_no)
    .execute(db)
    .await?;
    Ok(())
}
