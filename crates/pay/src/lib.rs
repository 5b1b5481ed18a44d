//! Payment-side code shared by the desktop app and the hosted payment endpoint.
//!
//! * [`receipt`]: the Ed25519-signed receipt the server issues for a paid order
//!   and the desktop verifies before it credits anything. Both sides use this
//!   one implementation of the canonical bytes, so they cannot disagree on what
//!   was signed.
//!
//! ```
//! use inkstone_pay::receipt::{Purchase, Receipt, ReceiptSigner, TrustedKeys};
//! let signer = ReceiptSigner::generate();
//! let receipt = Receipt {
//!     order_no: "IS20261124ABCDEF12".into(),
//!     account_id: "acct_1".into(),
//!     purchase: Purchase::Credits { sku: "credits_100".into(), credits: 100, bonus_credits: 10 },
//!     amount_fen: 1000,
//!     currency: "CNY".into(),
//!     provider: "sandbox".into(),
//!     provider_txn_id: "SBX1".into(),
//!     paid_at: "2026-11-24T10:00:00Z".parse().unwrap(),
//! };
//! let signed = signer.sign(receipt.clone()).unwrap();
//! let keys = TrustedKeys::new([signer.public_key()]);
//! assert_eq!(keys.verify(&signed).unwrap(), &receipt);
//! ```
#![forbid(unsafe_code)]

pub mod receipt;
