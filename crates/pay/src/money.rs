//! Yuan strings as providers write them, to and from [`Fen`]. Never floats.

use inkstone_domain::Fen;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an amount in yuan with at most two decimals: {0:?}")]
pub struct AmountError(pub String);

/// `"12.34"` → 1234, `"10"` → 1000, `"0.5"` → 50. Rejects signs, exponents,
/// more than two decimals, and anything over 100,000,000 yuan.
pub fn yuan_to_fen(text: &str) -> Result<Fen, AmountError> {
    let err = || AmountError(text.chars().take(32).collect());
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    if frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return Err(err());
    }
    let whole: i64 = whole.parse().map_err(|_| err())?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| err())? * 10,
        _ => frac.parse().map_err(|_| err())?,
    };
    // At most 9 digits and 2 decimals: no overflow, never negative.
    let fen = whole * 100 + frac;
    if fen > 10_000_000_000 {
        return Err(err());
    }
    Fen::new(fen).map_err(|_| err())
}

/// 1234 → `"12.34"` (a `Fen` is never negative, so no sign to place).
pub fn fen_to_yuan(fen: Fen) -> String {
    let fen = fen.get();
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(fen: i64) -> Fen {
        Fen::new(fen).unwrap()
    }

    #[test]
    fn exact_conversions_and_refusals() {
        for (text, fen) in [
            ("0.01", 1),
            ("10", 1000),
            ("10.5", 1050),
            ("12.34", 1234),
            ("100000000", 10_000_000_000),
        ] {
            assert_eq!(yuan_to_fen(text), Ok(f(fen)), "{text}");
        }
        for bad in [
            "",
            "-1",
            "1e3",
            "0.001",
            "1.",
            ".5",
            "1,00",
            " 1",
            "100000001",
            "NaN",
            "１",
        ] {
            assert!(yuan_to_fen(bad).is_err(), "{bad:?}");
        }
        assert_eq!(fen_to_yuan(f(1234)), "12.34");
        assert_eq!(fen_to_yuan(f(5)), "0.05");
        assert_eq!(fen_to_yuan(Fen::ZERO), "0.00");
        for fen in [1, 99, 100, 990, 8800, 123_456_789] {
            assert_eq!(yuan_to_fen(&fen_to_yuan(f(fen))), Ok(f(fen)));
        }
    }

    proptest! {
        /// Any text: a non-negative amount within the bound, or a typed refusal; never a
        /// panic or a wrapped number.
        #[test]
        fn any_text_is_an_amount_or_refused(s in "\\PC{0,24}|[-+0-9.e]{0,14}") {
            if let Ok(fen) = yuan_to_fen(&s) {
                prop_assert!((0..=10_000_000_000).contains(&fen.get()));
                prop_assert_eq!(yuan_to_fen(&fen_to_yuan(fen)), Ok(fen));
            }
        }

        /// Every amount in range travels to yuan and back unchanged.
        #[test]
        fn yuan_text_round_trips(fen in 0i64..=10_000_000_000) {
            prop_assert_eq!(yuan_to_fen(&fen_to_yuan(f(fen))), Ok(f(fen)));
        }
    }
}
