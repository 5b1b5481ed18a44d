//! Chat completions, streamed or not, from DashScope's native API or any
//! OpenAI-compatible endpoint, behind one [`ChatProvider`] trait.
//!
//! A stream is a spawned task feeding a channel. It watches the receiver:
//! when the caller drops the stream (the writer pressed stop), the task drops
//! the HTTP response at once, which closes the connection. Retries happen
//! only for retryable errors and only before the first token arrived.

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine;
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::QwenError;
use crate::sse::{self, Event};
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub connect_timeout: Duration,
    /// From sending the request to the response headers.
    pub first_byte_timeout: Duration,
    /// Silence allowed between two chunks of a stream.
    pub idle_timeout: Duration,
    /// Extra attempts for retryable errors before the first token.
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// First interval between task polls (doubles every 3 polls, up to 5×).
    pub task_poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            task_poll: Duration::from_secs(1),
        }
    }
}

impl Settings {
    /// Exponential backoff with full jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << attempt.min(10))
            .min(self.backoff_max);
        let jitter: f64 = rand::random();
        exp.mul_f64(0.5 + jitter / 2.0)
    }
}

/// An image for the vision models, checked by its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

impl ImageInput {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, QwenError> {
        let mime = validate::image_mime(&bytes)?;
        Ok(ImageInput { mime, bytes })
    }

    pub fn from_path(path: &Path) -> Result<Self, QwenError> {
        let meta = std::fs::metadata(path).map_err(|e| QwenError::InvalidInput {
            field: "image",
            reason: format!("cannot read the file: {e}"),
        })?;
        if meta.len() > validate::MAX_IMAGE_BYTES as u64 {
            return Err(QwenError::InvalidInput {
                field: "image",
                reason: "larger than 10 MB".into(),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| QwenError::InvalidInput {
            field: "image",
            reason: format!("cannot read the file: {e}"),
        })?;
        Self::from_bytes(bytes)
    }

    fn data_uri(&self) -> String {
        format!(
            "data:{};base64,{}",
            self.mime,
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// Images for vision models (user messages).
    pub images: Vec<ImageInput>,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.into(),
            content: content.into(),
            images: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChatParams {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u32>,
}

impl ChatParams {
    /// Sets the parameters that are set, under the names both APIs use (DashScope's
    /// `parameters` object and an OpenAI-compatible body spell them alike).
    fn write_into(&self, target: &mut Value) {
        if let Some(t) = self.temperature {
            target["temperature"] = json!(t);
        }
        if let Some(p) = self.top_p {
            target["top_p"] = json!(p);
        }
        if let Some(m) = self.max_tokens {
            target["max_tokens"] = json!(m);
        }
        if let Some(s) = self.seed {
            target["seed"] = json!(s);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    Delta(String),
    Usage {
        input_tokens: i64,
        output_tokens: i64,
    },
    Finished {
        reason: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatResponse {
    pub text: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub finish_reason: String,
}

pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, QwenError>> + Send>>;

pub trait ChatProvider: Send + Sync {
    /// Streams a completion. Dropping the stream closes the connection.
    fn chat_stream(&self, model: &str, messages: &[ChatMessage], params: &ChatParams)
        -> ChatStream;
    /// One completion, not streamed.
    fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
    ) -> BoxFuture<'static, Result<ChatResponse, QwenError>>;
}

fn http_client(settings: &Settings) -> Result<reqwest::Client, QwenError> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .user_agent(concat!("inkstone/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| QwenError::Network(e.to_string()))
}

fn check_request(model: &str, messages: &[ChatMessage]) -> Result<(), QwenError> {
    validate::model_name(model)?;
    if messages.is_empty()
        || messages
            .iter()
            .all(|m| m.content.trim().is_empty() && m.images.is_empty())
    {
        return Err(QwenError::InvalidInput {
            field: "messages",
            reason: "nothing to send".into(),
        });
    }
    Ok(())
}

/// A stream that only yields `err` (input refused before any request).
fn failed(err: QwenError) -> ChatStream {
    futures_util::stream::once(async move { Err(err) }).boxed()
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Dialect {
    Native { incremental: bool },
    OpenAi,
}

/// Spawns the producer; the receiver is the caller's stream.
fn spawn_stream(
    build: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
    dialect: Dialect,
    settings: Settings,
) -> ChatStream {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut attempt = 0;
        loop {
            match attempt_stream(&build, dialect, &settings, &tx).await {
                Ok(()) => return,
                Err((err, delivered)) => {
                    if !delivered && err.retryable() && attempt < settings.max_retries {
                        let wait = settings.backoff(attempt);
                        attempt += 1;
                        tracing::debug!(error = %err, ?wait, attempt, "retrying before the first token");
                        tokio::select! {
                            _ = tx.closed() => return,
                            _ = tokio::time::sleep(wait) => continue,
                        }
                    }
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

type Tx = mpsc::Sender<Result<ChatEvent, QwenError>>;

/// One request. `Err((error, delivered))` says whether any text reached the caller.
async fn attempt_stream(
    build: &(impl Fn() -> reqwest::RequestBuilder + Send + Sync),
    dialect: Dialect,
    settings: &Settings,
    tx: &Tx,
) -> Result<(), (QwenError, bool)> {
    let response = tokio::select! {
        _ = tx.closed() => return Ok(()),
        r = tokio::time::timeout(settings.first_byte_timeout, build().send()) => r,
    };
    let response = match response {
        Err(_) => {
            return Err((
                QwenError::Timeout("waiting for the service to answer"),
                false,
            ))
        }
        Ok(Err(e)) => return Err((network(e), false)),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    if !response.status().is_success() {
        let body = read_limited(response, settings).await;
        return Err((error_from_body(status, &body, dialect), false));
    }
    let mut body = response.bytes_stream();
    let mut parser = sse::Parser::new();
    let mut state = StreamState::default();
    let mut events = Vec::new();
    loop {
        let next = tokio::select! {
            _ = tx.closed() => return Ok(()),
            n = tokio::time::timeout(settings.idle_timeout, body.next()) => n,
        };
        match next {
            Err(_) => {
                return Err((
                    QwenError::Timeout("waiting for the next token"),
                    state.delivered,
                ))
            }
            Ok(None) => {
                parser.finish(&mut events);
                break;
            }
            Ok(Some(Err(e))) => return Err((network(e), state.delivered)),
            Ok(Some(Ok(bytes))) => parser.feed(&bytes, &mut events),
        }
        for event in events.drain(..) {
            match state.handle(event, dialect, tx).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err((e, state.delivered)),
            }
        }
    }
    for event in events.drain(..) {
        match state.handle(event, dialect, tx).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err((e, state.delivered)),
        }
    }
    // Some OpenAI-compatible servers end right after the finish reason.
    if let Some(reason) = state.finish_reason.take() {
        return state
            .end_openai(reason, tx)
            .await
            .map_err(|e| (e, state.delivered));
    }
    Err((QwenError::Truncated, state.delivered))
}

fn network(e: reqwest::Error) -> QwenError {
    if e.is_timeout() {
        QwenError::Timeout("connecting")
    } else {
        // Without the URL: it may carry a user's private endpoint.
        QwenError::Network(e.without_url().to_string())
    }
}

async fn read_limited(response: reqwest::Response, settings: &Settings) -> Vec<u8> {
    let mut out = Vec::new();
    let mut body = response.bytes_stream();
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout(settings.idle_timeout, body.next()).await {
        out.extend_from_slice(&chunk);
        if out.len() > 64 * 1024 {
            break;
        }
    }
    out
}

/// Errors come as a JSON body, an SSE body holding an error event, or the
/// OpenAI envelope.
fn error_from_body(status: u16, body: &[u8], dialect: Dialect) -> QwenError {
    let mut value: Option<Value> = serde_json::from_slice(body).ok();
    let mut status = status;
    if value.is_none() {
        let mut events = Vec::new();
        let mut p = sse::Parser::new();
        p.feed(body, &mut events);
        p.finish(&mut events);
        if let Some(e) = events.into_iter().next() {
            status = e.http_status.unwrap_or(status);
            value = serde_json::from_str(&e.data).ok();
        }
    }
    let Some(v) = value else {
        return QwenError::from_dashscope(status, "", "");
    };
    error_from_value(status, &v, dialect)
}

fn error_from_value(status: u16, v: &Value, _dialect: Dialect) -> QwenError {
    let (code, message) = match v.get("error") {
        Some(e) => (
            e.get("code")
                .and_then(Value::as_str)
                .or_else(|| e.get("type").and_then(Value::as_str))
                .unwrap_or(""),
            e.get("message").and_then(Value::as_str).unwrap_or(""),
        ),
        None => (
            v.get("code").and_then(Value::as_str).unwrap_or(""),
            v.get("message").and_then(Value::as_str).unwrap_or(""),
        ),
    };
    QwenError::from_dashscope(status, code, message)
}

#[derive(Default)]
struct StreamState {
    delivered: bool,
    cumulative: String,
    usage: Option<(i64, i64)>,
    finish_reason: Option<String>,
}

fn usage_of(v: &Value) -> Option<(i64, i64)> {
    let u = v.get("usage")?;
    let input = u
        .get("input_tokens")
        .or_else(|| u.get("prompt_tokens"))?
        .as_i64()?;
    let output = u
        .get("output_tokens")
        .or_else(|| u.get("completion_tokens"))?
        .as_i64()?;
    Some((input, output))
}

/// `message.content` as a string or as multimodal parts, or the text format's `output.text`.
fn native_content(output: &Value) -> (String, Option<String>) {
    let choice = output.pointer("/choices/0");
    let content = match choice.and_then(|c| c.pointer("/message/content")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => output
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    };
    let finish = choice
        .and_then(|c| c.get("finish_reason"))
        .or_else(|| output.get("finish_reason"))
        .and_then(Value::as_str)
        .filter(|f| *f != "null" && !f.is_empty())
        .map(str::to_string);
    (content, finish)
}

impl StreamState {
    async fn send_delta(&mut self, text: String, tx: &Tx) {
        if !text.is_empty() {
            self.delivered = true;
            let _ = tx.send(Ok(ChatEvent::Delta(text))).await;
        }
    }

    async fn send_end(&mut self, reason: String, tx: &Tx) {
        if let Some((input_tokens, output_tokens)) = self.usage {
            let _ = tx
                .send(Ok(ChatEvent::Usage {
                    input_tokens,
                    output_tokens,
                }))
                .await;
        }
        let _ = tx.send(Ok(ChatEvent::Finished { reason })).await;
    }

    /// The end of an OpenAI-compatible stream. A content filter that stopped the answer
    /// (`finish_reason: content_filter`) or an answer without a word is a failure, never a
    /// finished generation the writer pays for.
    async fn end_openai(&mut self, reason: String, tx: &Tx) -> Result<(), QwenError> {
        if reason == "content_filter" {
            return Err(QwenError::Moderation);
        }
        if !self.delivered {
            return Err(QwenError::EmptyAnswer);
        }
        self.send_end(reason, tx).await;
        Ok(())
    }

    /// Handles one event; `Ok(true)` when the stream is complete.
    async fn handle(&mut self, event: Event, dialect: Dialect, tx: &Tx) -> Result<bool, QwenError> {
        match dialect {
            Dialect::Native { incremental } => {
                let v: Value = serde_json::from_str(&event.data)
                    .map_err(|_| QwenError::Malformed("an event that is not JSON".into()))?;
                let status = event.http_status.unwrap_or(200);
                if event.event == "error"
                    || status >= 400
                    || (v.get("code").is_some() && v.get("output").is_none())
                {
                    return Err(error_from_value(
                        if status >= 400 { status } else { 500 },
                        &v,
                        dialect,
                    ));
                }
                let output = v
                    .get("output")
                    .ok_or_else(|| QwenError::Malformed("an event without output".into()))?;
                let (content, finish) = native_content(output);
                let delta = if incremental {
                    content
                } else {
                    // Cumulative frames repeat everything so far: send only what is new.
                    let new = content
                        .strip_prefix(self.cumulative.as_str())
                        .map(str::to_string);
                    let delta = new.unwrap_or_else(|| {
                        content
                            .chars()
                            .skip(self.cumulative.chars().count())
                            .collect()
                    });
                    self.cumulative = content;
                    delta
                };
                self.send_delta(delta, tx).await;
                if let Some(u) = usage_of(&v) {
                    self.usage = Some(u);
                }
                if let Some(reason) = finish {
                    self.send_end(reason, tx).await;
                    return Ok(true);
                }
                Ok(false)
            }
            Dialect::OpenAi => {
                if event.data.trim() == "[DONE]" {
                    let reason = self.finish_reason.take().ok_or(QwenError::Truncated)?;
                    self.end_openai(reason, tx).await?;
                    return Ok(true);
                }
                let v: Value = serde_json::from_str(&event.data)
                    .map_err(|_| QwenError::Malformed("a chunk that is not JSON".into()))?;
                if v.get("error").is_some() {
                    return Err(error_from_value(500, &v, dialect));
                }
                if let Some(u) = usage_of(&v) {
                    self.usage = Some(u);
                }
                if let Some(choice) = v.pointer("/choices/0") {
                    let text = choice
                        .pointer("/delta/content")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    self.send_delta(text, tx).await;
                    if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                        self.finish_reason = Some(reason.to_string());
                    }
                }
                Ok(false)
            }
        }
    }
}

/// Alibaba's DashScope, native protocol.
#[derive(Clone)]
pub struct DashScope {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) key: String,
    pub(crate) settings: Settings,
    incremental: bool,
}

impl std::fmt::Debug for DashScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("DashScope")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

pub const BEIJING: &str = "https://dashscope.aliyuncs.com";
pub const SINGAPORE: &str = "https://dashscope-intl.aliyuncs.com";

impl DashScope {
    /// `base_url` is the host, e.g. [`BEIJING`]; the API lives under `/api/v1`.
    pub fn new(base_url: &str, api_key: &str, settings: Settings) -> Result<Self, QwenError> {
        validate::api_key(api_key)?;
        let base = validate::base_url(base_url)?;
        Ok(DashScope {
            http: http_client(&settings)?,
            base,
            key: api_key.to_string(),
            settings,
            incremental: true,
        })
    }

    /// Ask for cumulative frames instead of incremental ones (the default
    /// of the service; kept for models and proxies that only do that).
    pub fn with_cumulative_output(mut self) -> Self {
        self.incremental = false;
        self
    }

    fn body(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
        stream: bool,
    ) -> (String, Value) {
        let vision = messages.iter().any(|m| !m.images.is_empty());
        let msgs: Vec<Value> = messages
            .iter()
            .map(|m| {
                if vision {
                    let mut parts: Vec<Value> = m
                        .images
                        .iter()
                        .map(|i| json!({"image": i.data_uri()}))
                        .collect();
                    parts.push(json!({"text": m.content}));
                    json!({"role": m.role, "content": parts})
                } else {
                    json!({"role": m.role, "content": m.content})
                }
            })
            .collect();
        let mut parameters = json!({"result_format": "message"});
        if stream {
            parameters["incremental_output"] = json!(self.incremental);
        }
        params.write_into(&mut parameters);
        let path = if vision {
            "multimodal-generation"
        } else {
            "text-generation"
        };
        let url = format!("{}/api/v1/services/aigc/{path}/generation", self.base);
        (
            url,
            json!({"model": model, "input": {"messages": msgs}, "parameters": parameters}),
        )
    }

    /// A one-token request: says whether the key, region and model work.
    pub async fn test_connection(&self, model: &str) -> Result<(), QwenError> {
        let params = ChatParams {
            max_tokens: Some(1),
            ..Default::default()
        };
        self.chat(model, &[ChatMessage::new("user", "ping")], &params)
            .await
            .map(|_| ())
    }
}

impl ChatProvider for DashScope {
    fn chat_stream(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
    ) -> ChatStream {
        if let Err(e) = check_request(model, messages) {
            return failed(e);
        }
        let (url, body) = self.body(model, messages, params, true);
        let (http, key) = (self.http.clone(), self.key.clone());
        let build = move || {
            http.post(&url)
                .bearer_auth(&key)
                .header("X-DashScope-SSE", "enable")
                .header("Accept", "text/event-stream")
                .json(&body)
        };
        spawn_stream(
            build,
            Dialect::Native {
                incremental: self.incremental,
            },
            self.settings,
        )
    }

    fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
    ) -> BoxFuture<'static, Result<ChatResponse, QwenError>> {
        let checked = check_request(model, messages);
        let (url, body) = self.body(model, messages, params, false);
        let (http, key, settings) = (self.http.clone(), self.key.clone(), self.settings);
        Box::pin(async move {
            checked?;
            let build = || http.post(&url).bearer_auth(&key).json(&body);
            let v = request_json(build, &settings, Dialect::Native { incremental: true }).await?;
            let output = v
                .get("output")
                .ok_or_else(|| QwenError::Malformed("no output".into()))?;
            let (text, finish) = native_content(output);
            let (input_tokens, output_tokens) = usage_of(&v).unwrap_or((0, 0));
            Ok(ChatResponse {
                text,
                input_tokens,
                output_tokens,
                finish_reason: finish.unwrap_or_default(),
            })
        })
    }
}

/// A plain JSON request with the same retry rules (nothing is delivered
/// before the answer, so every retryable error may be retried).
pub(crate) async fn request_json(
    build: impl Fn() -> reqwest::RequestBuilder,
    settings: &Settings,
    dialect: Dialect,
) -> Result<Value, QwenError> {
    let mut attempt = 0;
    loop {
        let result = async {
            let response = tokio::time::timeout(settings.first_byte_timeout, build().send())
                .await
                .map_err(|_| QwenError::Timeout("waiting for the service to answer"))?
                .map_err(network)?;
            let status = response.status().as_u16();
            let body = read_limited(response, settings).await;
            if !(200..300).contains(&status) {
                return Err(error_from_body(status, &body, dialect));
            }
            serde_json::from_slice::<Value>(&body)
                .map_err(|_| QwenError::Malformed("an answer that is not JSON".into()))
        }
        .await;
        match result {
            Err(e) if e.retryable() && attempt < settings.max_retries => {
                tokio::time::sleep(settings.backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Any OpenAI-compatible Chat Completions endpoint: DashScope's compatible
/// mode (`{host}/compatible-mode/v1`) or a local server.
#[derive(Clone)]
pub struct OpenAiCompatible {
    http: reqwest::Client,
    base: String,
    /// Its own key; `None` for a local server that needs none (no Authorization header).
    key: Option<String>,
    settings: Settings,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// `base_url` ends with the API version, e.g. `https://dashscope.aliyuncs.com/compatible-mode/v1`;
    /// https unless the server runs on this machine, so the key never crosses a network in clear.
    pub fn new(base_url: &str, api_key: &str, settings: Settings) -> Result<Self, QwenError> {
        validate::api_key(api_key)?;
        let base = validate::openai_base_url(base_url)?;
        Ok(OpenAiCompatible {
            http: http_client(&settings)?,
            base,
            key: Some(api_key.to_string()),
            settings,
        })
    }

    /// An endpoint that needs no key (a local server): no Authorization header is sent.
    pub fn without_key(base_url: &str, settings: Settings) -> Result<Self, QwenError> {
        let base = validate::openai_base_url(base_url)?;
        Ok(OpenAiCompatible {
            http: http_client(&settings)?,
            base,
            key: None,
            settings,
        })
    }

    fn body(model: &str, messages: &[ChatMessage], params: &ChatParams, stream: bool) -> Value {
        let msgs: Vec<Value> = messages
            .iter()
            .map(|m| {
                if m.images.is_empty() {
                    json!({"role": m.role, "content": m.content})
                } else {
                    let mut parts: Vec<Value> = m
                        .images
                        .iter()
                        .map(|i| json!({"type": "image_url", "image_url": {"url": i.data_uri()}}))
                        .collect();
                    parts.push(json!({"type": "text", "text": m.content}));
                    json!({"role": m.role, "content": parts})
                }
            })
            .collect();
        let mut body = json!({"model": model, "messages": msgs, "stream": stream});
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        params.write_into(&mut body);
        body
    }
}

impl ChatProvider for OpenAiCompatible {
    fn chat_stream(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
    ) -> ChatStream {
        if let Err(e) = check_request(model, messages) {
            return failed(e);
        }
        let url = format!("{}/chat/completions", self.base);
        let body = Self::body(model, messages, params, true);
        let (http, key) = (self.http.clone(), self.key.clone());
        let build = move || {
            let request = http.post(&url);
            let request = match &key {
                Some(key) => request.bearer_auth(key),
                None => request,
            };
            request.header("Accept", "text/event-stream").json(&body)
        };
        spawn_stream(build, Dialect::OpenAi, self.settings)
    }

    fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        params: &ChatParams,
    ) -> BoxFuture<'static, Result<ChatResponse, QwenError>> {
        let checked = check_request(model, messages);
        let url = format!("{}/chat/completions", self.base);
        let body = Self::body(model, messages, params, false);
        let (http, key, settings) = (self.http.clone(), self.key.clone(), self.settings);
        Box::pin(async move {
            checked?;
            let build = || {
                let request = http.post(&url);
                match &key {
                    Some(key) => request.bearer_auth(key),
                    None => request,
                }
                .json(&body)
            };
            let v = request_json(build, &settings, Dialect::OpenAi).await?;
            let text = v
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let finish = v
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if finish == "content_filter" {
                return Err(QwenError::Moderation);
            }
            let (input_tokens, output_tokens) = usage_of(&v).unwrap_or((0, 0));
            Ok(ChatResponse {
                text,
                input_tokens,
                output_tokens,
                finish_reason: finish,
            })
        })
    }
}
