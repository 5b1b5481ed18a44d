//! Signed revocations: the server's word that a paid order was refunded, so the desktop
//! takes back what its receipt gave (issue 13, item 2). Signed with the receipt key over
//! canonical bytes like a receipt (a different tag, so one can never pass for the other).
//!
//! The server decides what is taken back (`credits`, `days`): a full refund takes back
//! everything the receipt gave; a partial one the same share, rounded down, so a payer is
//! never charged back more than the share of money returned. The desktop applies it once
//! (by `refund_no`) and never takes its balance below zero.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};

use crate::{
    check_text, Credits, Fen, OrderNo, Purchase, ReceiptError, ReceiptSigner, TrustedKeys,
};

/// First line of the canonical bytes; changes whenever the format does.
pub const CANONICAL_TAG: &str = "inkstone-revocation/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Parsed when a revocation is read, as a receipt's.
    pub order_no: OrderNo,
    pub account_id: String,
    /// Our refund number; a desktop applies each at most once.
    pub refund_no: String,
    /// Money returned by this refund, and the order's whole amount, in fen.
    pub refund_fen: Fen,
    pub amount_fen: Fen,
    /// Credits to take back (recharge and bonus together), and membership days.
    pub credits: Credits,
    pub days: i64,
    /// Why, for the writer (the operator's words).
    pub reason: String,
    pub revoked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRevocation {
    pub key_id: String,
    pub revocation: Revocation,
    pub signature: String,
}

/// What a refund of `refund_fen` out of `amount_fen` takes back of `purchase`:
/// `(credits, days)`, the same share rounded down (all of it for a full refund).
pub fn taken_back(purchase: &Purchase, refund_fen: Fen, amount_fen: Fen) -> (Credits, i64) {
    let (refund, amount) = (refund_fen.get(), amount_fen.get());
    let share = |n: i64| -> i64 {
        if amount <= 0 || refund <= 0 {
            return 0;
        }
        if refund >= amount {
            return n.max(0);
        }
        // i128: no overflow for any i64 inputs; a share below 1 of n ≥ 0 fits an i64.
        i64::try_from(i128::from(n.max(0)) * i128::from(refund) / i128::from(amount)).unwrap_or(0)
    };
    match purchase {
        Purchase::Credits {
            credits,
            bonus_credits,
            ..
        } => {
            // A sum out of range saturates (both have the same sign then), as validation
            // refuses such a receipt anyway.
            let total = credits
                .checked_add(*bonus_credits)
                .unwrap_or(if credits.is_negative() {
                    Credits::ZERO
                } else {
                    Credits::new(i64::MAX)
                });
            (Credits::new(share(total.get())), 0)
        }
        Purchase::Membership { days, .. } => (Credits::ZERO, share(*days)),
    }
}

impl Revocation {
    pub fn validate(&self) -> Result<(), ReceiptError> {
        check_text("order_no", self.order_no.as_str())?;
        check_text("account_id", &self.account_id)?;
        check_text("refund_no", &self.refund_no)?;
        check_text("reason", &self.reason)?;
        let bad = |field, reason| Err(ReceiptError::InvalidField { field, reason });
        if !self.amount_fen.is_positive()
            || !self.refund_fen.is_positive()
            || self.refund_fen > self.amount_fen
        {
            return bad("refund_fen", "must be 1..=amount_fen");
        }
        if !(0..=200_000_000).contains(&self.credits.get()) || !(0..=3660).contains(&self.days) {
            return bad("credits", "out of range");
        }
        Ok(())
    }

    pub fn canonical_bytes(&self, key_id: &str) -> Result<Vec<u8>, ReceiptError> {
        check_text("key_id", key_id)?;
        self.validate()?;
        let lines = [
            CANONICAL_TAG.to_owned(),
            format!("key_id={key_id}"),
            format!("order_no={}", self.order_no),
            format!("account_id={}", self.account_id),
            format!("refund_no={}", self.refund_no),
            format!("refund_fen={}", self.refund_fen),
            format!("amount_fen={}", self.amount_fen),
            format!("credits={}", self.credits),
            format!("days={}", self.days),
            format!("reason={}", self.reason),
            format!(
                "revoked_at={}",
                self.revoked_at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        ];
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out.into_bytes())
    }
}

impl ReceiptSigner {
    pub fn sign_revocation(&self, mut r: Revocation) -> Result<SignedRevocation, ReceiptError> {
        r.revoked_at = r.revoked_at.trunc_subsecs(0);
        let bytes = r.canonical_bytes(self.key_id())?;
        Ok(SignedRevocation {
            key_id: self.key_id().to_string(),
            signature: B64.encode(self.key.sign(&bytes).to_bytes()),
            revocation: r,
        })
    }
}

impl TrustedKeys {
    /// The revocation, only when its key is pinned and its signature holds.
    pub fn verify_revocation<'a>(
        &self,
        signed: &'a SignedRevocation,
    ) -> Result<&'a Revocation, ReceiptError> {
        let key = self
            .keys
            .get(&signed.key_id)
            .ok_or_else(|| ReceiptError::UnknownKey(signed.key_id.clone()))?;
        let sig: [u8; 64] = B64
            .decode(signed.signature.trim())
            .map_err(|_| ReceiptError::Malformed("signature"))?
            .try_into()
            .map_err(|_| ReceiptError::Malformed("signature"))?;
        let bytes = signed.revocation.canonical_bytes(&signed.key_id)?;
        key.verify_strict(&bytes, &Signature::from_bytes(&sig))
            .map_err(|_| ReceiptError::BadSignature)?;
        Ok(&signed.revocation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(n: i64) -> Fen {
        Fen::new(n).unwrap()
    }

    fn sample() -> Revocation {
        Revocation {
            order_no: "IK20261125120000ABCDEFGHJK".parse().unwrap(),
            account_id: "acct_1".into(),
            refund_no: "RFIK20261125120000ABCDEFGHJKN1".into(),
            refund_fen: fen(1000),
            amount_fen: fen(1000),
            credits: Credits::new(110),
            days: 0,
            reason: "重复购买".into(),
            revoked_at: "2026-11-25T10:00:00.700Z".parse().unwrap(),
        }
    }

    #[test]
    fn signed_revocations_verify_and_tampering_fails() {
        let signer = ReceiptSigner::generate();
        let keys = TrustedKeys::new([signer.public_key()]);
        let signed = signer.sign_revocation(sample()).unwrap();
        assert_eq!(
            keys.verify_revocation(&signed).unwrap().revoked_at,
            "2026-11-25T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let mut more = signed.clone();
        more.revocation.credits = Credits::new(1);
        assert_eq!(
            keys.verify_revocation(&more),
            Err(ReceiptError::BadSignature)
        );
        let other = TrustedKeys::new([ReceiptSigner::generate().public_key()]);
        assert!(matches!(
            other.verify_revocation(&signed),
            Err(ReceiptError::UnknownKey(_))
        ));
        let mut bad = sample();
        bad.refund_fen = fen(2000);
        assert!(signer.sign_revocation(bad).is_err());
        let mut forged = sample();
        forged.reason = "x\ncredits=0".into();
        assert!(signer.sign_revocation(forged).is_err());
    }

    #[test]
    fn a_revocation_whose_order_number_does_not_parse_is_refused() {
        let signer = ReceiptSigner::generate();
        let signed = signer.sign_revocation(sample()).unwrap();
        let good = serde_json::to_value(&signed).unwrap();
        assert_eq!(good["revocation"]["order_no"], "IK20261125120000ABCDEFGHJK");
        assert_eq!(
            serde_json::from_value::<SignedRevocation>(good.clone()).unwrap(),
            signed
        );
        for bad in ["IK1\ncredits=0", "IK1", "../../etc"] {
            let mut json = good.clone();
            json["revocation"]["order_no"] = bad.into();
            assert!(serde_json::from_value::<SignedRevocation>(json).is_err());
        }
        let bytes = String::from_utf8(sample().canonical_bytes("k").unwrap()).unwrap();
        assert!(bytes.contains("\norder_no=IK20261125120000ABCDEFGHJK\n"));
    }

    #[test]
    fn what_is_taken_back_is_the_refunded_share_rounded_down() {
        let credits = Purchase::Credits {
            sku: "credits_100".into(),
            credits: Credits::new(100),
            bonus_credits: Credits::new(10),
        };
        let c = Credits::new;
        assert_eq!(taken_back(&credits, fen(1000), fen(1000)), (c(110), 0));
        assert_eq!(taken_back(&credits, fen(300), fen(1000)), (c(33), 0));
        assert_eq!(taken_back(&credits, fen(1), fen(1000)), (c(0), 0));
        let month = Purchase::Membership {
            sku: "member_month".into(),
            plan: "month".into(),
            days: 30,
        };
        assert_eq!(taken_back(&month, fen(990), fen(990)), (c(0), 30));
        assert_eq!(taken_back(&month, fen(495), fen(990)), (c(0), 15));
        assert_eq!(taken_back(&month, fen(0), fen(990)), (c(0), 0));
    }

    proptest! {
        /// Never more than the purchase gave, never negative, for any amounts.
        #[test]
        fn taken_back_is_bounded(credits in any::<i64>(), bonus in any::<i64>(), refund in 0..=i64::MAX, amount in 0..=i64::MAX) {
            let p = Purchase::Credits { sku: "s".into(), credits: Credits::new(credits), bonus_credits: Credits::new(bonus) };
            let (c, d) = taken_back(&p, fen(refund), fen(amount));
            let c = c.get();
            prop_assert!(c >= 0 && d == 0);
            prop_assert!(c <= credits.saturating_add(bonus).max(0));
        }
    }
}
