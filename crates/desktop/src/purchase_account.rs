//! The purchase account on the desktop (issue 14): this installation's id, made once at
//! first start and kept in the data folder, and the facade methods the settings and
//! purchase pages call (name and password, the one-time recovery code, sign in, sign out
//! everywhere, restore, the credit packages credited on another computer).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use inkstone_core::claims::{self, PurchaseElsewhere};
use inkstone_domain::ProfileId;
use inkstone_shop::{AccountSignIn, AccountStatus, InstallationId, RestoreReport};

use crate::{DesktopError, DesktopResult, Services};

/// The file in the data folder that holds the installation id.
pub const INSTALLATION_FILE: &str = "installation_id";
/// Far more than an id: a larger file is not ours, and is not read whole.
const MAX_FILE_BYTES: u64 = 1024;

/// Occurs when the installation id file exists but cannot be read or does not hold an id.
/// It is never replaced silently: a new id would let every credit package of the account be
/// claimed again here, and would disown the ones this installation claimed.
#[derive(Debug, thiserror::Error)]
#[error("the installation id in {path} cannot be used: {reason}")]
pub struct InstallationError {
    pub path: PathBuf,
    pub reason: String,
}

/// Reads an installation id file's bytes: one id, surrounding whitespace allowed.
pub fn parse_installation_file(bytes: &[u8]) -> Result<InstallationId, &'static str> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err("the file is too large");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not text")?;
    InstallationId::parse(text.trim()).map_err(|_| "the file does not hold an installation id")
}

/// This installation's id: read from `data_dir`, or made (random) and kept there the first
/// time. An existing file that cannot be read or parsed is an error, never replaced.
pub fn load_or_create_installation(data_dir: &Path) -> Result<InstallationId, InstallationError> {
    let path = data_dir.join(INSTALLATION_FILE);
    let fail = |reason: String| InstallationError {
        path: path.clone(),
        reason,
    };
    match std::fs::File::open(&path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            file.take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| fail(e.to_string()))?;
            parse_installation_file(&bytes).map_err(|reason| fail(reason.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = InstallationId::parse(&format!("inst-{}", uuid::Uuid::new_v4().simple()))
                .map_err(|e| fail(e.to_string()))?;
            std::fs::create_dir_all(data_dir).map_err(|e| fail(e.to_string()))?;
            // Written whole, then renamed into place: a crash never leaves half an id that
            // the next start would refuse.
            let tmp = data_dir.join(format!("{INSTALLATION_FILE}.tmp"));
            let mut file = std::fs::File::create(&tmp).map_err(|e| fail(e.to_string()))?;
            file.write_all(format!("{}\n", id.as_str()).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| fail(e.to_string()))?;
            std::fs::rename(&tmp, &path).map_err(|e| fail(e.to_string()))?;
            Ok(id)
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

impl Services {
    /// The profile's purchase account: id, whether this computer is signed in to it, and
    /// its name and purchases when the endpoint answers.
    pub async fn purchase_account(&self, profile_id: ProfileId) -> DesktopResult<AccountStatus> {
        Ok(self.shop()?.account_status(profile_id).await?)
    }

    /// Gives the purchase account a name and password (registering it first if the profile
    /// has none); returns the one-time recovery code, to show once.
    pub async fn set_purchase_account_credentials(
        &self,
        profile_id: ProfileId,
        login_name: &str,
        password: &str,
    ) -> DesktopResult<String> {
        Ok(self
            .shop()?
            .set_account_credentials(profile_id, login_name, password)
            .await?)
    }

    /// Signs the profile in to its purchase account; returns the account id.
    pub async fn sign_in_purchase_account(
        &self,
        profile_id: ProfileId,
        how: &AccountSignIn,
    ) -> DesktopResult<String> {
        Ok(self.shop()?.sign_in_account(profile_id, how).await?)
    }

    /// "Sign out everywhere": every token of the account stops working.
    pub async fn sign_out_purchase_account_everywhere(
        &self,
        profile_id: ProfileId,
    ) -> DesktopResult<()> {
        Ok(self.shop()?.sign_out_everywhere(profile_id).await?)
    }

    /// Restores the account's purchases: memberships, and credit packages no other
    /// installation credited.
    pub async fn restore_purchases(&self, profile_id: ProfileId) -> DesktopResult<RestoreReport> {
        Ok(self.shop()?.restore_purchases(profile_id).await?)
    }

    /// The credit packages credited on another computer, from this computer's own records
    /// (offline, and without a payment endpoint, too).
    pub async fn purchases_elsewhere(
        &self,
        profile_id: ProfileId,
    ) -> DesktopResult<Vec<PurchaseElsewhere>> {
        Ok(claims::list_elsewhere(&self.db, profile_id).await?)
    }

    /// Why this installation has no id (its file is unreadable), if so.
    pub fn installation_problem(&self) -> Option<&str> {
        self.installation_problem.as_deref()
    }
}

impl From<InstallationError> for DesktopError {
    fn from(e: InstallationError) -> Self {
        DesktopError::Installation(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let made = load_or_create_installation(dir.path()).unwrap();
        assert!(made.as_str().starts_with("inst-"));
        assert_eq!(made.as_str().len(), 37);
        assert_eq!(load_or_create_installation(dir.path()).unwrap(), made);
        // Another folder, another installation.
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create_installation(other.path()).unwrap(), made);
    }

    #[test]
    fn an_unreadable_or_malformed_file_is_an_error_and_stays_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INSTALLATION_FILE);
        for bad in [
            &b""[..],
            b"short",
            b"has spaces in it",
            b"\xff\xfe\x00binary",
            &[b'a'; 2000][..],
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = load_or_create_installation(dir.path()).unwrap_err();
            assert_eq!(err.path, path);
            assert_eq!(std::fs::read(&path).unwrap(), bad, "never replaced");
            assert_eq!(DesktopError::from(err).kind(), "installation_unreadable");
        }
        // A folder where the file should be cannot be read either.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(load_or_create_installation(dir.path()).is_err());
        assert!(path.is_dir());
    }

    #[test]
    fn whitespace_around_the_id_is_fine() {
        assert_eq!(
            parse_installation_file(b"  inst-0123456789abcdef\r\n")
                .unwrap()
                .as_str(),
            "inst-0123456789abcdef"
        );
    }

    proptest::proptest! {
        /// The file is outside bytes: nothing panics, and what is accepted is an id.
        #[test]
        fn any_file_content_is_an_id_or_an_error(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            if let Ok(id) = parse_installation_file(&bytes) {
                proptest::prop_assert!(id.as_str().len() <= InstallationId::MAX_LEN);
                proptest::prop_assert!(bytes.len() <= MAX_FILE_BYTES as usize);
            }
        }
    }
}
