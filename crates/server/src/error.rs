use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

tokio::task_local! {
    /// The id of the request being handled (see `app::limits`): every error answer
    /// carries it, and the log line with the details names it.
    pub static REQUEST_ID: String;
}

/// The current request's id, if inside one.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Everything a route can answer with other than success. Details of
/// internal and provider failures stay in the logs.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid account token")]
    Unauthorized,
    /// Also used for another account's order: existence is not revealed.
    #[error("not found")]
    NotFound,
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("the order is no longer pending")]
    Conflict,
    #[error("too many requests")]
    RateLimited,
    /// Too many pending orders for one account.
    #[error("too many pending orders: pay or cancel one first")]
    TooManyPending,
    #[error("notification rejected: {0}")]
    Rejected(String),
    /// The payment provider could not be reached, refused, or answered something we
    /// cannot trust. The text is for the log only; the client gets the kind.
    #[error("payment provider error")]
    Provider(String),
    #[error("the request took too long")]
    Timeout,
    #[error("the request body is too large")]
    TooLarge,
    #[error("internal error")]
    Internal(String),
    /// Occurs when an account name and password (or a recovery code) sign in to no account.
    #[error("wrong account name or password")]
    BadCredentials,
    /// Occurs when a sign-in comes while the wait after 5 failures in a row runs.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    /// Occurs when another account already uses the account name asked for.
    #[error("this account name is taken")]
    NameTaken,
}

impl ApiError {
    /// The detail kept out of answers (provider and internal failures), for the
    /// operator's command line and the log.
    pub fn detail(&self) -> &str {
        match self {
            ApiError::Provider(d) | ApiError::Internal(d) | ApiError::BadRequest(d) => d,
            ApiError::Rejected(d) => d,
            _ => "",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict => "conflict",
            ApiError::RateLimited => "rate_limited",
            ApiError::TooManyPending => "too_many_pending_orders",
            ApiError::Rejected(_) => "rejected",
            ApiError::Provider(_) => "provider_error",
            ApiError::Timeout => "timeout",
            ApiError::TooLarge => "too_large",
            ApiError::Internal(_) => "internal",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::NameTaken => "name_taken",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // A provider transaction id already paying another order (the unique index of
        // migration 0002): refused evidence, not a server fault.
        if let Some(db) = e.as_database_error() {
            if db.is_unique_violation() && db.message().contains("provider_txn") {
                return ApiError::Rejected("provider transaction already used".into());
            }
        }
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id().unwrap_or_default();
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Rejected(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::RateLimited | ApiError::TooManyPending | ApiError::TooManyAttempts { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::NameTaken => StatusCode::CONFLICT,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Provider(detail) => {
                tracing::warn!(%detail, %request_id, "payment provider error");
                StatusCode::BAD_GATEWAY
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, %request_id, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        // Display never includes the detail of Internal or Provider.
        let message = self.to_string();
        let mut body =
            serde_json::json!({"kind": self.kind(), "message": message, "request_id": request_id});
        if let ApiError::TooManyAttempts { retry_after_secs } = &self {
            body["retry_after_secs"] = (*retry_after_secs).into();
        }
        (status, Json(body)).into_response()
    }
}
