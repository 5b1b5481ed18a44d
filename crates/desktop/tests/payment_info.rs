//! What the purchase pages are told: where purchases go and which ways to pay exist.

use std::sync::Arc;

use inkstone_core::open;
use inkstone_desktop::{Options, PaymentInfo, Services};
use inkstone_keychain::MemoryStore;
use inkstone_receipt::TrustedKeys;
use inkstone_server::{start, Config};

async fn services(dir: &std::path::Path, options: Options) -> Services {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        ..options
    };
    Services::start(db, options, Arc::new(MemoryStore::default()))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_embedded_endpoint_is_the_sandbox_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(
        dir.path(),
        Options {
            demo: true,
            ..Default::default()
        },
    )
    .await;
    let info = s.payment_info().await;
    assert!(info.sandbox);
    assert_eq!(info.providers, Some(vec!["sandbox".to_string()]));
    assert!(info.server_url.unwrap().starts_with("http://127.0.0.1:"));
    s.shutdown().await;
}

#[tokio::test]
async fn a_deployed_endpoint_is_asked_and_an_unreachable_one_is_not_guessed() {
    let server_dir = tempfile::tempdir().unwrap();
    // A deployed endpoint with the sandbox turned off and no merchant keys: it offers nothing.
    let server = start(Config {
        bind: ([127, 0, 0, 1], 0).into(),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            server_dir.path().join("server.db").display()
        ),
        receipt_key_file: Some(server_dir.path().join("key.b64")),
        sandbox: false,
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = services(
        dir.path(),
        Options {
            payment_server_url: Some(server.base_url.clone()),
            payment_server_keys: Some(TrustedKeys::new(server.public_keys.clone())),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        s.payment_info().await,
        PaymentInfo {
            server_url: Some(server.base_url.clone()),
            sandbox: false,
            providers: Some(Vec::new()),
        }
    );
    server.shutdown().await;
    let offline = s.payment_info().await;
    assert_eq!(offline.providers, None, "unknown, not 'none offered'");
    assert!(!offline.sandbox);
    s.shutdown().await;
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_offered() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), Options::default()).await;
    assert_eq!(
        s.payment_info().await,
        PaymentInfo {
            server_url: None,
            sandbox: false,
            providers: Some(Vec::new()),
        }
    );
}

#[tokio::test]
async fn outside_demo_mode_the_sandbox_is_never_offered_or_bought() {
    let server_dir = tempfile::tempdir().unwrap();
    // A deployed endpoint that (wrongly, for a release) offers the sandbox.
    let server = start(Config {
        bind: ([127, 0, 0, 1], 0).into(),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            server_dir.path().join("server.db").display()
        ),
        receipt_key_file: Some(server_dir.path().join("key.b64")),
        sandbox: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = services(
        dir.path(),
        Options {
            payment_server_url: Some(server.base_url.clone()),
            payment_server_keys: Some(TrustedKeys::new(server.public_keys.clone())),
            ..Default::default()
        },
    )
    .await;
    let info = s.payment_info().await;
    assert!(!info.sandbox);
    assert_eq!(info.providers, Some(Vec::new()));
    let profile = inkstone_core::profiles::create_profile(
        &s.db,
        "writer",
        "password123",
        false,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let err = s
        .start_order(profile.id, "credits_100", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "sandbox_refused");
    s.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn test_payments_outside_demo_mode_only_when_asked_and_the_installation_id_is_kept() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = start(Config {
        bind: ([127, 0, 0, 1], 0).into(),
        database_url: format!(
            "sqlite://{}?mode=rwc",
            server_dir.path().join("server.db").display()
        ),
        receipt_key_file: Some(server_dir.path().join("key.b64")),
        sandbox: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = TrustedKeys::new(
        server
            .public_keys
            .iter()
            .chain(server.sandbox_public_key.iter())
            .cloned(),
    );
    let s = services(
        dir.path(),
        Options {
            payment_server_url: Some(server.base_url.clone()),
            payment_server_keys: Some(keys),
            sandbox_payments: true,
            ..Default::default()
        },
    )
    .await;
    let info = s.payment_info().await;
    assert!(info.sandbox);
    assert_eq!(info.providers, Some(vec!["sandbox".to_string()]));
    assert!(s.installation_problem().is_none());
    let id = std::fs::read_to_string(dir.path().join("installation_id")).unwrap();
    s.shutdown().await;
    drop(s);
    // The next start keeps the same installation; an unreadable file is reported, not replaced.
    let again = services(dir.path(), Options::default()).await;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("installation_id")).unwrap(),
        id
    );
    again.shutdown().await;
    drop(again);
    std::fs::write(dir.path().join("installation_id"), "not an id").unwrap();
    let broken = services(dir.path(), Options::default()).await;
    assert!(broken.installation_problem().is_some());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("installation_id")).unwrap(),
        "not an id"
    );
    broken.shutdown().await;
    server.shutdown().await;
}
