//! The one error type every command returns. It reaches the UI as `{ "kind", "message" }`:
//! the UI branches on `kind` (stable strings, the same as `inkstone_core::CoreError::kind`) and
//! never on `message`, which is for people reading logs. Database internals are not sent to the
//! webview; they are logged where the command fails (`#[instrument(err)]`).

use inkstone_core::CoreError;
use inkstone_desktop::DesktopError;
use serde::ser::SerializeStruct;

pub type CommandResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Occurs when the business layer refuses or fails; carries its own kind.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Occurs when generation, models, keys or buying fail; carries its own kind.
    #[error(transparent)]
    Desktop(#[from] DesktopError),
    /// Occurs when a command that needs a signed-in profile runs without one.
    #[error("no profile is signed in")]
    NotSignedIn,
    /// Occurs when the settings file cannot be read or written.
    #[error("the settings file failed: {0}")]
    Storage(String),
    /// Occurs when an export cannot be written (disk full, no permission, interrupted).
    #[error("the export failed: {0}")]
    Export(&'static str),
    /// Occurs when the system browser cannot be asked to open a link.
    #[error("cannot open the link: {0}")]
    Open(String),
    /// Occurs when a command argument is outside what the command accepts.
    #[error("invalid argument {field}: {reason}")]
    InvalidArgument {
        field: &'static str,
        reason: &'static str,
    },
}

impl AppError {
    /// A stable machine-readable name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Core(error) => error.kind(),
            Self::Desktop(error) => error.kind(),
            Self::NotSignedIn => "not_signed_in",
            Self::Storage(_) => "storage",
            Self::Export(_) => "export_failed",
            Self::Open(_) => "open_failed",
            Self::InvalidArgument { .. } => "invalid_argument",
        }
    }

    /// For `insufficient_credits`: how many credits are missing, so the page can say
    /// "you need N more" without reading the message text.
    pub fn missing_credits(&self) -> Option<i64> {
        let core = match self {
            Self::Core(e) => e,
            Self::Desktop(DesktopError::Core(e)) => e,
            Self::Desktop(DesktopError::Studio(inkstone_studio::StudioError::Core(e))) => e,
            _ => return None,
        };
        match core {
            CoreError::InsufficientCredits { missing, .. } => Some(*missing),
            _ => None,
        }
    }

    /// For `too_many_attempts`: how many seconds until the next attempt may come.
    pub fn retry_after_secs(&self) -> Option<i64> {
        let core = match self {
            Self::Core(e) => e,
            Self::Desktop(DesktopError::Core(e)) => e,
            _ => return None,
        };
        match core {
            CoreError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The text sent to the webview: the error's own text, except for storage failures whose
    /// details (paths, SQL) stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Core(CoreError::Database(_)) => {
                "the local database failed; details are in the log".to_owned()
            }
            Self::Core(CoreError::Corrupt(_)) => {
                "stored data could not be read; details are in the log".to_owned()
            }
            Self::Desktop(DesktopError::Core(CoreError::Database(_))) => {
                "the local database failed; details are in the log".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let missing = self.missing_credits();
        let retry_after = self.retry_after_secs();
        let mut out = serializer.serialize_struct(
            "AppError",
            2 + usize::from(missing.is_some()) + usize::from(retry_after.is_some()),
        )?;
        out.serialize_field("kind", self.kind())?;
        out.serialize_field("message", &self.public_message())?;
        if let Some(missing) = missing {
            out.serialize_field("missing", &missing)?;
        }
        if let Some(retry_after) = retry_after {
            out.serialize_field("retry_after_secs", &retry_after)?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_as_kind_and_message() {
        let error = AppError::from(CoreError::InsufficientCredits {
            needed: 10,
            missing: 4,
        });
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"kind": "insufficient_credits", "message": "not enough credits: 10 needed, 4 missing", "missing": 4})
        );
        assert_eq!(
            serde_json::to_value(AppError::NotSignedIn).unwrap(),
            json!({"kind": "not_signed_in", "message": "no profile is signed in"})
        );
        assert_eq!(
            serde_json::to_value(AppError::Export("cannot write to the exports folder")).unwrap(),
            json!({"kind": "export_failed", "message": "the export failed: cannot write to the exports folder"})
        );
        assert_eq!(
            serde_json::to_value(AppError::from(CoreError::TooManyAttempts {
                retry_after_secs: 30
            }))
            .unwrap(),
            json!({"kind": "too_many_attempts", "message": "too many failed attempts; try again in 30 s", "retry_after_secs": 30})
        );
    }

    #[test]
    fn a_refused_generation_says_how_many_credits_are_missing() {
        let from_studio = AppError::from(DesktopError::Studio(inkstone_studio::StudioError::Core(
            CoreError::InsufficientCredits {
                needed: 10,
                missing: 7,
            },
        )));
        let value = serde_json::to_value(&from_studio).unwrap();
        assert_eq!(value["kind"], "insufficient_credits");
        assert_eq!(value["missing"], 7);
        assert!(serde_json::to_value(AppError::NotSignedIn)
            .unwrap()
            .get("missing")
            .is_none());
    }

    #[test]
    fn core_kinds_pass_through_unchanged() {
        for (error, kind) in [
            (CoreError::BadCredentials, "bad_credentials"),
            (CoreError::UnknownProfile(3), "unknown_profile"),
            (CoreError::AlreadyRefunded(1), "already_refunded"),
        ] {
            assert_eq!(AppError::from(error).kind(), kind);
        }
    }

    #[test]
    fn database_details_do_not_reach_the_webview() {
        let error = AppError::from(CoreError::Database(sqlx::Error::Protocol(
            "no such table: secret_table".into(),
        )));
        let value = serde_json::to_value(&error).unwrap();
        assert_eq!(value["kind"], "database");
        let message = value["message"].as_str().unwrap();
        assert!(!message.contains("secret_table"), "{message}");
        // The full text is still there for the log.
        assert!(error.to_string().contains("secret_table"));
    }

    #[test]
    fn a_picture_that_cannot_be_kept_is_a_storage_error_naming_the_file_only() {
        let error = AppError::from(DesktopError::Studio(inkstone_studio::StudioError::Files(
            "窗外.png".into(),
        )));
        let value = serde_json::to_value(&error).unwrap();
        assert_eq!(value["kind"], "storage");
        assert_eq!(
            value["message"],
            "cannot keep a copy of 窗外.png in the app's files folder"
        );
    }
}
