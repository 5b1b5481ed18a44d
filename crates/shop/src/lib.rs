//! Buying, on the desktop (ARCHITECTURE.md, "Buying"): each local profile
//! gets its own account at the payment endpoint (token in the OS keychain);
//! an order is recorded locally before its QR code is shown; waiting
//! long-polls the server and resumes after a restart; a receipt is credited
//! only after it verifies against the pinned keys, exactly once.
#![forbid(unsafe_code)]

mod client;

use std::sync::Arc;
use std::time::Duration;

use inkstone_core::orders::{self, Order, OrderStatus};
use inkstone_core::purchases::{self, ApplyOutcome};
use inkstone_core::revocations::{self, RevocationOutcome};
use inkstone_core::{catalog, profiles, Clock, CoreError, Database};
use inkstone_keychain::{SecretName, SecretStore};
use inkstone_pay::receipt::TrustedKeys;

pub use client::{
    AccountSignIn, ClientError, PaymentClient, Providers, RevocationItem, RevocationPage,
    ServerAccount, ServerOrder,
};
pub use inkstone_core::revocations::RevocationRecord;

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
    ];

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
        }
    }
}

/// An order that could not be settled now, and why (its error's kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFailure {
    pub order_no: String,
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

/// What restoring purchases did: receipts newly applied, and each that failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RestoreReport {
    pub applied: usize,
    pub failures: Vec<OrderFailure>,
}

fn failure(order_no: &str, e: &ShopError) -> OrderFailure {
    OrderFailure {
        order_no: order_no.to_string(),
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
        }
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
    /// sandbox check is the shop's, before it.
    async fn apply(
        &self,
        profile_id: i64,
        receipt: &inkstone_pay::receipt::SignedReceipt,
    ) -> Result<ApplyOutcome, ShopError> {
        if receipt.receipt.provider == "sandbox" && !self.allow_sandbox {
            return Err(ShopError::SandboxRefused);
        }
        Ok(
            purchases::apply_receipt(&self.db, profile_id, &self.keys, receipt, self.clock.now())
                .await?,
        )
    }

    pub fn client(&self) -> &PaymentClient {
        &self.client
    }

    /// The profile's account token, registering an account on first use.
    async fn token(&self, profile_id: i64) -> Result<String, ShopError> {
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
        profile_id: i64,
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
            amount_fen: o.amount_fen,
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
    async fn settle(&self, profile_id: i64, server: &ServerOrder) -> Result<Settled, ShopError> {
        let status = match server.status.as_str() {
            "paid" => OrderStatus::Paid,
            "expired" => OrderStatus::Expired,
            "closed" => OrderStatus::Closed,
            _ => OrderStatus::Pending,
        };
        let mut newly = false;
        if status == OrderStatus::Paid {
            let receipt = server.receipt.as_ref().ok_or(ShopError::Inconsistent)?;
            if receipt.receipt.order_no != server.order_no {
                return Err(ShopError::Inconsistent);
            }
            newly = match self.apply(profile_id, receipt).await? {
                ApplyOutcome::Applied { .. } => true,
                ApplyOutcome::AlreadyApplied { .. } => false,
            };
        }
        let order = orders::update_status(
            &self.db,
            profile_id,
            &server.order_no,
            status,
            self.clock.now(),
        )
        .await?;
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
        profile_id: i64,
        order_no: &str,
        wait: Duration,
    ) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let server = self.client.wait_order(&token, order_no, wait).await?;
        self.settle(profile_id, &server).await
    }

    /// "I have paid, check again": the server asks the provider now.
    pub async fn check(&self, profile_id: i64, order_no: &str) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let server = self.client.check_order(&token, order_no).await?;
        self.settle(profile_id, &server).await
    }

    pub async fn cancel(&self, profile_id: i64, order_no: &str) -> Result<Settled, ShopError> {
        let token = self.token(profile_id).await?;
        let server = self.client.cancel_order(&token, order_no).await?;
        self.settle(profile_id, &server).await
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
                self.settle(order.profile_id, &server).await
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
        profile_id: i64,
        login_name: &str,
        password: &str,
    ) -> Result<String, ShopError> {
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
        profile_id: i64,
        how: &AccountSignIn,
    ) -> Result<String, ShopError> {
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
        profile_id: i64,
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

    /// Applies every receipt of the profile's account that this machine lacks. A
    /// receipt that cannot be applied is reported and the rest go on.
    pub async fn restore_purchases(&self, profile_id: i64) -> Result<RestoreReport, ShopError> {
        let token = self.token(profile_id).await?;
        let mut report = RestoreReport::default();
        for receipt in self.client.receipts(&token).await? {
            match self.apply(profile_id, &receipt).await {
                Ok(ApplyOutcome::Applied { .. }) => report.applied += 1,
                Ok(ApplyOutcome::AlreadyApplied { .. }) => {}
                Err(e) => {
                    tracing::warn!(order_no = %receipt.receipt.order_no, kind = e.kind(), "receipt not applied");
                    report.failures.push(failure(&receipt.receipt.order_no, &e));
                }
            }
        }
        Ok(report)
    }
}
