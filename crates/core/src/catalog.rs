//! The catalog cache: what can be bought and for how much, as the server last
//! said. The desktop shows it offline but never decides an amount with it:
//! the server prices every order from its own catalog. The catalog itself is
//! `inkstone-catalog`'s, shared with the server.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{invalid, CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

pub use inkstone_catalog::{
    default_catalog, Catalog, CatalogError, CreditPackage, MembershipPlan, MAX_BONUS_VALID_DAYS,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedCatalog {
    pub catalog: Catalog,
    /// `None` while only the built-in catalog has been seen.
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Replaces the cached catalog atomically.
pub async fn store_catalog(db: &Database, catalog: &Catalog, now: DateTime<Utc>) -> CoreResult<()> {
    catalog
        .validate()
        .map_err(|e| invalid("catalog", e.reason()))?;
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
