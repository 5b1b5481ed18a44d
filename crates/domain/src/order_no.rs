//! Order numbers: issued by the payment endpoint, echoed back by WeChat Pay and Alipay in
//! notifications and by the desktop in URLs, so parsed (never trusted) wherever they arrive.

use serde::{Deserialize, Serialize};

/// The characters of an issued number's random tail (no I or O: read aloud without doubt).
pub const ISSUE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Length of an issued number's random tail.
pub const ISSUE_TAIL_LEN: usize = 10;

/// Why a text is not an order number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderNoError {
    /// Occurs when the text is shorter than 6 or longer than 32 bytes.
    #[error("order number must be 6 to 32 characters")]
    Length,
    /// Occurs when the text holds a character outside `[0-9A-Za-z_-|*]`.
    #[error("order number holds a character that is not allowed")]
    Character,
    /// Occurs when the parts of a number to issue are not a 14-digit time and a tail of
    /// [`ISSUE_TAIL_LEN`] characters of [`ISSUE_ALPHABET`].
    #[error("order number parts are malformed")]
    Parts,
}

/// An order number as both providers accept it as `out_trade_no` (WeChat Pay: 6 to 32 of
/// letters, digits and `_-|*`; Alipay: up to 64), which every number we issue is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNo(String);

impl OrderNo {
    /// The one check of an order number from outside.
    pub fn parse(s: &str) -> Result<OrderNo, OrderNoError> {
        if !(6..=32).contains(&s.len()) {
            return Err(OrderNoError::Length);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b))
        {
            return Err(OrderNoError::Character);
        }
        Ok(OrderNo(s.to_owned()))
    }

    /// The number the endpoint issues: `IK` + UTC time (`YYYYMMDDhhmmss`) + a random tail of
    /// [`ISSUE_TAIL_LEN`] characters of [`ISSUE_ALPHABET`]: 26 characters of `[0-9A-Z]`.
    pub fn issue(utc_stamp: &str, tail: &str) -> Result<OrderNo, OrderNoError> {
        let stamp_ok = utc_stamp.len() == 14 && utc_stamp.bytes().all(|b| b.is_ascii_digit());
        let tail_ok =
            tail.len() == ISSUE_TAIL_LEN && tail.bytes().all(|b| ISSUE_ALPHABET.contains(&b));
        if !(stamp_ok && tail_ok) {
            return Err(OrderNoError::Parts);
        }
        OrderNo::parse(&format!("IK{utc_stamp}{tail}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for OrderNo {
    type Err = OrderNoError;
    fn from_str(s: &str) -> Result<OrderNo, OrderNoError> {
        OrderNo::parse(s)
    }
}

impl TryFrom<&str> for OrderNo {
    type Error = OrderNoError;
    fn try_from(s: &str) -> Result<OrderNo, OrderNoError> {
        OrderNo::parse(s)
    }
}

impl TryFrom<String> for OrderNo {
    type Error = OrderNoError;
    fn try_from(s: String) -> Result<OrderNo, OrderNoError> {
        OrderNo::parse(&s)
    }
}

impl From<OrderNo> for String {
    fn from(o: OrderNo) -> String {
        o.0
    }
}

// Read as the text it is (lookups, SQL, URLs); made only by parsing.
impl std::ops::Deref for OrderNo {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for OrderNo {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OrderNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for OrderNo {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for OrderNo {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(feature = "sqlx")]
sqlx_via!(OrderNo, String, OrderNo::try_from, |o: &OrderNo| o
    .0
    .clone());

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn issued_numbers_parse_and_bad_ones_are_refused() {
        let no = OrderNo::issue("20261125120000", "ABCDEFGHJK").unwrap();
        assert_eq!(no.as_str(), "IK20261125120000ABCDEFGHJK");
        assert_eq!(OrderNo::parse(no.as_str()), Ok(no.clone()));
        assert_eq!(
            OrderNo::issue("2026112512000", "ABCDEFGHJK"),
            Err(OrderNoError::Parts)
        );
        assert_eq!(
            OrderNo::issue("20261125120000", "ABCDEFGHJI"),
            Err(OrderNoError::Parts)
        );
        assert_eq!(OrderNo::parse("IK1"), Err(OrderNoError::Length));
        assert_eq!(OrderNo::parse(&"A".repeat(33)), Err(OrderNoError::Length));
        assert_eq!(OrderNo::parse("IK2026/../x"), Err(OrderNoError::Character));
        assert_eq!(OrderNo::parse("IK2026 1125"), Err(OrderNoError::Character));
        assert_eq!(OrderNo::parse("IK2026é1125"), Err(OrderNoError::Character));
        assert!(serde_json::from_str::<OrderNo>("\"IK\\n20261125\"").is_err());
        assert_eq!(
            serde_json::to_string(&no).unwrap(),
            "\"IK20261125120000ABCDEFGHJK\""
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panic(s in "\\PC{0,80}") {
            if let Ok(no) = OrderNo::parse(&s) {
                prop_assert!((6..=32).contains(&no.as_str().len()));
                prop_assert!(no.as_str().bytes().all(|b| b.is_ascii_graphic()));
                prop_assert_eq!(no.as_str(), s.as_str());
            }
        }

        #[test]
        fn mutated_issued_numbers_never_panic(
            tail in "[0-9A-HJ-NP-Z]{10}",
            at in 0usize..26,
            byte in any::<u8>(),
        ) {
            let no = OrderNo::issue("20261125120000", &tail).unwrap();
            let mut bytes = no.as_str().as_bytes().to_vec();
            bytes[at] = byte;
            let text = String::from_utf8_lossy(&bytes);
            let ok = byte.is_ascii_alphanumeric() || b"_-|*".contains(&byte);
            prop_assert_eq!(OrderNo::parse(&text).is_ok(), ok);
            let json = serde_json::to_string(&text).unwrap();
            prop_assert_eq!(serde_json::from_str::<OrderNo>(&json).is_ok(), ok);
        }
    }
}
