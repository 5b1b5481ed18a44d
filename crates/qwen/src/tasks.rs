//! Image (wanx) and video synthesis: DashScope's async task pattern. Submit
//! with `X-DashScope-Async: enable`, poll `/api/v1/tasks/{id}` with backoff,
//! and download the results at once — their URLs expire.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::chat::{request_json, DashScope, Dialect};
use crate::error::QwenError;
use crate::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Image,
    Video,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub kind: TaskKind,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: Option<String>,
    /// `W*H`.
    pub size: String,
    /// Images per task (1–4); ignored for video.
    pub n: u32,
    /// wanx-v1 styles such as `<watercolor>`.
    pub style: Option<String>,
}

/// Largest result file accepted (a video can be large; a runaway body cannot).
pub const MAX_RESULT_BYTES: u64 = 500 * 1024 * 1024;

impl DashScope {
    /// Runs a task to the end and returns the downloaded files, in order.
    /// `progress` gets a percent and a short zh-CN note.
    pub async fn run_task(
        &self,
        request: &TaskRequest,
        dest_dir: &Path,
        progress: &mut (dyn FnMut(u8, String) + Send),
        cancel: &CancellationToken,
    ) -> Result<Vec<PathBuf>, QwenError> {
        validate::model_name(&request.model)?;
        if request.prompt.trim().is_empty() {
            return Err(QwenError::InvalidInput {
                field: "prompt",
                reason: "empty".into(),
            });
        }
        let (path, mut body) = match request.kind {
            TaskKind::Image => (
                "text2image/image-synthesis",
                json!({"model": request.model, "input": {"prompt": request.prompt},
                       "parameters": {"size": request.size, "n": request.n.clamp(1, 4)}}),
            ),
            TaskKind::Video => (
                "video-generation/video-synthesis",
                json!({"model": request.model, "input": {"prompt": request.prompt}, "parameters": {"size": request.size}}),
            ),
        };
        if let Some(neg) = &request.negative_prompt {
            body["input"]["negative_prompt"] = json!(neg);
        }
        if let Some(style) = &request.style {
            body["parameters"]["style"] = json!(style);
        }
        let url = format!("{}/api/v1/services/aigc/{path}", self.base);
        let created = request_json(
            || {
                self.http
                    .post(&url)
                    .bearer_auth(&self.key)
                    .header("X-DashScope-Async", "enable")
                    .json(&body)
            },
            &self.settings,
            Dialect::Native { incremental: true },
        )
        .await?;
        let task_id = created
            .pointer("/output/task_id")
            .and_then(Value::as_str)
            .ok_or_else(|| QwenError::Malformed("no task id".into()))?
            .to_string();
        progress(5, "已提交任务".into());

        let poll_url = format!("{}/api/v1/tasks/{task_id}", self.base);
        let mut interval = self.settings.task_poll;
        let cap = self.settings.task_poll * 5;
        let mut polls = 0u32;
        let done = loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    // Best effort: only a PENDING task can be cancelled.
                    let _ = self.http.post(format!("{poll_url}/cancel")).bearer_auth(&self.key).send().await;
                    return Err(QwenError::Cancelled);
                }
                _ = tokio::time::sleep(interval) => {}
            }
            polls += 1;
            if polls.is_multiple_of(3) {
                interval = (interval * 2).min(cap);
            }
            let v = request_json(
                || self.http.get(&poll_url).bearer_auth(&self.key),
                &self.settings,
                Dialect::Native { incremental: true },
            )
            .await?;
            let output = v.get("output").cloned().unwrap_or(Value::Null);
            match output
                .get("task_status")
                .and_then(Value::as_str)
                .unwrap_or("")
            {
                "PENDING" => progress(10, "排队中".into()),
                "RUNNING" | "SUSPENDED" => {
                    let pct = (10 + polls * 8).min(80) as u8;
                    progress(pct, "生成中".into());
                }
                "SUCCEEDED" => break output,
                "FAILED" => {
                    let code = output
                        .get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("TaskFailed");
                    let message = output.get("message").and_then(Value::as_str).unwrap_or("");
                    return Err(match QwenError::from_dashscope(400, code, message) {
                        QwenError::Moderation => QwenError::Moderation,
                        _ => QwenError::TaskFailed {
                            code: code.into(),
                            message: message.chars().take(300).collect(),
                        },
                    });
                }
                "CANCELED" => return Err(QwenError::Cancelled),
                "UNKNOWN" => return Err(QwenError::TaskExpired),
                other => return Err(QwenError::Malformed(format!("task status {other:?}"))),
            }
        };

        let mut urls: Vec<String> = Vec::new();
        if let Some(results) = done.get("results").and_then(Value::as_array) {
            urls.extend(
                results
                    .iter()
                    .filter_map(|r| r.get("url").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
        if let Some(video) = done.get("video_url").and_then(Value::as_str) {
            urls.push(video.to_string());
        }
        if urls.is_empty() {
            return Err(QwenError::TaskFailed {
                code: "NoResult".into(),
                message: "the task returned no result".into(),
            });
        }
        progress(90, "正在下载结果".into());
        tokio::fs::create_dir_all(dest_dir)
            .await
            .map_err(|e| QwenError::Network(format!("cannot create the result folder: {e}")))?;
        let mut files = Vec::with_capacity(urls.len());
        for (i, url) in urls.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(QwenError::Cancelled);
            }
            files.push(self.download(url, dest_dir, i, request.kind).await?);
        }
        progress(100, "完成".into());
        Ok(files)
    }

    async fn download(
        &self,
        url: &str,
        dir: &Path,
        index: usize,
        kind: TaskKind,
    ) -> Result<PathBuf, QwenError> {
        // OSS links carry their signature in the query (`Expires`, `OSSAccessKeyId`,
        // `Signature`); the check is only that this is a plain http(s) link to a host.
        let url = validate::result_url(url).map_err(|_| {
            QwenError::Malformed("a result URL that is not an http(s) link to a host".into())
        })?;
        // Result links are pre-signed: no Authorization header goes to the storage host.
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| QwenError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => {}
            // OSS answers 403 AccessDenied "Request has expired" after `Expires`.
            403 | 404 | 410 => return Err(QwenError::ResultExpired { status }),
            s if s >= 500 => {
                return Err(QwenError::Server {
                    code: s.to_string(),
                })
            }
            s => {
                return Err(QwenError::Malformed(format!(
                    "the result download answered HTTP {s}"
                )))
            }
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let ext = match (kind, content_type.as_str()) {
            (_, t) if t.contains("png") => "png",
            (_, t) if t.contains("jpeg") => "jpg",
            (_, t) if t.contains("webp") => "webp",
            (TaskKind::Video, _) => "mp4",
            (TaskKind::Image, _) => "png",
        };
        let path = dir.join(format!("{}.{ext}", index + 1));
        let partial = dir.join(format!(".{}.{ext}.part", index + 1));
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| QwenError::Network(format!("cannot save the result: {e}")))?;
        let mut body = response.bytes_stream();
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| QwenError::Network(e.without_url().to_string()))?;
            written += chunk.len() as u64;
            if written > MAX_RESULT_BYTES {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(QwenError::TooLarge);
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| QwenError::Network(format!("cannot save the result: {e}")))?;
        }
        file.flush()
            .await
            .map_err(|e| QwenError::Network(e.to_string()))?;
        drop(file);
        // Renamed only when complete: a half-downloaded file is never shown.
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| QwenError::Network(e.to_string()))?;
        Ok(path)
    }
}
