//! Credit packages credited on another installation (issue 14). A credit package is a
//! consumable: the payment endpoint records which installation claimed each credit receipt,
//! and a receipt claimed elsewhere is never credited here. It is kept, verified, so the
//! purchases page can say "credited on another computer on DATE", offline too.

use chrono::{DateTime, Utc};
use inkstone_domain::{Credits, Fen, OrderNo, ProfileId};
use inkstone_receipt::{Purchase, SignedReceipt, TrustedKeys};
use serde::Serialize;
use sqlx::Row;

use crate::error::{CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// A credit package of this profile's purchase account that another installation credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseElsewhere {
    pub order_no: OrderNo,
    pub profile_id: ProfileId,
    pub sku: String,
    pub credits: Credits,
    pub bonus_credits: Credits,
    pub amount_fen: Fen,
    pub provider: String,
    pub paid_at: DateTime<Utc>,
    /// When the other installation claimed it (the endpoint's time).
    pub claimed_at: DateTime<Utc>,
}

const COLUMNS: &str = "order_no, profile_id, sku, credits, bonus_credits, amount_fen, provider, \
     paid_at_ms, claimed_at_ms";

fn row_to_record(row: &sqlx::sqlite::SqliteRow) -> Result<PurchaseElsewhere, sqlx::Error> {
    Ok(PurchaseElsewhere {
        order_no: row.try_get("order_no")?,
        profile_id: row.try_get("profile_id")?,
        sku: row.try_get("sku")?,
        credits: row.try_get("credits")?,
        bonus_credits: row.try_get("bonus_credits")?,
        amount_fen: row.try_get("amount_fen")?,
        provider: row.try_get("provider")?,
        paid_at: from_ms(row.try_get("paid_at_ms")?),
        claimed_at: from_ms(row.try_get("claimed_at_ms")?),
    })
}

/// Whether the receipt of `order_no` was credited on this installation (any profile: the
/// `purchases` row is what makes a receipt once-only here).
pub async fn is_applied(db: &Database, order_no: &str) -> CoreResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM purchases WHERE order_no = ?)")
            .bind(order_no)
            .fetch_one(db)
            .await?,
    )
}

/// Checks, before anything is claimed at the endpoint, that `signed` would be credited to
/// this profile: its signature verifies against a pinned key and it names the profile's
/// account. A claim spent on a receipt that is then refused would lose the package.
pub async fn check_receipt(
    db: &Database,
    profile_id: ProfileId,
    keys: &TrustedKeys,
    signed: &SignedReceipt,
) -> CoreResult<()> {
    let receipt = keys.verify(signed)?;
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT server_account_id FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(db)
            .await?;
    let (account,) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    let account = account.ok_or(CoreError::NoPaymentAccount)?;
    if account != receipt.account_id {
        return Err(CoreError::ReceiptWrongAccount);
    }
    Ok(())
}

/// Records a credit receipt another installation claimed at `claimed_at`: verified and
/// checked like one to be credited, never credited. Recording it again changes nothing.
pub async fn record_elsewhere(
    db: &Database,
    profile_id: ProfileId,
    keys: &TrustedKeys,
    signed: &SignedReceipt,
    claimed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CoreResult<PurchaseElsewhere> {
    check_receipt(db, profile_id, keys, signed).await?;
    let receipt = &signed.receipt;
    let Purchase::Credits {
        sku,
        credits,
        bonus_credits,
    } = &receipt.purchase
    else {
        return Err(CoreError::InvalidInput {
            field: "receipt",
            reason: "memberships follow the account and are never credited elsewhere",
        });
    };
    if is_applied(db, &receipt.order_no).await? {
        return Err(CoreError::InvalidInput {
            field: "receipt",
            reason: "this receipt was credited on this computer",
        });
    }
    sqlx::query(
        "INSERT INTO purchases_elsewhere (order_no, profile_id, account_id, sku, credits,
             bonus_credits, amount_fen, provider, paid_at_ms, claimed_at_ms, recorded_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(order_no) DO NOTHING",
    )
    .bind(&receipt.order_no)
    .bind(profile_id)
    .bind(&receipt.account_id)
    .bind(sku)
    .bind(credits)
    .bind(bonus_credits)
    .bind(receipt.amount_fen)
    .bind(&receipt.provider)
    .bind(to_ms(receipt.paid_at))
    .bind(to_ms(claimed_at))
    .bind(to_ms(now))
    .execute(db)
    .await?;
    elsewhere(db, profile_id, &receipt.order_no)
        .await?
        .ok_or(CoreError::InvalidInput {
            field: "receipt",
            reason: "this receipt belongs to another profile on this computer",
        })
}

/// The record of `order_no` if it was credited on another installation.
pub async fn elsewhere(
    db: &Database,
    profile_id: ProfileId,
    order_no: &str,
) -> CoreResult<Option<PurchaseElsewhere>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM purchases_elsewhere WHERE order_no = ? AND profile_id = ?"
    ))
    .bind(order_no)
    .bind(profile_id)
    .fetch_optional(db)
    .await?;
    Ok(row.as_ref().map(row_to_record).transpose()?)
}

/// The profile's credit packages credited on other installations, newest first.
pub async fn list_elsewhere(
    db: &Database,
    profile_id: ProfileId,
) -> CoreResult<Vec<PurchaseElsewhere>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM purchases_elsewhere WHERE profile_id = ?
         ORDER BY paid_at_ms DESC, order_no DESC LIMIT 500"
    ))
    .bind(profile_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(row_to_record)
        .collect::<Result<Vec<_>, _>>()?)
}
