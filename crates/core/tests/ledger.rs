//! The ledger's rules, one scenario each, with the invariants audited after.

mod support;

use chrono::Duration;
use inkstone_core::ledger::{self, Grant, GrantKind, PageRequest, TxFilter, TxKind};
use inkstone_core::{open, profiles, CoreError};
use inkstone_domain::{Credits, ProfileId, Tool};
use support::*;

#[tokio::test]
async fn consume_charges_the_tool_cost_and_records_it() {
    let db = db().await;
    let p = profile_with(&db, "writer", 25).await;
    let charge = ledger::check_and_consume(&db, p, Tool::Article, "AI写作：春天", t0())
        .await
        .unwrap();
    assert_eq!(
        (
            charge.charged.get(),
            charge.balance_after.get(),
            charge.member
        ),
        (10, 15, false)
    );
    let b = ledger::balance(&db, p, t0()).await.unwrap();
    assert_eq!(b.credits, 15);
    assert_sound(&db).await;
}

#[tokio::test]
async fn insufficient_credits_says_how_many_are_missing_and_changes_nothing() {
    let db = db().await;
    let p = profile_with(&db, "writer", 4).await;
    let before = snapshot(&db).await;
    let err = ledger::check_and_consume(&db, p, Tool::Article, "x", t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InsufficientCredits { needed, missing }
                if needed == 10 && missing == 6
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), "insufficient_credits");
    assert_eq!(snapshot(&db).await, before);
}

#[tokio::test]
async fn a_member_pays_nothing_but_the_use_is_recorded() {
    let db = db().await;
    inkstone_core::demo::seed_demo(&db, t0()).await.unwrap();
    let admin = profiles::login(&db, "admin", "admin123456").await.unwrap();
    for _ in 0..2 {
        let charge = ledger::check_and_consume(&db, admin.id, Tool::Article, "x", t0())
            .await
            .unwrap();
        assert_eq!(
            (
                charge.charged.get(),
                charge.balance_after.get(),
                charge.member
            ),
            (0, 1000, true)
        );
    }
    let page = ledger::transactions(
        &db,
        admin.id,
        &TxFilter {
            kinds: vec![TxKind::Consume],
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.items.iter().all(|t| t.delta == 0));
    // Membership ends by the clock, with no background job.
    let after_end = inkstone_core::demo::demo_admin_member_until(t0()) + Duration::seconds(1);
    let charge = ledger::check_and_consume(&db, admin.id, Tool::Article, "x", after_end)
        .await
        .unwrap();
    assert_eq!((charge.charged.get(), charge.member), (10, false));
    assert_sound(&db).await;
}

#[tokio::test]
async fn every_tool_has_one_cost_and_unknown_tools_are_rejected() {
    for (tool, cost) in ledger::TOOL_COSTS {
        assert_eq!(ledger::cost_of(*tool), *cost);
        assert!(cost.is_positive());
    }
    assert_eq!(ledger::TOOL_COSTS.len(), Tool::ALL.len());
    // A name that is no tool never becomes a `Tool`, so it cannot reach a charge.
    for bad in ["", "rm -rf", "article\n", "不存在的工具"] {
        assert!(bad.parse::<Tool>().is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn refund_gives_back_exactly_once() {
    let db = db().await;
    let p = profile_with(&db, "writer", 30).await;
    let charge = ledger::check_and_consume(&db, p, Tool::Article, "x", t0())
        .await
        .unwrap();
    let refund = ledger::refund(&db, charge.transaction_id, "生成失败退款", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refund.kind, refund.delta.get(), refund.balance_after.get()),
        (TxKind::Refund, 10, 30)
    );
    assert_eq!(refund.refund_of, Some(charge.transaction_id));
    let before = snapshot(&db).await;
    let err = ledger::refund(&db, charge.transaction_id, "again", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::AlreadyRefunded(id) if id == charge.transaction_id));
    assert_eq!(snapshot(&db).await, before);
    assert_sound(&db).await;
}

#[tokio::test]
async fn refund_of_something_that_is_not_a_consumption_is_refused() {
    let db = db().await;
    let p = profile_with(&db, "writer", 30).await;
    let recharge_row = ledger::transactions(&db, p, &TxFilter::default(), PageRequest::first(1))
        .await
        .unwrap()
        .items[0]
        .id;
    let before = snapshot(&db).await;
    for id in [recharge_row, 0, -1, 999_999] {
        let err = ledger::refund(&db, id, "x", t0()).await.unwrap_err();
        assert_eq!(err.kind(), "unknown_transaction", "{id}");
    }
    assert_eq!(snapshot(&db).await, before);
}

#[tokio::test]
async fn bad_amounts_and_unknown_profiles_change_nothing() {
    let db = db().await;
    let p = profile_with(&db, "writer", 10).await;
    let before = snapshot(&db).await;
    for credits in [
        0,
        -1,
        -10,
        i64::MIN,
        i64::MAX,
        ledger::MAX_GRANT_CREDITS + 1,
    ] {
        let err = ledger::add_credits(&db, p, &recharge(credits), t0())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_amount", "{credits}");
    }
    // Many maximal grants must stop at the balance limit instead of overflowing.
    let mut hit_limit = false;
    let big = recharge(ledger::MAX_GRANT_CREDITS);
    for _ in 0..(ledger::MAX_BALANCE_CREDITS / ledger::MAX_GRANT_CREDITS + 1) {
        match ledger::add_credits(&db, p, &big, t0()).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), "invalid_amount");
                hit_limit = true;
                break;
            }
        }
    }
    assert!(hit_limit);
    assert_sound(&db).await;

    let db2 = support::db().await;
    let _ = profile_with(&db2, "writer", 10).await;
    let before2 = snapshot(&db2).await;
    assert_eq!(
        ledger::add_credits(&db2, ProfileId::new(4242), &recharge(5), t0())
            .await
            .unwrap_err()
            .kind(),
        "unknown_profile"
    );
    assert_eq!(
        ledger::check_and_consume(&db2, ProfileId::new(4242), Tool::Article, "x", t0())
            .await
            .unwrap_err()
            .kind(),
        "unknown_profile"
    );
    assert_eq!(
        ledger::balance(&db2, ProfileId::new(4242), t0())
            .await
            .unwrap_err()
            .kind(),
        "unknown_profile"
    );
    assert_eq!(snapshot(&db2).await, before2);
    drop(before);
}

#[tokio::test]
async fn bonus_expires_and_is_spent_before_it_expires() {
    let db = db().await;
    let p = profile_with(&db, "writer", 0).await;
    let soon = t0() + Duration::days(7);
    let bonus = Grant {
        kind: GrantKind::Bonus,
        credits: Credits::new(30),
        description: "活动赠送".into(),
        order_no: None,
        expires_at: Some(soon),
    };
    ledger::add_credits(&db, p, &bonus, t0()).await.unwrap();
    ledger::add_credits(&db, p, &recharge(20), t0())
        .await
        .unwrap();
    // 10 spent comes out of the expiring bonus first.
    ledger::check_and_consume(&db, p, Tool::Article, "x", t0())
        .await
        .unwrap();
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 40);
    let b = ledger::balance(&db, p, soon).await.unwrap();
    assert_eq!(b.credits, 20, "the 20 unspent bonus credits expired");
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
    assert_eq!(expired.items[0].delta, -20);
    // Expiry happens once, however often it is looked at.
    assert_eq!(
        ledger::balance(&db, p, soon + Duration::days(1))
            .await
            .unwrap()
            .credits,
        20
    );
    assert!(ledger::expire_bonuses(&db, soon + Duration::days(2))
        .await
        .unwrap()
        .is_empty());
    assert_sound(&db).await;
}

#[tokio::test]
async fn grants_that_make_no_sense_are_refused() {
    let db = db().await;
    let p = profile_with(&db, "writer", 0).await;
    let before = snapshot(&db).await;
    let expiring_recharge = Grant {
        expires_at: Some(t0() + Duration::days(1)),
        ..recharge(10)
    };
    assert_eq!(
        ledger::add_credits(&db, p, &expiring_recharge, t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    let past_bonus = Grant {
        kind: GrantKind::Bonus,
        expires_at: Some(t0() - Duration::seconds(1)),
        ..recharge(10)
    };
    assert_eq!(
        ledger::add_credits(&db, p, &past_bonus, t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    let long = Grant {
        description: "长".repeat(501),
        ..recharge(10)
    };
    assert_eq!(
        ledger::add_credits(&db, p, &long, t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    assert_eq!(snapshot(&db).await, before);
}

/// Starts 100 charges of 10 credits on `p` at once; how many went through.
/// Each either succeeds or says the credits are insufficient, never anything else.
async fn hundred_charges_at_once(
    db: &inkstone_core::Database,
    p: inkstone_domain::ProfileId,
) -> usize {
    let mut tasks = Vec::new();
    for i in 0..100 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            ledger::check_and_consume(&db, p, Tool::Article, &format!("task {i}"), t0()).await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(charge) => {
                assert!(charge.balance_after >= 0);
                ok += 1;
            }
            Err(CoreError::InsufficientCredits { .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    ok
}

/// The issue's race: 100 generations at once on 100 credits, on a real file
/// with several connections. Exactly ten win; nobody goes negative.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_consumers_on_a_hundred_credits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("app.db")).await.unwrap();
    let p = profile_with(&db, "writer", 100).await;
    assert_eq!(hundred_charges_at_once(&db, p).await, 10);
    assert_eq!(ledger::balance(&db, p, t0()).await.unwrap().credits, 0);
    assert_sound(&db).await;
}

/// The same race when half the credits are expiring bonus: charges that must drain
/// bonus lots (a transaction) race charges that need none (one autocommit statement).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_consumers_on_bonus_and_bought_credits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("app.db")).await.unwrap();
    let p = profile_with(&db, "writer", 50).await;
    let bonus = Grant {
        kind: GrantKind::Bonus,
        credits: Credits::new(50),
        description: "活动赠送".into(),
        order_no: None,
        expires_at: Some(t0() + Duration::days(30)),
    };
    ledger::add_credits(&db, p, &bonus, t0()).await.unwrap();
    assert_eq!(hundred_charges_at_once(&db, p).await, 10);
    let b = ledger::balance(&db, p, t0() + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(b.credits, 0, "nothing was left to expire");
    assert_sound(&db).await;
}

/// The database itself keeps the balance and the ledger together: a row whose
/// balance_after does not follow is refused, and rows are never rewritten.
#[tokio::test]
async fn the_database_refuses_a_ledger_row_that_does_not_add_up() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let before = snapshot(&db).await;
    let forged = sqlx::query(
        "INSERT INTO credit_transactions (profile_id, kind, delta, balance_after, description, created_at_ms)
         VALUES (?, 'RECHARGE', 10, 1000, 'forged', 0)",
    )
    .bind(p)
    .execute(&db)
    .await;
    assert!(forged.is_err(), "balance_after 1000 after 100 + 10");
    for statement in [
        "UPDATE credit_transactions SET delta = 1000",
        "DELETE FROM credit_transactions",
    ] {
        assert!(
            sqlx::query(statement).execute(&db).await.is_err(),
            "{statement}"
        );
    }
    assert_eq!(snapshot(&db).await, before);
}

#[tokio::test]
async fn history_filters_search_and_pages_newest_first() {
    let db = db().await;
    let p = profile_with(&db, "writer", 1000).await;
    let other = profile_with(&db, "other", 1000).await;
    for i in 0..25 {
        let when = t0() + Duration::hours(i);
        ledger::check_and_consume(&db, p, Tool::Article, &format!("文章 {i}"), when)
            .await
            .unwrap();
        ledger::check_and_consume(&db, other, Tool::Article, "别人的", when)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = ledger::transactions(
            &db,
            p,
            &TxFilter::default(),
            PageRequest {
                limit: 7,
                before_id,
            },
        )
        .await
        .unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|t| t.id));
        match page.next_before_id {
            Some(id) => before_id = Some(id),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26, "25 consumptions and the recharge");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );

    let text = TxFilter {
        text: Some("文章 1".into()),
        ..Default::default()
    };
    let found = ledger::transactions(&db, p, &text, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 11, "文章 1 and 文章 10..19");
    // LIKE wildcards in the search text are literal.
    let wild = TxFilter {
        text: Some("%".into()),
        ..Default::default()
    };
    assert!(ledger::transactions(&db, p, &wild, PageRequest::first(100))
        .await
        .unwrap()
        .items
        .is_empty());

    let range = TxFilter {
        kinds: vec![TxKind::Consume],
        from: Some(t0() + Duration::hours(5)),
        to: Some(t0() + Duration::hours(8)),
        text: None,
    };
    let ranged = ledger::transactions(&db, p, &range, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(ranged.items.len(), 3);
    assert!(ranged.items.iter().all(|t| t.profile_id == p));

    for limit in [0, 101] {
        let err = ledger::transactions(
            &db,
            p,
            &TxFilter::default(),
            PageRequest {
                limit,
                before_id: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
    }
}

#[tokio::test]
async fn statistics_total_per_type_and_per_china_day() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    // 2026-11-01 15:30 UTC is already 2026-11-01 23:30 in China; 16:30 UTC is the 2nd.
    let late = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 1, 15, 30, 0).unwrap();
    let next_day = late + Duration::hours(1);
    let c = ledger::check_and_consume(&db, p, Tool::Article, "a", late)
        .await
        .unwrap();
    ledger::check_and_consume(&db, p, Tool::Article, "b", next_day)
        .await
        .unwrap();
    ledger::refund(&db, c.transaction_id, "r", next_day)
        .await
        .unwrap();
    let stats = ledger::statistics(
        &db,
        Some(p),
        t0() - Duration::days(1),
        t0() + Duration::days(3),
    )
    .await
    .unwrap();
    let consume = stats
        .totals
        .iter()
        .find(|t| t.kind == TxKind::Consume)
        .unwrap();
    assert_eq!((consume.count, consume.credits.get()), (2, -20));
    let refund = stats
        .totals
        .iter()
        .find(|t| t.kind == TxKind::Refund)
        .unwrap();
    assert_eq!((refund.count, refund.credits.get()), (1, 10));
    let days: Vec<(&str, TxKind, i64)> = stats
        .daily
        .iter()
        .map(|d| (d.day.as_str(), d.kind, d.count))
        .collect();
    assert!(
        days.contains(&("2026-11-01", TxKind::Consume, 1)),
        "{days:?}"
    );
    assert!(
        days.contains(&("2026-11-02", TxKind::Consume, 1)),
        "{days:?}"
    );
    assert!(
        days.contains(&("2026-11-02", TxKind::Refund, 1)),
        "{days:?}"
    );
    let all = ledger::statistics(
        &db,
        None,
        t0() - Duration::days(1),
        t0() + Duration::days(3),
    )
    .await
    .unwrap();
    assert!(!all.totals.is_empty());
    assert_eq!(
        ledger::statistics(&db, Some(p), t0(), t0())
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
}

#[tokio::test]
async fn the_row_a_write_returns_is_the_row_that_was_stored() {
    let db = db().await;
    let p = profile_with(&db, "writer", 25).await;
    let grant = Grant {
        kind: GrantKind::Recharge,
        credits: Credits::new(100),
        description: "充值 ¥10".into(),
        order_no: Some("IK20260101ABC".into()),
        expires_at: None,
    };
    let written = ledger::add_credits(&db, p, &grant, t0()).await.unwrap();
    let page = ledger::transactions(&db, p, &TxFilter::default(), PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(page.items, vec![written]);
}
