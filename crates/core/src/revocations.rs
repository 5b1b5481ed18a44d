//! Refunded purchases (issue 13): a signed revocation from the payment endpoint takes
//! back what a receipt gave, at most once (by its refund number), in one transaction.
//!
//! * Credits: an EXPIRE row with reason `purchase_refunded` and the order's number, of the
//!   revocation's `credits` but never more than the balance (the ledger never goes below
//!   zero); the part already spent is recorded (`credits - credits_taken`), not owed.
//!   Expiring bonus is drained first, as spending does, so unspent bonus never exceeds
//!   the balance.
//! * Membership: the end date moves back by `days`, but not before now (a membership
//!   already over stays over; one that would end in the past ends now).
//!
//! A revocation of a purchase this machine has not applied (yet) changes nothing and says
//! so: the shop applies receipts first, then revocations.

use chrono::{DateTime, Duration, Utc};
use inkstone_domain::{Credits, Fen, OrderNo, ProfileId};
use inkstone_receipt::revocation::SignedRevocation;
use inkstone_receipt::TrustedKeys;
use serde::Serialize;

use crate::error::{invalid, CoreError, CoreResult};
use crate::ledger::{self, begin_write, Entry, Reason, TxKind};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// What a revocation did, for the ledger's reader and for telling the writer why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationRecord {
    pub refund_no: String,
    pub order_no: OrderNo,
    pub profile_id: ProfileId,
    pub refund_fen: Fen,
    /// Credits the revocation took back, and what it could not (already spent).
    pub credits: Credits,
    pub credits_taken: Credits,
    pub credits_not_taken: Credits,
    /// Membership days removed, and the end date before and after.
    pub days: i64,
    pub member_until_before: Option<DateTime<Utc>>,
    pub member_until_after: Option<DateTime<Utc>>,
    /// The operator's reason for the refund.
    pub reason: String,
    pub applied_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RevocationOutcome {
    Applied {
        record: Box<RevocationRecord>,
    },
    /// Applied before; nothing changed.
    AlreadyApplied {
        refund_no: String,
    },
    /// The purchase is not applied on this machine: nothing to take back (yet).
    PurchaseNotHere {
        order_no: OrderNo,
    },
}

/// Verifies `signed` and applies it to `profile_id` at most once.
pub async fn apply_revocation(
    db: &Database,
    profile_id: ProfileId,
    keys: &TrustedKeys,
    signed: &SignedRevocation,
    now: DateTime<Utc>,
) -> CoreResult<RevocationOutcome> {
    let r = keys.verify_revocation(signed)?;
    let json = serde_json::to_string(signed).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    let mut tx = begin_write(db).await?;
    let row: Option<(Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT server_account_id, credits, member_until_ms FROM profiles WHERE id = ?",
    )
    .bind(profile_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (account, balance, member_until) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    if account.ok_or(CoreError::NoPaymentAccount)? != r.account_id {
        return Err(CoreError::ReceiptWrongAccount);
    }
    let done: Option<(String,)> =
        sqlx::query_as("SELECT refund_no FROM revocations WHERE refund_no = ?")
            .bind(&r.refund_no)
            .fetch_optional(&mut *tx)
            .await?;
    if done.is_some() {
        return Ok(RevocationOutcome::AlreadyApplied {
            refund_no: r.refund_no.clone(),
        });
    }
    let purchase: Option<(String,)> =
        sqlx::query_as("SELECT kind FROM purchases WHERE order_no = ? AND profile_id = ?")
            .bind(&r.order_no)
            .bind(profile_id)
            .fetch_optional(&mut *tx)
            .await?;
    if purchase.is_none() {
        return Ok(RevocationOutcome::PurchaseNotHere {
            order_no: r.order_no.clone(),
        });
    }
    // Credits: as much as the balance holds, never below zero.
    let taken = r.credits.min(Credits::new(balance.max(0)));
    let out_of_range = |_| invalid("credits", "out of range");
    let not_taken = r.credits.checked_sub(taken).map_err(out_of_range)?;
    let mut transaction_id = None;
    if taken.is_positive() {
        let row = ledger::append(
            &mut tx,
            Entry {
                profile_id,
                kind: TxKind::Expire,
                delta: taken.checked_neg().map_err(out_of_range)?,
                description: "",
                reason: Some(Reason::PurchaseRefunded),
                tool: None,
                order_no: Some(r.order_no.as_str()),
                generation_id: None,
                refund_of: None,
            },
            now,
        )
        .await?;
        ledger::drain_lots(&mut tx, profile_id, taken.get()).await?;
        transaction_id = Some(row.id);
    }
    // Membership: back by `days`, not before now.
    let before = member_until.map(from_ms);
    let after = match before {
        Some(until) if r.days > 0 && until > now => {
            let moved = (until - Duration::days(r.days)).max(now);
            sqlx::query("UPDATE profiles SET member_until_ms = ? WHERE id = ?")
                .bind(to_ms(moved))
                .bind(profile_id)
                .execute(&mut *tx)
                .await?;
            Some(moved)
        }
        other => other,
    };
    sqlx::query(
        "INSERT INTO revocations (refund_no, order_no, profile_id, refund_fen, credits, credits_taken, days,
             member_until_before_ms, member_until_after_ms, transaction_id, reason, revoked_at_ms,
             applied_at_ms, revocation_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.refund_no)
    .bind(&r.order_no)
    .bind(profile_id)
    .bind(r.refund_fen)
    .bind(r.credits)
    .bind(taken)
    .bind(r.days)
    .bind(before.map(to_ms))
    .bind(after.map(to_ms))
    .bind(transaction_id)
    .bind(&r.reason)
    .bind(to_ms(r.revoked_at))
    .bind(to_ms(now))
    .bind(&json)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(RevocationOutcome::Applied {
        record: Box::new(RevocationRecord {
            refund_no: r.refund_no.clone(),
            order_no: r.order_no.clone(),
            profile_id,
            refund_fen: r.refund_fen,
            credits: r.credits,
            credits_taken: taken,
            credits_not_taken: not_taken,
            days: r.days,
            member_until_before: before,
            member_until_after: after,
            reason: r.reason.clone(),
            applied_at: now,
        }),
    })
}

/// The profile's position in its account's revocation list.
pub async fn cursor(db: &Database, profile_id: ProfileId) -> CoreResult<i64> {
    let c: Option<i64> =
        sqlx::query_scalar("SELECT cursor FROM revocation_cursors WHERE profile_id = ?")
            .bind(profile_id)
            .fetch_optional(db)
            .await?;
    Ok(c.unwrap_or(0))
}

/// Moves the cursor forward (never back).
pub async fn set_cursor(db: &Database, profile_id: ProfileId, cursor: i64) -> CoreResult<()> {
    if cursor < 0 {
        return Err(CoreError::InvalidAmount("a cursor is never negative"));
    }
    sqlx::query(
        "INSERT INTO revocation_cursors (profile_id, cursor) VALUES (?, ?)
         ON CONFLICT(profile_id) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)",
    )
    .bind(profile_id)
    .bind(cursor)
    .execute(db)
    .await?;
    Ok(())
}
