//! Refunded purchases (issue 13): the endpoint's signed revocations, applied once per
//! refund for every profile that has a purchase account (see `Shop::apply_revocations`).

use inkstone_shop::RevocationRecord;

use crate::Services;

impl Services {
    /// Fetches and applies the revocations of every profile with a purchase account;
    /// returns those applied now, so the shell tells the writer once why credits or
    /// membership days were taken back. Offline or failing, nothing changes and the next
    /// call tries again.
    pub async fn apply_revocations(&self) -> Vec<RevocationRecord> {
        let Some(shop) = &self.shop else {
            return Vec::new();
        };
        let profiles = match inkstone_core::profiles::list_profiles(&self.db).await {
            Ok(p) => p,
            Err(error) => {
                tracing::warn!(%error, "cannot list profiles for refunds");
                return Vec::new();
            }
        };
        let mut applied = Vec::new();
        for p in profiles.iter().filter(|p| p.server_account_id.is_some()) {
            match shop.apply_revocations(p.id).await {
                Ok((records, failures)) => {
                    for f in failures {
                        tracing::warn!(order_no = %f.order_no, kind = f.kind, "revocation not applied");
                    }
                    applied.extend(records);
                }
                Err(e) => {
                    tracing::warn!(
                        profile_id = p.id.get(),
                        kind = e.kind(),
                        "refunds not fetched now"
                    )
                }
            }
        }
        applied
    }
}
