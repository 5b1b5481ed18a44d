//! The real client against the fake DashScope (which the official Python SDK
//! also checks): text, faults, retries, cancellation, tasks, vision.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use inkstone_fake_dashscope::{spawn, FakeConfig, FakeHandle, DEFAULT_KEY};
use inkstone_qwen::*;
use tokio_util::sync::CancellationToken;

fn fast() -> Settings {
    Settings {
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        task_poll: Duration::from_millis(5),
        ..Settings::default()
    }
}

fn native(fake: &FakeHandle) -> DashScope {
    DashScope::new(&fake.base_url, DEFAULT_KEY, fast()).unwrap()
}

fn ask(text: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("system", "你是写作助手。"),
        ChatMessage::new("user", text),
    ]
}

async fn collect(mut stream: ChatStream) -> (String, Vec<ChatEvent>, Option<QwenError>) {
    let mut text = String::new();
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(ChatEvent::Delta(d)) => text.push_str(&d),
            Ok(e) => events.push(e),
            Err(e) => return (text, events, Some(e)),
        }
    }
    (text, events, None)
}

fn requests(fake: &FakeHandle) -> u64 {
    fake.stats.text_requests.load(Ordering::SeqCst)
}

#[tokio::test]
async fn incremental_cumulative_compatible_and_plain_calls_give_the_same_text() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let (incremental, events, err) =
        collect(native(&fake).chat_stream("qwen-plus", &ask("春天"), &ChatParams::default())).await;
    assert!(err.is_none(), "{err:?}");
    assert!(incremental.contains("春天"));
    assert!(matches!(events.last(), Some(ChatEvent::Finished { reason }) if reason == "stop"));
    assert!(events
        .iter()
        .any(|e| matches!(e, ChatEvent::Usage { output_tokens, .. } if *output_tokens > 0)));
    let (cumulative, _, err) = collect(native(&fake).with_cumulative_output().chat_stream(
        "qwen-plus",
        &ask("春天"),
        &ChatParams::default(),
    ))
    .await;
    assert!(err.is_none());
    assert_eq!(cumulative, incremental);
    let compat = OpenAiCompatible::new(
        &format!("{}/compatible-mode/v1", fake.base_url),
        DEFAULT_KEY,
        fast(),
    )
    .unwrap();
    let (openai, events, err) =
        collect(compat.chat_stream("qwen-plus", &ask("春天"), &ChatParams::default())).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(openai, incremental);
    assert!(matches!(events.last(), Some(ChatEvent::Finished { .. })));
    let plain = native(&fake)
        .chat("qwen-plus", &ask("春天"), &ChatParams::default())
        .await
        .unwrap();
    assert_eq!(plain.text, incremental);
    assert_eq!(
        compat
            .chat("qwen-plus", &ask("春天"), &ChatParams::default())
            .await
            .unwrap()
            .text,
        incremental
    );
}

#[tokio::test]
async fn every_fault_is_the_right_typed_error_and_only_safe_ones_are_retried() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let cases = [
        ("[[fault:moderation]]", "moderation", 1),
        ("[[fault:arrearage]]", "arrearage", 1),
        ("[[fault:invalid_model]]", "model_not_found", 1),
        ("[[fault:throttle]]", "throttled", 3),
        ("[[fault:internal]]", "service_error", 3),
        ("[[fault:error_after=3]]", "service_error", 1),
        ("[[fault:disconnect_after=3]]", "network", 1),
        ("[[fault:no_finish]]", "truncated", 1),
    ];
    for (marker, kind, hits) in cases {
        let before = requests(&fake);
        let (text, _, err) =
            collect(native(&fake).chat_stream("qwen-plus", &ask(marker), &ChatParams::default()))
                .await;
        let err = err.unwrap_or_else(|| panic!("{marker}: no error"));
        assert_eq!(err.kind(), kind, "{marker}: {err:?}");
        assert_eq!(requests(&fake) - before, hits, "{marker}: requests made");
        if marker.contains("_after") || marker.contains("no_finish") {
            assert!(
                !text.is_empty(),
                "{marker}: text before the fault reached the caller"
            );
        }
    }
    let bad_key = DashScope::new(&fake.base_url, "sk-not-the-key", fast()).unwrap();
    let (_, _, err) =
        collect(bad_key.chat_stream("qwen-plus", &ask("x"), &ChatParams::default())).await;
    assert_eq!(err.unwrap(), QwenError::InvalidApiKey);
    assert_eq!(
        bad_key.test_connection("qwen-plus").await.unwrap_err(),
        QwenError::InvalidApiKey
    );
    assert!(native(&fake).test_connection("qwen-plus").await.is_ok());
}

#[tokio::test]
async fn a_throttle_before_the_first_token_is_retried_to_success() {
    let fake = spawn(FakeConfig {
        throttle_first: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let (text, _, err) =
        collect(native(&fake).chat_stream("qwen-plus", &ask("春天"), &ChatParams::default())).await;
    assert!(err.is_none(), "{err:?}");
    assert!(!text.is_empty());
    assert_eq!(requests(&fake), 3);
}

#[tokio::test]
async fn dropping_the_stream_stops_the_server_sending() {
    let fake = spawn(FakeConfig {
        tokens_per_second: 100.0,
        reply_tokens: 500,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut stream = native(&fake).chat_stream("qwen-plus", &ask("长文"), &ChatParams::default());
    for _ in 0..3 {
        assert!(matches!(stream.next().await, Some(Ok(ChatEvent::Delta(_)))));
    }
    drop(stream);
    let mut waited = 0;
    while fake.stats.client_disconnects.load(Ordering::SeqCst) == 0 && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(
        fake.stats.client_disconnects.load(Ordering::SeqCst),
        1,
        "the fake saw the connection close"
    );
    assert!(
        fake.stats.frames_sent.load(Ordering::SeqCst) < 100,
        "it stopped long before the end"
    );
}

#[tokio::test]
async fn silence_between_chunks_times_out() {
    let fake = spawn(FakeConfig {
        first_token_latency: Duration::from_millis(600),
        ..Default::default()
    })
    .await
    .unwrap();
    let settings = Settings {
        idle_timeout: Duration::from_millis(100),
        max_retries: 0,
        ..fast()
    };
    let client = DashScope::new(&fake.base_url, DEFAULT_KEY, settings).unwrap();
    let (_, _, err) =
        collect(client.chat_stream("qwen-plus", &ask("x"), &ChatParams::default())).await;
    assert_eq!(err.unwrap().kind(), "timeout");
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    assert!(DashScope::new(&fake.base_url, "", fast()).is_err());
    assert!(DashScope::new(&fake.base_url, "sk bad", fast()).is_err());
    assert!(DashScope::new("ftp://example.com", DEFAULT_KEY, fast()).is_err());
    assert!(OpenAiCompatible::new("not a url", DEFAULT_KEY, fast()).is_err());
    let (_, _, err) =
        collect(native(&fake).chat_stream("qwen\u{7}plus", &ask("x"), &ChatParams::default()))
            .await;
    assert_eq!(err.unwrap().kind(), "invalid_input");
    let (_, _, err) =
        collect(native(&fake).chat_stream("qwen-plus", &[], &ChatParams::default())).await;
    assert_eq!(err.unwrap().kind(), "invalid_input");
    assert!(ImageInput::from_bytes(b"GIF? no, a text file".to_vec()).is_err());
    assert_eq!(fake.stats.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn vision_models_get_the_image_and_answer() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cat.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let mut msg = ChatMessage::new("user", "描述这张图片");
    msg.images.push(ImageInput::from_path(&path).unwrap());
    let (text, _, err) =
        collect(native(&fake).chat_stream("qwen-vl-plus", &[msg], &ChatParams::default())).await;
    assert!(err.is_none(), "{err:?}");
    assert!(text.contains("描述这张图片"));
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, "hello").unwrap();
    assert_eq!(
        ImageInput::from_path(&not_image).unwrap_err().kind(),
        "invalid_input"
    );
}

fn image_request(prompt: &str) -> TaskRequest {
    TaskRequest {
        kind: TaskKind::Image,
        model: "wanx2.1-t2i-turbo".into(),
        prompt: prompt.into(),
        negative_prompt: Some("低分辨率".into()),
        size: "1024*1024".into(),
        n: 2,
        style: None,
    }
}

#[tokio::test]
async fn an_image_task_runs_to_downloaded_files_with_progress() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let mut progress = |p: u8, _note: String| seen.push(p);
    let files = native(&fake)
        .run_task(
            &image_request("一只猫"),
            dir.path(),
            &mut progress,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(files.len(), 2);
    for f in &files {
        assert!(std::fs::read(f).unwrap().starts_with(b"\x89PNG"), "{f:?}");
    }
    assert_eq!(seen.first(), Some(&5));
    assert_eq!(seen.last(), Some(&100));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));

    let mut ignore = |_: u8, _: String| {};
    let err = native(&fake)
        .run_task(
            &image_request("[[fault:task_fail]]"),
            dir.path(),
            &mut ignore,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "moderation");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = native(&fake)
        .run_task(&image_request("猫"), dir.path(), &mut ignore, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err, QwenError::Cancelled);
    let video = TaskRequest {
        kind: TaskKind::Video,
        size: "1280*720".into(),
        ..image_request("海浪")
    };
    let files = native(&fake)
        .run_task(&video, dir.path(), &mut ignore, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(files[0].extension().unwrap(), "mp4");
}

#[tokio::test]
async fn a_result_link_that_expired_before_the_download_is_a_typed_error() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ignore = |_: u8, _: String| {};
    let err = native(&fake)
        .run_task(
            &image_request("[[fault:link_expired]] 一只猫"),
            dir.path(),
            &mut ignore,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, QwenError::ResultExpired { status: 403 });
    assert_eq!(err.kind(), "result_expired");
    assert!(err.user_message_zh().contains("过期") && err.user_message_en().contains("expired"));
    assert_eq!(fake.stats.downloads_refused.load(Ordering::SeqCst), 1);
    // Nothing half-written is left where the results go.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

fn compatible(fake: &FakeHandle) -> OpenAiCompatible {
    OpenAiCompatible::new(
        &format!("{}/compatible-mode/v1", fake.base_url),
        DEFAULT_KEY,
        fast(),
    )
    .unwrap()
}

#[tokio::test]
async fn an_empty_or_filtered_answer_from_an_openai_compatible_endpoint_is_an_error() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let (text, _, err) = collect(compatible(&fake).chat_stream(
        "qwen-plus",
        &ask("[[fault:content_filter]] 写一段"),
        &ChatParams::default(),
    ))
    .await;
    assert!(!text.is_empty(), "the filter stopped the answer part-way");
    assert_eq!(err, Some(QwenError::Moderation));
    let (text, events, err) = collect(compatible(&fake).chat_stream(
        "qwen-plus",
        &ask("[[fault:empty]]"),
        &ChatParams::default(),
    ))
    .await;
    assert_eq!((text.as_str(), events.len()), ("", 0), "{events:?}");
    assert_eq!(err, Some(QwenError::EmptyAnswer));
    assert_eq!(err.unwrap().kind(), "empty_answer");
    // Not streamed: the same rule.
    let err = compatible(&fake)
        .chat(
            "qwen-plus",
            &ask("[[fault:content_filter]]"),
            &ChatParams::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, QwenError::Moderation);
    // A normal answer still finishes.
    let (text, events, err) =
        collect(compatible(&fake).chat_stream("qwen-plus", &ask("春天"), &ChatParams::default()))
            .await;
    assert!(err.is_none() && !text.is_empty());
    assert!(matches!(events.last(), Some(ChatEvent::Finished { reason }) if reason == "stop"));
}
