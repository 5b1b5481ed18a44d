//! Money: credits (the writer's balance and every ledger amount) and fen (CNY cents, what is
//! paid). No operator impls: a sum that could wrap or a balance that could go negative is a
//! typed error, never a silent wrong number.

use serde::{Deserialize, Serialize};

/// The exchange rule of the seed report, defined once: 1 CNY = 10 credits, so 1 credit = 10 fen.
pub const FEN_PER_CREDIT: i64 = 10;

/// Why an amount of money was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Occurs when a sum or difference does not fit in an i64.
    #[error("amount out of range")]
    Overflow,
    /// Occurs when an amount that is never negative (fen, a cost) would be.
    #[error("amount must not be negative")]
    Negative,
    /// Occurs when spending more credits than the balance holds.
    #[error("not enough credits")]
    Insufficient,
    /// Occurs when an amount of fen is not a whole number of credits.
    #[error("amount is not a whole number of credits")]
    NotWholeCredits,
}

/// A number of credits: a balance, a price in credits or a ledger amount (negative for a
/// charge), as the ledger stores it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub const fn new(credits: i64) -> Self {
        Credits(credits)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + other`, refused when it does not fit.
    pub fn checked_add(self, other: Credits) -> Result<Credits, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Credits)
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, refused when it does not fit; may be negative (a ledger amount).
    pub fn checked_sub(self, other: Credits) -> Result<Credits, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Credits)
            .ok_or(MoneyError::Overflow)
    }

    /// `-self` (a charge's ledger amount), refused for `i64::MIN`.
    pub fn checked_neg(self) -> Result<Credits, MoneyError> {
        self.0
            .checked_neg()
            .map(Credits)
            .ok_or(MoneyError::Overflow)
    }

    /// A balance after spending `cost`: refused when the cost is negative or the balance would
    /// go below zero.
    pub fn checked_spend(self, cost: Credits) -> Result<Credits, MoneyError> {
        if cost.0 < 0 {
            return Err(MoneyError::Negative);
        }
        match self.checked_sub(cost)? {
            left if left.0 < 0 => Err(MoneyError::Insufficient),
            left => Ok(left),
        }
    }

    /// What these credits cost in fen (1 credit = [`FEN_PER_CREDIT`] fen).
    pub fn to_fen(self) -> Result<Fen, MoneyError> {
        let fen = self
            .0
            .checked_mul(FEN_PER_CREDIT)
            .ok_or(MoneyError::Overflow)?;
        Fen::new(fen)
    }
}

// Comparing with a plain number is no arithmetic; it keeps checks and tests readable.
impl PartialEq<i64> for Credits {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<i64> for Credits {
    fn partial_cmp(&self, other: &i64) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl From<Credits> for i64 {
    fn from(c: Credits) -> i64 {
        c.0
    }
}

impl std::fmt::Display for Credits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An amount of CNY in fen (cents): a price, an amount paid or refunded. Never negative.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Refuses a negative amount.
    pub const fn new(fen: i64) -> Result<Fen, MoneyError> {
        if fen < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Fen(fen))
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Fen)
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, refused when it would be negative.
    pub fn checked_sub(self, other: Fen) -> Result<Fen, MoneyError> {
        // Both are non-negative, so the difference cannot overflow.
        Fen::new(self.0 - other.0)
    }

    /// The credits this amount buys at the exchange rule (1 CNY = 10 credits); refused when it
    /// is not a whole number of credits.
    pub fn to_credits(self) -> Result<Credits, MoneyError> {
        if self.0 % FEN_PER_CREDIT != 0 {
            return Err(MoneyError::NotWholeCredits);
        }
        Ok(Credits(self.0 / FEN_PER_CREDIT))
    }
}

impl TryFrom<i64> for Fen {
    type Error = MoneyError;
    fn try_from(fen: i64) -> Result<Fen, MoneyError> {
        Fen::new(fen)
    }
}

impl PartialEq<i64> for Fen {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

impl std::fmt::Display for Fen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "sqlx")]
sqlx_via!(
    Credits,
    i64,
    |v| Ok::<_, MoneyError>(Credits(v)),
    |c: &Credits| c.0
);
#[cfg(feature = "sqlx")]
sqlx_via!(Fen, i64, Fen::new, |f: &Fen| f.0);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_exchange_rule_is_ten_fen_a_credit_both_ways() {
        assert_eq!(Fen::new(1_000).unwrap().to_credits(), Ok(Credits::new(100)));
        assert_eq!(Credits::new(100).to_fen(), Ok(Fen::new(1_000).unwrap()));
        assert_eq!(Fen::new(990).unwrap().to_credits(), Ok(Credits::new(99)));
        assert_eq!(
            Fen::new(995).unwrap().to_credits(),
            Err(MoneyError::NotWholeCredits)
        );
        assert_eq!(Credits::new(-1).to_fen(), Err(MoneyError::Negative));
        assert_eq!(Credits::new(i64::MAX).to_fen(), Err(MoneyError::Overflow));
    }

    #[test]
    fn fen_is_never_negative_from_code_json_or_a_subtraction() {
        assert_eq!(Fen::new(-1), Err(MoneyError::Negative));
        assert!(serde_json::from_str::<Fen>("-1").is_err());
        assert_eq!(serde_json::from_str::<Fen>("990").unwrap().get(), 990);
        assert_eq!(
            serde_json::to_string(&Fen::new(990).unwrap()).unwrap(),
            "990"
        );
        let one = Fen::new(1).unwrap();
        assert_eq!(Fen::ZERO.checked_sub(one), Err(MoneyError::Negative));
        assert_eq!(
            Fen::new(i64::MAX).unwrap().checked_add(one),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn credits_travel_as_a_plain_number() {
        assert_eq!(serde_json::to_string(&Credits::new(-10)).unwrap(), "-10");
        assert_eq!(
            serde_json::from_str::<Credits>("110").unwrap(),
            Credits::new(110)
        );
        assert!(serde_json::from_str::<Credits>("1.5").is_err());
    }

    #[test]
    fn spending_refuses_more_than_the_balance_and_a_negative_cost() {
        let ten = Credits::new(10);
        assert_eq!(ten.checked_spend(ten), Ok(Credits::ZERO));
        assert_eq!(
            ten.checked_spend(Credits::new(11)),
            Err(MoneyError::Insufficient)
        );
        assert_eq!(
            ten.checked_spend(Credits::new(-1)),
            Err(MoneyError::Negative)
        );
        assert_eq!(
            Credits::new(i64::MIN).checked_neg(),
            Err(MoneyError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn credit_arithmetic_never_wraps(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Credits::new(a), Credits::new(b));
            let wide = i128::from(a) + i128::from(b);
            match x.checked_add(y) {
                Ok(s) => prop_assert_eq!(i128::from(s.get()), wide),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(wide).is_err());
                }
            }
            let wide = i128::from(a) - i128::from(b);
            match x.checked_sub(y) {
                Ok(d) => prop_assert_eq!(i128::from(d.get()), wide),
                Err(_) => prop_assert!(i64::try_from(wide).is_err()),
            }
        }

        #[test]
        fn spending_never_leaves_a_negative_balance(a in any::<i64>(), b in any::<i64>()) {
            match Credits::new(a).checked_spend(Credits::new(b)) {
                Ok(left) => {
                    prop_assert!(left.get() >= 0);
                    prop_assert!(b >= 0);
                    prop_assert_eq!(i128::from(left.get()), i128::from(a) - i128::from(b));
                }
                Err(_) => prop_assert!(b < 0 || i128::from(a) - i128::from(b) < 0),
            }
        }

        #[test]
        fn fen_arithmetic_never_wraps_nor_goes_negative(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (Fen::new(a), Fen::new(b));
            prop_assert_eq!(x.is_ok(), a >= 0);
            if let (Ok(x), Ok(y)) = (x, y) {
                match x.checked_add(y) {
                    Ok(s) => prop_assert_eq!(i128::from(s.get()), i128::from(a) + i128::from(b)),
                    Err(e) => prop_assert_eq!(e, MoneyError::Overflow),
                }
                match x.checked_sub(y) {
                    Ok(d) => prop_assert_eq!(d.get(), a - b),
                    Err(e) => { prop_assert_eq!(e, MoneyError::Negative); prop_assert!(a < b); }
                }
                match x.to_credits() {
                    Ok(c) => prop_assert_eq!(c.to_fen(), Ok(x)),
                    Err(e) => { prop_assert_eq!(e, MoneyError::NotWholeCredits); prop_assert!(a % 10 != 0); }
                }
            }
        }
    }
}
