//! The seed report's test flow (section 8.4) below the window: demo users,
//! the demo model, a failure refunded, buying in the sandbox, membership,
//! history, keys — and a run killed mid-stream, refunded once at restart.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use inkstone_core::generations::{self, HistoryFilter, Status};
use inkstone_core::ledger::{self, PageRequest, TxFilter, TxKind};
use inkstone_core::{open, profiles, purchases};
use inkstone_desktop::{Options, Services, DEMO_LABEL};
use inkstone_domain::ProfileId;
use inkstone_keychain::MemoryStore;
use inkstone_shop::Settled;
use inkstone_studio::{Update, WriteRequest};

fn article(profile_id: ProfileId, input: &str) -> WriteRequest {
    WriteRequest {
        profile_id,
        tool: inkstone_domain::Tool::Article,
        input: input.into(),
        params: serde_json::json!({"tone": "warm"}),
        regenerated_from: None,
        inputs: Vec::new(),
    }
}

async fn services(dir: &std::path::Path, secrets: Arc<MemoryStore>, tps: f64) -> Services {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo: true,
        demo_tokens_per_second: tps,
        ..Default::default()
    };
    Services::start(db, options, secrets).await.unwrap()
}

#[tokio::test]
async fn the_report_flow() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), Arc::new(MemoryStore::default()), 1000.0).await;
    let user = profiles::login(&s.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    let credits = |db: inkstone_core::Database| async move {
        ledger::balance(&db, user, Utc::now())
            .await
            .unwrap()
            .credits
    };
    assert_eq!(credits(s.db.clone()).await, 100);
    assert!(s.key_status().unwrap().demo_model);

    let mut streamed = String::new();
    let g = s
        .write(article(user, "春天的散文"), None, &mut |u| {
            if let Update::Text { text } = u {
                streamed.push_str(&text)
            }
        })
        .await
        .unwrap();
    assert_eq!(g.status, Status::Succeeded);
    assert!(g.model.starts_with(DEMO_LABEL), "{}", g.model);
    assert_eq!(streamed, g.output_text);
    assert_eq!(credits(s.db.clone()).await, 90);

    let failed = s
        .write(
            article(user, "秋天 [[fault:disconnect_after=5]]"),
            None,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!((failed.status, failed.refunded), (Status::Failed, true));
    assert_eq!(credits(s.db.clone()).await, 90);
    let kinds: Vec<TxKind> =
        ledger::transactions(&s.db, user, &TxFilter::default(), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .iter()
            .map(|t| t.kind)
            .collect();
    assert_eq!(&kinds[..2], &[TxKind::Refund, TxKind::Consume]);

    // Buy 100 credits in the sandbox, as a phone would after scanning.
    let o = s.start_order(user, "credits_100", "sandbox").await.unwrap();
    assert!(o.sandbox && o.qr_svg.contains("<svg"));
    reqwest::Client::new()
        .post(format!("{}/confirm", o.order.qr_payload))
        .send()
        .await
        .unwrap();
    let settled = s
        .shop()
        .unwrap()
        .wait(user, &o.order.order_no, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(matches!(settled, Settled::Applied { .. }));
    assert_eq!(credits(s.db.clone()).await, 200);

    // A month of membership: generations cost nothing.
    let o = s
        .start_order(user, "member_month", "sandbox")
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/confirm", o.order.qr_payload))
        .send()
        .await
        .unwrap();
    s.shop()
        .unwrap()
        .wait(user, &o.order.order_no, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        purchases::membership_status(&s.db, user, Utc::now())
            .await
            .unwrap()
            .is_member
    );
    let free = s
        .write(article(user, "会员的文章"), None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(free.cost, 0);
    assert_eq!(credits(s.db.clone()).await, 200);

    let found = generations::history(
        &s.db,
        user,
        &HistoryFilter {
            text: Some("散文".into()),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(
        found.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![g.id]
    );

    // Keys (the owner's to change): refused when malformed, stored and hinted, removed.
    let owner = Some(
        profiles::login(&s.db, "admin", "admin123456")
            .await
            .unwrap()
            .id,
    );
    assert_eq!(
        s.set_api_key(owner, "sk bad key").await.unwrap_err().kind(),
        "invalid_input"
    );
    let status = s.set_api_key(owner, "sk-0123456789abcdef").await.unwrap();
    assert!(status.configured && !status.demo_model);
    assert_eq!(status.hint.as_deref(), Some("sk-…cdef"));
    assert!(s.delete_api_key(owner).await.unwrap().demo_model);
    assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    s.shutdown().await;
}

#[tokio::test]
async fn a_generation_killed_mid_stream_is_refunded_once_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let s = services(dir.path(), secrets.clone(), 5.0).await;
    let user = profiles::login(&s.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = {
        let s = Arc::new(s);
        let s2 = s.clone();
        let handle = tokio::spawn(async move {
            let _ = s2
                .write(article(user, "长篇小说"), None, &mut |u| {
                    let _ = tx.send(u);
                })
                .await;
        });
        // Wait until text is streaming, then "kill" the run mid-way.
        while let Some(u) = rx.recv().await {
            if matches!(u, Update::Text { .. }) {
                break;
            }
        }
        handle.abort();
        let _ = handle.await;
        s
    };
    assert_eq!(
        ledger::balance(&run.db, user, Utc::now())
            .await
            .unwrap()
            .credits,
        90,
        "charged, never finished"
    );
    run.shutdown().await;
    run.db.close().await;
    drop(run);
    // Next start.
    let again = services(dir.path(), secrets, 1000.0).await;
    assert_eq!(
        ledger::balance(&again.db, user, Utc::now())
            .await
            .unwrap()
            .credits,
        100
    );
    let interrupted = generations::history(
        &again.db,
        user,
        &HistoryFilter {
            statuses: vec![Status::Interrupted],
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(interrupted.items.len(), 1);
    assert!(interrupted.items[0].refunded);
    let refunds = ledger::transactions(
        &again.db,
        user,
        &TxFilter {
            kinds: vec![TxKind::Refund],
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(refunds.items.len(), 1);
    again.shutdown().await;
    drop(again);
    let third = services(dir.path(), Arc::new(MemoryStore::default()), 1000.0).await;
    assert_eq!(
        ledger::balance(&third.db, user, Utc::now())
            .await
            .unwrap()
            .credits,
        100,
        "refunded exactly once"
    );
}

#[tokio::test]
async fn image_understanding_charges_streams_and_refuses_a_non_image_before_charging() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), Arc::new(MemoryStore::default()), 1000.0).await;
    let user = profiles::login(&s.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    let ask = |input: &str| WriteRequest {
        profile_id: user,
        tool: inkstone_domain::Tool::Vision,
        input: input.into(),
        params: serde_json::json!({}),
        regenerated_from: None,
        inputs: Vec::new(),
    };
    let png = inkstone_fake_dashscope::png::gradient(64, 7);
    let mut streamed = String::new();
    let g = s
        .write_about_image(
            ask("图里有什么？"),
            png.clone(),
            "窗外.png",
            &mut |u| {
                if let Update::Text { text } = u {
                    streamed.push_str(&text)
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(g.status, Status::Succeeded);
    assert_eq!(g.tool, inkstone_domain::Tool::Vision);
    assert!(!streamed.is_empty());
    assert_eq!(g.output_text, streamed);
    let balance = ledger::balance(&s.db, user, Utc::now()).await.unwrap();
    assert_eq!(balance.credits, 90);

    // History keeps the picture the answer was about, under the writer's name, in the app's
    // own files (the original may be moved or deleted later).
    let stored = generations::get(&s.db, user, g.id).await.unwrap();
    assert_eq!(stored.inputs, g.inputs);
    assert_eq!(stored.inputs.len(), 1);
    assert_eq!(stored.inputs[0].name, "窗外.png");
    let kept = std::path::Path::new(&stored.inputs[0].path);
    assert!(kept.starts_with(dir.path().join("files")), "{kept:?}");
    assert_eq!(kept.extension().unwrap(), "png");
    assert_eq!(std::fs::read(kept).unwrap(), png);
    // The same picture asked about again is kept once.
    let again = s
        .write_about_image(ask("再看一次"), png.clone(), "copy.png", &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.inputs[0].path, stored.inputs[0].path);
    assert_eq!(again.inputs[0].name, "copy.png");
    let inputs_dir = dir.path().join("files").join("inputs");
    assert_eq!(std::fs::read_dir(&inputs_dir).unwrap().count(), 1);

    // Not an image: a typed error before any charge.
    let err = s
        .write_about_image(
            ask("这是什么？"),
            b"%PDF-1.7 not an image".to_vec(),
            "doc.pdf",
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_input", "{err}");
    let balance = ledger::balance(&s.db, user, Utc::now()).await.unwrap();
    assert_eq!(balance.credits, 80);
    assert_eq!(
        std::fs::read_dir(&inputs_dir).unwrap().count(),
        1,
        "nothing kept of a refused file"
    );
}

#[tokio::test]
async fn outside_demo_mode_there_is_no_demo_model_and_no_built_in_payment_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.path().to_path_buf(),
        demo: false,
        ..Default::default()
    };
    let s = Services::start(db, options, Arc::new(MemoryStore::default()))
        .await
        .unwrap();
    // No demo users either.
    assert!(profiles::login(&s.db, "test_user", "test123456")
        .await
        .is_err());
    let me = profiles::create_profile(&s.db, "writer", "a-long-password", false, Utc::now())
        .await
        .unwrap();
    assert!(!s.key_status().unwrap().demo_model);
    let err = s
        .write(article(me.id, "春天"), None, &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "no_api_key", "{err}");
    let err = s
        .start_order(me.id, "credits_100", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "payments_unavailable", "{err}");
    let page = ledger::transactions(&s.db, me.id, &TxFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(page.items.is_empty(), "nothing was charged");
}

#[tokio::test]
async fn a_purchase_paid_while_the_app_was_closed_is_credited_and_announced_once_at_the_next_start()
{
    let dir = tempfile::tempdir().unwrap();
    // The keychain outlives the app: it holds the payment account's token.
    let keychain = Arc::new(MemoryStore::default());
    let s = services(dir.path(), keychain.clone(), 1000.0).await;
    let user = profiles::login(&s.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    assert!(s.take_resumed_purchases().is_empty(), "nothing was waiting");
    let o = s.start_order(user, "credits_100", "sandbox").await.unwrap();
    // The writer pays on the phone; the app never hears of it before it closes.
    reqwest::Client::new()
        .post(format!("{}/confirm", o.order.qr_payload))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    s.shutdown().await;
    drop(s);

    let again = services(dir.path(), keychain.clone(), 1000.0).await;
    let credits = |db| async move {
        ledger::balance(&db, user, Utc::now())
            .await
            .unwrap()
            .credits
    };
    assert_eq!(credits(again.db.clone()).await, 210);
    let news = again.take_resumed_purchases();
    assert_eq!(news.len(), 1, "{news:?}");
    assert!(
        matches!(&news[0], Settled::Applied { order, newly: true } if order.order_no == o.order.order_no),
        "{news:?}"
    );
    assert!(again.take_resumed_purchases().is_empty(), "handed out once");
    again.shutdown().await;
    drop(again);

    let third = services(dir.path(), keychain.clone(), 1000.0).await;
    assert_eq!(credits(third.db.clone()).await, 210, "credited once");
    assert!(third.take_resumed_purchases().is_empty(), "not news twice");
    third.shutdown().await;
}
