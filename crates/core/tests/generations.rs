//! The one generation path: charge, end once, refund by the rules, recover
//! after a crash, and find it again offline.

mod support;

use inkstone_core::generations::{
    self, HistoryFilter, InputFile, NewGeneration, Outcome, Status, Usage,
};
use inkstone_core::ledger::{self, PageRequest, TxFilter, TxKind};
use inkstone_core::{demo, open, profiles, Database};
use inkstone_domain::{GenerationId, ProfileId, Tool};
use support::*;

fn article(profile_id: ProfileId, prompt: &str) -> NewGeneration {
    NewGeneration {
        profile_id,
        tool: Tool::Article,
        model: "qwen-plus".into(),
        prompt: prompt.into(),
        params: serde_json::json!({"tone": "warm", "length": 800}),
        regenerated_from: None,
        inputs: Vec::new(),
    }
}

fn picture(name: &str) -> InputFile {
    InputFile {
        path: "/data/files/inputs/0a1b.png".into(),
        name: name.into(),
    }
}

fn ok(text: &str) -> Outcome {
    Outcome::Succeeded {
        output_text: text.into(),
        files: vec![],
        usage: Usage {
            input_tokens: Some(12),
            output_tokens: Some(345),
        },
    }
}

async fn credits(db: &Database, p: ProfileId) -> i64 {
    ledger::balance(db, p, t0()).await.unwrap().credits.get()
}

async fn search(db: &Database, p: ProfileId, text: &str) -> Vec<GenerationId> {
    let filter = HistoryFilter {
        text: Some(text.into()),
        ..Default::default()
    };
    generations::history(db, p, &filter, PageRequest::first(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.id)
        .collect()
}

#[tokio::test]
async fn a_successful_generation_is_charged_once_and_kept() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let started = generations::start(&db, &article(p, "写一篇关于春天的散文"), t0())
        .await
        .unwrap();
    assert_eq!(
        (
            started.charge.charged.get(),
            started.charge.balance_after.get()
        ),
        (10, 90)
    );
    let g = generations::finish(&db, started.generation_id, ok("春风拂面，万物复苏。"), t0())
        .await
        .unwrap();
    assert_eq!(g.status, Status::Succeeded);
    assert_eq!((g.cost.get(), g.refunded), (10, false));
    assert_eq!(g.usage.output_tokens, Some(345));
    assert_eq!(credits(&db, p).await, 90);
    // The CONSUME row names the generation.
    let rows = ledger::transactions(
        &db,
        p,
        &TxFilter {
            kinds: vec![TxKind::Consume],
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    // The CONSUME row names the tool and the generation, and keeps none of the prompt.
    assert_eq!(rows.items[0].generation_id, Some(g.id));
    assert_eq!(rows.items[0].tool, Some(Tool::Article));
    assert_eq!(rows.items[0].reason, Some(ledger::Reason::Generation));
    assert_eq!(rows.items[0].description, "");
    let stored: Vec<String> = sqlx::query_scalar("SELECT description FROM credit_transactions")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(stored.iter().all(|d| !d.contains("春天")), "{stored:?}");
    // Ending it again is refused and changes nothing.
    let before = snapshot(&db).await;
    let err = generations::finish(&db, g.id, ok("again"), t0())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "generation_not_running");
    assert_eq!(snapshot(&db).await, before);
    assert_sound(&db).await;
}

#[tokio::test]
async fn failures_and_early_stops_are_refunded_late_stops_are_not() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let a = generations::start(&db, &article(p, "a"), t0())
        .await
        .unwrap();
    let failed = generations::finish(
        &db,
        a.generation_id,
        Outcome::Failed {
            error_kind: "network".into(),
            error_message: "connection reset".into(),
            partial_text: "春风".into(),
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!((failed.status, failed.refunded), (Status::Failed, true));
    assert_eq!(
        failed.output_text, "春风",
        "partial text is kept for the writer"
    );
    assert_eq!(credits(&db, p).await, 100);

    let b = generations::start(&db, &article(p, "b"), t0())
        .await
        .unwrap();
    let early = generations::finish(
        &db,
        b.generation_id,
        Outcome::Stopped {
            partial_text: String::new(),
            files: vec![],
            usage: Usage::default(),
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!((early.status, early.refunded), (Status::Stopped, true));
    assert_eq!(credits(&db, p).await, 100);

    let c = generations::start(&db, &article(p, "c"), t0())
        .await
        .unwrap();
    let late = generations::finish(
        &db,
        c.generation_id,
        Outcome::Stopped {
            partial_text: "已经写了一半".into(),
            files: vec![],
            usage: Usage::default(),
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!((late.status, late.refunded), (Status::Stopped, false));
    assert_eq!(credits(&db, p).await, 90);
    assert_sound(&db).await;
}

#[tokio::test]
async fn not_enough_credits_starts_nothing() {
    let db = db().await;
    let p = profile_with(&db, "writer", 5).await;
    let before = snapshot(&db).await;
    let err = generations::start(&db, &article(p, "写点什么"), t0())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        inkstone_core::CoreError::InsufficientCredits { needed, missing }
            if needed == 10 && missing == 5
    ));
    assert_eq!(
        snapshot(&db).await,
        before,
        "no generation row, no ledger row"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_written() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let before = snapshot(&db).await;
    let cases = vec![
        (
            "empty prompt",
            NewGeneration {
                prompt: "  ".into(),
                ..article(p, "")
            },
            "invalid_input",
        ),
        (
            "control chars in model",
            NewGeneration {
                model: "qwen\u{7}".into(),
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "params not an object",
            NewGeneration {
                params: serde_json::json!([1, 2]),
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "huge prompt",
            NewGeneration {
                prompt: "字".repeat(100_001),
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "input without a name",
            NewGeneration {
                inputs: vec![picture(" ")],
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "input name with a newline",
            NewGeneration {
                inputs: vec![picture("a\nb.png")],
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "too many inputs",
            NewGeneration {
                inputs: vec![picture("a.png"); generations::MAX_INPUTS + 1],
                ..article(p, "x")
            },
            "invalid_input",
        ),
        (
            "unknown profile",
            article(ProfileId::new(4242), "x"),
            "unknown_profile",
        ),
        (
            "regenerate someone else's",
            NewGeneration {
                regenerated_from: Some(GenerationId::new(77)),
                ..article(p, "x")
            },
            "unknown_generation",
        ),
    ];
    for (case, new, kind) in cases {
        let err = generations::start(&db, &new, t0()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{case}: {err:?}");
    }
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(
        generations::finish(&db, GenerationId::new(999), ok("x"), t0())
            .await
            .unwrap_err()
            .kind(),
        "unknown_generation"
    );
}

#[tokio::test]
async fn members_generate_for_free_and_nothing_is_refunded() {
    let db = db().await;
    demo::seed_demo(&db, t0()).await.unwrap();
    let admin = profiles::login(&db, "admin", "admin123456").await.unwrap();
    for _ in 0..2 {
        let s = generations::start(&db, &article(admin.id, "会员写作"), t0())
            .await
            .unwrap();
        assert_eq!(s.charge.charged, 0);
        let g = generations::finish(
            &db,
            s.generation_id,
            Outcome::Failed {
                error_kind: "x".into(),
                error_message: "y".into(),
                partial_text: String::new(),
            },
            t0(),
        )
        .await
        .unwrap();
        assert_eq!((g.cost.get(), g.refunded), (0, false));
    }
    assert_eq!(credits(&db, admin.id).await, 1000);
    assert_sound(&db).await;
}

/// The app is killed mid-stream: the charge was committed, the result never
/// came. On the next start the run is closed as interrupted and refunded
/// exactly once, keeping the text that had been saved.
#[tokio::test]
async fn a_killed_run_is_refunded_exactly_once_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let (p, id) = {
        let db = open(&path).await.unwrap();
        let p = profile_with(&db, "writer", 100).await;
        let s = generations::start(&db, &article(p, "长篇小说"), t0())
            .await
            .unwrap();
        generations::save_progress(&db, s.generation_id, "第一章")
            .await
            .unwrap();
        db.close().await;
        (p, s.generation_id)
    };
    let db = open(&path).await.unwrap();
    assert_eq!(credits(&db, p).await, 90);
    let recovered = generations::recover_interrupted(&db, t0()).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(
        (recovered[0].id, recovered[0].status, recovered[0].refunded),
        (id, Status::Interrupted, true)
    );
    assert_eq!(recovered[0].output_text, "第一章");
    assert_eq!(credits(&db, p).await, 100);
    assert!(generations::recover_interrupted(&db, t0())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(credits(&db, p).await, 100);
    assert_sound(&db).await;
}

#[tokio::test]
async fn history_finds_chinese_words_filters_and_pages() {
    let db = db().await;
    let p = profile_with(&db, "writer", 1000).await;
    let other = profile_with(&db, "other", 1000).await;
    let spring = generations::start(&db, &article(p, "写一篇散文"), t0())
        .await
        .unwrap()
        .generation_id;
    generations::finish(&db, spring, ok("春天来了，桃花盛开。Spring is here."), t0())
        .await
        .unwrap();
    let autumn = generations::start(&db, &article(p, "秋天的诗"), t0())
        .await
        .unwrap()
        .generation_id;
    generations::finish(
        &db,
        autumn,
        Outcome::Failed {
            error_kind: "x".into(),
            error_message: "y".into(),
            partial_text: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
    let theirs = generations::start(&db, &article(other, "春天"), t0())
        .await
        .unwrap()
        .generation_id;
    generations::finish(&db, theirs, ok("春天"), t0())
        .await
        .unwrap();

    assert_eq!(search(&db, p, "春天").await, vec![spring]);
    assert_eq!(search(&db, p, "桃花盛开").await, vec![spring]);
    assert_eq!(
        search(&db, p, "花").await,
        vec![spring],
        "one character, middle of a run"
    );
    assert_eq!(
        search(&db, p, "开").await,
        vec![spring],
        "one character, end of a run"
    );
    assert_eq!(
        search(&db, p, "spr").await,
        vec![spring],
        "English by prefix"
    );
    assert_eq!(
        search(&db, p, "秋天").await,
        vec![autumn],
        "prompts are searchable too"
    );
    assert!(
        search(&db, p, "花桃").await.is_empty(),
        "characters must be in order"
    );
    assert!(search(&db, p, "\"; DROP TABLE generations; --")
        .await
        .is_empty());
    assert!(search(&db, p, "冬天").await.is_empty());

    let failed = HistoryFilter {
        statuses: vec![Status::Failed],
        ..Default::default()
    };
    let page = generations::history(&db, p, &failed, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![autumn]
    );
    assert!(page.items[0].refunded);

    for i in 0..30 {
        let id = generations::start(&db, &article(p, &format!("第{i}篇")), t0())
            .await
            .unwrap()
            .generation_id;
        generations::finish(&db, id, ok("内容"), t0())
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = generations::history(
            &db,
            p,
            &HistoryFilter::default(),
            PageRequest {
                limit: 8,
                before_id,
            },
        )
        .await
        .unwrap();
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next_before_id {
            Some(id) => before_id = Some(id),
            None => break,
        }
    }
    assert_eq!(seen.len(), 32);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test]
async fn delete_removes_history_but_never_money_rows() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let other = profile_with(&db, "other", 100).await;
    let id = generations::start(&db, &article(p, "春天"), t0())
        .await
        .unwrap()
        .generation_id;
    assert_eq!(
        generations::delete(&db, p, id).await.unwrap_err().kind(),
        "invalid_input",
        "still running"
    );
    generations::finish(&db, id, ok("春天的文章"), t0())
        .await
        .unwrap();
    assert_eq!(
        generations::get(&db, other, id).await.unwrap_err().kind(),
        "unknown_generation"
    );
    assert_eq!(
        generations::delete(&db, other, id)
            .await
            .unwrap_err()
            .kind(),
        "unknown_generation"
    );
    let g = generations::get(&db, p, id).await.unwrap();
    let md = generations::export_markdown(&g);
    assert!(md.contains("> 春天") && md.contains("春天的文章"), "{md}");
    assert_eq!(generations::export_text(&g), "春天的文章");
    generations::delete(&db, p, id).await.unwrap();
    assert!(search(&db, p, "春天").await.is_empty());
    assert_eq!(
        generations::get(&db, p, id).await.unwrap_err().kind(),
        "unknown_generation"
    );
    assert_eq!(credits(&db, p).await, 90);
    assert_sound(&db).await;
}

#[tokio::test]
async fn the_picture_a_run_was_about_is_kept_with_it() {
    let db = db().await;
    let p = profile_with(&db, "writer", 100).await;
    let new = NewGeneration {
        tool: Tool::Vision,
        inputs: vec![picture("窗外 [1].png")],
        ..article(p, "图里有什么？")
    };
    let s = generations::start(&db, &new, t0()).await.unwrap();
    let running = generations::get(&db, p, s.generation_id).await.unwrap();
    assert_eq!(
        running.inputs, new.inputs,
        "kept from the start, not only when it ends"
    );
    let g = generations::finish(&db, s.generation_id, ok("一只猫"), t0())
        .await
        .unwrap();
    assert_eq!(g.inputs, new.inputs);
    let md = generations::export_markdown(&g);
    assert!(
        md.contains("> ![窗外 \\[1\\].png](</data/files/inputs/0a1b.png>)"),
        "{md}"
    );
    // A run without one has none.
    let plain = generations::start(&db, &article(p, "写诗"), t0())
        .await
        .unwrap();
    let plain = generations::get(&db, p, plain.generation_id).await.unwrap();
    assert!(plain.inputs.is_empty());
}

#[test]
fn a_request_naming_no_tool_is_refused_as_it_arrives() {
    let json = |tool: &str| serde_json::json!({"profile_id": 1, "tool": tool, "model": "qwen-plus", "prompt": "x"});
    let new: NewGeneration = serde_json::from_value(json("article")).unwrap();
    assert_eq!(new.tool, Tool::Article);
    for bad in ["mine-bitcoin", "Article", "", "article\n"] {
        assert!(
            serde_json::from_value::<NewGeneration>(json(bad)).is_err(),
            "{bad:?}"
        );
    }
}
