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
use inkstone_core::{catalog, profiles, Clock, CoreError, Database};
use inkstone_keychain::{SecretName, SecretStore};
use inkstone_pay::receipt::TrustedKeys;

pub use client::{ClientError, PaymentClient, Providers, ServerOrder};

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
}

impl ShopError {
    /// The kinds of its own (besides those of `CoreError` and `ClientError`).
    pub const OWN_KINDS: &'static [&'static str] = &["keychain_unavailable", "server_inconsistent"];

    pub fn kind(&self) -> &'static str {
        match self {
            ShopError::Core(e) => e.kind(),
            ShopError::Server(e) => e.kind(),
            ShopError::Keychain(_) => "keychain_unavailable",
            ShopError::Inconsistent => "server_inconsistent",
        }
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
    /// Still pending after this wait.
    Pending(Order),
}

#[derive(Clone)]
pub struct Shop {
    db: Database,
    clock: Clock,
    client: PaymentClient,
    keys: Arc<TrustedKeys>,
    secrets: Arc<dyn SecretStore>,
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
        }
    }

    /// The same shop reading `clock` whenever it records or applies something.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
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
        if let (Some(_), Some(token)) = (&profile.server_account_id, stored) {
            return Ok(token);
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
        let token = self.token(profile_id).await?;
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
            // Verification, the account check and once-only all happen here.
            newly = match purchases::apply_receipt(
                &self.db,
                profile_id,
                &self.keys,
                receipt,
                self.clock.now(),
            )
            .await?
            {
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
            _ => Settled::Pending(order),
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

    /// After a start, a crash or a night offline: every unsettled order of
    /// every profile is asked about once (no waiting) and settled.
    pub async fn resume(&self) -> Result<Vec<Settled>, ShopError> {
        let mut out = Vec::new();
        for order in orders::unsettled_orders(&self.db).await? {
            let token = self.token(order.profile_id).await?;
            let server = self.client.get_order(&token, &order.order_no).await?;
            out.push(self.settle(order.profile_id, &server).await?);
        }
        Ok(out)
    }

    /// Applies every receipt of the profile's account that this machine lacks.
    /// Returns how many were new.
    pub async fn restore_purchases(&self, profile_id: i64) -> Result<usize, ShopError> {
        let token = self.token(profile_id).await?;
        let mut applied = 0;
        for receipt in self.client.receipts(&token).await? {
            if let ApplyOutcome::Applied { .. } = purchases::apply_receipt(
                &self.db,
                profile_id,
                &self.keys,
                &receipt,
                self.clock.now(),
            )
            .await?
            {
                applied += 1;
            }
        }
        Ok(applied)
    }
}
