//! Provider errors, classified by the documented codes (never by message
//! text), each with words a writer understands in zh-CN and English.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QwenError {
    /// Occurs when input fails a check before any request is made.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("the API key was rejected")]
    InvalidApiKey,
    #[error("access denied ({code})")]
    AccessDenied { code: String },
    /// Rate limits that pass with time (retried before the first token).
    #[error("throttled ({code})")]
    Throttled { code: String },
    /// Quota or billing limits that do not pass by waiting.
    #[error("quota exhausted ({code})")]
    QuotaExhausted { code: String },
    #[error("the account is in arrears")]
    Arrearage,
    #[error("content moderation rejected the input or output")]
    Moderation,
    #[error("model not found")]
    ModelNotFound,
    #[error("request too large")]
    TooLarge,
    #[error("bad request ({code}): {message}")]
    BadRequest { code: String, message: String },
    /// Server-side failures that may pass (retried before the first token).
    #[error("service error ({code})")]
    Server { code: String },
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("network error: {0}")]
    Network(String),
    /// The stream ended before the model said it was finished.
    #[error("the stream ended before the model finished")]
    Truncated,
    #[error("unexpected answer from the service: {0}")]
    Malformed(String),
    #[error("the task failed ({code}): {message}")]
    TaskFailed { code: String, message: String },
    #[error("the task is no longer known to the service")]
    TaskExpired,
    /// Occurs when a finished task's result link is refused by its storage host (403/404:
    /// the signed link expired, typically 24 h after the task, or was withdrawn).
    #[error("the result link expired before the file was saved (HTTP {status})")]
    ResultExpired { status: u16 },
    /// Occurs when the model finished without a word of answer.
    #[error("the model returned an empty answer")]
    EmptyAnswer,
    #[error("cancelled")]
    Cancelled,
}

impl QwenError {
    /// Every `kind()` this type can return (the UI has text for each).
    pub const KINDS: &'static [&'static str] = &[
        "invalid_input",
        "invalid_api_key",
        "access_denied",
        "throttled",
        "quota_exhausted",
        "arrearage",
        "moderation",
        "model_not_found",
        "too_large",
        "bad_request",
        "service_error",
        "timeout",
        "network",
        "truncated",
        "malformed_response",
        "task_failed",
        "task_expired",
        "cancelled",
        "result_expired",
        "empty_answer",
    ];

    /// Stable machine name, stored in history and sent to the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::InvalidApiKey => "invalid_api_key",
            Self::AccessDenied { .. } => "access_denied",
            Self::Throttled { .. } => "throttled",
            Self::QuotaExhausted { .. } => "quota_exhausted",
            Self::Arrearage => "arrearage",
            Self::Moderation => "moderation",
            Self::ModelNotFound => "model_not_found",
            Self::TooLarge => "too_large",
            Self::BadRequest { .. } => "bad_request",
            Self::Server { .. } => "service_error",
            Self::Timeout(_) => "timeout",
            Self::Network(_) => "network",
            Self::Truncated => "truncated",
            Self::Malformed(_) => "malformed_response",
            Self::TaskFailed { .. } => "task_failed",
            Self::TaskExpired => "task_expired",
            Self::ResultExpired { .. } => "result_expired",
            Self::EmptyAnswer => "empty_answer",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether trying again later may succeed (only ever before the first token).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::Server { .. } | Self::Timeout(_) | Self::Network(_)
        )
    }

    /// What the writer is told, zh-CN first.
    pub fn user_message_zh(&self) -> String {
        match self {
            Self::InvalidInput { field, reason } => format!("输入有误（{field}）：{reason}"),
            Self::InvalidApiKey => {
                "API 密钥无效，请在“设置 › 密钥与模型”中检查 DashScope API Key。".into()
            }
            Self::AccessDenied { .. } => "没有访问该模型的权限，请在阿里云百炼控制台开通。".into(),
            Self::Throttled { .. } => "请求太频繁，请稍后再试。".into(),
            Self::QuotaExhausted { .. } => {
                "模型额度已用完或账单逾期，请到阿里云控制台处理。".into()
            }
            Self::Arrearage => "阿里云账户已欠费，请充值后再试。".into(),
            Self::Moderation => "内容未通过安全审核，请修改后再试。".into(),
            Self::ModelNotFound => "找不到该模型，请检查模型名称和所选地域。".into(),
            Self::TooLarge => "请求内容太大，请缩短文字或换一张较小的图片。".into(),
            Self::BadRequest { message, .. } => format!("请求参数有误：{message}"),
            Self::Server { .. } => "模型服务暂时出错，请稍后再试。".into(),
            Self::Timeout(_) => "连接模型服务超时，请检查网络后重试。".into(),
            Self::Network(_) => "网络连接失败，请检查网络后重试。".into(),
            Self::Truncated => "连接在生成完成前中断。".into(),
            Self::Malformed(_) => "模型服务返回了无法识别的数据。".into(),
            Self::TaskFailed { message, .. } => format!("生成任务失败：{message}"),
            Self::TaskExpired => "生成任务已过期，请重新生成。".into(),
            Self::ResultExpired { .. } => {
                "生成结果的下载链接已过期，文件没能保存；本次不扣积分，请重新生成。".into()
            }
            Self::EmptyAnswer => "模型没有返回任何内容；本次不扣积分，请重试。".into(),
            Self::Cancelled => "已停止。".into(),
        }
    }

    pub fn user_message_en(&self) -> String {
        match self {
            Self::InvalidInput { field, reason } => format!("Invalid {field}: {reason}"),
            Self::InvalidApiKey => {
                "The API key is invalid. Check your DashScope API key in Settings › Keys & models."
                    .into()
            }
            Self::AccessDenied { .. } => {
                "No access to this model. Enable it in the Model Studio console.".into()
            }
            Self::Throttled { .. } => "Too many requests. Please try again shortly.".into(),
            Self::QuotaExhausted { .. } => {
                "The model quota is used up or a bill is overdue.".into()
            }
            Self::Arrearage => {
                "The Alibaba Cloud account is in arrears. Top it up and try again.".into()
            }
            Self::Moderation => {
                "The content did not pass the safety review. Please rephrase.".into()
            }
            Self::ModelNotFound => "Model not found. Check the model name and region.".into(),
            Self::TooLarge => {
                "The request is too large. Shorten the text or use a smaller image.".into()
            }
            Self::BadRequest { message, .. } => format!("Bad request: {message}"),
            Self::Server { .. } => "The model service had an error. Please try again.".into(),
            Self::Timeout(_) => "The model service timed out. Check your network and retry.".into(),
            Self::Network(_) => "Network error. Check your connection and retry.".into(),
            Self::Truncated => "The connection ended before the text was finished.".into(),
            Self::Malformed(_) => "The model service sent something unexpected.".into(),
            Self::TaskFailed { message, .. } => format!("The generation task failed: {message}"),
            Self::TaskExpired => "The task expired. Please generate again.".into(),
            Self::ResultExpired { .. } => {
                "The result's download link expired before the file was saved. You were not charged; please generate again.".into()
            }
            Self::EmptyAnswer => {
                "The model returned an empty answer. You were not charged; please try again.".into()
            }
            Self::Cancelled => "Stopped.".into(),
        }
    }

    /// Maps a DashScope error code and HTTP status (section 7 of the notes).
    pub fn from_dashscope(status: u16, code: &str, message: &str) -> Self {
        match code {
            "InvalidApiKey" | "invalid_api_key" => Self::InvalidApiKey,
            "DataInspectionFailed" | "data_inspection_failed" => Self::Moderation,
            "Arrearage" => Self::Arrearage,
            "ModelNotFound" | "model_not_found" => Self::ModelNotFound,
            "BadRequest.TooLarge" => Self::TooLarge,
            "Throttling.AllocationQuota"
            | "PrepaidBillOverdue"
            | "PostpaidBillOverdue"
            | "CommodityNotPurchased"
            | "insufficient_quota" => Self::QuotaExhausted { code: code.into() },
            c if c.starts_with("Throttling") || c == "limit_requests" => {
                Self::Throttled { code: c.into() }
            }
            c if c.starts_with("AccessDenied") || c.ends_with(".AccessDenied") => {
                Self::AccessDenied { code: c.into() }
            }
            "InvalidParameter" if message.contains("Model not exist") => Self::ModelNotFound,
            "RequestTimeOut" => Self::Timeout("waiting for the service"),
            "ModelUnavailable" | "SystemError" | "internal_error" => {
                Self::Server { code: code.into() }
            }
            c if c.starts_with("InternalError") => Self::Server { code: c.into() },
            _ => match status {
                401 => Self::InvalidApiKey,
                403 => Self::AccessDenied { code: code.into() },
                404 => Self::ModelNotFound,
                408 => Self::Timeout("waiting for the service"),
                413 => Self::TooLarge,
                429 => Self::Throttled { code: code.into() },
                s if s >= 500 => Self::Server {
                    code: if code.is_empty() {
                        s.to_string()
                    } else {
                        code.into()
                    },
                },
                _ => Self::BadRequest {
                    code: code.into(),
                    message: message.chars().take(300).collect(),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::QwenError;

    #[test]
    fn documented_codes_map_to_types_and_retry_rules() {
        let cases = [
            (401, "InvalidApiKey", "invalid_api_key", false),
            (429, "Throttling.RateQuota", "throttled", true),
            (429, "Throttling.AllocationQuota", "quota_exhausted", false),
            (429, "PrepaidBillOverdue", "quota_exhausted", false),
            (400, "DataInspectionFailed", "moderation", false),
            (400, "Arrearage", "arrearage", false),
            (400, "InvalidParameter", "bad_request", false),
            (404, "ModelNotFound", "model_not_found", false),
            (403, "Model.AccessDenied", "access_denied", false),
            (500, "InternalError.Algo", "service_error", true),
            (503, "ModelUnavailable", "service_error", true),
            (408, "RequestTimeOut", "timeout", true),
            (413, "BadRequest.TooLarge", "too_large", false),
        ];
        for (status, code, kind, retry) in cases {
            let e = QwenError::from_dashscope(status, code, "");
            assert_eq!((e.kind(), e.retryable()), (kind, retry), "{code}");
            assert!(!e.user_message_zh().is_empty() && !e.user_message_en().is_empty());
        }
        assert_eq!(
            QwenError::from_dashscope(400, "InvalidParameter", "Model not exist.").kind(),
            "model_not_found"
        );
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn kinds_lists_exactly_what_kind_returns() {
        let s = || String::from("x");
        let all = [
            QwenError::InvalidInput {
                field: "f",
                reason: s(),
            },
            QwenError::InvalidApiKey,
            QwenError::AccessDenied { code: s() },
            QwenError::Throttled { code: s() },
            QwenError::QuotaExhausted { code: s() },
            QwenError::Arrearage,
            QwenError::Moderation,
            QwenError::ModelNotFound,
            QwenError::TooLarge,
            QwenError::BadRequest {
                code: s(),
                message: s(),
            },
            QwenError::Server { code: s() },
            QwenError::Timeout("t"),
            QwenError::Network(s()),
            QwenError::Truncated,
            QwenError::Malformed(s()),
            QwenError::TaskFailed {
                code: s(),
                message: s(),
            },
            QwenError::TaskExpired,
            QwenError::Cancelled,
            QwenError::ResultExpired { status: 403 },
            QwenError::EmptyAnswer,
        ];
        // No wildcard: a new variant fails to compile here until it has a sample above.
        for e in &all {
            match e {
                QwenError::InvalidInput { .. }
                | QwenError::InvalidApiKey
                | QwenError::AccessDenied { .. }
                | QwenError::Throttled { .. }
                | QwenError::QuotaExhausted { .. }
                | QwenError::Arrearage
                | QwenError::Moderation
                | QwenError::ModelNotFound
                | QwenError::TooLarge
                | QwenError::BadRequest { .. }
                | QwenError::Server { .. }
                | QwenError::Timeout(_)
                | QwenError::Network(_)
                | QwenError::Truncated
                | QwenError::Malformed(_)
                | QwenError::TaskFailed { .. }
                | QwenError::TaskExpired
                | QwenError::Cancelled
                | QwenError::ResultExpired { .. }
                | QwenError::EmptyAnswer => {}
            }
        }
        let returned: std::collections::BTreeSet<&str> = all.iter().map(QwenError::kind).collect();
        let listed: std::collections::BTreeSet<&str> = QwenError::KINDS.iter().copied().collect();
        assert_eq!(returned, listed);
    }
}
