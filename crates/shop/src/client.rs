//! HTTP client of the payment endpoint (crates/server's `/v1` routes).

use std::time::Duration;

use chrono::{DateTime, Utc};
use inkstone_core::catalog::Catalog;
use inkstone_domain::OrderNo;
use inkstone_receipt::{PublicKeyInfo, SignedReceipt};
use serde::Deserialize;
use serde_json::json;

use crate::installation::InstallationId;
/// One page of `GET /v1/revocations`.
#[derive(Debug, Clone, Deserialize)]
pub struct RevocationPage {
    pub revocations: Vec<RevocationItem>,
    pub next: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RevocationItem {
    pub cursor: i64,
    pub signed: inkstone_receipt::revocation::SignedRevocation,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server cannot be reached (down, offline): try again later.
    #[error("the payment server is unreachable: {0}")]
    Unreachable(String),
    #[error("the payment server refused: {kind}: {message}")]
    Refused {
        status: u16,
        kind: String,
        message: String,
        /// `too_many_attempts` only: seconds until the next sign-in may come.
        retry_after_secs: Option<i64>,
    },
    #[error("unexpected answer from the payment server: {0}")]
    Malformed(String),
}

impl ClientError {
    /// Every `kind()` this type can return (the UI has text for each).
    pub const KINDS: &'static [&'static str] = &[
        "server_unreachable",
        "server_unauthorized",
        "order_not_found",
        "server_refused",
        "server_malformed",
        "account_too_many_attempts",
        "account_bad_credentials",
        "account_name_taken",
        "too_many_pending_orders",
        "rate_limited",
        "provider_unavailable",
    ];

    /// For a sign-in refused while the wait after failed attempts runs: how long to wait.
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            ClientError::Refused {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Unreachable(_) => "server_unreachable",
            ClientError::Refused { kind, .. } if kind == "too_many_attempts" => {
                "account_too_many_attempts"
            }
            ClientError::Refused { kind, .. } if kind == "bad_credentials" => {
                "account_bad_credentials"
            }
            ClientError::Refused { kind, .. } if kind == "name_taken" => "account_name_taken",
            ClientError::Refused { status: 401, .. } => "server_unauthorized",
            ClientError::Refused { status: 404, .. } => "order_not_found",
            ClientError::Refused {
                status: 429, kind, ..
            } if kind == "too_many_pending_orders" => "too_many_pending_orders",
            ClientError::Refused { status: 429, .. } => "rate_limited",
            ClientError::Refused { status: 502, .. } => "provider_unavailable",
            ClientError::Refused { .. } => "server_refused",
            ClientError::Malformed(_) => "server_malformed",
        }
    }
}

/// The ways to pay this endpoint offers (its `/healthz` answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Providers {
    #[serde(default)]
    pub sandbox: bool,
    #[serde(default)]
    pub wechat: bool,
    #[serde(default)]
    pub alipay: bool,
}

impl Providers {
    /// The offered providers by name, in the order a writer sees them.
    /// Real providers first: a page preselecting the first never picks the sandbox
    /// when a real way to pay is offered.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("wechat", self.wechat),
            ("alipay", self.alipay),
            ("sandbox", self.sandbox),
        ]
        .into_iter()
        .filter_map(|(name, offered)| offered.then_some(name))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerOrder {
    /// Parsed: an answer with a number that is no order number is `Malformed`.
    pub order_no: OrderNo,
    pub sku: String,
    pub kind: String,
    pub provider: String,
    pub amount_fen: i64,
    pub qr_payload: String,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub late_payment: bool,
    #[serde(default)]
    pub receipt: Option<SignedReceipt>,
    /// Pending, and the server's query of the provider failed just now.
    #[serde(default)]
    pub check_failed: bool,
}

#[derive(Clone, Debug)]
pub struct PaymentClient {
    http: reqwest::Client,
    base: String,
}

impl PaymentClient {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(base_url)
            .map_err(|_| ClientError::Malformed("server URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::Malformed("server URL must be http(s)".into()));
        }
        // No idle connections kept: the endpoint restarts (deploys, outages) while the app runs,
        // and a request written onto a connection the old process left behind fails as if the
        // server were down. Payment calls are few; a fresh connection each costs nothing.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        Ok(PaymentClient {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<T, ClientError> {
        let resp = req
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        if !(200..300).contains(&status) {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return Err(ClientError::Refused {
                status,
                kind: v["kind"].as_str().unwrap_or("error").to_string(),
                message: v["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect(),
                // Bounded: a day at most, whatever the answer says.
                retry_after_secs: v["retry_after_secs"].as_i64().map(|s| s.clamp(0, 86_400)),
            });
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Malformed(e.to_string()))
    }

    const SHORT: Duration = Duration::from_secs(20);

    /// A new account: `(account_id, token)`.
    pub async fn register(&self) -> Result<(String, String), ClientError> {
        let v: serde_json::Value = self
            .send(
                self.http.post(format!("{}/v1/accounts", self.base)),
                Self::SHORT,
            )
            .await?;
        match (v["account_id"].as_str(), v["token"].as_str()) {
            (Some(a), Some(t)) => Ok((a.to_string(), t.to_string())),
            _ => Err(ClientError::Malformed("registration".into())),
        }
    }

    pub async fn catalog(&self) -> Result<Catalog, ClientError> {
        self.send(
            self.http.get(format!("{}/v1/catalog", self.base)),
            Self::SHORT,
        )
        .await
    }

    /// Which providers the endpoint offers. Asked while a purchase page opens,
    /// so it gives up sooner than other calls.
    pub async fn providers(&self) -> Result<Providers, ClientError> {
        #[derive(Deserialize)]
        struct Health {
            providers: Providers,
        }
        let health: Health = self
            .send(
                self.http.get(format!("{}/healthz", self.base)),
                Duration::from_secs(5),
            )
            .await?;
        Ok(health.providers)
    }

    pub async fn public_keys(&self) -> Result<Vec<PublicKeyInfo>, ClientError> {
        self.send(self.http.get(format!("{}/v1/keys", self.base)), Self::SHORT)
            .await
    }

    pub async fn create_order(
        &self,
        token: &str,
        sku: &str,
        provider: &str,
    ) -> Result<ServerOrder, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/orders", self.base))
            .bearer_auth(token)
            .json(&json!({"sku": sku, "provider": provider}));
        self.send(req, Self::SHORT).await
    }

    pub async fn get_order(
        &self,
        token: &str,
        order_no: &OrderNo,
    ) -> Result<ServerOrder, ClientError> {
        self.send(
            self.http
                .get(format!("{}/v1/orders/{order_no}", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    pub async fn wait_order(
        &self,
        token: &str,
        order_no: &OrderNo,
        wait: Duration,
    ) -> Result<ServerOrder, ClientError> {
        let secs = wait.as_secs().clamp(1, 30);
        let req = self
            .http
            .get(format!(
                "{}/v1/orders/{order_no}/wait?timeout={secs}",
                self.base
            ))
            .bearer_auth(token);
        self.send(req, Duration::from_secs(secs + 15)).await
    }

    pub async fn check_order(
        &self,
        token: &str,
        order_no: &OrderNo,
    ) -> Result<ServerOrder, ClientError> {
        self.send(
            self.http
                .post(format!("{}/v1/orders/{order_no}/check", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    pub async fn cancel_order(
        &self,
        token: &str,
        order_no: &OrderNo,
    ) -> Result<ServerOrder, ClientError> {
        self.send(
            self.http
                .post(format!("{}/v1/orders/{order_no}/cancel", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    pub async fn receipts(&self, token: &str) -> Result<Vec<SignedReceipt>, ClientError> {
        self.send(
            self.http
                .get(format!("{}/v1/receipts", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    /// The account's signed revocations after `after` (`GET /v1/revocations`), oldest
    /// first, at most 100; `next` is the cursor to pass on.
    pub async fn revocations(
        &self,
        token: &str,
        after: i64,
    ) -> Result<RevocationPage, ClientError> {
        self.send(
            self.http
                .get(format!("{}/v1/revocations?after={after}", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    /// Which account `token` belongs to, and how many purchases it has (`GET /v1/account`).
    pub async fn account(&self, token: &str) -> Result<ServerAccount, ClientError> {
        self.send(
            self.http
                .get(format!("{}/v1/account", self.base))
                .bearer_auth(token),
            Self::SHORT,
        )
        .await
    }

    /// Gives the account a name and password; returns the new one-time recovery code.
    pub async fn set_credentials(
        &self,
        token: &str,
        login_name: &str,
        password: &str,
    ) -> Result<String, ClientError> {
        let v: serde_json::Value = self
            .send(
                self.http
                    .put(format!("{}/v1/account/credentials", self.base))
                    .bearer_auth(token)
                    .json(&json!({"login_name": login_name, "password": password})),
                Self::SHORT,
            )
            .await?;
        v["recovery_code"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ClientError::Malformed("credentials".into()))
    }

    /// Signs in to an account by name and password, or by recovery code: `(account_id, token)`.
    pub async fn sign_in(&self, how: &AccountSignIn) -> Result<(String, String), ClientError> {
        let body = match how {
            AccountSignIn::Password {
                login_name,
                password,
            } => json!({"login_name": login_name, "password": password}),
            AccountSignIn::RecoveryCode(code) => json!({"recovery_code": code}),
        };
        let v: serde_json::Value = self
            .send(
                self.http
                    .post(format!("{}/v1/sessions", self.base))
                    .json(&body),
                Self::SHORT,
            )
            .await?;
        match (v["account_id"].as_str(), v["token"].as_str()) {
            (Some(a), Some(t)) => Ok((a.to_string(), t.to_string())),
            _ => Err(ClientError::Malformed("session".into())),
        }
    }
}

impl PaymentClient {
    /// Claims the credit receipt of `order_no` for `installation`
    /// (`POST /v1/receipts/{order_no}/claim`, authenticated). Idempotent for one
    /// installation: asking again after a lost answer gives the same answer.
    pub async fn claim(
        &self,
        token: &str,
        order_no: &OrderNo,
        installation: &InstallationId,
    ) -> Result<ServerClaim, ClientError> {
        // An order number is ours to put in a path only in its own shape.
        if order_no.is_empty()
            || order_no.len() > 64
            || !order_no.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ClientError::Malformed("order number".into()));
        }
        let body: serde_json::Value = self
            .send(
                self.http
                    .post(format!("{}/v1/receipts/{order_no}/claim", self.base))
                    .bearer_auth(token)
                    .json(&json!({"installation_id": installation.as_str()})),
                Self::SHORT,
            )
            .await?;
        let claim = ServerClaim::from_json(&body)?;
        if claim.order_no != *order_no {
            return Err(ClientError::Malformed("claim of another order".into()));
        }
        Ok(claim)
    }

    /// Signs out everywhere (`POST /v1/sessions/revoke`): every token of the account stops
    /// working, `token` included.
    pub async fn revoke_sessions(&self, token: &str) -> Result<(), ClientError> {
        let resp = self
            .http
            .post(format!("{}/v1/sessions/revoke", self.base))
            .bearer_auth(token)
            .timeout(Self::SHORT)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(e.without_url().to_string()))?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        Err(ClientError::Refused {
            status,
            kind: v["kind"]
                .as_str()
                .unwrap_or("error")
                .chars()
                .take(64)
                .collect(),
            message: v["message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect(),
            retry_after_secs: None,
        })
    }
}

/// The endpoint's answer to a claim: credit it here, or it was credited elsewhere at
/// `claimed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerClaim {
    pub order_no: OrderNo,
    pub claimed_here: bool,
    pub claimed_at: DateTime<Utc>,
}

impl ServerClaim {
    /// Reads the claim answer; anything off its shape (a missing field, a time outside
    /// what a date can be) is `Malformed`, never a guess.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ClientError> {
        let malformed = || ClientError::Malformed("claim".into());
        let order_no = v["order_no"].as_str().ok_or_else(malformed)?;
        let claimed_here = v["claimed_here"].as_bool().ok_or_else(malformed)?;
        let claimed_at = v["claimed_at_ms"]
            .as_i64()
            .filter(|ms| *ms > 0)
            .and_then(DateTime::<Utc>::from_timestamp_millis)
            .ok_or_else(malformed)?;
        let order_no = OrderNo::parse(order_no).map_err(|_| malformed())?;
        Ok(ServerClaim {
            order_no,
            claimed_here,
            claimed_at,
        })
    }
}

/// How a writer signs back in to a purchase account.
#[derive(Debug, Clone)]
pub enum AccountSignIn {
    Password {
        login_name: String,
        password: String,
    },
    RecoveryCode(String),
}

/// `GET /v1/account`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerAccount {
    pub account_id: String,
    #[serde(default)]
    pub login_name: Option<String>,
    #[serde(default)]
    pub has_credentials: bool,
    #[serde(default)]
    pub purchases: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_answer_is_read_exactly() {
        let ok = ServerClaim::from_json(&json!({
            "order_no": "IK20261125120000ABCDEFGHJK", "claimed_here": false, "claimed_at_ms": 1_764_400_000_000_i64
        }))
        .unwrap();
        assert_eq!(ok.order_no, "IK20261125120000ABCDEFGHJK");
        assert!(!ok.claimed_here);
        assert_eq!(ok.claimed_at.timestamp_millis(), 1_764_400_000_000);
        for bad in [
            json!({}),
            json!({"order_no": "IK1", "claimed_here": "yes", "claimed_at_ms": 1}),
            json!({"order_no": "IK1", "claimed_here": true, "claimed_at_ms": 0}),
            json!({"order_no": "IK1", "claimed_here": true, "claimed_at_ms": i64::MAX}),
            json!({"order_no": "IK1", "claimed_here": true, "claimed_at_ms": 1.5}),
            json!({"order_no": "x".repeat(65), "claimed_here": true, "claimed_at_ms": 1}),
            // No order number: too short, or a path in disguise.
            json!({"order_no": "IK1", "claimed_here": true, "claimed_at_ms": 1}),
            json!({"order_no": "IK2026/../x", "claimed_here": true, "claimed_at_ms": 1}),
        ] {
            assert!(ServerClaim::from_json(&bad).is_err(), "{bad}");
        }
    }

    /// An order (and the receipt in it) arrives parsed: a number that is no order number makes
    /// the answer `server_malformed`, so it never reaches a lookup, a URL or the ledger.
    #[test]
    fn an_order_answer_with_a_bad_order_number_is_malformed() {
        let order = |no: &str| {
            json!({
                "order_no": no, "sku": "credits_100", "kind": "credits", "provider": "sandbox",
                "amount_fen": 1000, "qr_payload": "x", "status": "pending",
                "expires_at": "2026-11-25T10:15:00Z", "created_at": "2026-11-25T10:00:00Z"
            })
        };
        let ok: ServerOrder = serde_json::from_value(order("IK20261125120000ABCDEFGHJK")).unwrap();
        assert_eq!(ok.order_no, "IK20261125120000ABCDEFGHJK");
        for bad in ["", "IK1", "IK2026/../x", "IK\n20261125"] {
            let e = serde_json::from_slice::<ServerOrder>(order(bad).to_string().as_bytes())
                .map_err(|e| ClientError::Malformed(e.to_string()))
                .unwrap_err();
            assert_eq!(e.kind(), "server_malformed", "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Claim answers and installation ids come from outside: no input panics.
        #[test]
        fn outside_claim_answers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400), text in ".{0,100}") {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let _ = ServerClaim::from_json(&v);
            }
            let v = json!({"order_no": text, "claimed_here": true, "claimed_at_ms": bytes.len() as i64});
            if let Ok(claim) = ServerClaim::from_json(&v) {
                proptest::prop_assert!(claim.order_no.len() <= 32);
            }
            if let Ok(id) = InstallationId::parse(&text) {
                proptest::prop_assert!(id.as_str().len() <= InstallationId::MAX_LEN);
            }
        }
    }
}
