//! Buying, on the desktop (ARCHITECTURE.md, "Buying"): each local profile
//! gets its own account at the payment endpoint (token in the OS keychain);
//! an order is recorded locally before its QR code is shown; waiting
//! long-polls the server and resumes after a restart; a receipt is credited
//! only after it verifies against the pinned keys, exactly once.
//!
//! Invariants: nothing is credited without a receipt signed by a pinned key for this
//! profile's account; a receipt is applied at most once (the local `purchases` row), and a
//! credit package at most once per account over every installation (claimed at the endpoint
//! before it is credited); the sandbox's test money is refused unless demo mode allowed it;
//! the token of an account that has purchases is never replaced.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::{sync::Arc, time::Duration};
//! use inkstone_shop::{InstallationId, PaymentClient, Settled, Shop};
//! use inkstone_receipt::TrustedKeys;
//!
//! // The endpoint (the embedded sandbox one here) and a desktop database with a profile.
//! let server_dir = tempfile::tempdir().unwrap();
//! let server = inkstone_server::start_embedded(server_dir.path(), ([127, 0, 0, 1], 0).into())
//!     .await
//!     .unwrap();
//! let db = inkstone_core::open_in_memory().await.unwrap();
//! let now = chrono::Utc::now();
//! let writer = inkstone_core::profiles::create_profile(&db, "writer", "password123", false, now)
//!     .await
//!     .unwrap();
//! let keys = server.public_keys.iter().chain(server.sandbox_public_key.iter()).cloned();
//! let shop = Shop::new(
//!     db.clone(),
//!     PaymentClient::new(&server.base_url).unwrap(),
//!     TrustedKeys::new(keys),
//!     Arc::new(inkstone_keychain::MemoryStore::default()),
//! )
//! .allow_sandbox()
//! .with_installation(InstallationId::parse("inst-doc-example").unwrap());
//!
//! let order = shop.start_order(writer.id, "credits_100", "sandbox").await.unwrap();
//! // The phone scans the QR code and confirms (the sandbox's page).
//! reqwest::Client::new().post(format!("{}/confirm", order.qr_payload)).send().await.unwrap();
//! let settled = shop.wait(writer.id, &order.order_no, Duration::from_secs(10)).await.unwrap();
//! assert!(matches!(settled, Settled::Applied { newly: true, .. }));
//! // 100 credits and a bonus of 10, credited once: asking again credits nothing.
//! assert!(matches!(shop.check(writer.id, &order.order_no).await.unwrap(), Settled::Applied { newly: false, .. }));
//! # });
//! ```
#![forbid(unsafe_code)]

mod client;
mod installation;

use std::sync::Arc;
use std::time::Duration;

use inkstone_core::claims::{self, PurchaseElsewhere};
use inkstone_core::orders::{self, Order, OrderStatus};
use inkstone_core::purchases::{self, ApplyOutcome};
use inkstone_core::revocations::{self, RevocationOutcome};
use inkstone_core::{catalog, profiles, Clock, CoreError, Database};
use inkstone_domain::{OrderNo, ProfileId};
use inkstone_keychain::{SecretName, SecretStore};
use inkstone_receipt::{Fen, Purchase, SignedReceipt, TrustedKeys};
use serde::Serialize;

pub use client::{
    AccountSignIn, ClientError, PaymentClient, Providers, RevocationItem, RevocationPage,
    ServerAccount, ServerClaim, ServerOrder,
};
pub use inkstone_core::revocations::RevocationRecord;
pub use installation::{InstallationId, InvalidInstallationId};

/// An order number from the page or the local database, parsed before it goes into a URL
/// path: one that cannot exist is "not found", as the endpoint answers it.
fn parse_order_no(s: &str) -> Result<OrderNo, ShopError> {
    OrderNo::parse(s).map_err(|_| {
        ShopError::Server(ClientError::Refused {
            status: 404,
            kind: "not_found".into(),
            message: "no such order".into(),
            retry_after_secs: None,
        })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Server(#[from] ClientError),
    #[error("the keychain is unavailable: {0}")]
    Keychain(String),
    /// The server answered with an order that does not match what was asked.
    #[error("the payment server sent an inconsistent order")]
    Inconsistent,
    /// A sandbox receipt (test money) outside demo mode: never credited.
    #[error("a sandbox (test) payment cannot be credited outside demo mode")]
    SandboxRefused,
    /// Occurs when the profile has a purchase account but this computer holds no token for it
    /// (a reinstall, a new keychain): the writer signs in to it instead of a new, empty account
    /// being registered over it.
    #[error("sign in to your purchase account first")]
    SignInNeeded,
    /// Occurs when the token held belongs to another account than the profile's.
    #[error("the purchase account token belongs to another account")]
    AccountMismatch,
    /// Occurs when signing in would replace the profile's purchase account, which has purchases.
    #[error("this profile's purchase account has purchases and is not replaced")]
    AccountHasPurchases,
    /// Occurs when a credit receipt is to be credited but this computer has no readable
    /// installation id: the package is not claimed or credited (it stays at the endpoint).
    #[error("this computer's installation id is missing or unreadable")]
    NoInstallation,
    /// Occurs when a purchase account name is empty, longer than 64 characters or has
    /// control characters: nothing is sent.
    #[error("the account name must be 1 to 64 characters without control characters")]
    AccountNameInvalid,
    /// Occurs when a purchase account password is shorter than 8 or longer than 128
    /// characters: nothing is sent.
    #[error("the account password must be 8 to 128 characters")]
    AccountPasswordInvalid,
    /// Occurs when a recovery code is not 32 hexadecimal digits (dashes and spaces aside).
    #[error("the recovery code must be 32 hexadecimal digits")]
    RecoveryCodeInvalid,
}

impl ShopError {
    /// The kinds of its own (besides those of `CoreError` and `ClientError`).
    pub const OWN_KINDS: &'static [&'static str] = &[
        "keychain_unavailable",
        "server_inconsistent",
        "sandbox_refused",
        "account_sign_in_needed",
        "account_mismatch",
        "account_has_purchases",
        "installation_unknown",
        "account_name_invalid",
        "account_password_invalid",
        "account_recovery_code_invalid",
    ];

    /// Seconds until the next attempt may come, when a sign-in was refused for too many
    /// failed attempts (the endpoint's answer).
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            ShopError::Server(e) => e.retry_after_secs(),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ShopError::Core(e) => e.kind(),
            ShopError::Server(e) => e.kind(),
            ShopError::Keychain(_) => "keychain_unavailable",
            ShopError::Inconsistent => "server_inconsistent",
            ShopError::SandboxRefused => "sandbox_refused",
            ShopError::SignInNeeded => "account_sign_in_needed",
            ShopError::AccountMismatch => "account_mismatch",
            ShopError::AccountHasPurchases => "account_has_purchases",
            ShopError::NoInstallation => "installation_unknown",
            ShopError::AccountNameInvalid => "account_name_invalid",
            ShopError::AccountPasswordInvalid => "account_password_invalid",
            ShopError::RecoveryCodeInvalid => "account_recovery_code_invalid",
        }
    }
}

/// An order that could not be settled now, and why (its error's kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFailure {
    pub order_no: OrderNo,
    pub kind: &'static str,
    pub message: String,
}

/// What resuming orders did: each order settled, and each that failed (by kind). One
/// failing order never stops the others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResumeReport {
    pub settled: Vec<Settled>,
    pub failures: Vec<OrderFailure>,
}

/// What restoring purchases did: receipts newly applied, credit packages credited on
/// another installation (never here), and each receipt that failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RestoreReport {
    pub applied: usize,
    pub elsewhere: Vec<PurchaseElsewhere>,
    pub failures: Vec<OrderFailure>,
}

/// What crediting one receipt did.
#[derive(Debug, Clone, PartialEq)]
enum Credited {
    Applied,
    AlreadyApplied,
    /// A credit package another installation claimed first: not credited here.
    Elsewhere(PurchaseElsewhere),
}

/// The profile's purchase account as the settings page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AccountStatus {
    /// The account this profile buys with; `None` before its first purchase or sign-in.
    pub account_id: Option<String>,
    /// This computer holds a token for it (else: sign in).
    pub signed_in: bool,
    /// The endpoint answered just now (offline, the rest below is unknown).
    pub reachable: bool,
    /// The endpoint refused the token (signed out everywhere from another computer).
    pub token_refused: bool,
    pub login_name: Option<String>,
    pub has_credentials: bool,
    pub purchases: i64,
}

/// An account name as the endpoint accepts it: trimmed, 1–64 characters, no control
/// characters (crates/server/src/credentials.rs `normalize_name`; it also lower-cases).
pub fn check_account_name(name: &str) -> Result<&str, ShopError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) {
        return Err(ShopError::AccountNameInvalid);
    }
    Ok(name)
}

/// 8–128 characters, as the endpoint requires.
pub fn check_account_password(password: &str) -> Result<(), ShopError> {
    if (8..=128).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ShopError::AccountPasswordInvalid)
    }
}

/// 32 hexadecimal digits once dashes and spaces are dropped (as printed: 8 groups of 4).
pub fn check_recovery_code(code: &str) -> Result<(), ShopError> {
    if code.len() > 100 {
        return Err(ShopError::RecoveryCodeInvalid);
    }
    let digits: Vec<u8> = code.bytes().filter(|b| !matches!(b, b'-' | b' ')).collect();
    if digits.len() == 32 && digits.iter().all(u8::is_ascii_hexdigit) {
        Ok(())
    } else {
        Err(ShopError::RecoveryCodeInvalid)
    }
}

fn failure(order_no: &OrderNo, e: &ShopError) -> OrderFailure {
    OrderFailure {
        order_no: order_no.clone(),
        kind: e.kind(),
        message: e.to_string(),
    }
}

/// What happened to an order the writer is waiting on.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Paid, and its receipt is credited. `newly`: by this very call, so this is
    /// the moment to tell the writer (once per purchase, however often it is asked).
    Applied { order: Order, newly: bool },
    /// Expired or closed without payment.
    Ended(Order),
    /// Still pending after this wait. `check_failed`: asking the provider failed just
    /// now (the order still waits for payment; the page keeps its QR code and says so).
    Pending { order: Order, check_failed: bool },
    /// Paid, and its credit package was claimed by another installation of the same
    /// purchase account first (restored there): not credited here.
    CreditedElsewhere {
        order: Order,
        elsewhere: PurchaseElsewhere,
    },
}

#[derive(Clone)]
pub struct Shop {
    db: Database,
    clock: Clock,
    client: PaymentClient,
    keys: Arc<TrustedKeys>,
    secrets: Arc<dyn SecretStore>,
    /// Demo mode only: sandbox receipts may be credited. Off unless chosen.
    allow_sandbox: bool,
    /// Sent with each claim of a credit receipt. Without it no credit package is credited
    /// (`NoInstallation`): crediting unclaimed would credit it on every computer.
    installation: Option<InstallationId>,
}

impl Shop {
    /// `keys` are the pinned receipt keys: compiled in for the production
    /// endpoint, or taken from the embedded server of this very process.
    pub fn new(
        db: Database,
        client: PaymentClient,
        keys: TrustedKeys,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        Shop {
            db,
            clock: Clock::system(),
            client,
            keys: Arc::new(keys),
            secrets,
            allow_sandbox: false,
            installation: None,
        }
    }

    /// The id of this installation (made once, kept in the data folder), sent with each
    /// claim of a credit receipt.
    pub fn with_installation(mut self, installation: InstallationId) -> Self {
        self.installation = Some(installation);
        self
    }

    /// The same shop reading `clock` whenever it records or applies something.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Demo mode: the sandbox's test payments are bought and credited. Without this a
    /// sandbox order is never started and a sandbox receipt never credited.
    pub fn allow_sandbox(mut self) -> Self {
        self.allow_sandbox = true;
        self
    }

    pub fn sandbox_allowed(&self) -> bool {
        self.allow_sandbox
    }

    /// Verification, the account check and once-only happen in `apply_receipt`; the
    /// sandbox check is the shop's, before it. A credit package is claimed for this
    /// installation at the endpoint before it is credited (issue 14): claimed here, it is
    /// credited (once: the claim is idempotent for this installation, the local `purchases`
    /// row makes crediting once-only); claimed by another installation, it is recorded as
    /// credited elsewhere and never credited here.
    async fn apply(
        &self,
        profile_id: ProfileId,
        token: &str,
        receipt: &SignedReceipt,
    ) -> Result<Credited, ShopError> {
        if receipt.receipt.provider == "sandbox" && !self.allow_sandbox {
            return Err(ShopError::SandboxRefused);
        }
        let order_no = &receipt.receipt.order_no;
        if matches!(receipt.receipt.purchase, Purchase::Credits { .. })
            && !claims::is_applied(&self.db, order_no).await?
        {
            if let Some(known) = claims::elsewhere(&self.db, profile_id, order_no).await? {
                return Ok(Credited::Elsewhere(known));
            }
            // A claim spent on a receipt that is then refused would lose the package.
            claims::check_receipt(&self.db, profile_id, &self.keys, receipt).await?;
            let installation = self
                .installation
                .as_ref()
                .ok_or(ShopError::NoInstallation)?;
            let claim = self.client.claim(token, order_no, installation).await?;
            if !claim.claimed_here {
                let record = claims::record_elsewhere(
                    &self.db,
                    profile_id,
                    &self.keys,
                    receipt,
                    claim.claimed_at,
                    self.clock.now(),
                )
                .await?;
                return Ok(Credited::Elsewhere(record));
            }
        }
        Ok(
            match purchases::apply_receipt(
                &self.db,
                profile_id,
                &self.keys,
                receipt,
                self.clock.now(),
            )
            .await?
            {
                ApplyOutcome::Applied { .. } => Credited::Applied,
                ApplyOutcome::AlreadyApplied { .. } => Credited::AlreadyApplied,
            },
        )
    }

    pub fn client(&self) -> &PaymentClient {
        &self.client
    }

    /// The profile's account token, registering an account on first use.
    async fn token(&self, profile_id: ProfileId) -> Result<String, ShopError> {
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        let name = SecretName::AccountToken { profile_id };
        let stored = self
            .secrets
            .get(&name)
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        match (&profile.server_account_id, stored) {
            (Some(_), Some(token)) => return Ok(token),
            // Registering here would put a new, empty account over one that may have
            // purchases: the writer signs back in to it instead.
            (Some(_), None) => return Err(ShopError::SignInNeeded),
            (None, _) => {}
        }
        let (account_id, token) = self.client.register().await?;
        self.secrets
            .set(&name, &token)
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        profiles::set_server_account(&self.db, profile_id, &account_id).await?;
        Ok(token)
    }

    /// Refreshes the cached catalog; offline, the cache (or built-in prices) stays.
    pub async fn refresh_catalog(&self) -> Result<catalog::CachedCatalog, ShopError> {
        match self.client.catalog().await {
            Ok(fresh) => {
                catalog::store_catalog(&self.db, &fresh, self.clock.now()).await?;
            }
            Err(e) => tracing::info!(error = %e, "catalog refresh failed; showing the cached one"),
        }
        Ok(catalog::cached_catalog(&self.db).await?)
    }

    /// Creates an order at the server and records it here before anything is shown.
    pub async fn start_order(
        &self,
        profile_id: ProfileId,
        sku: &str,
        provider: &str,
    ) -> Result<Order, ShopError> {
        if provider == "sandbox" && !self.allow_sandbox {
            return Err(ShopError::SandboxRefused);
        }
        let token = self.token(profile_id).await?;
        // The token must belong to the profile's account before money is asked for.
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        let account = self.client.account(&token).await?;
        if profile.server_account_id.as_deref() != Some(account.account_id.as_str()) {
            return Err(ShopError::AccountMismatch);
        }
        let o = self.client.create_order(&token, sku, provider).await?;
        if o.sku != sku || o.provider != provider || o.amount_fen <= 0 {
            return Err(ShopError::Inconsistent);
        }
        let order = Order {
            order_no: o.order_no.clone(),
            profile_id,
            kind: o.kind.clone(),
            sku: o.sku.clone(),
            provider: o.provider.clone(),
            // Positive: checked above.
            amount_fen: Fen::new(o.amount_fen).map_err(|_| ShopError::Inconsistent)?,
            qr_payload: o.qr_payload.clone(),
            status: OrderStatus::Pending,
            expires_at: o.expires_at,
            created_at: o.created_at,
            updated_at: self.clock.now(),
            applied: false,
        };
        Ok(orders::record_order(&self.db, &order, self.clock.now()).await?)
    }

    /// Takes the server's view of an order: applies its receipt if paid.
    async fn settle(
        &self,
        profile_id: ProfileId,
        token: &str,
        server: &ServerOrder,
    ) -> Result<Settled, ShopError> {
        let status = match server.status.as_str() {
            "paid" => OrderStatus::Paid,
            "expired" => OrderStatus::Expired,
            "closed" => OrderStatus::Closed,
            _ => OrderStatus::Pending,
        };
        let mut newly = false;
        let mut elsewhere = None;
        if status == OrderStatus::Paid {
            let receipt = server.receipt.as_ref().ok_or(ShopError::Inconsistent)?;
            if receipt.receipt.order_no != server.order_no {
                return Err(ShopError::Inconsistent);
            }
            match self.apply(profile_id, token, receipt).await? {
                Credited::Applied => newly = true,
                Credited::AlreadyApplied => {}
                Credited::Elsewhere(record) => elsewhere = Some(record),
            }
        }
        let order = orders::update_status(
            &self.db,
            profile_id,
            &server.order_no,
            status,
            self.clock.now(),
        )
        .await?;
        if let Some(elsewhere) = elsewhere {
            return Ok(Settled::CreditedElsewhere { order, elsewhere });
        }
        Ok(match order.status {
            OrderStatus::Paid if order.applied => Settled::Applied { order, newly },
            OrderStatus::Expired | OrderStatus::Closed => Settled::Ended(order),
            _ => Settled::Pending {
                order,
                check_failed: server.check_failed,
            },
        })
    }

    /// One long-poll (up to `wait` seconds) and whatever it settled.
    pub async fn wait(
        &self,
        profile_id: ProfileId,
        order_no: &str,
        wait: Duration,
    ) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let order_no = parse_order_no(order_no)?;
        let server = self.client.wait_order(&token, &order_no, wait).await?;
        self.settle(profile_id, &token, &server).await
    }

    /// "I have paid, check again": the server asks the provider now.
    pub async fn check(&self, profile_id: ProfileId, order_no: &str) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let order_no = parse_order_no(order_no)?;
        let server = self.client.check_order(&token, &order_no).await?;
        self.settle(profile_id, &token, &server).await
    }

    pub async fn cancel(
        &self,
        profile_id: ProfileId,
        order_no: &str,
    ) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let order_no = parse_order_no(order_no)?;
        let server = self.client.cancel_order(&token, &order_no).await?;
        self.settle(profile_id, &token, &server).await
    }

    /// After a start, a crash or a night offline: every unsettled order of every
    /// profile, and every expired or closed one of the last 48 hours (a payment can
    /// land late), is asked about once (no waiting) and settled. A failing order is
    /// reported and the rest go on.
    pub async fn resume(&self) -> Result<ResumeReport, ShopError> {
        let mut todo = orders::unsettled_orders(&self.db).await?;
        todo.extend(orders::follow_up_orders(&self.db, self.clock.now(), false).await?);
        Ok(self.ask_about(todo).await)
    }

    /// The ended orders whose backoff has run out (see `orders::follow_up_backoff`):
    /// asked about once more; a late receipt is credited (`Settled::Applied`).
    pub async fn follow_up(&self) -> Result<ResumeReport, ShopError> {
        let due = orders::follow_up_orders(&self.db, self.clock.now(), true).await?;
        Ok(self.ask_about(due).await)
    }

    async fn ask_about(&self, todo: Vec<Order>) -> ResumeReport {
        let mut report = ResumeReport::default();
        for order in todo {
            if matches!(order.status, OrderStatus::Expired | OrderStatus::Closed) {
                // Counted before asking: a server that fails still backs off.
                if let Err(e) =
                    orders::followed_up(&self.db, &order.order_no, self.clock.now()).await
                {
                    report.failures.push(failure(&order.order_no, &e.into()));
                    continue;
                }
            }
            let result = async {
                let token = self.token(order.profile_id).await?;
                let server = self.client.get_order(&token, &order.order_no).await?;
                if server.order_no != order.order_no {
                    return Err(ShopError::Inconsistent);
                }
                self.settle(order.profile_id, &token, &server).await
            }
            .await;
            match result {
                Ok(settled) => report.settled.push(settled),
                Err(e) => {
                    tracing::warn!(order_no = %order.order_no, kind = e.kind(), error = %e, "cannot settle this order now");
                    report.failures.push(failure(&order.order_no, &e));
                }
            }
        }
        report
    }

    /// Gives the profile's purchase account a name and password (registering the account
    /// first if it has none yet); returns the one-time recovery code to show once.
    pub async fn set_account_credentials(
        &self,
        profile_id: ProfileId,
        login_name: &str,
        password: &str,
    ) -> Result<String, ShopError> {
        let login_name = check_account_name(login_name)?;
        check_account_password(password)?;
        let token = self.token(profile_id).await?;
        Ok(self
            .client
            .set_credentials(&token, login_name, password)
            .await?)
    }

    /// Signs the profile in to a purchase account (another computer's, or after a
    /// reinstall). A profile already linked to another account with purchases is never moved:
    /// its token stays.
    pub async fn sign_in_account(
        &self,
        profile_id: ProfileId,
        how: &AccountSignIn,
    ) -> Result<String, ShopError> {
        match how {
            AccountSignIn::Password {
                login_name,
                password,
            } => {
                check_account_name(login_name)?;
                // A password the endpoint would never have accepted cannot be right: only
                // an empty one is refused here, so the answer (and the count of failures)
                // stays the endpoint's.
                if password.is_empty() || password.chars().count() > 128 {
                    return Err(ShopError::AccountPasswordInvalid);
                }
            }
            AccountSignIn::RecoveryCode(code) => check_recovery_code(code)?,
        }
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        let (account_id, token) = self.client.sign_in(how).await?;
        if let Some(current) = profile.server_account_id.as_deref() {
            if current != account_id
                && purchases::has_purchases_with_account(&self.db, profile_id, current).await?
            {
                return Err(ShopError::AccountHasPurchases);
            }
        }
        self.secrets
            .set(&SecretName::AccountToken { profile_id }, &token)
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        profiles::set_server_account(&self.db, profile_id, &account_id).await?;
        Ok(account_id)
    }

    /// Takes back what refunded purchases gave (issue 13): fetches the account's signed
    /// revocations after this profile's cursor and applies each once. Returns the ones
    /// applied now (to tell the writer why). A profile without a purchase account, or
    /// without its token here, has nothing to fetch (no account is registered for it).
    /// A revocation of a purchase not applied here yet holds the cursor before it, so it
    /// is applied once the receipt is; a bad one is reported and the rest go on.
    pub async fn apply_revocations(
        &self,
        profile_id: ProfileId,
    ) -> Result<(Vec<RevocationRecord>, Vec<OrderFailure>), ShopError> {
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        if profile.server_account_id.is_none() {
            return Ok((Vec::new(), Vec::new()));
        }
        let Some(token) = self
            .secrets
            .get(&SecretName::AccountToken { profile_id })
            .map_err(|e| ShopError::Keychain(e.to_string()))?
        else {
            return Ok((Vec::new(), Vec::new()));
        };
        let mut after = revocations::cursor(&self.db, profile_id).await?;
        let (mut applied, mut failures) = (Vec::new(), Vec::new());
        // Pages of 100; a bounded number per call (the next call goes on).
        for _ in 0..10 {
            let page = self.client.revocations(&token, after).await?;
            if page.revocations.is_empty() {
                break;
            }
            let mut hold: Option<i64> = None;
            for item in &page.revocations {
                if item.cursor <= after {
                    return Err(ShopError::Inconsistent);
                }
                let outcome = revocations::apply_revocation(
                    &self.db,
                    profile_id,
                    &self.keys,
                    &item.signed,
                    self.clock.now(),
                )
                .await;
                match outcome {
                    Ok(RevocationOutcome::Applied { record }) => applied.push(*record),
                    Ok(RevocationOutcome::AlreadyApplied { .. }) => {}
                    Ok(RevocationOutcome::PurchaseNotHere { .. }) => {
                        hold.get_or_insert(item.cursor - 1);
                    }
                    Err(e) => {
                        let e = ShopError::from(e);
                        tracing::warn!(refund_no = %item.signed.revocation.refund_no, kind = e.kind(), "revocation not applied");
                        failures.push(failure(&item.signed.revocation.order_no, &e));
                        hold.get_or_insert(item.cursor - 1);
                    }
                }
            }
            let next = hold.unwrap_or(page.next).max(after);
            revocations::set_cursor(&self.db, profile_id, next).await?;
            if hold.is_some() || page.next <= after {
                break;
            }
            after = page.next;
        }
        Ok((applied, failures))
    }

    /// Applies every receipt of the profile's account that this machine lacks (a credit
    /// package only if no other installation claimed it). A receipt that cannot be applied
    /// is reported and the rest go on. Without a purchase account: sign in first.
    pub async fn restore_purchases(
        &self,
        profile_id: ProfileId,
    ) -> Result<RestoreReport, ShopError> {
        // A profile with no purchase account has nothing to restore: registering one here
        // would only make a new, empty account. The writer signs in to theirs first.
        if profiles::get_profile(&self.db, profile_id)
            .await?
            .server_account_id
            .is_none()
        {
            return Err(ShopError::SignInNeeded);
        }
        let token = self.token(profile_id).await?;
        let mut report = RestoreReport::default();
        for receipt in self.client.receipts(&token).await? {
            match self.apply(profile_id, &token, &receipt).await {
                Ok(Credited::Applied) => report.applied += 1,
                Ok(Credited::AlreadyApplied) => {}
                Ok(Credited::Elsewhere(record)) => report.elsewhere.push(record),
                Err(e) => {
                    tracing::warn!(order_no = %receipt.receipt.order_no, kind = e.kind(), "receipt not applied");
                    report.failures.push(failure(&receipt.receipt.order_no, &e));
                }
            }
        }
        Ok(report)
    }

    /// The profile's purchase account: its id, whether this computer holds a token, and
    /// (when the endpoint answers) its name and purchases. Offline, what is known here.
    pub async fn account_status(&self, profile_id: ProfileId) -> Result<AccountStatus, ShopError> {
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        let token = self
            .secrets
            .get(&SecretName::AccountToken { profile_id })
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        let mut status = AccountStatus {
            account_id: profile.server_account_id.clone(),
            signed_in: profile.server_account_id.is_some() && token.is_some(),
            ..AccountStatus::default()
        };
        let (Some(expected), Some(token)) = (profile.server_account_id, token) else {
            return Ok(status);
        };
        match self.client.account(&token).await {
            Ok(account) if account.account_id == expected => {
                status.reachable = true;
                status.login_name = account.login_name;
                status.has_credentials = account.has_credentials;
                status.purchases = account.purchases;
            }
            Ok(_) => return Err(ShopError::AccountMismatch),
            Err(ClientError::Refused { status: 401, .. }) => {
                status.reachable = true;
                status.token_refused = true;
            }
            Err(ClientError::Unreachable(e)) => {
                tracing::info!(error = %e, "purchase account not reachable; showing what is known");
            }
            Err(e) => return Err(e.into()),
        }
        Ok(status)
    }

    /// "Sign out everywhere": every token of the account stops working at the endpoint,
    /// then this computer forgets its own. The profile stays linked to the account, so the
    /// next purchase asks to sign in again instead of registering a new, empty one. A refused
    /// or unreachable endpoint is an error and changes nothing here.
    pub async fn sign_out_everywhere(&self, profile_id: ProfileId) -> Result<(), ShopError> {
        let profile = profiles::get_profile(&self.db, profile_id).await?;
        let name = SecretName::AccountToken { profile_id };
        let token = self
            .secrets
            .get(&name)
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        let (Some(_), Some(token)) = (profile.server_account_id, token) else {
            return Err(ShopError::SignInNeeded);
        };
        self.client.revoke_sessions(&token).await?;
        self.secrets
            .delete(&name)
            .map_err(|e| ShopError::Keychain(e.to_string()))?;
        Ok(())
    }

    /// The profile's credit packages credited on other installations (kept here: shown
    /// offline too).
    pub async fn purchases_elsewhere(
        &self,
        profile_id: ProfileId,
    ) -> Result<Vec<PurchaseElsewhere>, ShopError> {
        Ok(claims::list_elsewhere(&self.db, profile_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_number_that_cannot_exist_never_reaches_a_url() {
        for bad in [
            "",
            "IK1",
            "../../v1/accounts",
            "IK2026 1125",
            "IK2026%2F..",
            "IK\n20261125",
        ] {
            let e = parse_order_no(bad).unwrap_err();
            assert_eq!(e.kind(), "order_not_found", "{bad:?}");
        }
        let no = parse_order_no("IK20261125120000ABCDEFGHJK").unwrap();
        assert_eq!(no.as_str(), "IK20261125120000ABCDEFGHJK");
    }

    #[test]
    fn account_names_passwords_and_codes_are_checked_as_the_endpoint_would() {
        assert_eq!(
            check_account_name("  Writer@Example.com ").unwrap(),
            "Writer@Example.com"
        );
        assert!(check_account_name(&"墨".repeat(64)).is_ok());
        for bad in ["", "   ", "a\u{0}b", "tab\there"] {
            assert_eq!(
                check_account_name(bad).unwrap_err().kind(),
                "account_name_invalid"
            );
        }
        assert!(check_account_name(&"墨".repeat(65)).is_err());
        assert!(check_account_password("12345678").is_ok());
        assert!(check_account_password("1234567").is_err());
        assert!(check_account_password(&"x".repeat(129)).is_err());
        assert!(check_recovery_code("0123-4567-89ab-CDEF-0123-4567-89AB-cdef").is_ok());
        assert!(check_recovery_code("0123 4567 89ab CDEF 0123 4567 89AB cdef").is_ok());
        for bad in [
            "",
            "1234",
            &"G".repeat(32),
            &"A".repeat(33),
            &"-".repeat(200),
        ] {
            assert_eq!(
                check_recovery_code(bad).unwrap_err().kind(),
                "account_recovery_code_invalid"
            );
        }
    }

    proptest::proptest! {
        /// What the writer types reaches these first: nothing panics, and what passes is in
        /// the endpoint's bounds.
        #[test]
        fn typed_input_never_panics(text in ".{0,300}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for input in [text.as_str(), lossy.as_str()] {
                if let Ok(name) = check_account_name(input) {
                    proptest::prop_assert!((1..=64).contains(&name.chars().count()));
                }
                if check_account_password(input).is_ok() {
                    proptest::prop_assert!((8..=128).contains(&input.chars().count()));
                }
                if check_recovery_code(input).is_ok() {
                    proptest::prop_assert!(input.len() <= 100);
                }
            }
        }
    }
}
