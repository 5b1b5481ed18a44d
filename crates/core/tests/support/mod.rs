//! Shared fixtures for the core crate's integration tests.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use inkstone_core::ledger::{self, Grant, GrantKind};
use inkstone_core::{open_in_memory, profiles, Database};
use inkstone_receipt::{
    Credits, Fen, OrderNo, Purchase, Receipt, ReceiptSigner, SignedReceipt, TrustedKeys,
};
use sqlx::Row;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap()
}

pub async fn db() -> Database {
    open_in_memory().await.unwrap()
}

/// A profile holding `credits` non-expiring RECHARGE credits.
pub async fn profile_with(db: &Database, name: &str, credits: i64) -> inkstone_domain::ProfileId {
    let p = profiles::create_profile(db, name, "password123", false, t0())
        .await
        .unwrap();
    if credits > 0 {
        ledger::add_credits(db, p.id, &recharge(credits), t0())
            .await
            .unwrap();
    }
    p.id
}

pub fn recharge(credits: i64) -> Grant {
    Grant {
        kind: GrantKind::Recharge,
        credits: Credits::new(credits),
        description: "test recharge".into(),
        order_no: None,
        expires_at: None,
    }
}

/// Every row that money or membership depends on, as text, so a test can
/// assert that a rejected call changed nothing at all.
pub async fn snapshot(db: &Database) -> String {
    let mut out = String::new();
    for (table, order) in [
        ("profiles", "id"),
        ("credit_transactions", "id"),
        ("bonus_lots", "transaction_id"),
        ("purchases", "order_no"),
        ("generations", "id"),
    ] {
        let rows = sqlx::query(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .fetch_all(db)
            .await
            .unwrap();
        for row in rows {
            let mut line = format!("{table}:");
            for i in 0..row.len() {
                let v: Option<String> = row
                    .try_get::<Option<String>, _>(i)
                    .or_else(|_| {
                        row.try_get::<Option<i64>, _>(i)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .unwrap_or(None);
                line.push_str(&format!(" {v:?}"));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

pub async fn assert_sound(db: &Database) {
    let problems = ledger::audit(db).await.unwrap();
    assert!(
        problems.is_empty(),
        "ledger invariants broken: {problems:#?}"
    );
}

/// The order number a test calls `tag` ("ORD1"): a short name is no order number
/// (`OrderNo::parse` wants 6 to 32 characters), so every test number is issued from its tag.
pub fn order_no(tag: &str) -> OrderNo {
    OrderNo::parse(&format!("IKTEST{tag}")).expect("a test tag of letters, digits and -_")
}

pub struct Shop {
    pub signer: ReceiptSigner,
    pub keys: TrustedKeys,
}

impl Shop {
    pub fn new() -> Self {
        let signer = ReceiptSigner::from_secret_bytes([7; 32]);
        let keys = TrustedKeys::new([signer.public_key()]);
        Shop { signer, keys }
    }

    /// A signed credit receipt for the order `order_no(tag)`.
    pub fn credits(&self, tag: &str, account: &str, credits: i64, bonus: i64) -> SignedReceipt {
        self.signer
            .sign(receipt(
                tag,
                account,
                Purchase::Credits {
                    sku: format!("credits_{credits}"),
                    credits: Credits::new(credits),
                    bonus_credits: Credits::new(bonus),
                },
                Credits::new(credits).to_fen().unwrap().get(),
            ))
            .unwrap()
    }

    pub fn membership(&self, tag: &str, account: &str, days: i64) -> SignedReceipt {
        self.signer
            .sign(receipt(
                tag,
                account,
                Purchase::Membership {
                    sku: "member_month".into(),
                    plan: "month".into(),
                    days,
                },
                990,
            ))
            .unwrap()
    }
}

/// A receipt for the order `order_no(tag)`.
pub fn receipt(tag: &str, account: &str, purchase: Purchase, amount_fen: i64) -> Receipt {
    Receipt {
        order_no: order_no(tag),
        account_id: account.into(),
        purchase,
        amount_fen: Fen::new(amount_fen).unwrap(),
        currency: "CNY".into(),
        provider: "sandbox".into(),
        provider_txn_id: format!("txn-{tag}"),
        paid_at: t0(),
    }
}
