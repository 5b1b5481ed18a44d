//! Restore that is honest about what can move (issue 14, item 3), against the real payment
//! endpoint in-process: memberships follow the account to every installation; a credit
//! package is claimed at the endpoint before it is credited, so over any number of
//! installations of one account it is credited exactly once, and the others keep it as
//! "credited on another computer".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use inkstone_core::{claims, ledger, open, profiles, purchases, Clock, Database};
use inkstone_domain::ProfileId;
use inkstone_keychain::{MemoryStore, SecretName, SecretStore};
use inkstone_receipt::TrustedKeys;
use inkstone_server::{start_embedded, RunningServer};
use inkstone_shop::{AccountSignIn, InstallationId, PaymentClient, Settled, Shop};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn clock() -> Clock {
    Clock::manual(chrono::Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap())
}

struct Computer {
    _dir: tempfile::TempDir,
    db: Database,
    secrets: Arc<MemoryStore>,
    shop: Shop,
    profile: ProfileId,
}

fn keys(server: &RunningServer) -> TrustedKeys {
    // Demo pins: the production keys and the sandbox's (these tests buy in the sandbox).
    TrustedKeys::new(
        server
            .public_keys
            .iter()
            .chain(server.sandbox_public_key.iter())
            .cloned(),
    )
}

/// An installation: its own data folder, keychain and installation id, talking to `base`.
async fn computer(server: &RunningServer, base: &str, installation: Option<&str>) -> Computer {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("app.db")).await.unwrap();
    let profile = profiles::register(&db, "writer", "password123", clock().now())
        .await
        .unwrap()
        .id;
    let secrets = Arc::new(MemoryStore::default());
    let mut shop = Shop::new(
        db.clone(),
        PaymentClient::new(base).unwrap(),
        keys(server),
        secrets.clone(),
    )
    .allow_sandbox()
    .with_clock(clock());
    if let Some(id) = installation {
        shop = shop.with_installation(InstallationId::parse(id).unwrap());
    }
    Computer {
        _dir: dir,
        db,
        secrets,
        shop,
        profile,
    }
}

async fn server() -> (tempfile::TempDir, RunningServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = start_embedded(dir.path(), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    (dir, server)
}

/// Starts an order and pays it (what the phone does); returns the order number.
async fn buy_unsettled(c: &Computer, sku: &str) -> inkstone_domain::OrderNo {
    let order = c.shop.start_order(c.profile, sku, "sandbox").await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/confirm", order.qr_payload))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    order.order_no
}

async fn buy(c: &Computer, sku: &str) -> inkstone_domain::OrderNo {
    let order_no = buy_unsettled(c, sku).await;
    let settled = c
        .shop
        .wait(c.profile, &order_no, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        matches!(settled, Settled::Applied { newly: true, .. }),
        "{settled:?}"
    );
    order_no
}

async fn credits(c: &Computer) -> i64 {
    ledger::balance(&c.db, c.profile, clock().now())
        .await
        .unwrap()
        .credits
        .get()
}

async fn sign_in(c: &Computer, name: &str, password: &str) {
    c.shop
        .sign_in_account(
            c.profile,
            &AccountSignIn::Password {
                login_name: name.into(),
                password: password.into(),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn two_installations_of_one_account_credit_a_package_exactly_once() {
    let (_d, server) = server().await;
    let first = computer(&server, &server.base_url, Some("inst-first-0001")).await;
    let package = buy(&first, "credits_100").await;
    buy(&first, "member_month").await;
    assert_eq!(credits(&first).await, 110);
    first
        .shop
        .set_account_credentials(first.profile, "writer@example.com", "account-password")
        .await
        .unwrap();

    let second = computer(&server, &server.base_url, Some("inst-second-002")).await;
    // A new computer's profile has no purchase account: restoring asks to sign in, and no
    // new, empty account is made.
    let err = second
        .shop
        .restore_purchases(second.profile)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_sign_in_needed");
    assert_eq!(
        profiles::get_profile(&second.db, second.profile)
            .await
            .unwrap()
            .server_account_id,
        None
    );
    sign_in(&second, "writer@example.com", "account-password").await;
    let restored = second.shop.restore_purchases(second.profile).await.unwrap();
    // The membership follows the account; the package was credited on the first computer.
    assert_eq!(restored.applied, 1);
    assert!(restored.failures.is_empty(), "{:?}", restored.failures);
    assert_eq!(restored.elsewhere.len(), 1);
    let elsewhere = &restored.elsewhere[0];
    assert_eq!(elsewhere.order_no, package);
    assert_eq!(
        (elsewhere.credits.get(), elsewhere.bonus_credits.get()),
        (100, 10)
    );
    assert!(elsewhere.claimed_at.timestamp() > 0);
    assert_eq!(credits(&second).await, 0);
    assert!(
        purchases::membership_status(&second.db, second.profile, clock().now())
            .await
            .unwrap()
            .is_member
    );
    // Restoring again, on both, credits nothing new anywhere.
    for c in [&first, &second] {
        let again = c.shop.restore_purchases(c.profile).await.unwrap();
        assert_eq!(again.applied, 0);
        assert!(again.failures.is_empty(), "{:?}", again.failures);
    }
    assert_eq!(credits(&first).await + credits(&second).await, 110);
    // The second computer lists it, from its own database (offline too).
    server.shutdown().await;
    let listed = second
        .shop
        .purchases_elsewhere(second.profile)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].order_no, package);
    assert!(first
        .shop
        .purchases_elsewhere(first.profile)
        .await
        .unwrap()
        .is_empty());
    assert!(ledger::audit(&first.db).await.unwrap().is_empty());
    assert!(ledger::audit(&second.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_package_restored_elsewhere_before_the_buyer_settles_is_credited_there_only() {
    let (_d, server) = server().await;
    let buyer = computer(&server, &server.base_url, Some("inst-buyer-0001")).await;
    buy(&buyer, "credits_10").await;
    buyer
        .shop
        .set_account_credentials(buyer.profile, "racer", "account-password")
        .await
        .unwrap();
    // Paid on the phone while the buying computer is away; the other computer restores first.
    let order_no = buy_unsettled(&buyer, "credits_100").await;
    let other = computer(&server, &server.base_url, Some("inst-other-0002")).await;
    sign_in(&other, "racer", "account-password").await;
    let restored = other.shop.restore_purchases(other.profile).await.unwrap();
    assert_eq!(restored.applied, 1, "{restored:?}");
    assert_eq!(
        restored.elsewhere.len(),
        1,
        "the first package is the buyer's"
    );
    assert_eq!(credits(&other).await, 110);

    let settled = buyer
        .shop
        .wait(buyer.profile, &order_no, Duration::from_secs(5))
        .await
        .unwrap();
    let Settled::CreditedElsewhere { order, elsewhere } = settled else {
        panic!("{settled:?}");
    };
    assert_eq!(
        (order.order_no.as_str(), order.applied),
        (order_no.as_str(), false)
    );
    assert_eq!(elsewhere.order_no, order_no);
    assert_eq!(credits(&buyer).await, 10);
    // Nothing is left waiting: a restart does not ask about it again.
    let resumed = buyer.shop.resume().await.unwrap();
    assert!(resumed
        .settled
        .iter()
        .all(|s| !matches!(s, Settled::Applied { .. })));
    assert_eq!(credits(&buyer).await + credits(&other).await, 120);
}

/// Forwards HTTP to the endpoint; the answer to the first claim is lost (the claim reaches
/// the endpoint and is recorded, then the connection drops before the desktop hears it).
async fn lossy_proxy(target: std::net::SocketAddr) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let flag = flag.clone();
            tokio::spawn(async move {
                let mut first = vec![0u8; 16 * 1024];
                let Ok(n) = client.read(&mut first).await else {
                    return;
                };
                first.truncate(n);
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    return;
                };
                if upstream.write_all(&first).await.is_err() {
                    return;
                }
                let is_claim = String::from_utf8_lossy(&first).contains("/claim HTTP/1.1");
                if is_claim && !flag.swap(true, Ordering::SeqCst) {
                    // Pass the rest of the request on, wait for the endpoint's first byte
                    // of answer (the claim is committed by then), and hang up on the desktop.
                    let (mut up_read, mut up_write) = upstream.into_split();
                    let (mut client_read, _client_write) = client.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut up_write).await;
                    });
                    let mut byte = [0u8; 1];
                    let _ = up_read.read(&mut byte).await;
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (format!("http://{addr}"), dropped)
}

#[tokio::test]
async fn a_claim_whose_answer_is_lost_is_retried_and_credits_once() {
    let (_d, server) = server().await;
    let buyer = computer(&server, &server.base_url, Some("inst-buyer-0001")).await;
    buyer
        .shop
        .set_account_credentials(buyer.profile, "lossy", "account-password")
        .await
        .unwrap();
    let order_no = buy_unsettled(&buyer, "credits_100").await;

    let (proxy, dropped) = lossy_proxy(server.addr).await;
    let restorer = computer(&server, &proxy, Some("inst-restorer-02")).await;
    sign_in(&restorer, "lossy", "account-password").await;
    let first = restorer
        .shop
        .restore_purchases(restorer.profile)
        .await
        .unwrap();
    assert!(
        dropped.load(Ordering::SeqCst),
        "the proxy lost a claim answer"
    );
    assert_eq!(first.applied, 0);
    assert_eq!(first.failures.len(), 1);
    assert_eq!(first.failures[0].kind, "server_unreachable");
    assert_eq!(credits(&restorer).await, 0);
    // Asked again, the endpoint gives this installation the same answer: credit it, once.
    let second = restorer
        .shop
        .restore_purchases(restorer.profile)
        .await
        .unwrap();
    assert_eq!((second.applied, second.failures.len()), (1, 0));
    assert_eq!(credits(&restorer).await, 110);
    let third = restorer
        .shop
        .restore_purchases(restorer.profile)
        .await
        .unwrap();
    assert_eq!(third.applied, 0);
    assert_eq!(credits(&restorer).await, 110);
    // The buying computer, which never settled it, is told where it went.
    let settled = buyer
        .shop
        .wait(buyer.profile, &order_no, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        matches!(settled, Settled::CreditedElsewhere { .. }),
        "{settled:?}"
    );
    assert_eq!(credits(&buyer).await, 0);
}

#[tokio::test]
async fn without_an_installation_id_nothing_is_claimed_or_credited() {
    let (_d, server) = server().await;
    let nameless = computer(&server, &server.base_url, None).await;
    let order_no = buy_unsettled(&nameless, "credits_100").await;
    let err = nameless
        .shop
        .wait(nameless.profile, &order_no, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "installation_unknown");
    assert_eq!(credits(&nameless).await, 0);
    // The package was not spent: the same account with an installation id credits it.
    let token = nameless
        .secrets
        .get(&SecretName::AccountToken {
            profile_id: nameless.profile,
        })
        .unwrap()
        .unwrap();
    let account = profiles::get_profile(&nameless.db, nameless.profile)
        .await
        .unwrap()
        .server_account_id
        .unwrap();
    let named = Shop::new(
        nameless.db.clone(),
        PaymentClient::new(&server.base_url).unwrap(),
        keys(&server),
        nameless.secrets.clone(),
    )
    .allow_sandbox()
    .with_clock(clock())
    .with_installation(InstallationId::parse("inst-named-00001").unwrap());
    let resumed = named.resume().await.unwrap();
    assert!(resumed.failures.is_empty(), "{:?}", resumed.failures);
    assert_eq!(credits(&nameless).await, 110);

    // Malformed installation ids sent by hand are refused and claim nothing.
    let http = reqwest::Client::new();
    for bad in [
        "",
        "short",
        "has space here",
        &"x".repeat(65),
        "../../../etc",
    ] {
        let r = http
            .post(format!("{}/v1/receipts/{order_no}/claim", server.base_url))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "installation_id": bad }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{bad:?}");
    }
    let claim = named
        .client()
        .claim(
            &token,
            &order_no,
            &InstallationId::parse("inst-named-00001").unwrap(),
        )
        .await
        .unwrap();
    assert!(claim.claimed_here);
    assert!(claims::elsewhere(&nameless.db, nameless.profile, &order_no)
        .await
        .unwrap()
        .is_none());
    let _ = account;
}

#[tokio::test]
async fn account_names_passwords_and_codes_out_of_shape_change_nothing() {
    let (_d, server) = server().await;
    let c = computer(&server, &server.base_url, Some("inst-shapes-001")).await;
    for (name, password, kind) in [
        ("", "account-password", "account_name_invalid"),
        ("   ", "account-password", "account_name_invalid"),
        (
            &"x".repeat(65) as &str,
            "account-password",
            "account_name_invalid",
        ),
        ("a\u{7}b", "account-password", "account_name_invalid"),
        ("writer", "short", "account_password_invalid"),
    ] {
        let err = c
            .shop
            .set_account_credentials(c.profile, name, password)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name:?}");
    }
    // Nothing was sent: no account was even registered.
    assert_eq!(
        profiles::get_profile(&c.db, c.profile)
            .await
            .unwrap()
            .server_account_id,
        None
    );
    for code in ["", "1234", &"G".repeat(32) as &str, &"A".repeat(200)] {
        let err = c
            .shop
            .sign_in_account(c.profile, &AccountSignIn::RecoveryCode(code.into()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "account_recovery_code_invalid", "{code:?}");
    }
    // A name taken by another account is the endpoint's answer, and changes nothing.
    let other = computer(&server, &server.base_url, Some("inst-other-0002")).await;
    other
        .shop
        .set_account_credentials(other.profile, "Taken", "account-password")
        .await
        .unwrap();
    let err = c
        .shop
        .set_account_credentials(c.profile, "taken", "account-password")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_name_taken");
    let status = c.shop.account_status(c.profile).await.unwrap();
    assert_eq!(status.login_name, None);
    assert!(!status.has_credentials);
}

#[tokio::test]
async fn signing_out_everywhere_stops_every_token_and_the_account_stays_the_profiles() {
    let (_d, server) = server().await;
    let first = computer(&server, &server.base_url, Some("inst-first-0001")).await;
    buy(&first, "credits_10").await;
    let code = first
        .shop
        .set_account_credentials(first.profile, "Everywhere", "account-password")
        .await
        .unwrap();
    let second = computer(&server, &server.base_url, Some("inst-second-002")).await;
    sign_in(&second, "everywhere", "account-password").await;
    let status = second.shop.account_status(second.profile).await.unwrap();
    assert_eq!(status.login_name.as_deref(), Some("everywhere"));
    assert!(status.signed_in && status.reachable && status.has_credentials);
    assert_eq!(status.purchases, 1);
    let account = status.account_id.clone().unwrap();

    second
        .shop
        .sign_out_everywhere(second.profile)
        .await
        .unwrap();
    // This computer forgot its token; the profile still names the account.
    let after = second.shop.account_status(second.profile).await.unwrap();
    assert_eq!(after.account_id.as_deref(), Some(account.as_str()));
    assert!(!after.signed_in);
    assert_eq!(
        second
            .shop
            .sign_out_everywhere(second.profile)
            .await
            .unwrap_err()
            .kind(),
        "account_sign_in_needed"
    );
    // The first computer's token was revoked too: it is refused, and nothing changes.
    let refused = first.shop.account_status(first.profile).await.unwrap();
    assert!(refused.token_refused);
    let err = first
        .shop
        .start_order(first.profile, "credits_10", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "server_unauthorized");
    let err = first
        .shop
        .sign_out_everywhere(first.profile)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "server_unauthorized");
    // The recovery code signs back in to the same account.
    let signed = first
        .shop
        .sign_in_account(first.profile, &AccountSignIn::RecoveryCode(code))
        .await
        .unwrap();
    assert_eq!(signed, account);
    assert!(
        first
            .shop
            .account_status(first.profile)
            .await
            .unwrap()
            .reachable
    );
}

#[tokio::test]
async fn five_wrong_passwords_slow_the_next_attempt_and_say_for_how_long() {
    let (_d, server) = server().await;
    let owner = computer(&server, &server.base_url, Some("inst-owner-00001")).await;
    owner
        .shop
        .set_account_credentials(owner.profile, "slow", "account-password")
        .await
        .unwrap();
    let guesser = computer(&server, &server.base_url, Some("inst-guess-00002")).await;
    let wrong = AccountSignIn::Password {
        login_name: "slow".into(),
        password: "wrong-password".into(),
    };
    for _ in 0..5 {
        let err = guesser
            .shop
            .sign_in_account(guesser.profile, &wrong)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "account_bad_credentials");
        assert_eq!(err.retry_after_secs(), None);
    }
    // Even the right password waits now.
    let err = guesser
        .shop
        .sign_in_account(
            guesser.profile,
            &AccountSignIn::Password {
                login_name: "slow".into(),
                password: "account-password".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "account_too_many_attempts");
    let secs = err.retry_after_secs().unwrap();
    assert!((1..=30).contains(&secs), "{secs}");
    assert_eq!(
        profiles::get_profile(&guesser.db, guesser.profile)
            .await
            .unwrap()
            .server_account_id,
        None
    );
}
