//! The real OS keychain. On Linux: the Secret Service of a gnome-keyring
//! started inside `dbus-run-session` by scripts/checks/31-qwen-keychain.sh.

use inkstone_keychain::{OsKeychain, SecretName, SecretStore};

#[test]
#[ignore = "needs a running Secret Service; run by scripts/checks/31-qwen-keychain.sh"]
fn stores_reads_replaces_and_deletes_a_key_in_the_real_keychain() {
    let service = format!("com.inkstone.test-{}", std::process::id());
    let store = OsKeychain::with_service(&service);
    let key = SecretName::DashScopeKey;
    let token = SecretName::AccountToken {
        profile_id: inkstone_domain::ProfileId::new(7),
    };
    store.delete(&key).unwrap();
    assert_eq!(store.get(&key).unwrap(), None);
    store.set(&key, "sk-inkstone-keychain-test-1111").unwrap();
    store.set(&token, "tok-7").unwrap();
    assert_eq!(
        store.get(&key).unwrap().as_deref(),
        Some("sk-inkstone-keychain-test-1111")
    );
    // A second handle (as after a restart) sees the same entry.
    let again = OsKeychain::with_service(&service);
    assert_eq!(
        again.get(&key).unwrap().as_deref(),
        Some("sk-inkstone-keychain-test-1111")
    );
    store.set(&key, "sk-inkstone-keychain-test-2222").unwrap();
    assert_eq!(
        again.get(&key).unwrap().as_deref(),
        Some("sk-inkstone-keychain-test-2222")
    );
    assert_eq!(
        store.get(&token).unwrap().as_deref(),
        Some("tok-7"),
        "entries are separate"
    );
    store.delete(&key).unwrap();
    store.delete(&token).unwrap();
    assert_eq!(again.get(&key).unwrap(), None);
}
