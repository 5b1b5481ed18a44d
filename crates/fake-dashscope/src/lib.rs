//! A local DashScope that speaks the protocol of the real service
//! (`shared/protocols/dashscope.md`, section 9): native text and multimodal
//! generation with SSE (`X-DashScope-SSE: enable`, `"null"` finish reasons,
//! cumulative usage, incremental or cumulative text), the OpenAI-compatible
//! chat endpoint, async image/video tasks (`X-DashScope-Async` required,
//! PENDING → RUNNING → SUCCEEDED|FAILED, UNKNOWN after their time to live) and
//! the documented error bodies.
//!
//! Faults are chosen per request by a marker in the prompt, so a test that
//! drives the real app can trigger them: `[[fault:throttle]]`,
//! `[[fault:moderation]]`, `[[fault:arrearage]]`, `[[fault:internal]]`,
//! `[[fault:invalid_model]]`, `[[fault:error_after=N]]` (an `event:error`
//! after N frames), `[[fault:disconnect_after=N]]` (connection cut),
//! `[[fault:no_finish]]` (clean end without a finish reason),
//! `[[fault:task_fail]]`, `[[fault:link_expired]]` (a task whose result links were signed
//! longer ago than they are valid, as when a client downloads a day late),
//! `[[fault:empty]]` (an answer without a word), `[[fault:content_filter]]` (the
//! compatible endpoint stops with `finish_reason: content_filter`).
//! `[[reply:link]]` makes the answer carry a Markdown link and a bare URL.
//! Global knobs live in [`FakeConfig`].
//!
//! Result files are served like Alibaba's OSS links: a signed query
//! (`Expires`, `OSSAccessKeyId`, `Signature`) checked on every download, and
//! `403 AccessDenied` ("Request has expired.") once the [`FakeConfig::clock`]
//! it was given is past `Expires`.
//!
//! Invariants: it answers only requests that carry its key; its frames are what
//! `shared/protocols/dashscope.md` documents (the official `dashscope` SDK reads them in
//! scripts/checks/30-qwen-python-sdk.sh), so the client tested against it is the real one;
//! it is a test double and is linked into the app only with the `demo` feature.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use inkstone_fake_dashscope::{spawn, FakeConfig, DEFAULT_KEY};
//! let fake = spawn(FakeConfig::default()).await.unwrap();
//! let answer: serde_json::Value = reqwest::Client::new()
//!     .post(format!("{}/api/v1/services/aigc/text-generation/generation", fake.base_url))
//!     .bearer_auth(DEFAULT_KEY)
//!     .json(&serde_json::json!({
//!         "model": "qwen-plus",
//!         "input": {"messages": [{"role": "user", "content": "写一句春天"}]},
//!         "parameters": {"result_format": "message"}
//!     }))
//!     .send().await.unwrap()
//!     .json().await.unwrap();
//! assert_eq!(answer["output"]["choices"][0]["finish_reason"], "stop");
//! assert!(answer["usage"]["output_tokens"].as_u64().unwrap() > 0);
//! # });
//! ```

pub mod png;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use inkstone_core::Clock;
use serde_json::{json, Value};
use sha2::Digest;

pub const DEFAULT_KEY: &str = "sk-inkstone-fake-0000000000000000";

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The only key accepted; anything else is 401 InvalidApiKey.
    pub api_key: String,
    /// Pace of streamed frames; 0 sends them as fast as the client reads.
    pub tokens_per_second: f64,
    pub first_token_latency: Duration,
    /// Frames (of about two characters each) in a reply.
    pub reply_tokens: usize,
    /// The first N text requests are answered 429 Throttling.RateQuota.
    pub throttle_first: u32,
    /// Polls a task answers PENDING/RUNNING before it is done.
    pub task_polls: u32,
    /// After this long a task id answers UNKNOWN, as the real one does after 24 h.
    pub task_ttl: Duration,
    /// How long a result link works after the task succeeded (24 h at DashScope).
    pub result_ttl: Duration,
    /// The time tasks and signed result links are judged by.
    pub clock: Clock,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            api_key: DEFAULT_KEY.into(),
            tokens_per_second: 0.0,
            first_token_latency: Duration::ZERO,
            reply_tokens: 40,
            throttle_first: 0,
            task_polls: 2,
            task_ttl: Duration::from_secs(24 * 3600),
            result_ttl: Duration::from_secs(24 * 3600),
            clock: Clock::system(),
        }
    }
}

/// What the fake saw, for tests to assert on.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub text_requests: AtomicU64,
    pub frames_sent: AtomicU64,
    /// Streams the client closed before the fake finished sending.
    pub client_disconnects: AtomicU64,
    pub tasks_created: AtomicU64,
    pub task_polls: AtomicU64,
    /// Result downloads refused (expired, unsigned or a bad signature).
    pub downloads_refused: AtomicU64,
}

struct Task {
    created: chrono::DateTime<chrono::Utc>,
    polls: u32,
    video: bool,
    n: u32,
    fail: bool,
    /// Sign the results as if the task had finished longer ago than links live.
    links_expired: bool,
}

struct Shared {
    config: FakeConfig,
    stats: Arc<Stats>,
    throttled: AtomicU32,
    tasks: Mutex<HashMap<String, Task>>,
    base_url: String,
    /// This fake's "AccessKeySecret" for signing result links.
    signing_secret: String,
}

pub struct FakeHandle {
    /// `http://127.0.0.1:PORT` — the native API is under `/api/v1`, compatible mode under `/compatible-mode/v1`.
    pub base_url: String,
    pub stats: Arc<Stats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FakeHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the fake on a free loopback port.
pub async fn spawn(config: FakeConfig) -> std::io::Result<FakeHandle> {
    spawn_on(config, ([127, 0, 0, 1], 0).into()).await
}

pub async fn spawn_on(config: FakeConfig, addr: SocketAddr) -> std::io::Result<FakeHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let stats = Arc::new(Stats::default());
    let shared = Arc::new(Shared {
        config,
        stats: stats.clone(),
        throttled: AtomicU32::new(0),
        tasks: Mutex::new(HashMap::new()),
        base_url: base_url.clone(),
        signing_secret: uuid::Uuid::new_v4().to_string(),
    });
    let app = Router::new()
        .route(
            "/api/v1/services/aigc/text-generation/generation",
            post(native_text),
        )
        .route(
            "/api/v1/services/aigc/multimodal-generation/generation",
            post(native_multimodal),
        )
        .route(
            "/api/v1/services/aigc/text2image/image-synthesis",
            post(create_image_task),
        )
        .route(
            "/api/v1/services/aigc/video-generation/video-synthesis",
            post(create_video_task),
        )
        .route("/api/v1/tasks/{id}", get(get_task))
        .route(
            "/compatible-mode/v1/chat/completions",
            post(compatible_chat),
        )
        .route("/files/{name}", get(get_file))
        .with_state(shared);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(FakeHandle {
        base_url,
        stats,
        shutdown: Some(tx),
    })
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn native_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "request_id": request_id()})),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", shared.config.api_key);
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Throttle,
    Moderation,
    Arrearage,
    Internal,
    InvalidModel,
    ErrorAfter(usize),
    DisconnectAfter(usize),
    NoFinish,
    TaskFail,
    LinkExpired,
    Empty,
    ContentFilter,
}

fn fault_in(text: &str) -> Option<Fault> {
    let start = text.find("[[fault:")? + "[[fault:".len();
    let end = start + text[start..].find("]]")?;
    let spec = &text[start..end];
    let (name, arg) = spec.split_once('=').unwrap_or((spec, "0"));
    let n: usize = arg.parse().unwrap_or(0);
    Some(match name {
        "throttle" => Fault::Throttle,
        "moderation" => Fault::Moderation,
        "arrearage" => Fault::Arrearage,
        "internal" => Fault::Internal,
        "invalid_model" => Fault::InvalidModel,
        "error_after" => Fault::ErrorAfter(n),
        "disconnect_after" => Fault::DisconnectAfter(n),
        "no_finish" => Fault::NoFinish,
        "task_fail" => Fault::TaskFail,
        "link_expired" => Fault::LinkExpired,
        "empty" => Fault::Empty,
        "content_filter" => Fault::ContentFilter,
        _ => return None,
    })
}

/// Every piece of text in `input.messages` (string or part-array content) or `input.prompt`.
fn all_text(input: &Value) -> String {
    let mut out = String::new();
    if let Some(p) = input.get("prompt").and_then(Value::as_str) {
        out.push_str(p);
    }
    for m in input
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match m.get("content") {
            Some(Value::String(s)) => out.push_str(s),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if let Some(t) = part.get("text").and_then(Value::as_str) {
                        out.push_str(t);
                    }
                }
            }
            _ => {}
        }
        out.push('\n');
    }
    out
}

fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| all_text(&json!({"messages": [m]})))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The link a `[[reply:link]]` answer carries (the E2E test clicks it).
pub const LINK_URL: &str = "https://example.com/inkstone-demo";
const LINK_TITLE: &str = "演示链接 demo link";

const CORPUS: &str = "春天来了，桃花盛开，小河解冻，燕子从南方飞回。写作是一种和自己对话的方式，\
每一个字都在寻找它的位置。清晨的阳光落在书桌上，墨香在空气里慢慢散开。";

/// The demo's reply: deterministic, mentions the request, Chinese first.
fn reply_tokens(system: &str, user: &str, count: usize) -> Vec<String> {
    let topic: String = user.chars().filter(|c| !c.is_control()).take(24).collect();
    let text = if system.contains("幻灯片大纲") {
        format!(
            "# {topic}\n演示文稿（演示模型生成）\n\n## 背景\n- 为什么关注{topic}\n- 现状与机会\n\n## 核心内容\n- 要点一\n- 要点二\n- 要点三\n\n## 下一步\n- 行动计划\n- 总结\n"
        )
    } else {
        let mut body = format!("【演示】关于“{topic}”：");
        while body.chars().count() < count * 2 {
            body.push_str(CORPUS);
        }
        let mut body: String = body
            .chars()
            .take(count * 2 + topic.chars().count() + 8)
            .collect();
        if user.contains("[[reply:link]]") {
            body.push_str(&format!(
                "\n\n参考：[{LINK_TITLE}]({LINK_URL})，或直接访问 {LINK_URL}\n"
            ));
        }
        body
    };
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(2).map(|c| c.iter().collect()).collect()
}

fn usage_json(input_tokens: usize, output_tokens: usize) -> Value {
    json!({"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens})
}

fn sse_frame(id: usize, event: &str, status: u16, data: &Value) -> Bytes {
    Bytes::from(format!(
        "id:{id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{data}\n\n"
    ))
}

/// Pre-stream checks shared by the native endpoints. Returns the parsed body or an error response.
#[allow(clippy::result_large_err)] // an axum Response is the natural error of a handler helper
fn check_native(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized(shared, headers) {
        return Err(native_error(
            StatusCode::UNAUTHORIZED,
            "InvalidApiKey",
            "Invalid API-key provided.",
        ));
    }
    let body: Value = serde_json::from_slice(body).map_err(|_| {
        native_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Request body is not valid JSON.",
        )
    })?;
    match body.get("model").and_then(Value::as_str) {
        None | Some("") => {
            return Err(native_error(
                StatusCode::BAD_REQUEST,
                "BadRequest.EmptyModel",
                "Required parameter(model) missing or invalid.",
            ))
        }
        Some(m) if !(m.starts_with("qwen") || m.starts_with("inkstone-demo")) => {
            return Err(native_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "Model not exist.",
            ))
        }
        _ => {}
    }
    let input = body.get("input").cloned().unwrap_or(Value::Null);
    let has_messages = input
        .get("messages")
        .and_then(Value::as_array)
        .is_some_and(|m| !m.is_empty());
    if !has_messages && input.get("prompt").and_then(Value::as_str).is_none() {
        return Err(native_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Either input.messages or input.prompt is required.",
        ));
    }
    Ok(body)
}

fn pre_stream_fault(fault: Option<Fault>) -> Option<Response> {
    Some(match fault? {
        Fault::Throttle => native_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttling.RateQuota",
            "Requests rate limit exceeded, please try again later.",
        ),
        Fault::Moderation => native_error(
            StatusCode::BAD_REQUEST,
            "DataInspectionFailed",
            "Input data may contain inappropriate content.",
        ),
        Fault::Arrearage => native_error(
            StatusCode::BAD_REQUEST,
            "Arrearage",
            "Access denied, please make sure your account is in good standing.",
        ),
        Fault::Internal => native_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An internal error has occured, please try again later.",
        ),
        Fault::InvalidModel => native_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Model not exist.",
        ),
        _ => return None,
    })
}

async fn native_text(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    native(shared, headers, body, false).await
}

async fn native_multimodal(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    native(shared, headers, body, true).await
}

async fn native(
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Bytes,
    multimodal: bool,
) -> Response {
    let body = match check_native(&shared, &headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    shared.stats.text_requests.fetch_add(1, Ordering::Relaxed);
    if shared.throttled.fetch_add(1, Ordering::SeqCst) < shared.config.throttle_first {
        return native_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttling.RateQuota",
            "Requests rate limit exceeded, please try again later.",
        );
    }
    let input = &body["input"];
    let text = all_text(input);
    let fault = fault_in(&text);
    if let Some(r) = pre_stream_fault(fault) {
        return r;
    }
    let messages: Vec<Value> = input
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let system = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        .map(|m| all_text(&json!({"messages": [m]})))
        .collect::<String>();
    let user = if messages.is_empty() {
        text.clone()
    } else {
        last_user_text(&messages)
    };
    let tokens = if fault == Some(Fault::Empty) {
        Vec::new()
    } else {
        reply_tokens(&system, &user, shared.config.reply_tokens)
    };
    let input_tokens = text.chars().count().div_ceil(2);
    let params = body.get("parameters").cloned().unwrap_or(Value::Null);
    let message_format =
        multimodal || params.get("result_format").and_then(Value::as_str) == Some("message");
    let incremental = params
        .get("incremental_output")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let streaming = headers.get("x-dashscope-sse").and_then(|v| v.to_str().ok()) == Some("enable");

    let output = move |content: &str, finish: &str| -> Value {
        if message_format {
            let content = if multimodal {
                json!([{"text": content}])
            } else {
                json!(content)
            };
            json!({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": finish}]})
        } else {
            json!({"text": content, "finish_reason": finish})
        }
    };
    if !streaming {
        let full: String = tokens.concat();
        let frame = json!({"output": output(&full, "stop"), "usage": usage_json(input_tokens, tokens.len()), "request_id": request_id()});
        return Json(frame).into_response();
    }

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let config = shared.config.clone();
    let stats = shared.stats.clone();
    tokio::spawn(async move {
        let rid = request_id();
        let mut sent = String::new();
        let finished = pace_tokens(
            &tx,
            &tokens,
            fault,
            &config,
            &stats,
            |i, token| {
                sent.push_str(token);
                let content = if incremental { token } else { sent.as_str() };
                let data = json!({"output": output(content, "null"), "usage": usage_json(input_tokens, i + 1), "request_id": rid});
                sse_frame(i + 1, "result", 200, &data)
            },
            |i| {
                let data = json!({"code": "InternalError", "message": "An internal error has occured, please try again later.", "request_id": rid});
                sse_frame(i + 1, "error", 500, &data)
            },
        )
        .await;
        if !finished {
            return;
        }
        let sent: String = tokens.concat();
        let content = if incremental { String::new() } else { sent };
        let data = json!({"output": output(&content, "stop"), "usage": usage_json(input_tokens, tokens.len()), "request_id": rid});
        if tx
            .send(Ok(sse_frame(tokens.len() + 1, "result", 200, &data)))
            .await
            .is_err()
        {
            stats.client_disconnects.fetch_add(1, Ordering::Relaxed);
        }
    });
    sse_response(rx, "text/event-stream;charset=UTF-8")
}

type Frames = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Sends `tokens` as frames (`frame(i, token)`) at the configured pace, playing the faults
/// both APIs share: an error frame (`error(i)`) or a dropped connection after n tokens. True
/// when every token went out and the answer may be finished (false for `NoFinish` too).
async fn pace_tokens(
    tx: &Frames,
    tokens: &[String],
    fault: Option<Fault>,
    config: &FakeConfig,
    stats: &Stats,
    mut frame: impl FnMut(usize, &str) -> Bytes,
    error: impl FnOnce(usize) -> Bytes,
) -> bool {
    if !config.first_token_latency.is_zero() {
        tokio::time::sleep(config.first_token_latency).await;
    }
    let interval = (config.tokens_per_second > 0.0)
        .then(|| Duration::from_secs_f64(1.0 / config.tokens_per_second));
    for (i, token) in tokens.iter().enumerate() {
        match fault {
            Some(Fault::ErrorAfter(n)) if i == n => {
                let _ = tx.send(Ok(error(i))).await;
                return false;
            }
            Some(Fault::DisconnectAfter(n)) if i == n => {
                let _ = tx
                    .send(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "fault: disconnect",
                    )))
                    .await;
                return false;
            }
            _ => {}
        }
        if tx.send(Ok(frame(i, token))).await.is_err() {
            stats.client_disconnects.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        stats.frames_sent.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = interval {
            tokio::time::sleep(d).await;
        }
    }
    fault != Some(Fault::NoFinish)
}

/// A server-sent event stream of what the task sends on its channel.
fn sse_response(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    content_type: &'static str,
) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-dashscope-request-id", request_id())
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn compat_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}}))).into_response()
}

async fn compatible_chat(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized(&shared, &headers) {
        return compat_error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Incorrect API key provided.",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return compat_error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter_error",
            "Request body is not valid JSON.",
        );
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if model.is_empty() {
        return compat_error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter_error",
            "model is required",
        );
    }
    let messages: Vec<Value> = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if messages.is_empty() {
        return compat_error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter_error",
            "messages is required",
        );
    }
    shared.stats.text_requests.fetch_add(1, Ordering::Relaxed);
    if shared.throttled.fetch_add(1, Ordering::SeqCst) < shared.config.throttle_first {
        return compat_error(
            StatusCode::TOO_MANY_REQUESTS,
            "limit_requests",
            "Requests rate limit exceeded, please try again later.",
        );
    }
    let text = all_text(&json!({"messages": messages}));
    let fault = fault_in(&text);
    match fault {
        Some(Fault::Throttle) => {
            return compat_error(
                StatusCode::TOO_MANY_REQUESTS,
                "limit_requests",
                "Requests rate limit exceeded.",
            )
        }
        Some(Fault::Moderation) => {
            return compat_error(
                StatusCode::BAD_REQUEST,
                "data_inspection_failed",
                "Input data may contain inappropriate content.",
            )
        }
        Some(Fault::Arrearage) => {
            return compat_error(
                StatusCode::BAD_REQUEST,
                "Arrearage",
                "Access denied, please make sure your account is in good standing.",
            )
        }
        Some(Fault::Internal) => {
            return compat_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "internal error",
            )
        }
        Some(Fault::InvalidModel) => {
            return compat_error(
                StatusCode::NOT_FOUND,
                "model_not_found",
                "The model does not exist.",
            )
        }
        _ => {}
    }
    let system: String = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        .map(|m| all_text(&json!({"messages": [m]})))
        .collect();
    let tokens = if fault == Some(Fault::Empty) {
        Vec::new()
    } else {
        reply_tokens(
            &system,
            &last_user_text(&messages),
            shared.config.reply_tokens,
        )
    };
    let input_tokens = text.chars().count().div_ceil(2);
    let id = format!("chatcmpl-{}", request_id());
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let usage = json!({"prompt_tokens": input_tokens, "completion_tokens": tokens.len(), "total_tokens": input_tokens + tokens.len()});
    // A content filter stops the answer part-way, as the documented `content_filter` reason says.
    let (tokens, finish_reason) = if fault == Some(Fault::ContentFilter) {
        let half = tokens.len() / 2;
        (tokens[..half].to_vec(), "content_filter")
    } else {
        (tokens, "stop")
    };
    if !body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return Json(json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": tokens.concat()}, "finish_reason": finish_reason}],
            "usage": usage,
        }))
        .into_response();
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let config = shared.config.clone();
    let stats = shared.stats.clone();
    tokio::spawn(async move {
        let chunk = |delta: Value, finish: Value| {
            let v = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            Bytes::from(format!("data: {v}\n\n"))
        };
        let finished = pace_tokens(
            &tx,
            &tokens,
            fault,
            &config,
            &stats,
            |i, token| {
                let delta = if i == 0 {
                    json!({"role": "assistant", "content": token})
                } else {
                    json!({"content": token})
                };
                chunk(delta, Value::Null)
            },
            |_| {
                let e = json!({"error": {"message": "internal error", "type": "internal_error", "param": null, "code": "internal_error"}});
                Bytes::from(format!("data: {e}\n\n"))
            },
        )
        .await;
        if !finished {
            return;
        }
        let _ = tx.send(Ok(chunk(json!({}), json!(finish_reason)))).await;
        if include_usage {
            let v = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [], "usage": usage});
            let _ = tx.send(Ok(Bytes::from(format!("data: {v}\n\n")))).await;
        }
        let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
    });
    sse_response(rx, "text/event-stream")
}

async fn create_image_task(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_task(shared, headers, body, false)
}

async fn create_video_task(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_task(shared, headers, body, true)
}

fn create_task(shared: Arc<Shared>, headers: HeaderMap, body: Bytes, video: bool) -> Response {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized(&shared, &headers) {
        return native_error(
            StatusCode::UNAUTHORIZED,
            "InvalidApiKey",
            "Invalid API-key provided.",
        );
    }
    if headers
        .get("x-dashscope-async")
        .and_then(|v| v.to_str().ok())
        != Some("enable")
    {
        return native_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "current user api does not support synchronous calls",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return native_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Request body is not valid JSON.",
        );
    };
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return native_error(
            StatusCode::BAD_REQUEST,
            "BadRequest.EmptyModel",
            "Required parameter(model) missing or invalid.",
        );
    }
    let Some(prompt) = body.pointer("/input/prompt").and_then(Value::as_str) else {
        return native_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "input.prompt is required",
        );
    };
    let fault = fault_in(prompt);
    if let Some(r) = pre_stream_fault(fault) {
        return r;
    }
    let n = body
        .pointer("/parameters/n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 4) as u32;
    let id = request_id();
    if let Ok(mut tasks) = shared.tasks.lock() {
        tasks.insert(
            id.clone(),
            Task {
                created: shared.config.clock.now(),
                polls: 0,
                video,
                n,
                fail: fault == Some(Fault::TaskFail),
                links_expired: fault == Some(Fault::LinkExpired),
            },
        );
    }
    shared.stats.tasks_created.fetch_add(1, Ordering::Relaxed);
    Json(json!({"output": {"task_status": "PENDING", "task_id": id}, "request_id": request_id()}))
        .into_response()
}

async fn get_task(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    shared.stats.task_polls.fetch_add(1, Ordering::Relaxed);
    if !authorized(&shared, &headers) {
        return native_error(
            StatusCode::UNAUTHORIZED,
            "InvalidApiKey",
            "Invalid API-key provided.",
        );
    }
    let mut tasks = match shared.tasks.lock() {
        Ok(t) => t,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let unknown =
        json!({"request_id": request_id(), "output": {"task_id": id, "task_status": "UNKNOWN"}});
    let Some(task) = tasks.get_mut(&id) else {
        return Json(unknown).into_response();
    };
    let now = shared.config.clock.now();
    let ttl = chrono::Duration::from_std(shared.config.task_ttl).unwrap_or(chrono::Duration::MAX);
    if now.signed_duration_since(task.created) > ttl {
        return Json(unknown).into_response();
    }
    task.polls += 1;
    let times = json!("2026-11-25 10:25:26.436");
    if task.polls <= shared.config.task_polls {
        let status = if task.polls == 1 {
            "PENDING"
        } else {
            "RUNNING"
        };
        return Json(json!({"request_id": request_id(), "output": {"task_id": id, "task_status": status, "submit_time": times}})).into_response();
    }
    if task.fail {
        return Json(json!({"request_id": request_id(), "output": {"task_id": id, "task_status": "FAILED",
            "code": "DataInspectionFailed", "message": "Output data may contain inappropriate content.", "submit_time": times, "end_time": times}}))
        .into_response();
    }
    let expires = if task.links_expired {
        now.timestamp() - 1
    } else {
        now.timestamp()
            .saturating_add(i64::try_from(shared.config.result_ttl.as_secs()).unwrap_or(i64::MAX))
    };
    let link = |name: String| signed_link(&shared, &name, expires);
    if task.video {
        let url = link(format!("{id}-0.mp4"));
        return Json(json!({"request_id": request_id(), "output": {"task_id": id, "task_status": "SUCCEEDED",
            "submit_time": times, "end_time": times, "video_url": url}, "usage": {"video_count": 1, "video_duration": 5}}))
        .into_response();
    }
    let results: Vec<Value> = (0..task.n)
        .map(|i| json!({"url": link(format!("{id}-{i}.png"))}))
        .collect();
    Json(json!({"request_id": request_id(), "output": {"task_id": id, "task_status": "SUCCEEDED", "submit_time": times,
        "end_time": times, "results": results, "task_metrics": {"TOTAL": task.n, "SUCCEEDED": task.n, "FAILED": 0}},
        "usage": {"image_count": task.n}}))
    .into_response()
}

const OSS_ACCESS_KEY_ID: &str = "LTAI5tInkstoneFakeOss";

/// `Signature` of a result link: a keyed digest of the object and its expiry (the real one is
/// an HMAC-SHA1 of the same fields with the AccessKeySecret), base64 as OSS writes it.
fn signature(shared: &Shared, name: &str, expires: i64) -> String {
    use base64::Engine;
    let digest = sha2::Sha256::digest(
        format!("{}\nGET\n{expires}\n/files/{name}", shared.signing_secret).as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(&digest[..20])
}

/// Percent-encodes the three base64 characters that are not safe in a query.
fn query_escape(value: &str) -> String {
    value
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// A result link as DashScope hands them out: an OSS object with a signed query.
fn signed_link(shared: &Shared, name: &str, expires: i64) -> String {
    format!(
        "{}/files/{name}?Expires={expires}&OSSAccessKeyId={OSS_ACCESS_KEY_ID}&Signature={}",
        shared.base_url,
        query_escape(&signature(shared, name, expires))
    )
}

/// OSS's error document.
fn oss_error(code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n  <RequestId>{}</RequestId>\n  <HostId>inkstone-fake-oss</HostId>\n</Error>\n",
        request_id()
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// The signed query of a download: refused unless complete, signed by this fake and not
/// past `Expires` on the fake's clock.
#[allow(clippy::result_large_err)] // an axum Response is the natural error of a handler helper
fn check_signed(
    shared: &Shared,
    name: &str,
    query: &HashMap<String, String>,
) -> Result<(), Response> {
    let (Some(expires), Some(key_id), Some(signature_given)) = (
        query.get("Expires"),
        query.get("OSSAccessKeyId"),
        query.get("Signature"),
    ) else {
        return Err(oss_error(
            "AccessDenied",
            "You have no right to access this object because of bucket acl.",
        ));
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return Err(oss_error("AccessDenied", "Invalid Expires."));
    };
    if key_id != OSS_ACCESS_KEY_ID || *signature_given != signature(shared, name, expires) {
        return Err(oss_error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    if shared.config.clock.now().timestamp() > expires {
        return Err(oss_error("AccessDenied", "Request has expired."));
    }
    Ok(())
}

/// What wanx video returns, in miniature: a real H.264 (baseline) MP4, 160x90, 2 s at 8 fps,
/// `moov` first. Made once with ffmpeg (see fixtures/README.md); ffmpeg is not needed to build
/// or test.
pub const DEMO_MP4: &[u8] = include_bytes!("../fixtures/demo.mp4");

/// Result files. Like the real OSS links they need no Authorization header: the signed
/// query is the permission.
async fn get_file(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Infallible> {
    if let Err(refused) = check_signed(&shared, &name, &query) {
        shared
            .stats
            .downloads_refused
            .fetch_add(1, Ordering::Relaxed);
        return Ok(refused);
    }
    if let Some(stem) = name.strip_suffix(".png") {
        let seed = stem.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        return Ok((
            [(header::CONTENT_TYPE, "image/png")],
            png::gradient(64, seed),
        )
            .into_response());
    }
    if name.ends_with(".mp4") {
        return Ok(([(header::CONTENT_TYPE, "video/mp4")], DEMO_MP4).into_response());
    }
    Ok(StatusCode::NOT_FOUND.into_response())
}
