//! Credit packages credited on another installation (issue 14): kept, verified like a receipt
//! to be credited, never credited, listed per profile.

mod support;

use inkstone_core::{claims, ledger, orders, profiles, purchases};
use inkstone_receipt::{Fen, ReceiptSigner, TrustedKeys};
use support::*;

async fn buyer(
    db: &inkstone_core::Database,
    name: &str,
    account: &str,
) -> inkstone_domain::ProfileId {
    let p = profile_with(db, name, 0).await;
    profiles::set_server_account(db, p, account).await.unwrap();
    p
}

#[tokio::test]
async fn a_package_credited_elsewhere_is_kept_once_and_never_credited() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db, "buyer", "acct-buyer").await;
    let signed = shop.credits("ORD20261129A", "acct-buyer", 100, 10);
    let claimed_at = t0() - chrono::Duration::hours(3);
    let before = ledger::balance(&db, p, t0()).await.unwrap();
    let record = claims::record_elsewhere(&db, p, &shop.keys, &signed, claimed_at, t0())
        .await
        .unwrap();
    assert_eq!(record.order_no, order_no("ORD20261129A"));
    assert_eq!(
        (record.credits.get(), record.bonus_credits.get()),
        (100, 10)
    );
    assert_eq!(record.claimed_at, claimed_at);
    // Again: nothing new, the first record stands.
    let again = claims::record_elsewhere(&db, p, &shop.keys, &signed, t0(), t0())
        .await
        .unwrap();
    assert_eq!(again, record);
    assert_eq!(
        claims::list_elsewhere(&db, p).await.unwrap(),
        vec![record.clone()]
    );
    assert_eq!(
        claims::elsewhere(&db, p, &order_no("ORD20261129A"))
            .await
            .unwrap(),
        Some(record)
    );
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap(), before);
    assert!(!claims::is_applied(&db, &order_no("ORD20261129A"))
        .await
        .unwrap());
    assert!(purchases::purchases(&db, p, None).await.unwrap().is_empty());
    // An order of this computer paid and credited elsewhere is not waited on again.
    assert!(orders::unsettled_orders(&db).await.unwrap().is_empty());
    assert_sound(&db).await;
}

#[tokio::test]
async fn what_would_not_be_credited_here_is_not_kept_either() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db, "buyer", "acct-buyer").await;
    let other = buyer(&db, "other", "acct-other").await;
    let snapshot_before = snapshot(&db).await;
    // Another account's receipt, a forged one, and a membership (it follows the account).
    let foreign = shop.credits("ORD20261129B", "acct-other", 100, 0);
    let err = claims::record_elsewhere(&db, p, &shop.keys, &foreign, t0(), t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "receipt_wrong_account");
    let stranger = TrustedKeys::new([ReceiptSigner::generate().public_key()]);
    let mine = shop.credits("ORD20261129C", "acct-buyer", 100, 0);
    assert!(
        claims::record_elsewhere(&db, p, &stranger, &mine, t0(), t0())
            .await
            .is_err()
    );
    let mut tampered = mine.clone();
    tampered.receipt.amount_fen = tampered
        .receipt
        .amount_fen
        .checked_add(Fen::new(1).unwrap())
        .unwrap();
    assert!(
        claims::record_elsewhere(&db, p, &shop.keys, &tampered, t0(), t0())
            .await
            .is_err()
    );
    let month = shop.membership("ORD20261129D", "acct-buyer", 30);
    let err = claims::record_elsewhere(&db, p, &shop.keys, &month, t0(), t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    assert_eq!(snapshot(&db).await, snapshot_before);
    assert!(claims::list_elsewhere(&db, p).await.unwrap().is_empty());

    // One credited here is never also listed as elsewhere.
    purchases::apply_receipt(&db, p, &shop.keys, &mine, t0())
        .await
        .unwrap();
    assert!(claims::is_applied(&db, &order_no("ORD20261129C"))
        .await
        .unwrap());
    assert!(
        claims::record_elsewhere(&db, p, &shop.keys, &mine, t0(), t0())
            .await
            .is_err()
    );
    // Another profile's record is not this one's.
    let theirs = shop.credits("ORD20261129E", "acct-other", 50, 0);
    claims::record_elsewhere(&db, other, &shop.keys, &theirs, t0(), t0())
        .await
        .unwrap();
    assert_eq!(
        claims::elsewhere(&db, p, &order_no("ORD20261129E"))
            .await
            .unwrap(),
        None
    );
    assert!(claims::list_elsewhere(&db, p).await.unwrap().is_empty());
    assert_sound(&db).await;
}
