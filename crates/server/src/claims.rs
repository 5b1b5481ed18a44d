//! Claims of credit receipts per installation (issue 14). A credit package is a consumable:
//! `POST /v1/receipts/{order_no}/claim` with `{"installation_id"}` records the first
//! installation that credits it (one row per receipt: the primary key decides a race), answers
//! the same to that installation every time, and tells any other installation that it was
//! credited elsewhere and when. The receipt and its verification are unchanged.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use inkstone_domain::OrderNo;
use serde::{Deserialize, Serialize};

use crate::app::{account, AppState};
use crate::error::ApiError;
use crate::orders::now_ms;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/receipts/{order_no}/claim", post(claim))
}

/// An installation id: 8–64 characters of letters, digits, `-` and `_`.
pub fn check_installation_id(id: &str) -> Result<(), ApiError> {
    let ok = (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest("malformed installation_id".into()))
    }
}

#[derive(Deserialize)]
struct ClaimRequest {
    installation_id: String,
}

/// The answer to a claim: credit it here (`claimed_here`), or it was credited elsewhere.
#[derive(Debug, Serialize)]
pub struct Claim {
    pub order_no: OrderNo,
    pub claimed_here: bool,
    pub claimed_at_ms: i64,
}

async fn claim(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Path(order_no): Path<String>,
    Json(body): Json<ClaimRequest>,
) -> Result<Json<Claim>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    check_installation_id(&body.installation_id)?;
    // A number that cannot be an order is "not found", as a lookup would answer.
    let order_no = OrderNo::parse(&order_no).map_err(|_| ApiError::NotFound)?;
    // Only this account's credit receipts can be claimed; anything else is "not found".
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT o.kind FROM receipts r JOIN orders o ON o.order_no = r.order_no
         WHERE r.order_no = $1 AND r.account_id = $2",
    )
    .bind(&order_no)
    .bind(&account_id)
    .fetch_optional(&s.db)
    .await?;
    match kind.as_deref() {
        None => return Err(ApiError::NotFound),
        Some("credits") => {}
        Some(_) => {
            return Err(ApiError::BadRequest(
                "memberships follow the account and are not claimed".into(),
            ))
        }
    }
    sqlx::query(
        "INSERT INTO receipt_claims (order_no, account_id, installation_id, claimed_at_ms)
         VALUES ($1, $2, $3, $4) ON CONFLICT (order_no) DO NOTHING",
    )
    .bind(&order_no)
    .bind(&account_id)
    .bind(&body.installation_id)
    .bind(now_ms())
    .execute(&s.db)
    .await?;
    let (installation, at): (String, i64) = sqlx::query_as(
        "SELECT installation_id, claimed_at_ms FROM receipt_claims WHERE order_no = $1",
    )
    .bind(&order_no)
    .fetch_one(&s.db)
    .await?;
    Ok(Json(Claim {
        order_no,
        claimed_here: installation == body.installation_id,
        claimed_at_ms: at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installation_ids_are_bounded_and_plain() {
        assert!(check_installation_id("inst_0123456789abcdef").is_ok());
        for bad in ["", "short", "has space here", &"x".repeat(65), "ünïcødé-id"] {
            assert!(check_installation_id(bad).is_err(), "{bad:?}");
        }
    }
}
