//! Orders and the one transition that matters: PENDING (or EXPIRED/CLOSED,
//! for a late payment) → PAID, exactly once, with its receipt, in one
//! database transaction, only from evidence a provider signed.

use chrono::{DateTime, TimeZone, Utc};
use inkstone_pay::receipt::{Purchase, Receipt, ReceiptSigner, SignedReceipt};
use rand::Rng;
use serde::Serialize;
use sqlx::Row;

use inkstone_domain::{Fen, OrderNo};

use crate::error::ApiError;
use crate::store::Db;

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn ms_to_utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `IK` + UTC time + 10 random characters: 26 characters of `[0-9A-Z]`,
/// valid as a WeChat Pay (6–32) and an Alipay (≤ 64) out_trade_no.
pub fn new_order_no() -> OrderNo {
    use inkstone_domain::order_no::{ISSUE_ALPHABET, ISSUE_TAIL_LEN};
    let mut rng = rand::thread_rng();
    let tail: String = (0..ISSUE_TAIL_LEN)
        .map(|_| char::from(ISSUE_ALPHABET[rng.gen_range(0..ISSUE_ALPHABET.len())]))
        .collect();
    let stamp = Utc::now().format("%Y%m%d%H%M%S").to_string();
    // A 14-digit stamp (years 1000-9999) and a tail drawn from the alphabet always parse.
    OrderNo::issue(&stamp, &tail).expect("an issued order number is well formed")
}

/// Whether `s` is an order number ([`OrderNo::parse`], the one rule).
pub fn valid_order_no(s: &str) -> bool {
    OrderNo::parse(s).is_ok()
}

/// The order number of a provider's message, parsed where it comes in: one that cannot
/// be ours is refused as an unknown order (the answer a lookup would give).
pub fn evidence_order_no(text: &str) -> Result<OrderNo, ApiError> {
    OrderNo::parse(text).map_err(|_| ApiError::Rejected("unknown order".into()))
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_no: OrderNo,
    pub sku: String,
    pub kind: String,
    pub provider: String,
    pub amount_fen: Fen,
    pub currency: String,
    pub qr_payload: String,
    /// `pending`, `paid`, `expired` or `closed`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Paid after it had expired or been closed: recorded, flagged, never lost.
    pub late_payment: bool,
    pub receipt: Option<SignedReceipt>,
    /// Pending, and asking the provider failed just now: the order is still waiting
    /// for payment, only the check did not work.
    pub check_failed: bool,
}

pub(crate) struct OrderRow {
    pub order_no: OrderNo,
    pub account_id: String,
    pub sku: String,
    pub kind: String,
    pub purchase_json: String,
    pub amount_fen: Fen,
    pub currency: String,
    pub provider: String,
    pub qr_payload: String,
    pub status: String,
    pub paid_at_ms: Option<i64>,
    pub late_payment: i64,
    pub expires_at_ms: i64,
    pub created_at_ms: i64,
}

const COLUMNS: &str =
    "order_no, account_id, sku, kind, purchase_json, amount_fen, currency, provider, qr_payload, \
                       status, paid_at_ms, late_payment, expires_at_ms, created_at_ms";

fn row(r: &sqlx::any::AnyRow) -> Result<OrderRow, sqlx::Error> {
    Ok(OrderRow {
        order_no: r.try_get("order_no")?,
        account_id: r.try_get("account_id")?,
        sku: r.try_get("sku")?,
        kind: r.try_get("kind")?,
        purchase_json: r.try_get("purchase_json")?,
        amount_fen: r.try_get("amount_fen")?,
        currency: r.try_get("currency")?,
        provider: r.try_get("provider")?,
        qr_payload: r.try_get("qr_payload")?,
        status: r.try_get("status")?,
        paid_at_ms: r.try_get("paid_at_ms")?,
        late_payment: r.try_get("late_payment")?,
        expires_at_ms: r.try_get("expires_at_ms")?,
        created_at_ms: r.try_get("created_at_ms")?,
    })
}

pub(crate) async fn fetch<'e, E>(db: E, order_no: &OrderNo) -> Result<Option<OrderRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM orders WHERE order_no = $1"))
        .bind(order_no)
        .fetch_optional(db)
        .await?;
    r.as_ref().map(row).transpose()
}

/// The order if it belongs to `account_id`; another account's is "not found".
pub(crate) async fn fetch_owned(
    db: &Db,
    account_id: &str,
    order_no: &OrderNo,
) -> Result<OrderRow, ApiError> {
    let order = fetch(db, order_no).await?.ok_or(ApiError::NotFound)?;
    if order.account_id != account_id {
        return Err(ApiError::NotFound);
    }
    Ok(order)
}

pub(crate) async fn view(db: &Db, order: OrderRow) -> Result<OrderView, ApiError> {
    let receipt = if order.status == "PAID" {
        let json: Option<String> =
            sqlx::query_scalar("SELECT signed_json FROM receipts WHERE order_no = $1")
                .bind(&order.order_no)
                .fetch_optional(db)
                .await?;
        json.map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| ApiError::Internal(e.to_string()))?
    } else {
        None
    };
    Ok(OrderView {
        status: order.status.to_lowercase(),
        expires_at: ms_to_utc(order.expires_at_ms),
        created_at: ms_to_utc(order.created_at_ms),
        paid_at: order.paid_at_ms.map(ms_to_utc),
        late_payment: order.late_payment != 0,
        receipt,
        check_failed: false,
        order_no: order.order_no,
        sku: order.sku,
        kind: order.kind,
        provider: order.provider,
        amount_fen: order.amount_fen,
        currency: order.currency,
        qr_payload: order.qr_payload,
    })
}

/// PENDING orders past their end become EXPIRED (conditionally: a payment
/// that raced in first wins). True when this call expired it, so the
/// provider's order should be closed too.
pub(crate) async fn expire_if_due(
    db: &Db,
    order: &mut OrderRow,
    now: i64,
) -> Result<bool, sqlx::Error> {
    if order.status == "PENDING" && now >= order.expires_at_ms {
        let done = sqlx::query("UPDATE orders SET status = 'EXPIRED', close_state = 'pending', updated_at_ms = $1 WHERE order_no = $2 AND status = 'PENDING'")
            .bind(now)
            .bind(&order.order_no)
            .execute(db)
            .await?;
        if done.rows_affected() == 1 {
            order.status = "EXPIRED".into();
            return Ok(true);
        } else if let Some(fresh) = fetch(db, &order.order_no).await? {
            *order = fresh;
        }
    }
    Ok(false)
}

/// What a provider says was paid, after its signature checked out. The order number was
/// parsed where the message came in ([`evidence_order_no`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentEvidence {
    pub provider: String,
    pub order_no: OrderNo,
    pub amount_fen: Fen,
    pub currency: String,
    pub provider_txn_id: String,
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaidOutcome {
    /// This evidence made the order paid; its receipt was issued.
    Paid,
    /// It was paid before (a duplicate notification): nothing changed.
    AlreadyPaid,
}

/// Everything the PAID transition writes, prepared (checked and signed) before
/// any lock is taken.
#[derive(Debug, Clone)]
pub struct PaidWrite {
    order_no: OrderNo,
    account_id: String,
    provider: String,
    provider_txn_id: String,
    paid_at_ms: i64,
    amount_fen: Fen,
    key_id: String,
    signed_json: String,
}

impl PaidWrite {
    /// The audit row's key: one per provider payment of an order.
    fn audit_id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.provider, self.order_no, self.provider_txn_id
        )
    }
}

/// Checks evidence against its order and signs the receipt it would earn.
/// Reads only: the order's amount, currency, provider, account and purchase never
/// change once it exists, and whether it is still unpaid is decided by the write.
/// Evidence that does not match the order is rejected here and changes nothing.
pub async fn prepare_paid<'e, E>(
    db: E,
    signer: &ReceiptSigner,
    evidence: &PaymentEvidence,
) -> Result<Option<PaidWrite>, ApiError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let order = fetch(db, &evidence.order_no)
        .await?
        .ok_or_else(|| ApiError::Rejected("unknown order".into()))?;
    if order.provider != evidence.provider {
        return Err(ApiError::Rejected(
            "provider does not match the order".into(),
        ));
    }
    if order.amount_fen != evidence.amount_fen || order.currency != evidence.currency {
        return Err(ApiError::Rejected(
            "amount or currency does not match the order".into(),
        ));
    }
    if order.status == "PAID" {
        return Ok(None);
    }
    let purchase: Purchase = serde_json::from_str(&order.purchase_json)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let paid_at = Utc
        .timestamp_opt(evidence.paid_at.timestamp(), 0)
        .single()
        .unwrap_or(evidence.paid_at);
    let receipt = Receipt {
        order_no: order.order_no.clone(),
        account_id: order.account_id.clone(),
        purchase,
        amount_fen: order.amount_fen,
        currency: order.currency.clone(),
        provider: order.provider.clone(),
        provider_txn_id: evidence.provider_txn_id.clone(),
        paid_at,
    };
    let signed = signer
        .sign(receipt)
        .map_err(|e| ApiError::Rejected(format!("evidence cannot make a receipt: {e}")))?;
    let signed_json =
        serde_json::to_string(&signed).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some(PaidWrite {
        order_no: order.order_no,
        account_id: order.account_id,
        provider: evidence.provider.clone(),
        provider_txn_id: evidence.provider_txn_id.clone(),
        paid_at_ms: paid_at.timestamp_millis(),
        // Equal to the order's (checked above).
        amount_fen: order.amount_fen,
        key_id: signer.key_id().to_string(),
        signed_json,
    }))
}

/// The transition itself, inside the caller's transaction: the order becomes
/// PAID and gets its receipt and audit row, or, if something else made it paid
/// first, nothing is written.
pub async fn write_paid(
    conn: &mut sqlx::AnyConnection,
    w: &PaidWrite,
    now: i64,
) -> Result<PaidOutcome, sqlx::Error> {
    // The write comes first so SQLite takes its write lock before reading:
    // concurrent duplicates queue here and all but one find nothing to update.
    let late: Option<i64> = sqlx::query_scalar(
        "UPDATE orders SET status = 'PAID', provider_txn_id = $1, paid_at_ms = $2, updated_at_ms = $3,
                late_payment = CASE WHEN status = 'PENDING' THEN 0 ELSE 1 END
         WHERE order_no = $4 AND status <> 'PAID' AND amount_fen = $5
         RETURNING late_payment",
    )
    .bind(&w.provider_txn_id)
    .bind(w.paid_at_ms)
    .bind(now)
    .bind(&w.order_no)
    .bind(w.amount_fen)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(late) = late else {
        return Ok(PaidOutcome::AlreadyPaid);
    };
    // The audit row of the notification that made it paid, in the same commit.
    sqlx::query("INSERT INTO notifications (id, provider, order_no, outcome, received_at_ms) VALUES ($1, $2, $3, 'Paid', $4) ON CONFLICT (id) DO NOTHING")
        .bind(w.audit_id())
        .bind(&w.provider)
        .bind(&w.order_no)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO receipts (order_no, account_id, key_id, signed_json, created_at_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(&w.order_no)
        .bind(&w.account_id)
        .bind(&w.key_id)
        .bind(&w.signed_json)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if late != 0 {
        tracing::warn!(order_no = %w.order_no, "late payment recorded");
    }
    Ok(PaidOutcome::Paid)
}

/// Marks an order paid once and issues its receipt in the same transaction.
/// Evidence that does not match the order (amount, currency, provider) is
/// rejected and changes nothing.
pub async fn mark_paid(
    db: &Db,
    signer: &ReceiptSigner,
    evidence: &PaymentEvidence,
) -> Result<PaidOutcome, ApiError> {
    // One connection for the read and the write: under load, waiting for the pool twice
    // per notification doubles the queueing.
    let mut conn = db.acquire().await?;
    let Some(write) = prepare_paid(&mut *conn, signer, evidence).await? else {
        return Ok(PaidOutcome::AlreadyPaid);
    };
    if conn.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
        return Ok(write_paid_postgres(&mut conn, &write, now_ms()).await?);
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let outcome = write_paid(&mut tx, &write, now_ms()).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// `write_paid` as one PostgreSQL statement (data-modifying CTEs, which SQLite
/// lacks): one statement is one atomic transaction, so a notification costs one
/// round trip instead of five. A concurrent duplicate waits on the order's row
/// lock, then finds it PAID and writes nothing, as with `write_paid`.
async fn write_paid_postgres(
    conn: &mut sqlx::AnyConnection,
    w: &PaidWrite,
    now: i64,
) -> Result<PaidOutcome, sqlx::Error> {
    let late: Option<i64> = sqlx::query_scalar(
        "WITH paid AS (
             UPDATE orders SET status = 'PAID', provider_txn_id = $1, paid_at_ms = $2, updated_at_ms = $3,
                    late_payment = CASE WHEN status = 'PENDING' THEN 0 ELSE 1 END
             WHERE order_no = $4 AND status <> 'PAID' AND amount_fen = $5
             RETURNING order_no, late_payment
         ), audit AS (
             INSERT INTO notifications (id, provider, order_no, outcome, received_at_ms)
             SELECT $6, $7, order_no, 'Paid', $3 FROM paid
             ON CONFLICT (id) DO NOTHING
         )
         INSERT INTO receipts (order_no, account_id, key_id, signed_json, created_at_ms)
         SELECT order_no, $8, $9, $10, $3 FROM paid
         RETURNING (SELECT late_payment FROM paid)",
    )
    .bind(&w.provider_txn_id)
    .bind(w.paid_at_ms)
    .bind(now)
    .bind(&w.order_no)
    .bind(w.amount_fen)
    .bind(w.audit_id())
    .bind(&w.provider)
    .bind(&w.account_id)
    .bind(&w.key_id)
    .bind(&w.signed_json)
    .fetch_optional(&mut *conn)
    .await?;
    match late {
        None => Ok(PaidOutcome::AlreadyPaid),
        Some(late) => {
            if late != 0 {
                tracing::warn!(order_no = %w.order_no, "late payment recorded");
            }
            Ok(PaidOutcome::Paid)
        }
    }
}
