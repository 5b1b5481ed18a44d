//! The catalog cache: what can be bought and for how much, as the server last
//! said. The desktop shows it offline but never decides an amount with it:
//! the server prices every order from its own catalog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// The longest a bonus may stay valid: ten years.
pub const MAX_BONUS_VALID_DAYS: i64 = 3650;

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
    /// `month`, `quarter` or `year`.
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedCatalog {
    pub catalog: Catalog,
    /// `None` while only the built-in catalog has been seen.
    pub fetched_at: Option<DateTime<Utc>>,
}

fn package(sku: &str, credits: i64, bonus_credits: i64, price_fen: i64) -> CreditPackage {
    CreditPackage {
        sku: sku.into(),
        credits,
        bonus_credits,
        price_fen,
        bonus_valid_days: None,
    }
}

fn plan(
    sku: &str,
    plan: &str,
    days: i64,
    price_fen: i64,
    original_price_fen: i64,
) -> MembershipPlan {
    MembershipPlan {
        sku: sku.into(),
        plan: plan.into(),
        days,
        price_fen,
        original_price_fen,
    }
}

/// The seed report's price tables (1 CNY = 10 credits), used until the server answers.
pub fn default_catalog() -> Catalog {
    Catalog {
        credit_packages: vec![
            package("credits_10", 10, 0, 100),
            package("credits_100", 100, 10, 1_000),
            package("credits_500", 500, 100, 5_000),
            package("credits_1000", 1_000, 300, 10_000),
        ],
        membership_plans: vec![
            plan("member_month", "month", 30, 990, 1_990),
            plan("member_quarter", "quarter", 90, 2_500, 5_970),
            plan("member_year", "year", 365, 8_800, 23_880),
        ],
    }
}

impl Catalog {
    /// Rejects a catalog that could not be shown honestly.
    pub fn validate(&self) -> CoreResult<()> {
        let mut skus = std::collections::HashSet::new();
        for p in &self.credit_packages {
            if !skus.insert(p.sku.as_str()) || p.sku.is_empty() {
                return Err(invalid("catalog", "empty or duplicate sku"));
            }
            if p.price_fen <= 0 || p.credits <= 0 || p.bonus_credits < 0 {
                return Err(invalid("catalog", "non-positive price or credits"));
            }
            if p.bonus_valid_days
                .is_some_and(|d| !(1..=MAX_BONUS_VALID_DAYS).contains(&d))
            {
                return Err(invalid("catalog", "bonus_valid_days out of range"));
            }
        }
        for m in &self.membership_plans {
            if !skus.insert(m.sku.as_str()) || m.sku.is_empty() {
                return Err(invalid("catalog", "empty or duplicate sku"));
            }
            if m.price_fen <= 0 || m.days <= 0 || m.original_price_fen < m.price_fen {
                return Err(invalid("catalog", "bad plan price or length"));
            }
        }
        Ok(())
    }

    pub fn credit_package(&self, sku: &str) -> Option<&CreditPackage> {
        self.credit_packages.iter().find(|p| p.sku == sku)
    }

    pub fn membership_plan(&self, sku: &str) -> Option<&MembershipPlan> {
        self.membership_plans.iter().find(|p| p.sku == sku)
    }
}

/// Replaces the cached catalog atomically.
pub async fn store_catalog(db: &Database, catalog: &Catalog, now: DateTime<Utc>) -> CoreResult<()> {
    catalog.validate()?;
    let body = serde_json::to_string(catalog).map_err(|e| CoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO catalog_cache (id, body, fetched_at_ms) VALUES (1, ?, ?)
         ON CONFLICT(id) DO UPDATE SET body = excluded.body, fetched_at_ms = excluded.fetched_at_ms",
    )
    .bind(body)
    .bind(to_ms(now))
    .execute(db)
    .await?;
    Ok(())
}

/// The last stored catalog, or the built-in one.
pub async fn cached_catalog(db: &Database) -> CoreResult<CachedCatalog> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT body, fetched_at_ms FROM catalog_cache WHERE id = 1")
            .fetch_optional(db)
            .await?;
    match row {
        None => Ok(CachedCatalog {
            catalog: default_catalog(),
            fetched_at: None,
        }),
        Some((body, at)) => Ok(CachedCatalog {
            catalog: serde_json::from_str(&body).map_err(|e| CoreError::Corrupt(e.to_string()))?,
            fetched_at: Some(from_ms(at)),
        }),
    }
}
