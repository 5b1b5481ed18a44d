//! The desktop's order rows: remembered, resumed, and marked paid only
//! together with the receipt that pays them.

mod support;

use chrono::Duration;
use inkstone_core::orders::{self, Order, OrderStatus};
use inkstone_core::{ledger, profiles, purchases};
use inkstone_domain::{Fen, ProfileId};
use support::*;

fn order(profile_id: ProfileId, tag: &str) -> Order {
    Order {
        order_no: order_no(tag),
        profile_id,
        kind: "credits".into(),
        sku: "credits_100".into(),
        provider: "sandbox".into(),
        amount_fen: Fen::new(1_000).unwrap(),
        qr_payload: format!("http://127.0.0.1:9/sandbox/pay/{}", order_no(tag)),
        status: OrderStatus::Pending,
        expires_at: t0() + Duration::minutes(15),
        created_at: t0(),
        updated_at: t0(),
        applied: false,
    }
}

#[tokio::test]
async fn a_started_order_is_resumed_until_its_receipt_is_applied() {
    let db = db().await;
    let shop = Shop::new();
    let p = profile_with(&db, "buyer", 0).await;
    profiles::set_server_account(&db, p, "acct-buyer")
        .await
        .unwrap();
    orders::record_order(&db, &order(p, "ORD1"), t0())
        .await
        .unwrap();
    // A retried request records the same order again without harm.
    orders::record_order(&db, &order(p, "ORD1"), t0())
        .await
        .unwrap();
    assert_eq!(orders::unsettled_orders(&db).await.unwrap().len(), 1);

    // The server said paid, then the app died before the receipt was applied.
    let o = orders::update_status(&db, p, &order_no("ORD1"), OrderStatus::Paid, t0())
        .await
        .unwrap();
    assert_eq!((o.status, o.applied), (OrderStatus::Paid, false));
    assert_eq!(
        orders::unsettled_orders(&db).await.unwrap().len(),
        1,
        "still waiting for its receipt"
    );
    assert_eq!(
        ledger::balance(&db, p, t0()).await.unwrap().credits,
        0,
        "an order row never moves money"
    );

    purchases::apply_receipt(
        &db,
        p,
        &shop.keys,
        &shop.credits("ORD1", "acct-buyer", 100, 10),
        t0(),
    )
    .await
    .unwrap();
    let o = orders::get_order(&db, p, &order_no("ORD1")).await.unwrap();
    assert_eq!((o.status, o.applied), (OrderStatus::Paid, true));
    assert!(orders::unsettled_orders(&db).await.unwrap().is_empty());
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 110);
}

#[tokio::test]
async fn status_only_moves_forward_and_late_payments_are_kept() {
    let db = db().await;
    let p = profile_with(&db, "buyer", 0).await;
    orders::record_order(&db, &order(p, "ORD2"), t0())
        .await
        .unwrap();
    let o = orders::update_status(&db, p, &order_no("ORD2"), OrderStatus::Expired, t0())
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Expired);
    assert!(orders::unsettled_orders(&db).await.unwrap().is_empty());
    // Paid after expiry: recorded, never lost.
    let o = orders::update_status(&db, p, &order_no("ORD2"), OrderStatus::Paid, t0())
        .await
        .unwrap();
    assert_eq!(o.status, OrderStatus::Paid);
    // Paid is final.
    for s in [
        OrderStatus::Pending,
        OrderStatus::Expired,
        OrderStatus::Closed,
    ] {
        assert_eq!(
            orders::update_status(&db, p, &order_no("ORD2"), s, t0())
                .await
                .unwrap()
                .status,
            OrderStatus::Paid
        );
    }
}

#[tokio::test]
async fn bad_orders_are_refused_and_orders_stay_private() {
    let db = db().await;
    let p = profile_with(&db, "buyer", 0).await;
    let other = profile_with(&db, "other", 0).await;
    orders::record_order(&db, &order(p, "ORD3"), t0())
        .await
        .unwrap();
    let before = snapshot(&db).await;
    let n = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM orders")
        .fetch_one(&db)
        .await
        .unwrap();
    // An empty number or one with a control character cannot even make an `Order`.
    assert!(inkstone_domain::OrderNo::parse("").is_err());
    assert!(inkstone_domain::OrderNo::parse("IKTESTORD\n4").is_err());
    let cases = vec![
        (
            "zero amount",
            Order {
                amount_fen: Fen::ZERO,
                ..order(p, "ORD4")
            },
            "invalid_amount",
        ),
        (
            "bad kind",
            Order {
                kind: "gold".into(),
                ..order(p, "ORD4")
            },
            "invalid_input",
        ),
        (
            "same number, other sku",
            Order {
                sku: "credits_1000".into(),
                amount_fen: Fen::new(10_000).unwrap(),
                ..order(p, "ORD3")
            },
            "invalid_input",
        ),
        (
            "unknown profile",
            order(ProfileId::new(999), "ORD5"),
            "unknown_profile",
        ),
    ];
    for (case, o, kind) in cases {
        let err = orders::record_order(&db, &o, t0()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{case}: {err:?}");
    }
    assert_eq!(snapshot(&db).await, before);
    let after = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM orders")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(after, n);
    assert!(orders::get_order(&db, other, &order_no("ORD3"))
        .await
        .is_err());
    assert!(
        orders::update_status(&db, other, &order_no("ORD3"), OrderStatus::Closed, t0())
            .await
            .is_err()
    );
    assert!(orders::list_orders(&db, other, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        orders::list_orders(&db, p, Some("credits"))
            .await
            .unwrap()
            .len(),
        1
    );
}
