//! The generation rules through the runner, with scripted models standing in
//! for providers (the real DashScope client is tested against the fake
//! server in crates/qwen).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use inkstone_core::generations::Status;
use inkstone_core::ledger::{self, Grant, GrantKind, PageRequest, TxFilter, TxKind};
use inkstone_core::prompts::Message;
use inkstone_core::Clock;
use inkstone_core::{open_in_memory, profiles, Database};
use inkstone_domain::ProfileId;
use inkstone_studio::*;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
enum Step {
    Delta(&'static str),
    Fail(&'static str),
    Finish,
    /// Finishes with this `finish_reason`.
    FinishWith(&'static str),
    Hang,
}

struct Scripted {
    steps: Vec<Step>,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Self {
        Scripted {
            steps,
            dropped: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl TextModel for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn stream(&self, _messages: Vec<Message>) -> BoxStream<'static, Result<TextEvent, ModelError>> {
        let flag = DropFlag(self.dropped.clone());
        let steps = self.steps.clone();
        stream::unfold((steps.into_iter(), flag), |(mut steps, flag)| async move {
            match steps.next()? {
                Step::Delta(t) => Some((Ok(TextEvent::Delta(t.into())), (steps, flag))),
                Step::Fail(kind) => Some((Err(ModelError::new(kind, "boom")), (steps, flag))),
                Step::Finish => Some((
                    Ok(TextEvent::Finished {
                        reason: "stop".into(),
                    }),
                    (steps, flag),
                )),
                Step::FinishWith(reason) => Some((
                    Ok(TextEvent::Finished {
                        reason: reason.into(),
                    }),
                    (steps, flag),
                )),
                Step::Hang => {
                    futures_util::future::pending::<()>().await;
                    None
                }
            }
        })
        .boxed()
    }
}

/// The day these tests run on, whatever the machine's clock says: the demo admin's
/// membership and every charge are judged at this time.
fn now() -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap()
}

async fn setup(credits: i64) -> (Studio, ProfileId, tempfile::TempDir) {
    let db = open_in_memory().await.unwrap();
    let p = profiles::create_profile(&db, "writer", "password123", false, now())
        .await
        .unwrap();
    if credits > 0 {
        let g = Grant {
            kind: GrantKind::Recharge,
            credits: inkstone_domain::Credits::new(credits),
            description: "t".into(),
            order_no: None,
            expires_at: None,
        };
        ledger::add_credits(&db, p.id, &g, now()).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    (
        Studio::new(db, dir.path().to_path_buf()).with_clock(Clock::manual(now())),
        p.id,
        dir,
    )
}

fn article(profile_id: ProfileId) -> WriteRequest {
    WriteRequest {
        profile_id,
        tool: inkstone_domain::Tool::Article,
        input: "写一篇关于春天的短文".into(),
        params: serde_json::json!({"tone": "warm"}),
        regenerated_from: None,
        inputs: Vec::new(),
    }
}

async fn credits(db: &Database, p: ProfileId) -> i64 {
    ledger::balance(db, p, now()).await.unwrap().credits.get()
}

fn collect() -> (Arc<Mutex<Vec<Update>>>, impl FnMut(Update) + Send) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (log, move |u| l.lock().unwrap().push(u))
}

#[tokio::test]
async fn a_streamed_article_is_charged_once_and_every_token_arrives() {
    let (studio, p, _dir) = setup(100).await;
    let mut steps: Vec<Step> = ["春", "天", "来", "了", "。"]
        .iter()
        .map(|t| Step::Delta(t))
        .collect();
    steps.push(Step::Finish);
    let model = Scripted::new(steps);
    let (log, mut sink) = collect();
    let g = studio.write(article(p), &model, &mut sink).await.unwrap();
    assert_eq!(
        (g.status, g.output_text.as_str(), g.cost.get()),
        (Status::Succeeded, "春天来了。", 10)
    );
    assert_eq!(credits(studio.database(), p).await, 90);
    let log = log.lock().unwrap();
    assert!(matches!(
        log[0],
        Update::Started {
            charged,
            balance_after,
            ..
        } if charged == 10 && balance_after == 90
    ));
    let streamed: String = log
        .iter()
        .filter_map(|u| match u {
            Update::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "春天来了。");
    assert!(matches!(log.last(), Some(Update::Finished { .. })));
    assert!(model.dropped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_failure_mid_way_is_refunded_and_keeps_the_partial_text() {
    let (studio, p, _dir) = setup(100).await;
    let model = Scripted::new(vec![Step::Delta("春天"), Step::Fail("network")]);
    let (_log, mut sink) = collect();
    let g = studio.write(article(p), &model, &mut sink).await.unwrap();
    assert_eq!((g.status, g.refunded), (Status::Failed, true));
    assert_eq!(g.error_kind.as_deref(), Some("network"));
    assert_eq!(g.output_text, "春天");
    assert_eq!(credits(studio.database(), p).await, 100);
    let rows = ledger::transactions(
        studio.database(),
        p,
        &TxFilter::default(),
        PageRequest::first(10),
    )
    .await
    .unwrap();
    let kinds: Vec<TxKind> = rows.items.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        vec![TxKind::Refund, TxKind::Consume, TxKind::Recharge]
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_finishing_is_a_failure() {
    let (studio, p, _dir) = setup(100).await;
    let model = Scripted::new(vec![Step::Delta("春天")]);
    let (_log, mut sink) = collect();
    let g = studio.write(article(p), &model, &mut sink).await.unwrap();
    assert_eq!(
        (g.status, g.error_kind.as_deref(), g.refunded),
        (Status::Failed, Some("truncated"), true)
    );
    assert_eq!(credits(studio.database(), p).await, 100);
}

#[tokio::test]
async fn stop_before_the_first_token_refunds_and_closes_the_stream() {
    let (studio, p, _dir) = setup(100).await;
    let model = Scripted::new(vec![Step::Hang]);
    let s2 = studio.clone();
    let mut sink = move |u: Update| {
        if let Update::Started { generation_id, .. } = u {
            assert!(s2.cancel(generation_id));
        }
    };
    let g = studio.write(article(p), &model, &mut sink).await.unwrap();
    assert_eq!((g.status, g.refunded), (Status::Stopped, true));
    assert!(
        model.dropped.load(Ordering::SeqCst),
        "the provider connection was closed"
    );
    assert_eq!(credits(studio.database(), p).await, 100);
    assert!(!studio.cancel(g.id), "nothing left to stop");
}

#[tokio::test]
async fn stop_after_text_keeps_the_text_and_the_charge() {
    let (studio, p, _dir) = setup(100).await;
    let model = Scripted::new(vec![Step::Delta("已经写了"), Step::Hang]);
    let s2 = studio.clone();
    let id = Arc::new(Mutex::new(None));
    let id2 = id.clone();
    let mut sink = move |u: Update| match u {
        Update::Started { generation_id, .. } => *id2.lock().unwrap() = Some(generation_id),
        Update::Text { .. } => {
            let gid = id2.lock().unwrap().unwrap();
            s2.cancel(gid);
        }
        _ => {}
    };
    let g = studio.write(article(p), &model, &mut sink).await.unwrap();
    assert_eq!(
        (g.status, g.refunded, g.output_text.as_str()),
        (Status::Stopped, false, "已经写了")
    );
    assert_eq!(credits(studio.database(), p).await, 90);
}

#[tokio::test]
async fn refusals_happen_before_any_charge() {
    let (studio, p, _dir) = setup(5).await;
    let model = Scripted::new(vec![Step::Finish]);
    let (log, mut sink) = collect();
    let err = studio
        .write(article(p), &model, &mut sink)
        .await
        .unwrap_err();
    assert!(matches!(err, StudioError::Core(_)), "{err}");
    assert_eq!(err.kind(), "insufficient_credits");
    let bad = WriteRequest {
        params: serde_json::json!({"tone": "angry"}),
        ..article(p)
    };
    assert!(studio.write(bad, &model, &mut sink).await.is_err());
    let not_writing = WriteRequest {
        tool: inkstone_domain::Tool::Image,
        ..article(p)
    };
    assert!(studio.write(not_writing, &model, &mut sink).await.is_err());
    assert!(log.lock().unwrap().is_empty(), "nothing started");
    assert_eq!(credits(studio.database(), p).await, 5);
}

#[tokio::test]
async fn slides_become_a_real_pptx_or_a_refund() {
    let (studio, p, dir) = setup(100).await;
    let outline = Scripted::new(vec![
        Step::Delta("# 春季发布会\n副标题\n## 背景\n- 一\n- 二\n"),
        Step::Delta("## 计划\n- 三\n"),
        Step::Finish,
    ]);
    let (_log, mut sink) = collect();
    let g = studio
        .slides(
            p,
            "春季发布会".into(),
            5,
            "zh-CN".into(),
            "#1A73E8".into(),
            &outline,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(g.status, Status::Succeeded);
    assert_eq!(g.files.len(), 1);
    let path = PathBuf::from(&g.files[0]);
    assert!(path.starts_with(dir.path()) && path.extension().unwrap() == "pptx");
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);

    let garbage = Scripted::new(vec![Step::Delta("抱歉，我无法完成。"), Step::Finish]);
    let g = studio
        .slides(
            p,
            "x".into(),
            5,
            "zh-CN".into(),
            "#1A73E8".into(),
            &garbage,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(
        (g.status, g.refunded, g.error_kind.as_deref()),
        (Status::Failed, true, Some("slides_unreadable"))
    );
    assert_eq!(credits(studio.database(), p).await, 90);
}

struct FakeMedia {
    fail: bool,
    wait_for_cancel: bool,
}

impl MediaModel for FakeMedia {
    fn name(&self) -> String {
        "fake-wanx".into()
    }
    fn generate(
        &self,
        request: MediaRequest,
        mut progress: ProgressFn,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<Vec<PathBuf>, ModelError>> {
        let (fail, wait) = (self.fail, self.wait_for_cancel);
        Box::pin(async move {
            progress(10, "排队中".into());
            if wait {
                cancel.cancelled().await;
                return Err(ModelError::new("cancelled", "stopped"));
            }
            progress(60, "生成中".into());
            if fail {
                return Err(ModelError::new("moderation", "内容审核未通过"));
            }
            std::fs::create_dir_all(&request.dest_dir).unwrap();
            let file = request.dest_dir.join("1.png");
            std::fs::write(&file, b"\x89PNG\r\n\x1a\n").unwrap();
            progress(100, "完成".into());
            Ok(vec![file])
        })
    }
}

#[tokio::test]
async fn images_report_progress_and_failures_are_refunded() {
    let (studio, p, _dir) = setup(100).await;
    let params = serde_json::json!({"size": "1024*1024", "n": 1});
    let (log, mut sink) = collect();
    let ok = FakeMedia {
        fail: false,
        wait_for_cancel: false,
    };
    let g = studio
        .media(
            p,
            MediaKind::Image,
            "一只猫".into(),
            params.clone(),
            &ok,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((g.status, g.files.len()), (Status::Succeeded, 1));
    let percents: Vec<u8> = log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|u| match u {
            Update::Progress { percent, .. } => Some(*percent),
            _ => None,
        })
        .collect();
    assert_eq!(percents, vec![10, 60, 100]);

    let bad = FakeMedia {
        fail: true,
        wait_for_cancel: false,
    };
    let g = studio
        .media(
            p,
            MediaKind::Image,
            "x".into(),
            params.clone(),
            &bad,
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(
        (g.status, g.refunded, g.error_kind.as_deref()),
        (Status::Failed, true, Some("moderation"))
    );

    let slow = FakeMedia {
        fail: false,
        wait_for_cancel: true,
    };
    let s2 = studio.clone();
    let mut stopper = move |u: Update| {
        if let Update::Started { generation_id, .. } = u {
            s2.cancel(generation_id);
        }
    };
    let g = studio
        .media(
            p,
            MediaKind::Video,
            "x".into(),
            serde_json::json!({"size": "1280*720"}),
            &slow,
            &mut stopper,
        )
        .await
        .unwrap();
    assert_eq!((g.status, g.refunded), (Status::Stopped, true));
    assert_eq!(credits(studio.database(), p).await, 90);

    let before = credits(studio.database(), p).await;
    let err = studio
        .media(
            p,
            MediaKind::Image,
            "x".into(),
            serde_json::json!({"size": "1*1", "n": 1}),
            &ok,
            &mut sink,
        )
        .await;
    assert!(err.is_err());
    assert_eq!(credits(studio.database(), p).await, before);
}

#[tokio::test]
async fn a_given_file_is_kept_by_content_and_its_name_never_becomes_a_path() {
    let (studio, _p, dir) = setup(0).await;
    let a = studio
        .keep_input(b"picture bytes", "png", "../../etc/passwd")
        .unwrap();
    let path = std::path::Path::new(&a.path);
    assert!(path.starts_with(dir.path().join("inputs")), "{path:?}");
    assert!(!a.path.contains("passwd"));
    assert_eq!(a.name, "../../etc/passwd", "the name is only shown");
    assert_eq!(std::fs::read(path).unwrap(), b"picture bytes");
    let b = studio.keep_input(b"picture bytes", "png", "b.png").unwrap();
    assert_eq!(a.path, b.path, "the same picture is kept once");
    let c = studio.keep_input(b"another", "png", "c.png").unwrap();
    assert_ne!(a.path, c.path);
    // No temporary copies left behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("inputs"))
            .unwrap()
            .count(),
        2
    );

    for bad in ["", "png/../x", "p.g"] {
        assert_eq!(
            studio.keep_input(b"x", bad, "x").unwrap_err().kind(),
            "invalid_input",
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_file_that_cannot_be_kept_is_a_storage_error() {
    let db = open_in_memory().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The files folder is a plain file: nothing can be written under it.
    let blocked = dir.path().join("files");
    std::fs::write(&blocked, "not a folder").unwrap();
    let studio = Studio::new(db, blocked).with_clock(Clock::manual(now()));
    let err = studio.keep_input(b"x", "png", "猫.png").unwrap_err();
    assert!(matches!(err, StudioError::Files(_)), "{err}");
    assert_eq!(err.kind(), "storage");
    assert!(err.to_string().contains("猫.png"), "{err}");
}

#[tokio::test]
async fn an_empty_or_filtered_answer_is_a_failure_and_refunded() {
    let (studio, p, _dir) = setup(100).await;
    let cases = [
        (vec![Step::Finish], "empty_answer", ""),
        (
            vec![Step::Delta(" \n "), Step::Finish],
            "empty_answer",
            " \n ",
        ),
        (
            vec![Step::Delta("春天"), Step::FinishWith("content_filter")],
            "moderation",
            "春天",
        ),
    ];
    for (steps, kind, partial) in cases {
        let g = studio
            .write(article(p), &Scripted::new(steps), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(
            (g.status, g.refunded, g.error_kind.as_deref()),
            (Status::Failed, true, Some(kind))
        );
        assert_eq!(g.output_text, partial);
        assert_eq!(credits(studio.database(), p).await, 100, "{kind}: refunded");
    }
    // A real answer that ended for length is still a success, and charged.
    let g = studio
        .write(
            article(p),
            &Scripted::new(vec![Step::Delta("春"), Step::FinishWith("length")]),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!((g.status, g.refunded), (Status::Succeeded, false));
    assert_eq!(credits(studio.database(), p).await, 90);
}
