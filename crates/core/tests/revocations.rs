//! Refunded purchases: a signed revocation takes back what its receipt gave, once,
//! never below zero, and records what it could not take back.

mod support;

use chrono::Duration;
use inkstone_core::revocations::{self, RevocationOutcome};
use inkstone_core::{ledger, profiles, purchases};
use inkstone_receipt::revocation::{Revocation, SignedRevocation};
use inkstone_receipt::{Credits, Fen, ReceiptSigner};
use support::*;

async fn buyer(db: &inkstone_core::Database) -> inkstone_domain::ProfileId {
    let p = profile_with(db, "buyer", 0).await;
    profiles::set_server_account(db, p, "acct-buyer")
        .await
        .unwrap();
    p
}

fn revocation(tag: &str, refund_no: &str, credits: i64, days: i64) -> Revocation {
    Revocation {
        order_no: order_no(tag),
        account_id: "acct-buyer".into(),
        refund_no: refund_no.into(),
        refund_fen: Fen::new(1000).unwrap(),
        amount_fen: Fen::new(1000).unwrap(),
        credits: Credits::new(credits),
        days,
        reason: "重复购买".into(),
        revoked_at: t0(),
    }
}

fn signed(shop: &Shop, r: Revocation) -> SignedRevocation {
    shop.signer.sign_revocation(r).unwrap()
}

async fn refunded_rows(
    db: &inkstone_core::Database,
    p: inkstone_domain::ProfileId,
) -> Vec<(ledger::TxKind, i64)> {
    let rows = ledger::transactions(
        db,
        p,
        &ledger::TxFilter::default(),
        ledger::PageRequest::first(50),
    )
    .await
    .unwrap();
    rows.items
        .iter()
        .filter(|t| t.reason == Some(ledger::Reason::PurchaseRefunded))
        .map(|t| (t.kind, t.delta.get()))
        .collect()
}

#[tokio::test]
async fn a_refund_takes_the_credits_back_once_with_a_documented_ledger_row() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    let receipt = shop.credits("ORD1", "acct-buyer", 100, 10);
    purchases::apply_receipt(&db, p, &shop.keys, &receipt, t0())
        .await
        .unwrap();
    let rev = signed(&shop, revocation("ORD1", "RFORD1N1", 110, 0));
    let outcome = revocations::apply_revocation(&db, p, &shop.keys, &rev, t0())
        .await
        .unwrap();
    let RevocationOutcome::Applied { record } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (record.credits_taken.get(), record.credits_not_taken.get()),
        (110, 0)
    );
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 0);
    assert_eq!(
        refunded_rows(&db, p).await,
        vec![(ledger::TxKind::Expire, -110)]
    );
    // The row names the refunded order and its package, like the purchase's own rows.
    let rows = ledger::transactions(
        &db,
        p,
        &ledger::TxFilter::default(),
        ledger::PageRequest::first(1),
    )
    .await
    .unwrap();
    assert_eq!(
        rows.items[0].order_no.as_deref(),
        Some(order_no("ORD1").as_str())
    );
    assert_eq!(
        rows.items[0].package.as_ref().map(|p| p.credits.get()),
        Some(100)
    );
    let before = snapshot(&db).await;
    let again = revocations::apply_revocation(&db, p, &shop.keys, &rev, t0())
        .await
        .unwrap();
    assert_eq!(
        again,
        RevocationOutcome::AlreadyApplied {
            refund_no: "RFORD1N1".into()
        }
    );
    assert_eq!(snapshot(&db).await, before, "applied once");
    assert_sound(&db).await;
}

#[tokio::test]
async fn credits_already_spent_are_recorded_not_taken_below_zero() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    purchases::apply_receipt(
        &db,
        p,
        &shop.keys,
        &shop.credits("ORD2", "acct-buyer", 100, 10),
        t0(),
    )
    .await
    .unwrap();
    ledger::check_and_consume(&db, p, inkstone_domain::Tool::Article, "", t0())
        .await
        .unwrap();
    let left = ledger::balance(&db, p, t0()).await.unwrap().credits.get();
    assert!(left < 110);
    let rev = signed(&shop, revocation("ORD2", "RFORD2N1", 110, 0));
    let RevocationOutcome::Applied { record } =
        revocations::apply_revocation(&db, p, &shop.keys, &rev, t0())
            .await
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(record.credits_taken, left);
    assert_eq!(record.credits_not_taken, 110 - left);
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 0);
    let not_taken: i64 = sqlx::query_scalar(
        "SELECT credits - credits_taken FROM revocations WHERE refund_no = 'RFORD2N1'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(not_taken, 110 - left);
    assert_sound(&db).await;
}

#[tokio::test]
async fn membership_days_are_removed_but_never_before_now() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    purchases::apply_receipt(
        &db,
        p,
        &shop.keys,
        &shop.membership("M1", "acct-buyer", 30),
        t0(),
    )
    .await
    .unwrap();
    let now = t0() + Duration::days(1);
    // Half refunded: 15 days go.
    let rev = signed(&shop, revocation("M1", "RFM1N1", 0, 15));
    let RevocationOutcome::Applied { record } =
        revocations::apply_revocation(&db, p, &shop.keys, &rev, now)
            .await
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(record.member_until_before, Some(t0() + Duration::days(30)));
    assert_eq!(record.member_until_after, Some(t0() + Duration::days(15)));
    // The rest (30 days asked, 14 left): the membership ends now, not in the past.
    let rev = signed(&shop, revocation("M1", "RFM1N2", 0, 30));
    revocations::apply_revocation(&db, p, &shop.keys, &rev, now)
        .await
        .unwrap();
    let status = purchases::membership_status(&db, p, now).await.unwrap();
    assert_eq!((status.is_member, status.member_until), (false, Some(now)));
    assert_sound(&db).await;
}

#[tokio::test]
async fn forged_foreign_and_unknown_revocations_change_nothing() {
    let db = db().await;
    let shop = Shop::new();
    let p = buyer(&db).await;
    purchases::apply_receipt(
        &db,
        p,
        &shop.keys,
        &shop.credits("ORD3", "acct-buyer", 100, 10),
        t0(),
    )
    .await
    .unwrap();
    let before = snapshot(&db).await;
    let mut forged = signed(&shop, revocation("ORD3", "RFORD3N1", 10, 0));
    forged.revocation.credits = Credits::new(110);
    let e = revocations::apply_revocation(&db, p, &shop.keys, &forged, t0())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "receipt_forged");
    let stranger = ReceiptSigner::from_secret_bytes([9; 32])
        .sign_revocation(revocation("ORD3", "RFORD3N1", 110, 0))
        .unwrap();
    let e = revocations::apply_revocation(&db, p, &shop.keys, &stranger, t0())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "receipt_unknown_key");
    let mut other = revocation("ORD3", "RFORD3N1", 110, 0);
    other.account_id = "acct-other".into();
    let e = revocations::apply_revocation(&db, p, &shop.keys, &signed(&shop, other), t0())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "receipt_wrong_account");
    // A purchase this machine never applied: nothing to take back, and said so.
    let elsewhere = signed(&shop, revocation("ORD-ELSEWHERE", "RFX", 110, 0));
    assert_eq!(
        revocations::apply_revocation(&db, p, &shop.keys, &elsewhere, t0())
            .await
            .unwrap(),
        RevocationOutcome::PurchaseNotHere {
            order_no: order_no("ORD-ELSEWHERE")
        }
    );
    assert_eq!(snapshot(&db).await, before);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revocations")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn the_cursor_only_moves_forward() {
    let db = db().await;
    let p = buyer(&db).await;
    assert_eq!(revocations::cursor(&db, p).await.unwrap(), 0);
    revocations::set_cursor(&db, p, 7).await.unwrap();
    revocations::set_cursor(&db, p, 3).await.unwrap();
    assert_eq!(revocations::cursor(&db, p).await.unwrap(), 7);
    assert!(revocations::set_cursor(&db, p, -1).await.is_err());
}
