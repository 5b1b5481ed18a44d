//! What can be bought and for how much. The server owns this; clients only
//! ever name a sku. The catalog's shape and rules are `inkstone-catalog`'s, shared with the
//! desktop's cache; here it is stored and served.

use sha2::{Digest, Sha256};

use crate::store::Db;

pub use inkstone_catalog::{default_catalog, Catalog, CatalogError, CreditPackage, MembershipPlan};

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
