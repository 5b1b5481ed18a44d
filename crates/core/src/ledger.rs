//! The credit ledger (the report's CreditService).
//!
//! Rules, each enforced here and nowhere else:
//! * every change of a profile's balance is one append-only `credit_transactions`
//!   row, written in the same SQLite transaction as the balance;
//! * writers take the write lock up front (`BEGIN IMMEDIATE`) and change the
//!   balance with a conditional `UPDATE … RETURNING`, never read-then-write, so
//!   concurrent spenders cannot both pass a balance check;
//! * an active member pays nothing, but the consumption is still recorded (a
//!   CONSUME row of 0 credits);
//! * a CONSUME is refunded at most once, by exactly its amount;
//! * bonus credits with an end date are spent first, earliest end first, and
//!   whatever is left of them at the end date leaves as an EXPIRE row. Expiry is
//!   applied whenever the balance is read or spent, so it never depends on a
//!   background job having run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use inkstone_domain::{Credits, GenerationId, MoneyError, ProfileId, Tool};

use crate::error::{invalid, CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// The largest single grant: 100 million credits (10 million CNY).
pub const MAX_GRANT_CREDITS: i64 = 100_000_000;
/// The largest balance a profile may hold; far above any real use, far below i64 overflow.
pub const MAX_BALANCE_CREDITS: i64 = 1_000_000_000_000;
/// What a generation costs a non-member when the tool has no entry of its own.
pub const DEFAULT_COST: Credits = Credits::new(10);

/// The one cost table for every generation tool (credits per generation).
pub const TOOL_COSTS: &[(Tool, Credits)] = &[
    (Tool::Article, DEFAULT_COST),
    (Tool::Continue, DEFAULT_COST),
    (Tool::Rewrite, DEFAULT_COST),
    (Tool::Expand, DEFAULT_COST),
    (Tool::Summarize, DEFAULT_COST),
    (Tool::Translate, DEFAULT_COST),
    (Tool::Titles, DEFAULT_COST),
    (Tool::Outline, DEFAULT_COST),
    (Tool::Marketing, DEFAULT_COST),
    (Tool::Image, DEFAULT_COST),
    (Tool::Video, DEFAULT_COST),
    (Tool::Ppt, DEFAULT_COST),
    (Tool::Vision, DEFAULT_COST),
    // AI on a document in the writing workspace (crate::document_ai).
    (Tool::Document, DEFAULT_COST),
];

// Every price is positive: a charge of 0 therefore means "member" (the one-statement
// charge in `consume_in` relies on it).
const _: () = {
    let mut i = 0;
    while i < TOOL_COSTS.len() {
        assert!(
            TOOL_COSTS[i].1.is_positive(),
            "a tool cost must be positive"
        );
        i += 1;
    }
};

/// An amount the ledger cannot hold (it never wraps).
fn money(_: MoneyError) -> CoreError {
    CoreError::InvalidAmount("credits out of range")
}

/// The price of one generation with `tool` for a non-member. A tool's name is parsed where it
/// arrives (`Tool`), so every tool has a price here.
pub fn cost_of(tool: Tool) -> Credits {
    TOOL_COSTS
        .iter()
        .find(|(t, _)| *t == tool)
        .map_or(DEFAULT_COST, |(_, cost)| *cost)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxKind {
    Recharge,
    Consume,
    Refund,
    Bonus,
    Expire,
}

impl TxKind {
    pub const ALL: [TxKind; 5] = [
        TxKind::Recharge,
        TxKind::Consume,
        TxKind::Refund,
        TxKind::Bonus,
        TxKind::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Recharge => "RECHARGE",
            TxKind::Consume => "CONSUME",
            TxKind::Refund => "REFUND",
            TxKind::Bonus => "BONUS",
            TxKind::Expire => "EXPIRE",
        }
    }

    pub fn parse(s: &str) -> CoreResult<Self> {
        TxKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(invalid("transaction type", "unknown"))
    }
}

/// Why a ledger row exists: a stable code the UI renders in the writer's language (with the
/// row's tool and purchased package). Rows keep no text of the writer's prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A generation's charge (0 for a member).
    Generation,
    RefundFailed,
    RefundInterrupted,
    RefundStopped,
    /// A refund whose cause is not recorded (rows of older versions, direct calls).
    Refund,
    Purchase,
    PurchaseBonus,
    DemoStart,
    BonusExpired,
    /// Credits taken back because the purchase was refunded (an EXPIRE row with the
    /// refunded order's number; see `revocations`).
    PurchaseRefunded,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::Generation,
        Reason::RefundFailed,
        Reason::RefundInterrupted,
        Reason::RefundStopped,
        Reason::Refund,
        Reason::Purchase,
        Reason::PurchaseBonus,
        Reason::DemoStart,
        Reason::BonusExpired,
        Reason::PurchaseRefunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Generation => "generation",
            Reason::RefundFailed => "refund_failed",
            Reason::RefundInterrupted => "refund_interrupted",
            Reason::RefundStopped => "refund_stopped",
            Reason::Refund => "refund",
            Reason::Purchase => "purchase",
            Reason::PurchaseBonus => "purchase_bonus",
            Reason::DemoStart => "demo_start",
            Reason::BonusExpired => "bonus_expired",
            Reason::PurchaseRefunded => "purchase_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The credit package a RECHARGE or BONUS row came from, for its description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRef {
    pub sku: String,
    pub credits: Credits,
    pub bonus_credits: Credits,
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    pub id: i64,
    pub profile_id: ProfileId,
    pub kind: TxKind,
    /// Signed change of the balance in credits.
    pub delta: Credits,
    pub balance_after: Credits,
    /// Free text, empty when `reason` says it all (every row this app writes).
    pub description: String,
    /// `None` only for rows of unknown origin; render `description` then.
    pub reason: Option<Reason>,
    pub tool: Option<Tool>,
    pub order_no: Option<String>,
    /// The purchase behind a RECHARGE/BONUS row (`None` when listed without it).
    pub package: Option<PackageRef>,
    pub generation_id: Option<GenerationId>,
    pub refund_of: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// What the header shows: credits and membership, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub profile_id: ProfileId,
    pub credits: Credits,
    pub is_member: bool,
    pub member_until: Option<DateTime<Utc>>,
}

/// The result of a successful charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// The CONSUME row; refund it with [`refund`].
    pub transaction_id: i64,
    /// Credits taken: 0 for a member.
    pub charged: Credits,
    pub balance_after: Credits,
    pub member: bool,
}

/// Kinds of credit that [`add_credits`] grants. Refunds go through [`refund`],
/// which ties each one to the consumption it undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantKind {
    Recharge,
    Bonus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub kind: GrantKind,
    pub credits: Credits,
    pub description: String,
    pub order_no: Option<String>,
    /// Only for BONUS: unspent credits of this grant expire at this time.
    pub expires_at: Option<DateTime<Utc>>,
}

pub(crate) async fn begin_write(db: &Database) -> CoreResult<sqlx::Transaction<'static, Sqlite>> {
    // IMMEDIATE takes the write lock now, so the checks below cannot race
    // another writer; a dropped transaction rolls back.
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

fn row_to_tx(row: &sqlx::sqlite::SqliteRow) -> CoreResult<Transaction> {
    Ok(Transaction {
        id: row.try_get("id")?,
        profile_id: row.try_get("profile_id")?,
        kind: TxKind::parse(row.try_get::<&str, _>("kind")?)
            .map_err(|_| CoreError::Corrupt("unknown transaction kind".into()))?,
        delta: row.try_get("delta")?,
        balance_after: row.try_get("balance_after")?,
        description: row.try_get("description")?,
        reason: row
            .try_get::<Option<&str>, _>("reason")?
            .map(|r| {
                Reason::parse(r).ok_or_else(|| CoreError::Corrupt("unknown ledger reason".into()))
            })
            .transpose()?,
        tool: row.try_get("tool")?,
        order_no: row.try_get("order_no")?,
        package: None,
        generation_id: row.try_get("generation_id")?,
        refund_of: row.try_get("refund_of")?,
        created_at: from_ms(row.try_get("created_at_ms")?),
    })
}

const TX_COLUMNS: &str = "id, profile_id, kind, delta, balance_after, description, reason, \
                          tool, order_no, generation_id, refund_of, created_at_ms";

/// The fields of a row about to be appended.
pub(crate) struct Entry<'a> {
    pub profile_id: ProfileId,
    pub kind: TxKind,
    pub delta: Credits,
    pub description: &'a str,
    pub reason: Option<Reason>,
    pub tool: Option<Tool>,
    pub order_no: Option<&'a str>,
    pub generation_id: Option<GenerationId>,
    pub refund_of: Option<i64>,
}

fn check_description(text: &str) -> CoreResult<()> {
    if text.chars().count() > 500 {
        return Err(invalid("description", "too long"));
    }
    Ok(())
}

/// Appends the row that explains a move of `entry.delta`; the trigger of
/// migration 0005 moves the cached balance in the same statement. The row is
/// only written when the balance stays within 0 ..= MAX_BALANCE_CREDITS, so the
/// check and the write cannot be separated. Must run inside a write transaction.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    entry: Entry<'_>,
    now: DateTime<Utc>,
) -> CoreResult<Transaction> {
    check_description(entry.description)?;
    let created_at_ms = to_ms(now);
    // Both bounds are written so that no intermediate can overflow: SQLite turns an
    // overflowing integer sum into a float instead of failing.
    let written: Option<(i64, i64)> = sqlx::query_as(
        "INSERT INTO credit_transactions
           (profile_id, kind, delta, balance_after, description, tool, order_no,
            generation_id, refund_of, created_at_ms, reason)
         SELECT id, ?2, ?3, credits + ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11
         FROM profiles
         WHERE id = ?1 AND credits >= 0 - ?3 AND credits <= ?10 - ?3
         RETURNING id, balance_after",
    )
    .bind(entry.profile_id)
    .bind(entry.kind.as_str())
    .bind(entry.delta)
    .bind(entry.description)
    .bind(entry.tool)
    .bind(entry.order_no)
    .bind(entry.generation_id)
    .bind(entry.refund_of)
    .bind(created_at_ms)
    .bind(MAX_BALANCE_CREDITS)
    .bind(entry.reason.map(Reason::as_str))
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, balance_after)) = written else {
        return Err(refused_move(conn, entry.profile_id, entry.delta).await);
    };
    Ok(Transaction {
        id,
        profile_id: entry.profile_id,
        kind: entry.kind,
        delta: entry.delta,
        balance_after: Credits::new(balance_after),
        description: entry.description.to_owned(),
        reason: entry.reason,
        tool: entry.tool,
        order_no: entry.order_no.map(str::to_owned),
        package: None,
        generation_id: entry.generation_id,
        refund_of: entry.refund_of,
        created_at: from_ms(created_at_ms),
    })
}

/// Why a move of `delta` wrote no row: no such profile, too few credits, or a
/// balance beyond its limit.
async fn refused_move(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    delta: Credits,
) -> CoreError {
    let current: Result<Option<Credits>, sqlx::Error> =
        sqlx::query_scalar("SELECT credits FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(&mut *conn)
            .await;
    match current {
        Err(e) => e.into(),
        Ok(None) => CoreError::UnknownProfile(profile_id),
        Ok(Some(credits)) if delta.is_negative() => {
            let missing = delta
                .checked_neg()
                .and_then(|needed| Ok((needed, needed.checked_sub(credits)?)));
            match missing {
                Ok((needed, missing)) => CoreError::InsufficientCredits { needed, missing },
                Err(e) => money(e),
            }
        }
        Ok(Some(_)) => CoreError::InvalidAmount("the balance would exceed its limit"),
    }
}

/// Turns what is left of due bonus grants into EXPIRE rows.
pub(crate) async fn expire_due_in(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> CoreResult<Vec<Transaction>> {
    let due: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id, remaining FROM bonus_lots
         WHERE profile_id = ? AND remaining > 0 AND expires_at_ms <= ?
         ORDER BY expires_at_ms, transaction_id",
    )
    .bind(profile_id)
    .bind(to_ms(now))
    .fetch_all(&mut *conn)
    .await?;
    let mut rows = Vec::with_capacity(due.len());
    for (lot, remaining) in due {
        sqlx::query("UPDATE bonus_lots SET remaining = 0 WHERE transaction_id = ?")
            .bind(lot)
            .execute(&mut *conn)
            .await?;
        rows.push(
            append(
                conn,
                Entry {
                    profile_id,
                    kind: TxKind::Expire,
                    delta: Credits::new(remaining).checked_neg().map_err(money)?,
                    description: "",
                    reason: Some(Reason::BonusExpired),
                    tool: None,
                    order_no: None,
                    generation_id: None,
                    refund_of: None,
                },
                now,
            )
            .await?,
        );
    }
    Ok(rows)
}

/// Spends expiring bonus first, earliest end date first.
pub(crate) async fn drain_lots(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    mut amount: i64,
) -> CoreResult<()> {
    let lots: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id, remaining FROM bonus_lots
         WHERE profile_id = ? AND remaining > 0 ORDER BY expires_at_ms, transaction_id",
    )
    .bind(profile_id)
    .fetch_all(&mut *conn)
    .await?;
    for (lot, remaining) in lots {
        if amount == 0 {
            break;
        }
        let take = remaining.min(amount);
        sqlx::query("UPDATE bonus_lots SET remaining = remaining - ? WHERE transaction_id = ?")
            .bind(take)
            .bind(lot)
            .execute(&mut *conn)
            .await?;
        amount -= take;
    }
    Ok(())
}

async fn member_until_in(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
) -> CoreResult<Option<i64>> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT member_until_ms FROM profiles WHERE id = ?")
            .bind(profile_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(until,)| until)
        .ok_or(CoreError::UnknownProfile(profile_id))
}

/// The common charge as one statement: no open bonus lots to expire or drain,
/// and enough credits (or an active membership, which records a charge of 0).
/// Anything else writes nothing and yields `None`. One statement is atomic on its
/// own, so this is race-free in autocommit too: SQLite takes the write lock before
/// it reads (and waits for it through the busy handler), as `BEGIN IMMEDIATE` does.
async fn consume_common<'e, E>(
    executor: E,
    profile_id: ProfileId,
    cost: Credits,
    tool: Tool,
    description: &str,
    generation_id: Option<GenerationId>,
    now: DateTime<Utc>,
) -> CoreResult<Option<Charge>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let written: Option<(i64, i64, i64)> = sqlx::query_as(
        "INSERT INTO credit_transactions
           (profile_id, kind, delta, balance_after, description, tool, generation_id, created_at_ms,
            reason)
         SELECT id, 'CONSUME', delta, credits + delta, ?3, ?4, ?5, ?6, 'generation'
         FROM (SELECT id, credits,
                      CASE WHEN member_until_ms > ?6 THEN 0 ELSE 0 - ?2 END AS delta
               FROM profiles WHERE id = ?1)
         WHERE credits + delta >= 0
           AND NOT EXISTS (SELECT 1 FROM bonus_lots
                           WHERE profile_id = ?1 AND remaining > 0)
         RETURNING id, delta, balance_after",
    )
    .bind(profile_id)
    .bind(cost)
    .bind(description)
    .bind(tool)
    .bind(generation_id)
    .bind(to_ms(now))
    .fetch_optional(executor)
    .await?;
    written
        .map(|(transaction_id, delta, balance_after)| {
            Ok(Charge {
                transaction_id,
                charged: Credits::new(delta).checked_neg().map_err(money)?,
                balance_after: Credits::new(balance_after),
                member: delta == 0,
            })
        })
        .transpose()
}

/// Charges one generation with `tool` inside an open write transaction.
pub(crate) async fn consume_in(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    tool: Tool,
    description: &str,
    generation_id: Option<GenerationId>,
    now: DateTime<Utc>,
) -> CoreResult<Charge> {
    let cost = cost_of(tool);
    check_description(description)?;
    if let Some(charge) = consume_common(
        &mut *conn,
        profile_id,
        cost,
        tool,
        description,
        generation_id,
        now,
    )
    .await?
    {
        return Ok(charge);
    }
    // Bonus lots to expire or drain, too few credits, or no such profile.
    let row: Option<(Option<i64>, bool)> = sqlx::query_as(
        "SELECT member_until_ms,
                EXISTS(SELECT 1 FROM bonus_lots l WHERE l.profile_id = p.id AND l.remaining > 0)
         FROM profiles p WHERE id = ?",
    )
    .bind(profile_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (until, has_lots) = row.ok_or(CoreError::UnknownProfile(profile_id))?;
    let member = until.is_some_and(|until| until > to_ms(now));
    if has_lots {
        expire_due_in(conn, profile_id, now).await?;
    }
    let charged = if member { Credits::ZERO } else { cost };
    let tx = append(
        conn,
        Entry {
            profile_id,
            kind: TxKind::Consume,
            delta: charged.checked_neg().map_err(money)?,
            description,
            reason: Some(Reason::Generation),
            tool: Some(tool),
            order_no: None,
            generation_id,
            refund_of: None,
        },
        now,
    )
    .await?;
    if charged.is_positive() && has_lots {
        drain_lots(conn, profile_id, charged.get()).await?;
    }
    Ok(Charge {
        transaction_id: tx.id,
        charged,
        balance_after: tx.balance_after,
        member,
    })
}

/// Charges one generation: free for an active member (still recorded), the
/// tool's cost otherwise; `InsufficientCredits` says how many are missing.
pub async fn check_and_consume(
    db: &Database,
    profile_id: ProfileId,
    tool: Tool,
    description: &str,
    now: DateTime<Utc>,
) -> CoreResult<Charge> {
    let cost = cost_of(tool);
    check_description(description)?;
    // Most charges need no transaction around them: one statement, one commit.
    if let Some(charge) = consume_common(db, profile_id, cost, tool, description, None, now).await?
    {
        return Ok(charge);
    }
    let mut tx = begin_write(db).await?;
    let charge = consume_in(&mut tx, profile_id, tool, description, None, now).await?;
    tx.commit().await?;
    Ok(charge)
}

/// Refunds a consumption inside an open write transaction. A zero-credit
/// (member) consumption has nothing to refund and yields `None`.
pub(crate) async fn refund_in(
    conn: &mut SqliteConnection,
    consume_id: i64,
    reason: Reason,
    description: &str,
    now: DateTime<Utc>,
) -> CoreResult<Option<Transaction>> {
    let row = sqlx::query(&format!(
        "SELECT {TX_COLUMNS} FROM credit_transactions WHERE id = ?"
    ))
    .bind(consume_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(CoreError::UnknownTransaction(consume_id))?;
    let consume = row_to_tx(&row)?;
    if consume.kind != TxKind::Consume {
        return Err(CoreError::UnknownTransaction(consume_id));
    }
    if consume.delta == 0 {
        return Ok(None);
    }
    let already: Option<i64> =
        sqlx::query_scalar("SELECT id FROM credit_transactions WHERE refund_of = ?")
            .bind(consume_id)
            .fetch_optional(&mut *conn)
            .await?;
    if already.is_some() {
        return Err(CoreError::AlreadyRefunded(consume_id));
    }
    let refund = append(
        conn,
        Entry {
            profile_id: consume.profile_id,
            kind: TxKind::Refund,
            delta: consume.delta.checked_neg().map_err(money)?,
            description,
            reason: Some(reason),
            tool: consume.tool,
            order_no: None,
            generation_id: consume.generation_id,
            refund_of: Some(consume_id),
        },
        now,
    )
    .await?;
    Ok(Some(refund))
}

/// Gives back exactly what a consumption took, once.
pub async fn refund(
    db: &Database,
    consume_id: i64,
    description: &str,
    now: DateTime<Utc>,
) -> CoreResult<Option<Transaction>> {
    let mut tx = begin_write(db).await?;
    check_description(description)?;
    let refund = refund_in(&mut tx, consume_id, Reason::Refund, description, now).await?;
    tx.commit().await?;
    Ok(refund)
}

fn validate_grant(grant: &Grant, now: DateTime<Utc>) -> CoreResult<()> {
    if !grant.credits.is_positive() {
        return Err(CoreError::InvalidAmount("credits must be positive"));
    }
    if grant.credits.get() > MAX_GRANT_CREDITS {
        return Err(CoreError::InvalidAmount(
            "credits above the single-grant limit",
        ));
    }
    match (grant.kind, grant.expires_at) {
        (GrantKind::Recharge, Some(_)) => Err(invalid("expires_at", "only bonus credits expire")),
        (GrantKind::Bonus, Some(at)) if at <= now => {
            Err(invalid("expires_at", "must be in the future"))
        }
        _ => Ok(()),
    }
}

pub(crate) async fn add_credits_in(
    conn: &mut SqliteConnection,
    profile_id: ProfileId,
    grant: &Grant,
    reason: Option<Reason>,
    now: DateTime<Utc>,
) -> CoreResult<Transaction> {
    validate_grant(grant, now)?;
    let kind = match grant.kind {
        GrantKind::Recharge => TxKind::Recharge,
        GrantKind::Bonus => TxKind::Bonus,
    };
    let tx = append(
        conn,
        Entry {
            profile_id,
            kind,
            delta: grant.credits,
            description: &grant.description,
            reason,
            tool: None,
            order_no: grant.order_no.as_deref(),
            generation_id: None,
            refund_of: None,
        },
        now,
    )
    .await?;
    if let Some(expires_at) = grant.expires_at {
        sqlx::query(
            "INSERT INTO bonus_lots (transaction_id, profile_id, remaining, expires_at_ms)
             VALUES (?, ?, ?, ?)",
        )
        .bind(tx.id)
        .bind(profile_id)
        .bind(grant.credits)
        .bind(to_ms(expires_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(tx)
}

/// Adds RECHARGE or BONUS credits (a BONUS may carry an end date).
pub async fn add_credits(
    db: &Database,
    profile_id: ProfileId,
    grant: &Grant,
    now: DateTime<Utc>,
) -> CoreResult<Transaction> {
    validate_grant(grant, now)?;
    let mut tx = begin_write(db).await?;
    let row = add_credits_in(&mut tx, profile_id, grant, None, now).await?;
    tx.commit().await?;
    Ok(row)
}

/// Credits and membership as of `now`, after expiring due bonus credits.
pub async fn balance(
    db: &Database,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> CoreResult<Balance> {
    let mut tx = begin_write(db).await?;
    let until = member_until_in(&mut tx, profile_id).await?;
    expire_due_in(&mut tx, profile_id, now).await?;
    let credits: Credits = sqlx::query_scalar("SELECT credits FROM profiles WHERE id = ?")
        .bind(profile_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Balance {
        profile_id,
        credits,
        is_member: until.is_some_and(|u| u > to_ms(now)),
        member_until: until.map(from_ms),
    })
}

/// Expires due bonus credits of every profile; returns the EXPIRE rows written.
pub async fn expire_bonuses(db: &Database, now: DateTime<Utc>) -> CoreResult<Vec<Transaction>> {
    let profiles: Vec<ProfileId> = sqlx::query_scalar(
        "SELECT DISTINCT profile_id FROM bonus_lots WHERE remaining > 0 AND expires_at_ms <= ?",
    )
    .bind(to_ms(now))
    .fetch_all(db)
    .await?;
    let mut out = Vec::new();
    for profile_id in profiles {
        let mut tx = begin_write(db).await?;
        out.extend(expire_due_in(&mut tx, profile_id, now).await?);
        tx.commit().await?;
    }
    Ok(out)
}

/// Filters of the transaction history; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TxFilter {
    #[serde(default)]
    pub kinds: Vec<TxKind>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: Option<DateTime<Utc>>,
    /// Matched against the description, the order number and the package's SKU.
    pub text: Option<String>,
}

/// Keyset pagination: the next page starts below `before_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PageRequest {
    pub limit: u32,
    pub before_id: Option<i64>,
}

impl PageRequest {
    /// The newest `limit` rows.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit,
            before_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxPage {
    pub items: Vec<Transaction>,
    /// Pass as `before_id` for the next page; `None` on the last page.
    pub next_before_id: Option<i64>,
}

pub const MAX_PAGE: u32 = 100;

fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The profile's transactions, newest first, filtered and paginated.
pub async fn transactions(
    db: &Database,
    profile_id: ProfileId,
    filter: &TxFilter,
    page: PageRequest,
) -> CoreResult<TxPage> {
    if page.limit == 0 || page.limit > MAX_PAGE {
        return Err(invalid("limit", "must be 1 to 100"));
    }
    let columns = TX_COLUMNS
        .split(", ")
        .map(|c| format!("t.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // The purchase behind a credited row (or a refunded one's take-back) names its package
    // (in the UI's language).
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {columns}, p.sku AS package_sku, p.credits AS package_credits,
                p.bonus_credits AS package_bonus
         FROM credit_transactions t
         LEFT JOIN purchases p ON p.order_no = t.order_no
              AND (t.kind IN ('RECHARGE', 'BONUS') OR t.reason = 'purchase_refunded')
         WHERE t.profile_id = "
    ));
    q.push_bind(profile_id);
    if let Some(before) = page.before_id {
        q.push(" AND t.id < ").push_bind(before);
    }
    if !filter.kinds.is_empty() {
        q.push(" AND t.kind IN (");
        let mut sep = q.separated(", ");
        for kind in &filter.kinds {
            sep.push_bind(kind.as_str());
        }
        q.push(")");
    }
    if let Some(from) = filter.from {
        q.push(" AND t.created_at_ms >= ").push_bind(to_ms(from));
    }
    if let Some(to) = filter.to {
        q.push(" AND t.created_at_ms < ").push_bind(to_ms(to));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > 100 {
            return Err(invalid("search text", "too long"));
        }
        let pattern = like_pattern(text);
        q.push(" AND (t.description LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR t.order_no LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR p.sku LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    // One extra row tells whether another page exists.
    q.push(" ORDER BY t.id DESC LIMIT ")
        .push_bind(page.limit as i64 + 1);
    let rows = q.build().fetch_all(db).await?;
    let mut items = rows
        .iter()
        .map(|row| {
            let mut tx = row_to_tx(row)?;
            let sku: Option<String> = row.try_get("package_sku")?;
            if let Some(sku) = sku {
                tx.package = Some(PackageRef {
                    sku,
                    credits: row.try_get("package_credits")?,
                    bonus_credits: row.try_get("package_bonus")?,
                });
            }
            Ok(tx)
        })
        .collect::<CoreResult<Vec<_>>>()?;
    let next_before_id = if items.len() > page.limit as usize {
        items.truncate(page.limit as usize);
        items.last().map(|t| t.id)
    } else {
        None
    };
    Ok(TxPage {
        items,
        next_before_id,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindTotal {
    pub kind: TxKind,
    pub count: i64,
    pub credits: Credits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyTotal {
    /// Calendar day in China Standard Time (UTC+8), `YYYY-MM-DD`.
    pub day: String,
    pub kind: TxKind,
    pub count: i64,
    pub credits: Credits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub totals: Vec<KindTotal>,
    pub daily: Vec<DailyTotal>,
}

/// Totals per type and per day, for one profile or (admin) all of them.
pub async fn statistics(
    db: &Database,
    profile_id: Option<ProfileId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Statistics> {
    if from >= to {
        return Err(invalid("date range", "start must be before end"));
    }
    let scope = "(?1 IS NULL OR profile_id = ?1) AND created_at_ms >= ?2 AND created_at_ms < ?3";
    let totals: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT kind, COUNT(*), COALESCE(SUM(delta), 0) FROM credit_transactions
         WHERE {scope} GROUP BY kind ORDER BY kind"
    ))
    .bind(profile_id)
    .bind(to_ms(from))
    .bind(to_ms(to))
    .fetch_all(db)
    .await?;
    let daily: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT date(created_at_ms / 1000 + 8 * 3600, 'unixepoch') AS day, kind,
                COUNT(*), COALESCE(SUM(delta), 0)
         FROM credit_transactions WHERE {scope} GROUP BY day, kind ORDER BY day, kind"
    ))
    .bind(profile_id)
    .bind(to_ms(from))
    .bind(to_ms(to))
    .fetch_all(db)
    .await?;
    let corrupt = |_| CoreError::Corrupt("unknown transaction kind".into());
    Ok(Statistics {
        totals: totals
            .into_iter()
            .map(|(kind, count, credits)| {
                Ok(KindTotal {
                    kind: TxKind::parse(&kind).map_err(corrupt)?,
                    count,
                    credits: Credits::new(credits),
                })
            })
            .collect::<CoreResult<_>>()?,
        daily: daily
            .into_iter()
            .map(|(day, kind, count, credits)| {
                Ok(DailyTotal {
                    day,
                    kind: TxKind::parse(&kind).map_err(corrupt)?,
                    count,
                    credits: Credits::new(credits),
                })
            })
            .collect::<CoreResult<_>>()?,
    })
}

/// Checks every ledger invariant over the whole database and lists what is
/// broken (empty when all hold). Tests run it after every step.
pub async fn audit(db: &Database) -> CoreResult<Vec<String>> {
    let mut problems = Vec::new();
    let rows: Vec<(i64, i64, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT p.id, p.credits,
                COALESCE((SELECT SUM(delta) FROM credit_transactions t WHERE t.profile_id = p.id), 0),
                (SELECT balance_after FROM credit_transactions t WHERE t.profile_id = p.id
                 ORDER BY id DESC LIMIT 1),
                COALESCE((SELECT SUM(remaining) FROM bonus_lots l WHERE l.profile_id = p.id), 0)
         FROM profiles p",
    )
    .fetch_all(db)
    .await?;
    for (id, credits, sum, last, lots) in rows {
        if credits < 0 {
            problems.push(format!("profile {id}: negative balance {credits}"));
        }
        if credits != sum {
            problems.push(format!(
                "profile {id}: balance {credits} != sum of deltas {sum}"
            ));
        }
        if credits != last.unwrap_or(0) {
            problems.push(format!(
                "profile {id}: balance {credits} != last balance_after {last:?}"
            ));
        }
        if lots > credits {
            problems.push(format!(
                "profile {id}: unspent bonus {lots} > balance {credits}"
            ));
        }
    }
    let bad_refunds: Vec<(i64,)> = sqlx::query_as(
        "SELECT r.id FROM credit_transactions r
         LEFT JOIN credit_transactions c ON c.id = r.refund_of
         WHERE r.kind = 'REFUND'
           AND (c.id IS NULL OR c.kind != 'CONSUME' OR c.delta != -r.delta OR c.profile_id != r.profile_id)",
    )
    .fetch_all(db)
    .await?;
    for (id,) in bad_refunds {
        problems.push(format!("refund {id} does not mirror its consumption"));
    }
    let double_orders: Vec<(String, String)> = sqlx::query_as(
        "SELECT order_no, kind FROM credit_transactions WHERE order_no IS NOT NULL
         GROUP BY order_no, kind HAVING COUNT(*) > 1",
    )
    .fetch_all(db)
    .await?;
    for (order_no, kind) in double_orders {
        problems.push(format!("order {order_no} credited twice as {kind}"));
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{open, profiles};

    /// The process dies between the charge and the rest of its transaction:
    /// SQLite rolls the uncommitted charge back, on a real file, after reopening.
    #[tokio::test]
    async fn a_charge_whose_transaction_never_commits_loses_no_credit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let now = Utc::now();
        let db = open(&path).await.unwrap();
        let p = profiles::create_profile(&db, "writer", "password123", false, now)
            .await
            .unwrap();
        let grant = Grant {
            kind: GrantKind::Recharge,
            credits: Credits::new(10),
            description: "top-up".into(),
            order_no: None,
            expires_at: None,
        };
        add_credits(&db, p.id, &grant, now).await.unwrap();
        {
            let mut tx = begin_write(&db).await.unwrap();
            let charge = consume_in(&mut tx, p.id, Tool::Article, "x", None, now)
                .await
                .unwrap();
            assert_eq!(charge.balance_after, 0);
            // Dropped here without commit, as when the process is killed.
        }
        db.close().await;
        let db = open(&path).await.unwrap();
        assert_eq!(balance(&db, p.id, now).await.unwrap().credits, 10);
        assert!(audit(&db).await.unwrap().is_empty());
    }
}
