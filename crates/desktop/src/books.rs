//! The writer's books as the pages show them: balance, ledger rows, orders, membership, prices
//! and statistics. Reading only; money moves in `inkstone_core` (ledger, purchases) and comes
//! in through the shop. Statistics of every profile are the owner's alone.

use chrono::{DateTime, Duration, Utc};
pub use inkstone_core::catalog::CachedCatalog;
pub use inkstone_core::ledger::{Balance, PageRequest, Statistics, TxFilter, TxPage};
pub use inkstone_core::orders::Order;
pub use inkstone_core::purchases::{MembershipStatistics, MembershipStatus};
use inkstone_core::{catalog, ledger, orders, purchases};
use inkstone_domain::ProfileId;

use crate::{DesktopError, DesktopResult, Services};

/// The longest membership a preview is asked for (ten years).
const MAX_PREVIEW_DAYS: i64 = 3650;

impl Services {
    pub async fn balance(&self, profile: ProfileId) -> DesktopResult<Balance> {
        Ok(ledger::balance(&self.db, profile, self.now()).await?)
    }

    pub async fn transactions(
        &self,
        profile: ProfileId,
        filter: &TxFilter,
        page: PageRequest,
    ) -> DesktopResult<TxPage> {
        Ok(ledger::transactions(&self.db, profile, filter, page).await?)
    }

    /// Prices from the payment endpoint when it answers (and cached), else the cached ones:
    /// the pages work offline.
    pub async fn prices(&self) -> DesktopResult<CachedCatalog> {
        match self.shop() {
            Ok(shop) => Ok(shop.refresh_catalog().await?),
            Err(_) => Ok(catalog::cached_catalog(&self.db).await?),
        }
    }

    /// Totals per type and per day between `from` and `to` (default: the 30 days up to
    /// tomorrow). `all_profiles` is for the owner of this computer only.
    pub async fn statistics(
        &self,
        profile: ProfileId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        all_profiles: bool,
    ) -> DesktopResult<Statistics> {
        let scope = if all_profiles {
            self.require_owner(Some(profile)).await?;
            None
        } else {
            Some(profile)
        };
        let to = to.unwrap_or_else(|| self.now() + Duration::days(1));
        let from = from.unwrap_or(to - Duration::days(30));
        Ok(ledger::statistics(&self.db, scope, from, to).await?)
    }

    pub async fn membership_status(&self, profile: ProfileId) -> DesktopResult<MembershipStatus> {
        Ok(purchases::membership_status(&self.db, profile, self.now()).await?)
    }

    /// What a membership of `days` bought now would end at (shown before paying).
    pub async fn membership_preview(
        &self,
        profile: ProfileId,
        days: i64,
    ) -> DesktopResult<DateTime<Utc>> {
        if !(1..=MAX_PREVIEW_DAYS).contains(&days) {
            return Err(DesktopError::InvalidArgument {
                field: "days",
                reason: "1 to 3650",
            });
        }
        let now = self.now();
        let status = purchases::membership_status(&self.db, profile, now).await?;
        Ok(purchases::extended_until(status.member_until, days, now))
    }

    pub async fn credit_orders(&self, profile: ProfileId) -> DesktopResult<Vec<Order>> {
        Ok(orders::list_orders(&self.db, profile, Some("credits")).await?)
    }

    pub async fn membership_orders(&self, profile: ProfileId) -> DesktopResult<Vec<Order>> {
        Ok(orders::list_orders(&self.db, profile, Some("membership")).await?)
    }

    /// Memberships of every profile: the owner's page.
    pub async fn membership_statistics(
        &self,
        profile: ProfileId,
    ) -> DesktopResult<MembershipStatistics> {
        self.require_owner(Some(profile)).await?;
        Ok(purchases::membership_statistics(&self.db, self.now()).await?)
    }
}
