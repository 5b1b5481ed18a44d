//! Receipts: the only way bought credits or membership days enter the ledger.

mod support;

use chrono::Duration;
use inkstone_core::purchases::{self, ApplyOutcome};
use inkstone_core::{ledger, profiles};
use inkstone_receipt::{Credits, Fen, Purchase, ReceiptSigner, TrustedKeys};
use support::*;

async fn buyer(db: &inkstone_core::Database) -> inkstone_domain::ProfileId {
    let p = profile_with(db, "buyer", 0).await;
    profiles::set_server_account(db, p, "acct-buyer")
        .await
        .unwrap();
    p
}

#[tokio::test]
async fn a_credit_receipt_adds_recharge_and_bonus_once() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    let signed = shop.credits("ORD20261101A", "acct-buyer", 100, 10);
    let outcome = purchases::apply_receipt(&db, p, &shop.keys, &signed, t0())
        .await
        .unwrap();
    assert!(matches!(outcome, ApplyOutcome::Applied { .. }));
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 110);
    let before = snapshot(&db).await;
    let again = purchases::apply_receipt(&db, p, &shop.keys, &signed, t0())
        .await
        .unwrap();
    assert_eq!(
        again,
        ApplyOutcome::AlreadyApplied {
            order_no: order_no("ORD20261101A")
        }
    );
    assert_eq!(
        snapshot(&db).await,
        before,
        "a replayed receipt changes nothing"
    );
    let rows = ledger::transactions(
        &db,
        p,
        &ledger::TxFilter {
            text: Some("ORD20261101A".into()),
            ..Default::default()
        },
        ledger::PageRequest::first(10),
    )
    .await
    .unwrap();
    let kinds: Vec<_> = rows.items.iter().map(|t| (t.kind, t.delta.get())).collect();
    assert_eq!(
        kinds,
        vec![(ledger::TxKind::Bonus, 10), (ledger::TxKind::Recharge, 100)]
    );
    assert_eq!(
        purchases::purchases(&db, p, Some("credits"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_sound(&db).await;
}

#[tokio::test]
async fn forged_tampered_foreign_and_unknown_key_receipts_change_nothing() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    let before = snapshot(&db).await;

    let mut tampered = shop.credits("ORD1", "acct-buyer", 100, 10);
    tampered.receipt.purchase = Purchase::Credits {
        sku: "credits_100".into(),
        credits: Credits::new(1000),
        bonus_credits: Credits::new(10),
    };
    let mut cheaper = shop.credits("ORD2", "acct-buyer", 100, 10);
    cheaper.receipt.amount_fen = Fen::new(999).unwrap();
    let mut retargeted = shop.credits("ORD3", "acct-someone", 100, 10);
    retargeted.receipt.account_id = "acct-buyer".into();
    let mut garbage_sig = shop.credits("ORD4", "acct-buyer", 100, 10);
    garbage_sig.signature = "not base64!".into();
    let stranger = ReceiptSigner::from_secret_bytes([9; 32]);
    let by_stranger = stranger
        .sign(receipt(
            "ORD5",
            "acct-buyer",
            Purchase::Credits {
                sku: "credits_100".into(),
                credits: Credits::new(100),
                bonus_credits: Credits::new(10),
            },
            1000,
        ))
        .unwrap();
    // A stranger's signature presented under our key id is a forgery, not an unknown key.
    let mut stolen_id = by_stranger.clone();
    stolen_id.key_id = shop.signer.key_id().to_string();

    for (case, signed, kind) in [
        ("tampered credits", &tampered, "receipt_forged"),
        ("amount off by one fen", &cheaper, "receipt_forged"),
        ("account swapped", &retargeted, "receipt_forged"),
        ("garbage signature", &garbage_sig, "receipt_invalid"),
        ("unknown key id", &by_stranger, "receipt_unknown_key"),
        ("stranger under our key id", &stolen_id, "receipt_forged"),
    ] {
        let err = purchases::apply_receipt(&db, p, &shop.keys, signed, t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{case}: {err:?}");
    }
    // Validly signed, but for another account.
    let foreign = shop.credits("ORD6", "acct-someone", 100, 10);
    let err = purchases::apply_receipt(&db, p, &shop.keys, &foreign, t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "receipt_wrong_account");
    // No trusted key at all.
    let good = shop.credits("ORD7", "acct-buyer", 100, 10);
    let none = TrustedKeys::new([]);
    assert!(purchases::apply_receipt(&db, p, &none, &good, t0())
        .await
        .is_err());
    // Unknown profile, and a profile that never registered.
    assert_eq!(
        purchases::apply_receipt(
            &db,
            inkstone_domain::ProfileId::new(999),
            &shop.keys,
            &good,
            t0()
        )
        .await
        .unwrap_err()
        .kind(),
        "unknown_profile"
    );
    let unregistered = profiles::create_profile(&db, "nobody", "password123", false, t0())
        .await
        .unwrap();
    let before_unregistered = snapshot(&db).await;
    assert_eq!(
        purchases::apply_receipt(&db, unregistered.id, &shop.keys, &good, t0())
            .await
            .unwrap_err()
            .kind(),
        "no_payment_account"
    );
    assert_eq!(snapshot(&db).await, before_unregistered);
    // Nothing above touched the buyer's money.
    let mut still = snapshot(&db).await;
    still = still
        .lines()
        .filter(|l| !l.contains("\"nobody\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(still, before);
    assert_sound(&db).await;
}

#[tokio::test]
async fn membership_extends_from_the_current_end_date() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    let first = shop.membership("M1", "acct-buyer", 30);
    purchases::apply_receipt(&db, p, &shop.keys, &first, t0())
        .await
        .unwrap();
    let status = purchases::membership_status(&db, p, t0()).await.unwrap();
    assert!(status.is_member);
    assert_eq!(status.member_until, Some(t0() + Duration::days(30)));
    assert_eq!(status.days_left, 30);
    // Bought again 10 days later while active: extends from the end date.
    let later = t0() + Duration::days(10);
    let second = shop.membership("M2", "acct-buyer", 30);
    let ApplyOutcome::Applied { purchase } =
        purchases::apply_receipt(&db, p, &shop.keys, &second, later)
            .await
            .unwrap()
    else {
        panic!("not applied");
    };
    assert_eq!(purchase.member_from, Some(t0() + Duration::days(30)));
    assert_eq!(purchase.member_until, Some(t0() + Duration::days(60)));
    // Lapsed, then bought: starts from the purchase time.
    let lapsed = t0() + Duration::days(100);
    assert!(
        !purchases::membership_status(&db, p, lapsed)
            .await
            .unwrap()
            .is_member
    );
    let third = shop.membership("M3", "acct-buyer", 30);
    purchases::apply_receipt(&db, p, &shop.keys, &third, lapsed)
        .await
        .unwrap();
    assert_eq!(
        purchases::membership_status(&db, p, lapsed)
            .await
            .unwrap()
            .member_until,
        Some(lapsed + Duration::days(30))
    );
    // Membership purchases never move credits.
    assert_eq!(ledger::balance(&db, p, lapsed).await.unwrap().credits, 0);
    let stats = purchases::membership_statistics(&db, lapsed).await.unwrap();
    assert_eq!(
        (stats.orders, stats.revenue_fen, stats.active_members),
        (3, 3 * 990, 1)
    );
    assert_eq!(
        purchases::purchases(&db, p, Some("membership"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_sound(&db).await;
}

#[tokio::test]
async fn extended_until_is_pure_date_arithmetic() {
    let now = t0();
    assert_eq!(
        purchases::extended_until(None, 30, now),
        now + Duration::days(30)
    );
    assert_eq!(
        purchases::extended_until(Some(now + Duration::days(5)), 90, now),
        now + Duration::days(95)
    );
    assert_eq!(
        purchases::extended_until(Some(now - Duration::days(5)), 365, now),
        now + Duration::days(365)
    );
}

/// Two windows apply the same receipt at once: it counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_application_of_one_receipt_credits_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = inkstone_core::open(&dir.path().join("app.db"))
        .await
        .unwrap();
    let shop = Shop::new();
    let p = buyer(&db).await;
    let signed = shop.credits("ORDRACE", "acct-buyer", 500, 100);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (db, keys, signed) = (db.clone(), shop.keys.clone(), signed.clone());
        tasks.push(tokio::spawn(async move {
            purchases::apply_receipt(&db, p, &keys, &signed, t0()).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        if let ApplyOutcome::Applied { .. } = t.await.unwrap().unwrap() {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 600);
    assert_sound(&db).await;
}

/// A package whose bonus is valid for 30 days: the bonus leaves as an EXPIRE row after 30
/// days, the bought credits stay; a catalog with a bonus validity of 0 days is refused.
#[tokio::test]
async fn a_bonus_with_a_validity_expires_as_an_expire_row() {
    use inkstone_core::catalog;
    use inkstone_core::ledger::{PageRequest, Reason, TxFilter, TxKind};

    let db = db().await;
    let mut c = catalog::default_catalog();
    for p in &mut c.credit_packages {
        if p.sku == "credits_100" {
            p.bonus_valid_days = Some(30);
        }
    }
    let mut bad = c.clone();
    bad.credit_packages[0].bonus_valid_days = Some(0);
    assert_eq!(
        catalog::store_catalog(&db, &bad, t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    catalog::store_catalog(&db, &c, t0()).await.unwrap();
    let shop = Shop::new();
    let p = buyer(&db).await;
    let signed = shop.credits("ORD20261101V", "acct-buyer", 100, 10);
    purchases::apply_receipt(&db, p, &shop.keys, &signed, t0())
        .await
        .unwrap();
    let day = |n| t0() + Duration::days(n);
    assert_eq!(ledger::balance(&db, p, day(29)).await.unwrap().credits, 110);
    assert_eq!(ledger::balance(&db, p, day(30)).await.unwrap().credits, 100);
    let expired = ledger::transactions(
        &db,
        p,
        &TxFilter {
            kinds: vec![TxKind::Expire],
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(expired.items.len(), 1);
    assert_eq!(
        (expired.items[0].delta.get(), expired.items[0].reason),
        (-10, Some(Reason::BonusExpired))
    );
    // Once only, however often the balance is read.
    assert_eq!(ledger::balance(&db, p, day(60)).await.unwrap().credits, 100);
    assert_sound(&db).await;
}
