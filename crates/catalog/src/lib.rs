//! What can be bought and for how much, defined once for the payment endpoint (which sells
//! from it and prices every order by it) and the desktop (which shows a cached copy offline
//! and never decides an amount with it). The JSON shape is the one `GET /v1/catalog` serves.
//!
//! Invariants of a [`Catalog`] that passes [`Catalog::validate`]: skus are unique and
//! non-empty; every price and every credit amount is positive (a bonus may be zero); a plan's
//! original price is at least its price; a bonus expires after 1 to 3650 days or never; and a
//! receipt for every item at its price would be signed and accepted, so nothing can be sold
//! that could be paid for and then not be credited.
//!
//! ```
//! use inkstone_catalog::default_catalog;
//! use inkstone_domain::{Credits, Fen};
//! let catalog = default_catalog();
//! assert_eq!(catalog.validate(), Ok(()));
//! // The seed report's prices: 1 CNY = 10 credits; 9.9 CNY a month.
//! let hundred = catalog.credit_package("credits_100").unwrap();
//! assert_eq!(hundred.price_fen.to_credits(), Ok(hundred.credits));
//! assert_eq!(hundred.bonus_credits, Credits::new(10));
//! assert_eq!(catalog.membership_plan("member_month").unwrap().price_fen.get(), 990);
//!
//! let mut free = catalog.clone();
//! free.credit_packages[0].price_fen = Fen::ZERO;
//! assert!(free.validate().is_err());
//! ```
#![forbid(unsafe_code)]

use inkstone_domain::{Credits, Fen};
use inkstone_receipt::{Purchase, Receipt, ReceiptError};
use serde::{Deserialize, Serialize};

/// The longest a bonus may stay valid: ten years.
pub const MAX_BONUS_VALID_DAYS: i64 = 3650;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPackage {
    pub sku: String,
    pub credits: Credits,
    pub bonus_credits: Credits,
    pub price_fen: Fen,
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
    pub price_fen: Fen,
    pub original_price_fen: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub credit_packages: Vec<CreditPackage>,
    pub membership_plans: Vec<MembershipPlan>,
}

/// Why a catalog cannot be sold from or shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Occurs when an item breaks one of the catalog's own rules.
    #[error("catalog item {sku:?}: {reason}")]
    Item { sku: String, reason: &'static str },
    /// Occurs when a receipt for the item at its price would be refused.
    #[error("catalog item {sku:?}: a receipt for it would be refused: {source}")]
    Receipt {
        sku: String,
        #[source]
        source: ReceiptError,
    },
}

impl CatalogError {
    /// The rule that was broken, without the item (for errors that take a fixed text).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Item { reason, .. } => reason,
            Self::Receipt { .. } => "an item a receipt would refuse",
        }
    }
}

/// The seed report's price tables (1 CNY = 10 credits; 9.9 CNY a month).
pub fn default_catalog() -> Catalog {
    // Literal prices are not negative; `Fen::ZERO` would fail validation loudly.
    let fen = |n: i64| Fen::new(n).unwrap_or(Fen::ZERO);
    let package = |sku: &str, credits, bonus_credits, price_fen| CreditPackage {
        sku: sku.into(),
        credits: Credits::new(credits),
        bonus_credits: Credits::new(bonus_credits),
        price_fen: fen(price_fen),
        bonus_valid_days: None,
    };
    let plan = |sku: &str, plan: &str, days, price_fen, original_price_fen| MembershipPlan {
        sku: sku.into(),
        plan: plan.into(),
        days,
        price_fen: fen(price_fen),
        original_price_fen: fen(original_price_fen),
    };
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

/// Whether a receipt for `purchase` at `price_fen` could be signed.
fn receipt_would_accept(sku: &str, purchase: Purchase, price_fen: Fen) -> Result<(), CatalogError> {
    let receipt = Receipt {
        // A literal that parses; the error arm only satisfies the type.
        order_no: "IK00000000000000000000000000"
            .parse()
            .map_err(|_| CatalogError::Item {
                sku: sku.to_owned(),
                reason: "the check's order number does not parse",
            })?,
        account_id: "acct_check".into(),
        purchase,
        amount_fen: price_fen,
        currency: "CNY".into(),
        provider: "check".into(),
        provider_txn_id: "check".into(),
        paid_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    };
    receipt.validate().map_err(|source| CatalogError::Receipt {
        sku: sku.to_owned(),
        source,
    })
}

impl Catalog {
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut skus = std::collections::HashSet::new();
        let item = |sku: &str, reason| CatalogError::Item {
            sku: sku.to_owned(),
            reason,
        };
        for p in &self.credit_packages {
            if p.sku.is_empty() || !skus.insert(p.sku.as_str()) {
                return Err(item(&p.sku, "empty or duplicate sku"));
            }
            if !p.price_fen.is_positive()
                || !p.credits.is_positive()
                || p.bonus_credits.is_negative()
            {
                return Err(item(&p.sku, "non-positive price or credits"));
            }
            if p.bonus_valid_days
                .is_some_and(|d| !(1..=MAX_BONUS_VALID_DAYS).contains(&d))
            {
                return Err(item(&p.sku, "bonus_valid_days out of range"));
            }
            let purchase = Purchase::Credits {
                sku: p.sku.clone(),
                credits: p.credits,
                bonus_credits: p.bonus_credits,
            };
            receipt_would_accept(&p.sku, purchase, p.price_fen)?;
        }
        for m in &self.membership_plans {
            if m.sku.is_empty() || !skus.insert(m.sku.as_str()) {
                return Err(item(&m.sku, "empty or duplicate sku"));
            }
            if !m.price_fen.is_positive() || m.days <= 0 || m.original_price_fen < m.price_fen {
                return Err(item(&m.sku, "bad plan price or length"));
            }
            let purchase = Purchase::Membership {
                sku: m.sku.clone(),
                plan: m.plan.clone(),
                days: m.days,
            };
            receipt_would_accept(&m.sku, purchase, m.price_fen)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_is_valid_and_round_trips_as_json() {
        let catalog = default_catalog();
        assert_eq!(catalog.validate(), Ok(()));
        let json = serde_json::to_string(&catalog).unwrap();
        assert!(!json.contains("bonus_valid_days"), "absent when never");
        assert_eq!(serde_json::from_str::<Catalog>(&json).unwrap(), catalog);
    }

    #[test]
    fn the_catalog_refuses_what_a_receipt_would_refuse_and_its_own_bad_items() {
        let base = default_catalog();
        let bad = |change: &dyn Fn(&mut Catalog)| {
            let mut c = base.clone();
            change(&mut c);
            c.validate()
        };
        type Change = Box<dyn Fn(&mut Catalog)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "long sku",
                Box::new(|c| c.credit_packages[0].sku = "x".repeat(129)),
            ),
            (
                "control character",
                Box::new(|c| c.membership_plans[0].sku = "member\nmonth".into()),
            ),
            (
                "credits",
                Box::new(|c| c.credit_packages[0].credits = Credits::new(100_000_001)),
            ),
            (
                "bonus",
                Box::new(|c| c.credit_packages[0].bonus_credits = Credits::new(100_000_001)),
            ),
            (
                "negative bonus",
                Box::new(|c| c.credit_packages[0].bonus_credits = Credits::new(-1)),
            ),
            ("days", Box::new(|c| c.membership_plans[0].days = 3661)),
            (
                "plan",
                Box::new(|c| c.membership_plans[0].plan = String::new()),
            ),
            (
                "duplicate",
                Box::new(|c| c.membership_plans[0].sku = "credits_10".into()),
            ),
            (
                "empty sku",
                Box::new(|c| c.credit_packages[1].sku = String::new()),
            ),
            (
                "free",
                Box::new(|c| c.credit_packages[0].price_fen = Fen::ZERO),
            ),
            (
                "discount above price",
                Box::new(|c| c.membership_plans[0].original_price_fen = Fen::new(1).unwrap()),
            ),
            (
                "bonus forever and a day",
                Box::new(|c| c.credit_packages[0].bonus_valid_days = Some(3651)),
            ),
            (
                "bonus for no day",
                Box::new(|c| c.credit_packages[0].bonus_valid_days = Some(0)),
            ),
        ];
        for (name, change) in &cases {
            assert!(bad(change.as_ref()).is_err(), "{name}");
        }
        let mut dated = base.clone();
        dated.credit_packages[0].bonus_valid_days = Some(30);
        assert_eq!(dated.validate(), Ok(()));
    }
}
