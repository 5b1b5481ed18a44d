//! This installation's id, as the payment endpoint accepts it (crates/server/src/claims.rs):
//! 8–64 characters of ASCII letters, digits, `-` and `_`. The desktop makes it once at first
//! start and keeps it in the data folder; the shop sends it with every claim of a credit
//! receipt, so a credit package is credited on one installation only.

use std::fmt;

/// A checked installation id.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallationId(String);

/// Occurs when an installation id is not in the endpoint's accepted shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an installation id is 8 to 64 letters, digits, '-' or '_'")]
pub struct InvalidInstallationId;

impl InstallationId {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 64;

    pub fn parse(text: &str) -> Result<Self, InvalidInstallationId> {
        let ok = (Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(InstallationId(text.to_string()))
        } else {
            Err(InvalidInstallationId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Not a secret, but kept out of logs all the same: it ties purchases to a computer.
impl fmt::Debug for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallationId(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_shape_is_accepted_and_nothing_else() {
        for good in [
            "inst-0123456789abcdef",
            "abcdEFGH",
            &"x".repeat(64),
            "a_b-c_d-",
        ] {
            assert_eq!(InstallationId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "short",
            "has space here",
            &"x".repeat(65),
            "ünïcødé-id",
            "inst-0123\n456789",
            "../../etc/passwd",
        ] {
            assert_eq!(
                InstallationId::parse(bad),
                Err(InvalidInstallationId),
                "{bad:?}"
            );
        }
    }
}
