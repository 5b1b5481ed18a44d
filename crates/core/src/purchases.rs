//! Purchases: applying signed receipts (credits or membership) exactly once,
//! and the membership rules (the report's MembershipService).
//!
//! A receipt is the only way bought credits or membership days enter the
//! ledger. It must verify against a pinned server key, name this profile's
//! account, and its order number must be new: the `purchases` row, the
//! RECHARGE/BONUS rows or the membership extension are written in one
//! transaction, so a crash leaves either all of it or none.

use chrono::{DateTime, Duration, Utc};
use inkstone_domain::{Credits, Fen, OrderNo, ProfileId};
use inkstone_receipt::{Purchase, SignedReceipt, TrustedKeys};
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

use crate::error::{CoreError, CoreResult};
use crate::ledger::{self, begin_write, Grant, GrantKind, Reason};
use crate::time::{from_ms, to_ms};
use crate::Database;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseRecord {
    pub order_no: OrderNo,
    pub profile_id: ProfileId,
    /// `credits` or `membership`.
    pub kind: String,
    pub sku: String,
    pub credits: Credits,
    pub bonus_credits: Credits,
    pub plan: Option<String>,
    pub days: Option<i64>,
    pub member_from: Option<DateTime<Utc>>,
    pub member_until: Option<DateTime<Utc>>,
    pub amount_fen: Fen,
    pub provider: String,
    pub provider_txn_id: String,
    pub paid_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    Applied {
        purchase: Box<PurchaseRecord>,
    },
    /// The order was applied before; nothing changed.
    AlreadyApplied {
        order_no: OrderNo,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipStatus {
    pub is_member: bool,
    pub member_until: Option<DateTime<Utc>>,
    /// Whole days left, rounded up; 0 when not a member.
    pub days_left: i64,
}

/// When a membership of `days` bought at `now` would end: buying while active
/// extends from the current end date, otherwise from now.
pub fn extended_until(
    current_until: Option<DateTime<Utc>>,
    days: i64,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let start = current_until.filter(|u| *u > now).unwrap_or(now);
    start + Duration::days(days)
}

pub async fn membership_status(
    db: &Database,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> CoreResult<MembershipStatus> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT member_until_ms FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(db)
            .await?;
    let (until,) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    let until = until.map(from_ms);
    let is_member = until.is_some_and(|u| u > now);
    let days_left = match until {
        Some(u) if is_member => {
            let secs = (u - now).num_seconds();
            (secs + 86_399) / 86_400
        }
        _ => 0,
    };
    Ok(MembershipStatus {
        is_member,
        member_until: until,
        days_left,
    })
}

async fn extend_in(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    days: i64,
    now: DateTime<Utc>,
) -> CoreResult<(DateTime<Utc>, DateTime<Utc>)> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT member_until_ms FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(&mut *conn)
            .await?;
    let (current,) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    let current = current.map(from_ms);
    let from = current.filter(|u| *u > now).unwrap_or(now);
    let until = extended_until(current, days, now);
    sqlx::query("UPDATE profiles SET member_until_ms = ? WHERE id = ?")
        .bind(to_ms(until))
        .bind(profile_id)
        .execute(&mut *conn)
        .await?;
    Ok((from, until))
}

/// Verifies `signed` and applies it to `profile_id` at most once.
pub async fn apply_receipt(
    db: &Database,
    profile_id: ProfileId,
    keys: &TrustedKeys,
    signed: &SignedReceipt,
    now: DateTime<Utc>,
) -> CoreResult<ApplyOutcome> {
    let receipt = keys.verify(signed)?;
    // Whether the package's bonus expires: the catalog as the server last gave it.
    let bonus_valid_days = match &receipt.purchase {
        Purchase::Credits { sku, .. } => crate::catalog::cached_catalog(db)
            .await?
            .catalog
            .credit_package(sku)
            .and_then(|p| p.bonus_valid_days),
        Purchase::Membership { .. } => None,
    };
    let mut tx = begin_write(db).await?;
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT server_account_id FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (account,) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    let account = account.ok_or(CoreError::NoPaymentAccount)?;
    if account != receipt.account_id {
        return Err(CoreError::ReceiptWrongAccount);
    }
    let receipt_json =
        serde_json::to_string(signed).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    let (kind, sku, credits, bonus, plan, days) = match &receipt.purchase {
        Purchase::Credits {
            sku,
            credits,
            bonus_credits,
        } => ("credits", sku, *credits, *bonus_credits, None, None),
        Purchase::Membership { sku, plan, days } => {
            let none = Credits::ZERO;
            (
                "membership",
                sku,
                none,
                none,
                Some(plan.as_str()),
                Some(*days),
            )
        }
    };
    // The primary key on order_no is what makes a receipt once-only.
    let inserted = sqlx::query(
        "INSERT INTO purchases (order_no, profile_id, account_id, kind, sku, credits, bonus_credits,
             plan, days, amount_fen, provider, provider_txn_id, paid_at_ms, applied_at_ms, receipt_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(order_no) DO NOTHING",
    )
    .bind(&receipt.order_no)
    .bind(profile_id)
    .bind(&receipt.account_id)
    .bind(kind)
    .bind(sku)
    .bind(credits)
    .bind(bonus)
    .bind(plan)
    .bind(days)
    .bind(receipt.amount_fen)
    .bind(&receipt.provider)
    .bind(&receipt.provider_txn_id)
    .bind(to_ms(receipt.paid_at))
    .bind(to_ms(now))
    .bind(&receipt_json)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(ApplyOutcome::AlreadyApplied {
            order_no: receipt.order_no.clone(),
        });
    }
    // The ledger row keeps the number as text (rows of every version).
    let order_no = Some(receipt.order_no.to_string());
    if credits.is_positive() {
        let grant = Grant {
            kind: GrantKind::Recharge,
            credits,
            // The UI names the package from the purchase (joined by order number).
            description: String::new(),
            order_no: order_no.clone(),
            expires_at: None,
        };
        ledger::add_credits_in(&mut tx, profile_id, &grant, Some(Reason::Purchase), now).await?;
    }
    if bonus.is_positive() {
        let grant = Grant {
            kind: GrantKind::Bonus,
            credits: bonus,
            description: String::new(),
            order_no,
            expires_at: bonus_valid_days.map(|days| now + Duration::days(days)),
        };
        ledger::add_credits_in(
            &mut tx,
            profile_id,
            &grant,
            Some(Reason::PurchaseBonus),
            now,
        )
        .await?;
    }
    if let Some(days) = days {
        let (from, until) = extend_in(&mut tx, profile_id, days, now).await?;
        sqlx::query(
            "UPDATE purchases SET member_from_ms = ?, member_until_ms = ? WHERE order_no = ?",
        )
        .bind(to_ms(from))
        .bind(to_ms(until))
        .bind(&receipt.order_no)
        .execute(&mut *tx)
        .await?;
    }
    // The desktop's own order row, if it started this order here.
    sqlx::query("UPDATE orders SET status = 'paid', updated_at_ms = ? WHERE order_no = ? AND profile_id = ?")
        .bind(to_ms(now))
        .bind(&receipt.order_no)
        .bind(profile_id)
        .execute(&mut *tx)
        .await?;
    let purchase = fetch_purchase(&mut tx, &receipt.order_no).await?;
    tx.commit().await?;
    Ok(ApplyOutcome::Applied {
        purchase: Box::new(purchase),
    })
}

const PURCHASE_COLUMNS: &str = "order_no, profile_id, kind, sku, credits, bonus_credits, plan, days, \
     member_from_ms, member_until_ms, amount_fen, provider, provider_txn_id, paid_at_ms, applied_at_ms";

fn row_to_purchase(row: &sqlx::sqlite::SqliteRow) -> Result<PurchaseRecord, sqlx::Error> {
    Ok(PurchaseRecord {
        order_no: row.try_get("order_no")?,
        profile_id: row.try_get("profile_id")?,
        kind: row.try_get("kind")?,
        sku: row.try_get("sku")?,
        credits: row.try_get("credits")?,
        bonus_credits: row.try_get("bonus_credits")?,
        plan: row.try_get("plan")?,
        days: row.try_get("days")?,
        member_from: row
            .try_get::<Option<i64>, _>("member_from_ms")?
            .map(from_ms),
        member_until: row
            .try_get::<Option<i64>, _>("member_until_ms")?
            .map(from_ms),
        amount_fen: row.try_get("amount_fen")?,
        provider: row.try_get("provider")?,
        provider_txn_id: row.try_get("provider_txn_id")?,
        paid_at: from_ms(row.try_get("paid_at_ms")?),
        applied_at: from_ms(row.try_get("applied_at_ms")?),
    })
}

async fn fetch_purchase(conn: &mut SqliteConnection, order_no: &str) -> CoreResult<PurchaseRecord> {
    let row = sqlx::query(&format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE order_no = ?"
    ))
    .bind(order_no)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row_to_purchase(&row)?)
}

/// The profile's applied purchases, newest first; `kind` is `credits` or `membership`.
pub async fn purchases(
    db: &Database,
    profile_id: ProfileId,
    kind: Option<&str>,
) -> CoreResult<Vec<PurchaseRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases
         WHERE profile_id = ? AND (? IS NULL OR kind = ?) ORDER BY paid_at_ms DESC, order_no"
    ))
    .bind(profile_id)
    .bind(kind)
    .bind(kind)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(row_to_purchase).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanTotal {
    pub plan: String,
    pub orders: i64,
    pub revenue_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipStatistics {
    pub active_members: i64,
    pub orders: i64,
    pub revenue_fen: i64,
    pub by_plan: Vec<PlanTotal>,
}

/// Members now, and membership sales on this machine (admin view).
pub async fn membership_statistics(
    db: &Database,
    now: DateTime<Utc>,
) -> CoreResult<MembershipStatistics> {
    let active_members: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM profiles WHERE member_until_ms > ?")
            .bind(to_ms(now))
            .fetch_one(db)
            .await?;
    let by_plan: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT COALESCE(plan, ''), COUNT(*), SUM(amount_fen) FROM purchases
         WHERE kind = 'membership' GROUP BY plan ORDER BY plan",
    )
    .fetch_all(db)
    .await?;
    let by_plan: Vec<PlanTotal> = by_plan
        .into_iter()
        .map(|(plan, orders, revenue_fen)| PlanTotal {
            plan,
            orders,
            revenue_fen,
        })
        .collect();
    Ok(MembershipStatistics {
        active_members,
        orders: by_plan.iter().map(|p| p.orders).sum(),
        revenue_fen: by_plan.iter().map(|p| p.revenue_fen).sum(),
        by_plan,
    })
}

/// Whether this computer applied any receipt of `account_id` to the profile (its purchase
/// account is then never replaced by signing in to another).
pub async fn has_purchases_with_account(
    db: &Database,
    profile_id: ProfileId,
    account_id: &str,
) -> CoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM purchases WHERE profile_id = ? AND account_id = ?)",
    )
    .bind(profile_id)
    .bind(account_id)
    .fetch_one(db)
    .await?)
}
