//! The seed report's flow below the window: the real Qwen client against the
//! fake DashScope, through the runner, on the real ledger.

use std::sync::Arc;

use chrono::Utc;
use inkstone_core::generations::{self, HistoryFilter, Status};
use inkstone_core::ledger::{self, PageRequest, TxFilter, TxKind};
use inkstone_core::Clock;
use inkstone_core::{demo, open_in_memory, profiles};
use inkstone_domain::ProfileId;
use inkstone_fake_dashscope::{spawn, FakeConfig, DEFAULT_KEY};
use inkstone_qwen::{ChatParams, DashScope, Settings};
use inkstone_studio::*;

/// The day these tests run on, whatever the machine's clock says: the demo admin's
/// membership and every charge are judged at this time.
fn now() -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap()
}

fn text_model(base: &str) -> QwenText {
    let client = DashScope::new(base, DEFAULT_KEY, Settings::default()).unwrap();
    QwenText {
        provider: Arc::new(client),
        model: "qwen-plus".into(),
        params: ChatParams::default(),
        images: vec![],
        label: "qwen-plus".into(),
    }
}

fn article(profile_id: ProfileId, input: &str) -> WriteRequest {
    WriteRequest {
        profile_id,
        tool: inkstone_domain::Tool::Article,
        input: input.into(),
        params: serde_json::Value::Null,
        regenerated_from: None,
        inputs: Vec::new(),
    }
}

#[tokio::test]
async fn test_user_writes_pays_ten_gets_refunded_on_failure_and_finds_it_again() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let db = open_in_memory().await.unwrap();
    demo::seed_demo(&db, now()).await.unwrap();
    let user = profiles::login(&db, "test_user", "test123456")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::new(db.clone(), dir.path().to_path_buf()).with_clock(Clock::manual(now()));
    let model = text_model(&fake.base_url);
    let texts = std::sync::atomic::AtomicUsize::new(0);
    let mut sink = |u: Update| {
        if matches!(u, Update::Text { .. }) {
            texts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    };

    let ok = studio
        .write(article(user.id, "春天的散文"), &model, &mut sink)
        .await
        .unwrap();
    assert_eq!(ok.status, Status::Succeeded);
    assert!(ok.output_text.contains("春天"));
    assert!(ok.usage.output_tokens.unwrap_or(0) > 0);
    assert_eq!(
        ledger::balance(&db, user.id, now()).await.unwrap().credits,
        90
    );

    let failed = studio
        .write(
            article(user.id, "秋天 [[fault:disconnect_after=5]]"),
            &model,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(
        (failed.status, failed.refunded, failed.error_kind.as_deref()),
        (Status::Failed, true, Some("network"))
    );
    assert!(!failed.output_text.is_empty(), "the partial text is kept");
    assert_eq!(
        ledger::balance(&db, user.id, now()).await.unwrap().credits,
        90
    );
    let kinds: Vec<TxKind> =
        ledger::transactions(&db, user.id, &TxFilter::default(), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .iter()
            .map(|t| t.kind)
            .collect();
    assert_eq!(
        kinds,
        vec![
            TxKind::Refund,
            TxKind::Consume,
            TxKind::Consume,
            TxKind::Bonus
        ]
    );
    assert!(texts.load(std::sync::atomic::Ordering::SeqCst) >= 2);

    let found = generations::history(
        &db,
        user.id,
        &HistoryFilter {
            text: Some("散文".into()),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(
        found.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![ok.id]
    );

    let admin = profiles::login(&db, "admin", "admin123456").await.unwrap();
    for _ in 0..2 {
        let g = studio
            .write(article(admin.id, "会员写作"), &model, &mut sink)
            .await
            .unwrap();
        assert_eq!((g.status, g.cost.get()), (Status::Succeeded, 0));
    }
    assert_eq!(
        ledger::balance(&db, admin.id, now()).await.unwrap().credits,
        1000
    );
    assert!(ledger::audit(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn images_and_slides_through_the_fake() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let db = open_in_memory().await.unwrap();
    demo::seed_demo(&db, now()).await.unwrap();
    let user = profiles::login(&db, "test_user", "test123456")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::new(db.clone(), dir.path().to_path_buf()).with_clock(Clock::manual(now()));
    let settings = Settings {
        task_poll: std::time::Duration::from_millis(5),
        ..Settings::default()
    };
    let media = QwenMedia {
        client: DashScope::new(&fake.base_url, DEFAULT_KEY, settings).unwrap(),
        model: "wanx2.1-t2i-turbo".into(),
        label: "wanx2.1-t2i-turbo".into(),
    };
    let mut sink = |_u: Update| {};
    let g = studio
        .media(
            user.id,
            MediaKind::Image,
            "一只猫".into(),
            serde_json::json!({"size": "1024*1024", "n": 2}),
            &media,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((g.status, g.files.len()), (Status::Succeeded, 2));
    assert!(g
        .files
        .iter()
        .all(|f| std::path::Path::new(f).starts_with(dir.path())));

    let deck = studio
        .slides(
            user.id,
            "墨砚发布会".into(),
            5,
            "zh-CN".into(),
            "#C0392B".into(),
            &text_model(&fake.base_url),
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(deck.status, Status::Succeeded, "{:?}", deck.error_message);
    assert!(deck.files[0].ends_with(".pptx"));
    assert_eq!(
        ledger::balance(&db, user.id, now()).await.unwrap().credits,
        80
    );
}

async fn demo_user(db: &inkstone_core::Database) -> inkstone_domain::ProfileId {
    demo::seed_demo(db, now()).await.unwrap();
    profiles::login(db, "test_user", "test123456")
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn an_image_whose_result_link_expired_before_the_download_fails_clearly_and_is_refunded() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let db = open_in_memory().await.unwrap();
    let user = demo_user(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::new(db.clone(), dir.path().to_path_buf()).with_clock(Clock::manual(now()));
    let media = QwenMedia {
        client: DashScope::new(
            &fake.base_url,
            DEFAULT_KEY,
            Settings {
                task_poll: std::time::Duration::from_millis(5),
                ..Settings::default()
            },
        )
        .unwrap(),
        model: "wanx2.1-t2i-turbo".into(),
        label: "wanx2.1-t2i-turbo".into(),
    };
    // The task succeeds; its signed OSS link is past `Expires` when the download starts.
    let g = studio
        .media(
            user,
            MediaKind::Image,
            "一只猫 [[fault:link_expired]]".into(),
            serde_json::json!({"size": "1024*1024", "n": 1}),
            &media,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        (g.status, g.refunded, g.error_kind.as_deref()),
        (Status::Failed, true, Some("result_expired"))
    );
    let message = g.error_message.unwrap_or_default();
    assert!(
        message.contains("过期") && message.contains("expired"),
        "{message}"
    );
    assert!(g.files.is_empty());
    assert_eq!(
        fake.stats
            .downloads_refused
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        ledger::balance(&db, user, now()).await.unwrap().credits,
        100,
        "charged and refunded"
    );
}

#[tokio::test]
async fn an_empty_or_filtered_answer_on_an_openai_compatible_endpoint_is_failed_and_refunded() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let db = open_in_memory().await.unwrap();
    let user = demo_user(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let studio = Studio::new(db.clone(), dir.path().to_path_buf()).with_clock(Clock::manual(now()));
    let compatible = inkstone_qwen::OpenAiCompatible::new(
        &format!("{}/compatible-mode/v1", fake.base_url),
        DEFAULT_KEY,
        Settings::default(),
    )
    .unwrap();
    let model = QwenText {
        provider: Arc::new(compatible),
        model: "qwen-plus".into(),
        params: ChatParams::default(),
        images: vec![],
        label: "qwen-plus (compatible)".into(),
    };
    for (marker, kind) in [
        ("[[fault:content_filter]]", "moderation"),
        ("[[fault:empty]]", "empty_answer"),
    ] {
        let g = studio
            .write(
                article(user, &format!("春天 {marker}")),
                &model,
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(
            (g.status, g.refunded, g.error_kind.as_deref()),
            (Status::Failed, true, Some(kind)),
            "{marker}"
        );
        assert_eq!(
            ledger::balance(&db, user, now()).await.unwrap().credits,
            100,
            "{marker}: refunded"
        );
    }
    let ok = studio
        .write(article(user, "春天"), &model, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(ok.status, Status::Succeeded);
    assert_eq!(ledger::balance(&db, user, now()).await.unwrap().credits, 90);
}
