//! Secrets live in the OS keychain and nowhere else: not in SQLite, the
//! settings store, logs, errors or the webview. Rust reads a secret when it
//! calls a provider, and only then.
//!
//! [`SecretStore`] is the seam: [`OsKeychain`] is the real store,
//! [`MemoryStore`] serves unit tests of code that needs a store.
//!
//! Invariants: a secret that [`check_secret`] refuses is never stored (every store checks);
//! a secret is only ever shown [`redact`]ed; a missing entry is `Ok(None)`, and a keychain
//! that cannot be reached is [`KeychainError::Unavailable`], never "no key".
//!
//! ```
//! use inkstone_keychain::{redact, MemoryStore, SecretName, SecretStore};
//! let store = MemoryStore::default();
//! let name = SecretName::DashScopeKey;
//! assert_eq!(store.get(&name).unwrap(), None);
//! store.set(&name, "sk-0123456789abcdef").unwrap();
//! assert_eq!(redact(&store.get(&name).unwrap().unwrap()), "sk-…cdef");
//! // Whitespace cannot be part of a key: refused, and the stored one stays.
//! assert!(store.set(&name, "sk-0123 456").is_err());
//! assert_eq!(store.get(&name).unwrap().as_deref(), Some("sk-0123456789abcdef"));
//! ```
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::Mutex;

use inkstone_domain::ProfileId;

/// The keychain service name of every Inkstone entry.
pub const SERVICE: &str = "com.inkstone.app";

/// What a secret is for; each is one keychain entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretName {
    /// The DashScope API key.
    DashScopeKey,
    /// The payment endpoint's token for one local profile.
    AccountToken { profile_id: ProfileId },
    /// The own key of one OpenAI-compatible model (by its id in `ai_models`).
    ModelKey { model_id: i64 },
    /// "Keep me signed in on this computer": the remembered session's secret (one per data
    /// folder, as the service name is).
    SignedIn,
}

impl SecretName {
    pub fn account(&self) -> String {
        match self {
            SecretName::DashScopeKey => "dashscope-api-key".into(),
            SecretName::AccountToken { profile_id } => {
                format!("payment-account-token-{profile_id}")
            }
            SecretName::ModelKey { model_id } => format!("model-api-key-{model_id}"),
            SecretName::SignedIn => "signed-in-session".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// Occurs when a secret is empty, too long, or has spaces or control characters.
    #[error("the secret is malformed: {0}")]
    Malformed(&'static str),
    /// Occurs when the OS keychain is locked, missing or refuses access. The
    /// message is the platform's and never contains the secret.
    #[error("the system keychain is unavailable: {0}")]
    Unavailable(String),
}

impl KeychainError {
    /// Every `kind()` this type can return (the UI has text for each).
    pub const KINDS: &'static [&'static str] = &["secret_malformed", "keychain_unavailable"];

    pub fn kind(&self) -> &'static str {
        match self {
            KeychainError::Malformed(_) => "secret_malformed",
            KeychainError::Unavailable(_) => "keychain_unavailable",
        }
    }
}

/// Rejects what cannot be a key or token, before it is stored.
pub fn check_secret(secret: &str) -> Result<(), KeychainError> {
    if secret.is_empty() {
        return Err(KeychainError::Malformed("empty"));
    }
    if secret.len() > 512 {
        return Err(KeychainError::Malformed("too long"));
    }
    if secret
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(KeychainError::Malformed(
            "spaces, control or non-ASCII characters",
        ));
    }
    Ok(())
}

pub trait SecretStore: Send + Sync {
    fn get(&self, name: &SecretName) -> Result<Option<String>, KeychainError>;
    /// Stores or replaces.
    fn set(&self, name: &SecretName, secret: &str) -> Result<(), KeychainError>;
    /// Deleting what is not there is fine.
    fn delete(&self, name: &SecretName) -> Result<(), KeychainError>;
}

/// The platform keychain.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
}

impl Default for OsKeychain {
    fn default() -> Self {
        OsKeychain {
            service: SERVICE.into(),
        }
    }
}

impl OsKeychain {
    /// A separate service name, so tests never touch a real user's entries.
    pub fn with_service(service: &str) -> Self {
        OsKeychain {
            service: service.into(),
        }
    }

    fn entry(&self, name: &SecretName) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, &name.account()).map_err(unavailable)
    }
}

fn unavailable(e: keyring::Error) -> KeychainError {
    KeychainError::Unavailable(e.to_string())
}

impl SecretStore for OsKeychain {
    fn get(&self, name: &SecretName) -> Result<Option<String>, KeychainError> {
        match self.entry(name)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, name: &SecretName, secret: &str) -> Result<(), KeychainError> {
        check_secret(secret)?;
        self.entry(name)?.set_password(secret).map_err(unavailable)
    }

    fn delete(&self, name: &SecretName) -> Result<(), KeychainError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// An in-process store for tests of code that needs a [`SecretStore`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<SecretName, String>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, name: &SecretName) -> Result<Option<String>, KeychainError> {
        let map = self
            .secrets
            .lock()
            .map_err(|_| KeychainError::Unavailable("poisoned".into()))?;
        Ok(map.get(name).cloned())
    }

    fn set(&self, name: &SecretName, secret: &str) -> Result<(), KeychainError> {
        check_secret(secret)?;
        let mut map = self
            .secrets
            .lock()
            .map_err(|_| KeychainError::Unavailable("poisoned".into()))?;
        map.insert(name.clone(), secret.into());
        Ok(())
    }

    fn delete(&self, name: &SecretName) -> Result<(), KeychainError> {
        let mut map = self
            .secrets
            .lock()
            .map_err(|_| KeychainError::Unavailable("poisoned".into()))?;
        map.remove(name);
        Ok(())
    }
}

/// Shows that a secret exists without showing it: `sk-…7f3a`.
pub fn redact(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if secret.len() <= 8 {
        "••••".into()
    } else {
        format!("{}…{tail}", &secret[..3.min(secret.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_behaves_like_a_keychain() {
        let store = MemoryStore::default();
        let key = SecretName::DashScopeKey;
        assert_eq!(store.get(&key).unwrap(), None);
        store.set(&key, "sk-first").unwrap();
        store.set(&key, "sk-second").unwrap();
        assert_eq!(store.get(&key).unwrap().as_deref(), Some("sk-second"));
        store.delete(&key).unwrap();
        store.delete(&key).unwrap();
        assert_eq!(store.get(&key).unwrap(), None);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        let store = MemoryStore::default();
        for bad in ["", "sk- spaced", "sk-\n", "sk-密钥", &"x".repeat(513)] {
            assert_eq!(
                store
                    .set(&SecretName::DashScopeKey, bad)
                    .unwrap_err()
                    .kind(),
                "secret_malformed"
            );
        }
        assert_eq!(store.get(&SecretName::DashScopeKey).unwrap(), None);
    }

    #[test]
    fn redaction_keeps_only_a_hint() {
        assert_eq!(redact("sk-1234567890abcdef"), "sk-…cdef");
        assert_eq!(redact("short"), "••••");
    }
}
