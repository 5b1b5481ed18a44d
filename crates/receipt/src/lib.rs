//! Signed receipts: the only evidence the desktop accepts that an order was paid.
//!
//! The server signs the receipt's *canonical bytes* (a fixed line-per-field
//! text, never re-serialised JSON) with its Ed25519 key. The key id is part of
//! the signed bytes, so a receipt cannot be moved under another key, and keys
//! can be rotated: the desktop pins a set of trusted public keys by id.
//!
//! Invariants enforced here:
//! * a receipt that fails [`Receipt::validate`] is never signed or accepted;
//! * its order number is an [`OrderNo`]: a receipt whose number does not parse is refused
//!   when it is read (JSON), and the number is signed and sent as the same text as before;
//! * `paid_at` is whole seconds (one representation, one set of bytes);
//! * verification needs a known key id *and* a valid signature over exactly
//!   the fields the caller gets back.
//!
//! ```
//! use inkstone_receipt::{Credits, Fen, Purchase, Receipt, ReceiptSigner, TrustedKeys};
//! let signer = ReceiptSigner::generate();
//! let receipt = Receipt {
//!     order_no: "IS20261124ABCDEF12".parse().unwrap(),
//!     account_id: "acct_1".into(),
//!     purchase: Purchase::Credits {
//!         sku: "credits_100".into(),
//!         credits: Credits::new(100),
//!         bonus_credits: Credits::new(10),
//!     },
//!     amount_fen: Fen::new(1000).unwrap(),
//!     currency: "CNY".into(),
//!     provider: "sandbox".into(),
//!     provider_txn_id: "SBX1".into(),
//!     paid_at: "2026-11-24T10:00:00Z".parse().unwrap(),
//! };
//! let signed = signer.sign(receipt.clone()).unwrap();
//! let keys = TrustedKeys::new([signer.public_key()]);
//! assert_eq!(keys.verify(&signed).unwrap(), &receipt);
//! // One changed field and the signature no longer holds.
//! let mut forged = signed.clone();
//! forged.receipt.amount_fen = Fen::new(1).unwrap();
//! assert!(keys.verify(&forged).is_err());
//! ```
#![forbid(unsafe_code)]

pub mod revocation;

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use inkstone_domain::{Credits, Fen, OrderNo};

/// First line of the canonical bytes; changes whenever the format does.
pub const CANONICAL_TAG: &str = "inkstone-receipt/1";

/// The longest text field we sign. Order numbers and provider ids are far shorter.
const MAX_FIELD_CHARS: usize = 128;
/// Ten years of membership in one order is already absurd.
const MAX_MEMBERSHIP_DAYS: i64 = 3660;
/// 100 million credits (10 million CNY) in one order is beyond any package.
const MAX_CREDITS: i64 = 100_000_000;

/// What a paid order bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purchase {
    /// A credit package: `credits` as RECHARGE, `bonus_credits` as BONUS.
    Credits {
        sku: String,
        credits: Credits,
        bonus_credits: Credits,
    },
    /// A membership plan (`plan` is `month`, `quarter` or `year`) of `days` days.
    Membership {
        sku: String,
        plan: String,
        days: i64,
    },
}

/// The signed facts about one paid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Parsed when a receipt is read: one whose number does not parse is refused.
    pub order_no: OrderNo,
    pub account_id: String,
    pub purchase: Purchase,
    pub amount_fen: Fen,
    pub currency: String,
    pub provider: String,
    pub provider_txn_id: String,
    pub paid_at: DateTime<Utc>,
}

/// A receipt with its signature, as it travels between server and desktop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    pub key_id: String,
    pub receipt: Receipt,
    /// Base64 (standard alphabet) of the 64-byte Ed25519 signature.
    pub signature: String,
}

/// A public key as the server publishes it and the desktop pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyInfo {
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Occurs when a field is empty, too long, contains control characters or
    /// holds an impossible value.
    #[error("receipt field `{field}` is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// Occurs when the receipt names a key id that is not pinned.
    #[error("receipt is signed by an unknown key `{0}`")]
    UnknownKey(String),
    /// Occurs when the signature does not match the receipt's bytes.
    #[error("receipt signature does not verify")]
    BadSignature,
    /// Occurs when a key or signature is not valid base64 of the right length.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), ReceiptError> {
    if value.is_empty() {
        return Err(ReceiptError::InvalidField {
            field,
            reason: "empty",
        });
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(ReceiptError::InvalidField {
            field,
            reason: "too long",
        });
    }
    // Control characters (newline above all) would let one field forge another
    // line of the canonical bytes.
    if value.chars().any(char::is_control) {
        return Err(ReceiptError::InvalidField {
            field,
            reason: "control character",
        });
    }
    Ok(())
}

impl Receipt {
    /// Rejects any receipt that must never be signed or credited.
    pub fn validate(&self) -> Result<(), ReceiptError> {
        check_text("order_no", self.order_no.as_str())?;
        check_text("account_id", &self.account_id)?;
        check_text("provider", &self.provider)?;
        check_text("provider_txn_id", &self.provider_txn_id)?;
        if self.currency != "CNY" {
            return Err(ReceiptError::InvalidField {
                field: "currency",
                reason: "only CNY is sold",
            });
        }
        if !self.amount_fen.is_positive() {
            return Err(ReceiptError::InvalidField {
                field: "amount_fen",
                reason: "must be positive",
            });
        }
        if self.paid_at.timestamp_subsec_nanos() != 0 {
            return Err(ReceiptError::InvalidField {
                field: "paid_at",
                reason: "must be whole seconds",
            });
        }
        match &self.purchase {
            Purchase::Credits {
                sku,
                credits,
                bonus_credits,
            } => {
                check_text("sku", sku)?;
                if !(0..=MAX_CREDITS).contains(&credits.get()) {
                    return Err(ReceiptError::InvalidField {
                        field: "credits",
                        reason: "out of range",
                    });
                }
                if !(0..=MAX_CREDITS).contains(&bonus_credits.get()) {
                    return Err(ReceiptError::InvalidField {
                        field: "bonus_credits",
                        reason: "out of range",
                    });
                }
                // Both are 0 or more here.
                if credits.get() == 0 && bonus_credits.get() == 0 {
                    return Err(ReceiptError::InvalidField {
                        field: "credits",
                        reason: "buys nothing",
                    });
                }
            }
            Purchase::Membership { sku, plan, days } => {
                check_text("sku", sku)?;
                check_text("plan", plan)?;
                if !(1..=MAX_MEMBERSHIP_DAYS).contains(days) {
                    return Err(ReceiptError::InvalidField {
                        field: "days",
                        reason: "out of range",
                    });
                }
            }
        }
        Ok(())
    }

    /// The exact bytes that are signed, under `key_id`.
    pub fn canonical_bytes(&self, key_id: &str) -> Result<Vec<u8>, ReceiptError> {
        check_text("key_id", key_id)?;
        self.validate()?;
        let mut lines: Vec<String> = vec![
            CANONICAL_TAG.to_owned(),
            format!("key_id={key_id}"),
            format!("order_no={}", self.order_no),
            format!("account_id={}", self.account_id),
        ];
        match &self.purchase {
            Purchase::Credits {
                sku,
                credits,
                bonus_credits,
            } => {
                lines.push("kind=credits".into());
                lines.push(format!("sku={sku}"));
                lines.push(format!("credits={credits}"));
                lines.push(format!("bonus_credits={bonus_credits}"));
            }
            Purchase::Membership { sku, plan, days } => {
                lines.push("kind=membership".into());
                lines.push(format!("sku={sku}"));
                lines.push(format!("plan={plan}"));
                lines.push(format!("days={days}"));
            }
        }
        lines.push(format!("amount_fen={}", self.amount_fen));
        lines.push(format!("currency={}", self.currency));
        lines.push(format!("provider={}", self.provider));
        lines.push(format!("provider_txn_id={}", self.provider_txn_id));
        lines.push(format!(
            "paid_at={}",
            self.paid_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out.into_bytes())
    }
}

/// The key id of a public key: `ed25519-` and the first 8 bytes of its SHA-256, in hex.
pub fn key_id_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("ed25519-{}", hex::encode(&digest[..8]))
}

/// The key id of a published public key (base64 of 32 bytes), checking that it is one.
pub fn key_id_of_public(public_key_b64: &str) -> Result<String, ReceiptError> {
    let bytes = B64
        .decode(public_key_b64.trim())
        .map_err(|_| ReceiptError::Malformed("public key"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ReceiptError::Malformed("public key"))?;
    let key =
        VerifyingKey::from_bytes(&bytes).map_err(|_| ReceiptError::Malformed("public key"))?;
    Ok(key_id_of(&key))
}

/// The server's signing half. Holds the private key; lives only on the server.
pub struct ReceiptSigner {
    pub(crate) key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("ReceiptSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ReceiptSigner {
    pub fn generate() -> Self {
        Self::from_secret_bytes(rand::random())
    }

    pub fn from_secret_bytes(secret: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&secret);
        let key_id = key_id_of(&key.verifying_key());
        Self { key, key_id }
    }

    /// Parses a base64 32-byte secret, as stored in the server's configuration.
    pub fn from_base64_secret(secret_b64: &str) -> Result<Self, ReceiptError> {
        let bytes = B64
            .decode(secret_b64.trim())
            .map_err(|_| ReceiptError::Malformed("signing key"))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ReceiptError::Malformed("signing key"))?;
        Ok(Self::from_secret_bytes(secret))
    }

    /// Base64 of the 32-byte secret, for writing a freshly generated key to configuration.
    pub fn secret_base64(&self) -> String {
        B64.encode(self.key.to_bytes())
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> PublicKeyInfo {
        PublicKeyInfo {
            key_id: self.key_id.clone(),
            public_key: B64.encode(self.key.verifying_key().as_bytes()),
        }
    }

    /// Signs a receipt. Sub-second precision in `paid_at` is dropped first so
    /// that what is returned is exactly what was signed.
    pub fn sign(&self, mut receipt: Receipt) -> Result<SignedReceipt, ReceiptError> {
        receipt.paid_at = receipt.paid_at.trunc_subsecs(0);
        let bytes = receipt.canonical_bytes(&self.key_id)?;
        let signature = self.key.sign(&bytes);
        Ok(SignedReceipt {
            key_id: self.key_id.clone(),
            receipt,
            signature: B64.encode(signature.to_bytes()),
        })
    }
}

/// The set of server public keys a desktop trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    pub(crate) keys: BTreeMap<String, VerifyingKey>,
}

impl TrustedKeys {
    /// Builds the set from published key infos. Panics never: a malformed
    /// entry is an error (see [`TrustedKeys::try_new`]); this constructor is for
    /// infos produced by [`ReceiptSigner::public_key`].
    pub fn new(keys: impl IntoIterator<Item = PublicKeyInfo>) -> Self {
        Self::try_new(keys).unwrap_or_default()
    }

    /// Builds the set, rejecting a key whose bytes are not a valid Ed25519
    /// point or whose id does not match its bytes.
    pub fn try_new(keys: impl IntoIterator<Item = PublicKeyInfo>) -> Result<Self, ReceiptError> {
        let mut out = BTreeMap::new();
        for info in keys {
            let bytes = B64
                .decode(info.public_key.trim())
                .map_err(|_| ReceiptError::Malformed("public key"))?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| ReceiptError::Malformed("public key"))?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| ReceiptError::Malformed("public key"))?;
            if key_id_of(&key) != info.key_id {
                return Err(ReceiptError::Malformed("public key id"));
            }
            out.insert(info.key_id, key);
        }
        Ok(Self { keys: out })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks the key id, the fields and the signature; returns the receipt
    /// only when all three hold.
    pub fn verify<'a>(&self, signed: &'a SignedReceipt) -> Result<&'a Receipt, ReceiptError> {
        let key = self
            .keys
            .get(&signed.key_id)
            .ok_or_else(|| ReceiptError::UnknownKey(signed.key_id.clone()))?;
        let sig_bytes = B64
            .decode(signed.signature.trim())
            .map_err(|_| ReceiptError::Malformed("signature"))?;
        let sig_bytes: [u8; 64] = sig_bytes
            .try_into()
            .map_err(|_| ReceiptError::Malformed("signature"))?;
        let signature = Signature::from_bytes(&sig_bytes);
        let bytes = signed.receipt.canonical_bytes(&signed.key_id)?;
        key.verify_strict(&bytes, &signature)
            .map_err(|_| ReceiptError::BadSignature)?;
        Ok(&signed.receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(n: i64) -> Fen {
        Fen::new(n).expect("non-negative literal")
    }

    fn credits_receipt() -> Receipt {
        Receipt {
            order_no: "IS20261124000001".parse().expect("literal order number"),
            account_id: "acct_7".into(),
            purchase: Purchase::Credits {
                sku: "credits_100".into(),
                credits: Credits::new(100),
                bonus_credits: Credits::new(10),
            },
            amount_fen: fen(1000),
            currency: "CNY".into(),
            provider: "wechat".into(),
            provider_txn_id: "4200000000002104083200000488".into(),
            paid_at: "2026-11-24T10:00:00Z".parse().expect("literal date"),
        }
    }

    fn membership_receipt() -> Receipt {
        Receipt {
            purchase: Purchase::Membership {
                sku: "member_month".into(),
                plan: "month".into(),
                days: 30,
            },
            amount_fen: fen(990),
            ..credits_receipt()
        }
    }

    #[test]
    fn signed_receipt_verifies_and_survives_json() {
        let signer = ReceiptSigner::generate();
        let keys = TrustedKeys::try_new([signer.public_key()]).expect("own key");
        for receipt in [credits_receipt(), membership_receipt()] {
            let signed = signer.sign(receipt.clone()).expect("valid receipt");
            let json = serde_json::to_string(&signed).expect("serialise");
            let back: SignedReceipt = serde_json::from_str(&json).expect("parse");
            assert_eq!(keys.verify(&back), Ok(&receipt));
        }
    }

    #[test]
    fn tampered_amount_account_or_purchase_is_refused() {
        let signer = ReceiptSigner::generate();
        let keys = TrustedKeys::new([signer.public_key()]);
        let signed = signer.sign(credits_receipt()).expect("valid");

        let mut t = signed.clone();
        t.receipt.amount_fen = fen(1001);
        assert_eq!(keys.verify(&t), Err(ReceiptError::BadSignature));

        let mut t = signed.clone();
        t.receipt.account_id = "acct_8".into();
        assert_eq!(keys.verify(&t), Err(ReceiptError::BadSignature));

        let mut t = signed.clone();
        t.receipt.purchase = Purchase::Credits {
            sku: "credits_100".into(),
            credits: Credits::new(1000),
            bonus_credits: Credits::new(10),
        };
        assert_eq!(keys.verify(&t), Err(ReceiptError::BadSignature));
    }

    #[test]
    fn unknown_key_and_key_swap_are_refused() {
        let ours = ReceiptSigner::generate();
        let theirs = ReceiptSigner::generate();
        let keys = TrustedKeys::new([ours.public_key()]);
        let forged = theirs.sign(credits_receipt()).expect("valid");
        assert_eq!(
            keys.verify(&forged),
            Err(ReceiptError::UnknownKey(theirs.key_id().to_owned()))
        );
        // Claiming our key id over their signature fails the signature check.
        let mut swapped = forged;
        swapped.key_id = ours.key_id().to_owned();
        assert_eq!(keys.verify(&swapped), Err(ReceiptError::BadSignature));
    }

    #[test]
    fn malformed_signature_is_a_typed_error() {
        let signer = ReceiptSigner::generate();
        let keys = TrustedKeys::new([signer.public_key()]);
        let mut signed = signer.sign(credits_receipt()).expect("valid");
        signed.signature = "not base64!".into();
        assert_eq!(
            keys.verify(&signed),
            Err(ReceiptError::Malformed("signature"))
        );
        signed.signature = B64.encode([0u8; 10]);
        assert_eq!(
            keys.verify(&signed),
            Err(ReceiptError::Malformed("signature"))
        );
    }

    #[test]
    fn invalid_receipts_are_never_signed() {
        let signer = ReceiptSigner::generate();
        let mut r = credits_receipt();
        r.amount_fen = Fen::ZERO;
        assert!(signer.sign(r).is_err());
        let mut r = credits_receipt();
        r.currency = "USD".into();
        assert!(signer.sign(r).is_err());
        let mut r = credits_receipt();
        r.purchase = Purchase::Credits {
            sku: "x".into(),
            credits: Credits::new(-5),
            bonus_credits: Credits::ZERO,
        };
        assert!(signer.sign(r).is_err());
        let mut r = membership_receipt();
        r.purchase = Purchase::Membership {
            sku: "m".into(),
            plan: "month".into(),
            days: 0,
        };
        assert!(signer.sign(r).is_err());
    }

    #[test]
    fn secret_round_trips_and_key_id_is_stable() {
        let a = ReceiptSigner::generate();
        let b = ReceiptSigner::from_base64_secret(&a.secret_base64()).expect("round trip");
        assert_eq!(a.public_key(), b.public_key());
        assert!(a.key_id().starts_with("ed25519-"));
        assert!(ReceiptSigner::from_base64_secret("short").is_err());
    }

    #[test]
    fn pinned_key_with_wrong_id_is_rejected() {
        let a = ReceiptSigner::generate();
        let mut info = a.public_key();
        info.key_id = "ed25519-0000000000000000".into();
        assert!(TrustedKeys::try_new([info]).is_err());
    }

    /// The signed bytes and the JSON of a receipt are the same text as when the order number
    /// was a plain string: receipts signed before still verify.
    #[test]
    fn order_number_travels_and_is_signed_as_before() {
        let r = credits_receipt();
        let bytes = String::from_utf8(r.canonical_bytes("k1").expect("valid")).expect("utf-8");
        assert_eq!(
            bytes,
            "inkstone-receipt/1\nkey_id=k1\norder_no=IS20261124000001\naccount_id=acct_7\n\
             kind=credits\nsku=credits_100\ncredits=100\nbonus_credits=10\namount_fen=1000\n\
             currency=CNY\nprovider=wechat\nprovider_txn_id=4200000000002104083200000488\n\
             paid_at=2026-11-24T10:00:00Z\n"
        );
        let json = serde_json::to_value(&r).expect("serialise");
        assert_eq!(json["order_no"], "IS20261124000001");
    }

    #[test]
    fn a_receipt_whose_order_number_does_not_parse_is_refused() {
        let signer = ReceiptSigner::generate();
        let signed = signer.sign(credits_receipt()).expect("valid");
        let good = serde_json::to_value(&signed).expect("serialise");
        assert_eq!(
            serde_json::from_value::<SignedReceipt>(good.clone()).expect("parse"),
            signed
        );
        // A newline would forge a line of the canonical bytes; the others are no order number.
        for bad in ["A\nkey_id=x", "IK1", "", "IK2026/../x", &"A".repeat(33)] {
            assert!(OrderNo::parse(bad).is_err(), "{bad:?}");
            let mut json = good.clone();
            json["receipt"]["order_no"] = bad.into();
            let refused = serde_json::from_value::<SignedReceipt>(json);
            assert!(refused.is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        // Any single-field change to a signed receipt breaks the signature.
        #[test]
        fn any_amount_change_breaks_signature(delta in 1i64..1_000_000) {
            let signer = ReceiptSigner::from_secret_bytes([7; 32]);
            let keys = TrustedKeys::new([signer.public_key()]);
            let mut signed = signer.sign(credits_receipt()).expect("valid");
            signed.receipt.amount_fen = fen(1000 + delta);
            prop_assert_eq!(keys.verify(&signed), Err(ReceiptError::BadSignature));
        }
    }
}
