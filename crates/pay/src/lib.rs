//! Payment-side code shared by the desktop app and the hosted payment endpoint.
//!
//! * [`wechat`], [`alipay`]: WeChat Pay APIv3 Native and Alipay precreate, as
//!   signed requests and verified answers and notifications ([`testkit`] plays
//!   the providers in tests);
//! * [`receipt`]: the Ed25519-signed receipt the server issues for a paid order
//!   and the desktop verifies before it credits anything. Both sides use this
//!   one implementation of the canonical bytes, so they cannot disagree on what
//!   was signed.
//!
//! ```
//! use inkstone_pay::receipt::{Credits, Fen, Purchase, Receipt, ReceiptSigner, TrustedKeys};
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
//! ```
#![forbid(unsafe_code)]

pub mod alipay;
pub mod bill;
pub mod money;
/// The signed receipt and revocation live in their own crate (the desktop links it without
/// this one).
pub use inkstone_receipt as receipt;
pub use inkstone_receipt::revocation;
pub mod rsa_keys;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod wechat;

/// A provider API call, built and signed, for the caller to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a provider's verified message says was paid. Matching it against
/// the stored order (amount, currency) is the server's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidTransaction {
    /// As the provider wrote it: the server parses it into an `OrderNo` before any lookup.
    pub order_no: String,
    pub amount_fen: inkstone_domain::Fen,
    pub currency: String,
    pub provider_txn_id: String,
    pub paid_at: chrono::DateTime<chrono::Utc>,
}
