//! The one error type of the core crate. Each variant has a stable `kind()`
//! that the shell sends to the UI, which picks the localised text by it.

use inkstone_domain::{Credits, GenerationId, ProfileId};
use inkstone_receipt::ReceiptError;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Occurs when a non-member asks for a generation that costs more than the balance.
    #[error("not enough credits: {needed} needed, {missing} missing")]
    InsufficientCredits { needed: Credits, missing: Credits },
    /// Occurs when an amount is zero, negative, or would overflow the balance.
    #[error("invalid amount: {0}")]
    InvalidAmount(&'static str),
    /// Occurs when a profile id names no profile.
    #[error("unknown profile {0}")]
    UnknownProfile(ProfileId),
    /// Occurs when a username and password do not match a profile.
    #[error("wrong username or password")]
    BadCredentials,
    /// Occurs when a sign-in (or a password check) comes while the delay after 5 failures in
    /// a row runs.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    /// Occurs when the name typed to confirm deleting a profile is not its name.
    #[error("the name typed does not match the profile")]
    ConfirmationMismatch,
    /// Occurs when a profile other than the computer's owner manages AI models or asks for
    /// every profile's statistics.
    #[error("only the owner of this computer can do this")]
    OwnerOnly,
    /// Occurs when a new profile's username is already used.
    #[error("username already taken")]
    UsernameTaken,
    /// Occurs when a field fails validation (username, password, tool, sku, text).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        field: &'static str,
        reason: &'static str,
    },
    /// Occurs when a transaction id names no transaction of this kind.
    #[error("unknown transaction {0}")]
    UnknownTransaction(i64),
    /// Occurs when a consumption is refunded a second time.
    #[error("consumption {0} was already refunded")]
    AlreadyRefunded(i64),
    /// Occurs when a receipt fails verification (signature, key, fields).
    #[error("receipt rejected: {0}")]
    Receipt(#[from] ReceiptError),
    /// Occurs when a receipt names another account than the profile's.
    #[error("the receipt belongs to another account")]
    ReceiptWrongAccount,
    /// Occurs when a receipt is applied to a profile that never registered with the payment endpoint.
    #[error("this profile has no payment account yet")]
    NoPaymentAccount,
    /// Occurs when a generation id names no generation.
    #[error("unknown generation {0}")]
    UnknownGeneration(GenerationId),
    /// Occurs when a finished, failed or stopped generation is acted on again.
    #[error("generation {0} is not running")]
    GenerationNotRunning(GenerationId),
    /// Occurs when SQLite fails; details stay in the logs.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Occurs when stored JSON cannot be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl CoreError {
    /// Every `kind()` this type can return: the UI must have text for each (the desktop
    /// crate writes the full list to `ui/src/i18n/errorKinds.generated.ts`).
    pub const KINDS: &'static [&'static str] = &[
        "insufficient_credits",
        "invalid_amount",
        "unknown_profile",
        "bad_credentials",
        "username_taken",
        "invalid_input",
        "unknown_transaction",
        "already_refunded",
        "receipt_unknown_key",
        "receipt_forged",
        "receipt_invalid",
        "receipt_wrong_account",
        "no_payment_account",
        "unknown_generation",
        "generation_not_running",
        "database",
        "corrupt_data",
        "too_many_attempts",
        "confirmation_mismatch",
        "owner_only",
    ];

    /// A stable machine-readable name for the UI; never changes once shipped.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InsufficientCredits { .. } => "insufficient_credits",
            Self::InvalidAmount(_) => "invalid_amount",
            Self::UnknownProfile(_) => "unknown_profile",
            Self::BadCredentials => "bad_credentials",
            Self::UsernameTaken => "username_taken",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::ConfirmationMismatch => "confirmation_mismatch",
            Self::OwnerOnly => "owner_only",
            Self::InvalidInput { .. } => "invalid_input",
            Self::UnknownTransaction(_) => "unknown_transaction",
            Self::AlreadyRefunded(_) => "already_refunded",
            Self::Receipt(ReceiptError::UnknownKey(_)) => "receipt_unknown_key",
            Self::Receipt(ReceiptError::BadSignature) => "receipt_forged",
            Self::Receipt(_) => "receipt_invalid",
            Self::ReceiptWrongAccount => "receipt_wrong_account",
            Self::NoPaymentAccount => "no_payment_account",
            Self::UnknownGeneration(_) => "unknown_generation",
            Self::GenerationNotRunning(_) => "generation_not_running",
            Self::Database(_) => "database",
            Self::Corrupt(_) => "corrupt_data",
        }
    }
}

pub(crate) fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::InvalidInput { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No wildcard: a new variant fails to compile here until it has a sample below.
    fn sample_of_each() -> Vec<CoreError> {
        let all = vec![
            CoreError::InsufficientCredits {
                needed: Credits::new(1),
                missing: Credits::new(1),
            },
            CoreError::InvalidAmount("x"),
            CoreError::UnknownProfile(ProfileId::new(1)),
            CoreError::BadCredentials,
            CoreError::UsernameTaken,
            CoreError::InvalidInput {
                field: "f",
                reason: "r",
            },
            CoreError::UnknownTransaction(1),
            CoreError::AlreadyRefunded(1),
            CoreError::Receipt(ReceiptError::UnknownKey("k".into())),
            CoreError::Receipt(ReceiptError::BadSignature),
            CoreError::Receipt(ReceiptError::Malformed("m")),
            CoreError::Receipt(ReceiptError::InvalidField {
                field: "f",
                reason: "r",
            }),
            CoreError::ReceiptWrongAccount,
            CoreError::NoPaymentAccount,
            CoreError::UnknownGeneration(GenerationId::new(1)),
            CoreError::GenerationNotRunning(GenerationId::new(1)),
            CoreError::Database(sqlx::Error::PoolClosed),
            CoreError::Corrupt("c".into()),
            CoreError::TooManyAttempts {
                retry_after_secs: 30,
            },
            CoreError::ConfirmationMismatch,
            CoreError::OwnerOnly,
        ];
        for e in &all {
            match e {
                CoreError::InsufficientCredits { .. }
                | CoreError::InvalidAmount(_)
                | CoreError::UnknownProfile(_)
                | CoreError::BadCredentials
                | CoreError::UsernameTaken
                | CoreError::InvalidInput { .. }
                | CoreError::UnknownTransaction(_)
                | CoreError::AlreadyRefunded(_)
                | CoreError::Receipt(_)
                | CoreError::ReceiptWrongAccount
                | CoreError::NoPaymentAccount
                | CoreError::UnknownGeneration(_)
                | CoreError::GenerationNotRunning(_)
                | CoreError::Database(_)
                | CoreError::Corrupt(_)
                | CoreError::TooManyAttempts { .. }
                | CoreError::ConfirmationMismatch
                | CoreError::OwnerOnly => {}
            }
        }
        all
    }

    #[test]
    fn kinds_lists_exactly_what_kind_returns() {
        let returned: std::collections::BTreeSet<&str> =
            sample_of_each().iter().map(CoreError::kind).collect();
        let listed: std::collections::BTreeSet<&str> = CoreError::KINDS.iter().copied().collect();
        assert_eq!(returned, listed);
    }
}
