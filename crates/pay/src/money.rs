//! Yuan strings as providers write them, to and from integer fen. Never floats.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an amount in yuan with at most two decimals: {0:?}")]
pub struct AmountError(pub String);

/// `"12.34"` → 1234, `"10"` → 1000, `"0.5"` → 50. Rejects signs, exponents,
/// more than two decimals, and anything over 100,000,000 yuan.
pub fn yuan_to_fen(text: &str) -> Result<i64, AmountError> {
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
    let fen = whole * 100 + frac;
    if fen > 10_000_000_000 {
        return Err(err());
    }
    Ok(fen)
}

/// 1234 → `"12.34"`.
pub fn fen_to_yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_conversions_and_refusals() {
        for (text, fen) in [
            ("0.01", 1),
            ("10", 1000),
            ("10.5", 1050),
            ("12.34", 1234),
            ("100000000", 10_000_000_000),
        ] {
            assert_eq!(yuan_to_fen(text), Ok(fen), "{text}");
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
        assert_eq!(fen_to_yuan(1234), "12.34");
        assert_eq!(fen_to_yuan(5), "0.05");
        for fen in [1, 99, 100, 990, 8800, 123_456_789] {
            assert_eq!(yuan_to_fen(&fen_to_yuan(fen)), Ok(fen));
        }
    }
}
