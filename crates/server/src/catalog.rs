//! What can be bought and for how much. The server owns this; clients only
//! ever name a sku. Same JSON shape as the desktop's cached catalog.

use inkstone_pay::receipt::{Purchase, Receipt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::Db;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPackage {
    pub sku: String,
    pub credits: i64,
    pub bonus_credits: i64,
    pub price_fen: i64,
    /// The bonus credits expire this many days after the purchase is credited (written as an
    /// EXPIRE row); `None`: they never do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_valid_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipPlan {
    pub sku: String,
    pub plan: String,
    pub days: i64,
    pub price_fen: i64,
    pub original_price_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub credit_packages: Vec<CreditPackage>,
    pub membership_plans: Vec<MembershipPlan>,
}

/// The seed report's prices: 1 CNY = 10 credits; 9.9 CNY a month.
pub fn default_catalog() -> Catalog {
    let p = |sku: &str, credits, bonus_credits, price_fen| CreditPackage {
        sku: sku.into(),
        credits,
        bonus_credits,
        price_fen,
        bonus_valid_days: None,
    };
    let m = |sku: &str, plan: &str, days, price_fen, original_price_fen| MembershipPlan {
        sku: sku.into(),
        plan: plan.into(),
        days,
        price_fen,
        original_price_fen,
    };
    Catalog {
        credit_packages: vec![
            p("credits_10", 10, 0, 100),
            p("credits_100", 100, 10, 1_000),
            p("credits_500", 500, 100, 5_000),
            p("credits_1000", 1_000, 300, 10_000),
        ],
        membership_plans: vec![
            m("member_month", "month", 30, 990, 1_990),
            m("member_quarter", "quarter", 90, 2_500, 5_970),
            m("member_year", "year", 365, 8_800, 23_880),
        ],
    }
}

/// Whether a receipt for `purchase` at `price_fen` could be signed: an item a receipt
/// would refuse is never sold (the order would be paid and then have no receipt).
fn receipt_would_accept(purchase: Purchase, price_fen: i64) -> Result<(), String> {
    let receipt = Receipt {
        order_no: "IK00000000000000000000000000".into(),
        account_id: "acct_check".into(),
        purchase,
        amount_fen: price_fen,
        currency: "CNY".into(),
        provider: "check".into(),
        provider_txn_id: "check".into(),
        paid_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    };
    receipt.validate().map_err(|e| e.to_string())
}

impl Catalog {
    pub fn validate(&self) -> Result<(), String> {
        let mut skus = std::collections::HashSet::new();
        for p in &self.credit_packages {
            receipt_would_accept(
                Purchase::Credits {
                    sku: p.sku.clone(),
                    credits: p.credits,
                    bonus_credits: p.bonus_credits,
                },
                p.price_fen,
            )
            .map_err(|e| format!("credit package {:?}: {e}", p.sku))?;
            if !skus.insert(&p.sku)
                || p.sku.is_empty()
                || p.price_fen <= 0
                || p.credits <= 0
                || p.bonus_credits < 0
                || p.bonus_valid_days.is_some_and(|d| !(1..=3650).contains(&d))
            {
                return Err(format!("bad credit package {}", p.sku));
            }
        }
        for m in &self.membership_plans {
            receipt_would_accept(
                Purchase::Membership {
                    sku: m.sku.clone(),
                    plan: m.plan.clone(),
                    days: m.days,
                },
                m.price_fen,
            )
            .map_err(|e| format!("membership plan {:?}: {e}", m.sku))?;
            if !skus.insert(&m.sku)
                || m.sku.is_empty()
                || m.price_fen <= 0
                || m.days <= 0
                || m.original_price_fen < m.price_fen
            {
                return Err(format!("bad membership plan {}", m.sku));
            }
        }
        Ok(())
    }
}

pub fn etag_of(body: &str) -> String {
    format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    )
}

/// The stored catalog and its ETag, seeding the default on first use.
pub async fn load(db: &Db) -> Result<(Catalog, String, String), sqlx::Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT body, etag FROM catalog WHERE id = 1")
            .fetch_optional(db)
            .await?;
    let (body, etag) = match row {
        Some(r) => r,
        None => {
            store(db, &default_catalog(), 0).await?;
            return Box::pin(load(db)).await;
        }
    };
    let catalog: Catalog =
        serde_json::from_str(&body).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok((catalog, body, etag))
}

/// Replaces the catalog (admin command).
pub async fn store(db: &Db, catalog: &Catalog, now_ms: i64) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(catalog).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let etag = etag_of(&body);
    sqlx::query(
        "INSERT INTO catalog (id, body, etag, updated_at_ms) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, etag = excluded.etag, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(body)
    .bind(etag)
    .bind(now_ms)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_is_valid() {
        assert_eq!(default_catalog().validate(), Ok(()));
    }

    #[test]
    fn the_catalog_refuses_what_a_receipt_would_refuse() {
        let base = default_catalog();
        let mut long_sku = base.clone();
        long_sku.credit_packages[0].sku = "x".repeat(129);
        let mut control = base.clone();
        control.membership_plans[0].sku = "member\nmonth".into();
        let mut too_many_credits = base.clone();
        too_many_credits.credit_packages[0].credits = 100_000_001;
        let mut too_much_bonus = base.clone();
        too_much_bonus.credit_packages[0].bonus_credits = 100_000_001;
        let mut too_many_days = base.clone();
        too_many_days.membership_plans[0].days = 3661;
        let mut no_plan = base.clone();
        no_plan.membership_plans[0].plan = String::new();
        let mut duplicate = base.clone();
        duplicate.membership_plans[0].sku = "credits_10".into();
        let mut free = base.clone();
        free.credit_packages[0].price_fen = 0;
        for (name, bad) in [
            ("long sku", long_sku),
            ("control character", control),
            ("credits", too_many_credits),
            ("bonus", too_much_bonus),
            ("days", too_many_days),
            ("plan", no_plan),
            ("duplicate", duplicate),
            ("free", free),
        ] {
            assert!(bad.validate().is_err(), "{name}");
        }
    }
}
