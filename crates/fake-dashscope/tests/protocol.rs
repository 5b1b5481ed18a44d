//! The fake's protocol details, checked with a plain HTTP client (the real
//! client is tested against the fake in crates/qwen; the official Python SDK
//! checks it in scripts/checks/30-qwen-python-sdk.sh).

use inkstone_fake_dashscope::{spawn, FakeConfig, DEFAULT_KEY};
use serde_json::{json, Value};

async fn post(base: &str, path: &str, key: &str, sse: bool, body: Value) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(&body);
    if sse {
        req = req
            .header("X-DashScope-SSE", "enable")
            .header("Accept", "text/event-stream");
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn chat(prompt: &str, incremental: bool) -> Value {
    json!({"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": prompt}]},
           "parameters": {"result_format": "message", "incremental_output": incremental}})
}

const TEXT: &str = "/api/v1/services/aigc/text-generation/generation";

#[tokio::test]
async fn streams_frames_with_null_finish_then_stop() {
    let fake = spawn(FakeConfig {
        reply_tokens: 5,
        ..Default::default()
    })
    .await
    .unwrap();
    let (status, body) = post(&fake.base_url, TEXT, DEFAULT_KEY, true, chat("春天", true)).await;
    assert_eq!(status, 200);
    let frames: Vec<&str> = body.split("\n\n").filter(|f| !f.is_empty()).collect();
    assert!(
        frames[0].starts_with("id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"),
        "{}",
        frames[0]
    );
    let datas: Vec<Value> = frames
        .iter()
        .map(|f| serde_json::from_str(f.split("data:").nth(1).unwrap()).unwrap())
        .collect();
    let finishes: Vec<&str> = datas
        .iter()
        .map(|d| d["output"]["choices"][0]["finish_reason"].as_str().unwrap())
        .collect();
    assert!(finishes[..finishes.len() - 1].iter().all(|f| *f == "null"));
    assert_eq!(*finishes.last().unwrap(), "stop");
    let outputs: Vec<u64> = datas
        .iter()
        .map(|d| d["usage"]["output_tokens"].as_u64().unwrap())
        .collect();
    assert!(
        outputs.windows(2).all(|w| w[0] <= w[1]),
        "usage is cumulative"
    );
}

#[tokio::test]
async fn errors_use_the_documented_bodies() {
    let fake = spawn(FakeConfig::default()).await.unwrap();
    let (status, body) = post(&fake.base_url, TEXT, "sk-wrong", false, chat("x", false)).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "InvalidApiKey"
    );
    for (marker, status_code, code) in [
        ("[[fault:throttle]]", 429, "Throttling.RateQuota"),
        ("[[fault:moderation]]", 400, "DataInspectionFailed"),
        ("[[fault:arrearage]]", 400, "Arrearage"),
        ("[[fault:internal]]", 500, "InternalError"),
    ] {
        let (status, body) =
            post(&fake.base_url, TEXT, DEFAULT_KEY, true, chat(marker, true)).await;
        assert_eq!(status, status_code, "{marker}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], code);
    }
    let (status, body) = post(
        &fake.base_url,
        TEXT,
        DEFAULT_KEY,
        true,
        chat("[[fault:error_after=2]]", true),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("event:error\n:HTTP_STATUS/500\ndata:{\"code\":\"InternalError\""),
        "{body}"
    );
}

#[tokio::test]
async fn image_tasks_need_async_and_end_with_downloadable_pngs() {
    let fake = spawn(FakeConfig {
        task_polls: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let path = "/api/v1/services/aigc/text2image/image-synthesis";
    let body = json!({"model": "wanx2.1-t2i-turbo", "input": {"prompt": "一只猫"}, "parameters": {"n": 2, "size": "1024*1024"}});
    let (status, sync) = post(&fake.base_url, path, DEFAULT_KEY, false, body.clone()).await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&sync).unwrap()["code"].as_str()
        ),
        (403, Some("AccessDenied"))
    );
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}{path}", fake.base_url))
        .bearer_auth(DEFAULT_KEY)
        .header("X-DashScope-Async", "enable")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["output"]["task_id"].as_str().unwrap();
    let poll = |id: String| {
        let client = client.clone();
        let url = format!("{}/api/v1/tasks/{id}", fake.base_url);
        async move {
            client
                .get(url)
                .bearer_auth(DEFAULT_KEY)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(poll(id.into()).await["output"]["task_status"], "PENDING");
    let done = poll(id.into()).await;
    assert_eq!(done["output"]["task_status"], "SUCCEEDED");
    let url = done["output"]["results"][1]["url"].as_str().unwrap();
    let png = client.get(url).send().await.unwrap().bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(
        poll("no-such-task".into()).await["output"]["task_status"],
        "UNKNOWN"
    );
}

/// Creates an image task and polls it to the end; returns its result links.
async fn finished_image_links(base: &str, prompt: &str) -> Vec<String> {
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/api/v1/services/aigc/text2image/image-synthesis"))
        .bearer_auth(DEFAULT_KEY)
        .header("X-DashScope-Async", "enable")
        .json(&json!({"model": "wanx2.1-t2i-turbo", "input": {"prompt": prompt}, "parameters": {"n": 1}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["output"]["task_id"].as_str().unwrap().to_string();
    let done: Value = client
        .get(format!("{base}/api/v1/tasks/{id}"))
        .bearer_auth(DEFAULT_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["output"]["task_status"], "SUCCEEDED", "{done}");
    done["output"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect()
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn result_links_are_signed_like_oss_and_refused_once_the_given_clock_passes_expires() {
    use chrono::TimeZone;
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
    let clock = inkstone_core::Clock::manual(start);
    let fake = spawn(FakeConfig {
        task_polls: 0,
        clock: clock.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let links = finished_image_links(&fake.base_url, "一只猫").await;
    let url = reqwest::Url::parse(&links[0]).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    // As in Alibaba's documented examples: `…png?Expires=…&OSSAccessKeyId=…&Signature=…`.
    assert_eq!(
        query.get("Expires").map(String::as_str),
        Some((start.timestamp() + 24 * 3600).to_string().as_str())
    );
    assert!(query.contains_key("OSSAccessKeyId") && query.contains_key("Signature"));
    assert!(url.path().ends_with(".png"), "{url}");

    let (status, _) = get(url.as_str()).await;
    assert_eq!(status, 200, "a fresh link downloads");
    // Not signed, or signed for something else: refused like OSS does.
    let bare = format!("{}{}", fake.base_url, url.path());
    assert_eq!(get(&bare).await.0, 403);
    let tampered = url.as_str().replace(
        &format!("Expires={}", query["Expires"]),
        &format!("Expires={}", start.timestamp() + 365 * 24 * 3600),
    );
    let (status, body) = get(&tampered).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    // Still valid at the last second, refused after it.
    clock.advance(chrono::Duration::hours(24));
    assert_eq!(get(url.as_str()).await.0, 200);
    clock.advance(chrono::Duration::seconds(1));
    let (status, body) = get(url.as_str()).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("Request has expired."),
        "{body}"
    );
    assert_eq!(
        fake.stats
            .downloads_refused
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );

    // `[[fault:link_expired]]`: links signed longer ago than they live, as a day-late download sees them.
    let late = finished_image_links(&fake.base_url, "[[fault:link_expired]] 猫").await;
    assert_eq!(get(&late[0]).await.0, 403, "links signed too long ago");
}
