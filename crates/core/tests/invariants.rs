//! Property test: random sequences of everything that moves credits or
//! membership, checked after every step against the ledger's own audit and
//! against a plain in-memory model of what the balance must be.

mod support;

use chrono::{DateTime, Duration, Utc};
use inkstone_core::ledger::{self, Grant, GrantKind};
use inkstone_core::purchases::{self, ApplyOutcome};
use inkstone_core::{profiles, CoreError, Database};
use inkstone_domain::{Credits, ProfileId};
use inkstone_receipt::SignedReceipt;
use proptest::prelude::*;
use support::*;

#[derive(Debug, Clone)]
enum Op {
    Grant {
        who: usize,
        credits: i64,
        bonus_hours: Option<i64>,
    },
    Consume {
        who: usize,
        tool: usize,
    },
    Refund {
        pick: usize,
    },
    BuyCredits {
        who: usize,
        credits: i64,
        bonus: i64,
    },
    BuyMembership {
        who: usize,
        days: i64,
    },
    Replay {
        pick: usize,
    },
    ForeignReceipt {
        who: usize,
    },
    Advance {
        hours: i64,
    },
    ExpireAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..2usize, 1..200i64, prop::option::of(1..300i64))
            .prop_map(|(who, credits, bonus_hours)| Op::Grant { who, credits, bonus_hours }),
        4 => (0..2usize, 0..ledger::TOOL_COSTS.len()).prop_map(|(who, tool)| Op::Consume { who, tool }),
        2 => any::<usize>().prop_map(|pick| Op::Refund { pick }),
        1 => (0..2usize, 1..500i64, 0..100i64).prop_map(|(who, credits, bonus)| Op::BuyCredits { who, credits, bonus }),
        1 => (0..2usize, prop::sample::select(vec![30i64, 90, 365])).prop_map(|(who, days)| Op::BuyMembership { who, days }),
        1 => any::<usize>().prop_map(|pick| Op::Replay { pick }),
        1 => (0..2usize).prop_map(|who| Op::ForeignReceipt { who }),
        1 => (0..200i64).prop_map(|hours| Op::Advance { hours }),
        1 => Just(Op::ExpireAll),
    ]
}

#[derive(Default, Clone)]
struct ModelProfile {
    credits: i64,
    lots: Vec<(DateTime<Utc>, i64)>,
    member_until: Option<DateTime<Utc>>,
}

impl ModelProfile {
    fn expire(&mut self, now: DateTime<Utc>) {
        for (at, remaining) in &mut self.lots {
            if *at <= now {
                self.credits -= *remaining;
                *remaining = 0;
            }
        }
    }
    fn drain(&mut self, mut amount: i64) {
        self.lots.sort_by_key(|(at, _)| *at);
        for (_, remaining) in &mut self.lots {
            let take = (*remaining).min(amount);
            *remaining -= take;
            amount -= take;
        }
    }
}

struct Consumed {
    id: i64,
    who: usize,
    charged: i64,
    refunded: bool,
}

async fn check(
    db: &Database,
    ids: &[ProfileId],
    model: &mut [ModelProfile],
    now: DateTime<Utc>,
    step: &str,
) {
    let problems = ledger::audit(db).await.unwrap();
    assert!(problems.is_empty(), "after {step}: {problems:#?}");
    for (who, id) in ids.iter().enumerate() {
        model[who].expire(now);
        let b = ledger::balance(db, *id, now).await.unwrap();
        assert_eq!(
            b.credits, model[who].credits,
            "after {step}: credits of profile {who}"
        );
        assert!(b.credits >= 0);
        assert_eq!(
            b.member_until, model[who].member_until,
            "after {step}: member_until of {who}"
        );
        assert_eq!(
            b.is_member,
            model[who].member_until.is_some_and(|u| u > now)
        );
    }
}

async fn run(ops: Vec<Op>) {
    let db = db().await;
    let shop = Shop::new();
    let mut ids = Vec::new();
    for who in 0..2 {
        let p = profiles::create_profile(&db, &format!("user{who}"), "password123", false, t0())
            .await
            .unwrap();
        profiles::set_server_account(&db, p.id, &format!("acct-{who}"))
            .await
            .unwrap();
        ids.push(p.id);
    }
    let mut model = vec![ModelProfile::default(); 2];
    let mut consumed: Vec<Consumed> = Vec::new();
    let mut receipts: Vec<(usize, SignedReceipt)> = Vec::new();
    let mut now = t0();
    let mut orders = 0;
    for (n, op) in ops.into_iter().enumerate() {
        let step = format!("step {n}: {op:?}");
        match op {
            Op::Grant {
                who,
                credits,
                bonus_hours,
            } => {
                let grant = Grant {
                    kind: if bonus_hours.is_some() {
                        GrantKind::Bonus
                    } else {
                        GrantKind::Recharge
                    },
                    credits: Credits::new(credits),
                    description: "grant".into(),
                    order_no: None,
                    expires_at: bonus_hours.map(|h| now + Duration::hours(h)),
                };
                ledger::add_credits(&db, ids[who], &grant, now)
                    .await
                    .unwrap();
                model[who].credits += credits;
                if let Some(at) = grant.expires_at {
                    model[who].lots.push((at, credits));
                }
            }
            Op::Consume { who, tool } => {
                let (tool, cost) = ledger::TOOL_COSTS[tool];
                // The model keeps plain numbers; the ledger's answers are compared to them.
                let cost = cost.get();
                let m = &mut model[who];
                m.expire(now);
                let member = m.member_until.is_some_and(|u| u > now);
                let result = ledger::check_and_consume(&db, ids[who], tool, "gen", now).await;
                if member {
                    let c = result.unwrap();
                    assert_eq!(c.charged, 0, "{step}");
                    consumed.push(Consumed {
                        id: c.transaction_id,
                        who,
                        charged: 0,
                        refunded: false,
                    });
                } else if m.credits >= cost {
                    let c = result.unwrap();
                    assert_eq!(c.charged, cost, "{step}");
                    m.credits -= cost;
                    m.drain(cost);
                    consumed.push(Consumed {
                        id: c.transaction_id,
                        who,
                        charged: cost,
                        refunded: false,
                    });
                } else {
                    match result {
                        Err(CoreError::InsufficientCredits { needed, missing }) => {
                            assert_eq!(
                                (needed.get(), missing.get()),
                                (cost, cost - m.credits),
                                "{step}"
                            );
                        }
                        other => panic!("{step}: expected insufficient credits, got {other:?}"),
                    }
                }
            }
            Op::Refund { pick } => {
                if consumed.is_empty() {
                    continue;
                }
                let len = consumed.len();
                let c = &mut consumed[pick % len];
                let result = ledger::refund(&db, c.id, "refund", now).await;
                match (c.charged, c.refunded) {
                    (0, _) => assert_eq!(result.unwrap(), None, "{step}"),
                    (_, true) => assert!(
                        matches!(result, Err(CoreError::AlreadyRefunded(_))),
                        "{step}"
                    ),
                    (charged, false) => {
                        assert_eq!(result.unwrap().unwrap().delta, charged, "{step}");
                        model[c.who].credits += charged;
                        c.refunded = true;
                    }
                }
            }
            Op::BuyCredits {
                who,
                credits,
                bonus,
            } => {
                orders += 1;
                let signed = shop.credits(
                    &format!("ORD{orders}"),
                    &format!("acct-{who}"),
                    credits,
                    bonus,
                );
                let outcome = purchases::apply_receipt(&db, ids[who], &shop.keys, &signed, now)
                    .await
                    .unwrap();
                assert!(matches!(outcome, ApplyOutcome::Applied { .. }), "{step}");
                model[who].credits += credits + bonus;
                receipts.push((who, signed));
            }
            Op::BuyMembership { who, days } => {
                orders += 1;
                let signed = shop.membership(&format!("ORD{orders}"), &format!("acct-{who}"), days);
                purchases::apply_receipt(&db, ids[who], &shop.keys, &signed, now)
                    .await
                    .unwrap();
                model[who].member_until = Some(purchases::extended_until(
                    model[who].member_until,
                    days,
                    now,
                ));
                receipts.push((who, signed));
            }
            Op::Replay { pick } => {
                if receipts.is_empty() {
                    continue;
                }
                let (who, signed) = &receipts[pick % receipts.len()];
                let outcome = purchases::apply_receipt(&db, ids[*who], &shop.keys, signed, now)
                    .await
                    .unwrap();
                assert!(
                    matches!(outcome, ApplyOutcome::AlreadyApplied { .. }),
                    "{step}"
                );
            }
            Op::ForeignReceipt { who } => {
                orders += 1;
                let signed = shop.credits(
                    &format!("ORD{orders}"),
                    &format!("acct-{}", 1 - who),
                    100,
                    10,
                );
                let err = purchases::apply_receipt(&db, ids[who], &shop.keys, &signed, now)
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), "receipt_wrong_account", "{step}");
            }
            Op::Advance { hours } => now += Duration::hours(hours),
            Op::ExpireAll => {
                ledger::expire_bonuses(&db, now).await.unwrap();
            }
        }
        check(&db, &ids, &mut model, now, &step).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn ledger_invariants_hold_after_every_step(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops));
    }
}
