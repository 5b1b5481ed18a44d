use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Everything a route can answer with other than success. Details of
/// internal failures stay in the logs.
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
    #[error("notification rejected: {0}")]
    Rejected(String),
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
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict => "conflict",
            ApiError::RateLimited => "rate_limited",
            ApiError::Rejected(_) => "rejected",
            ApiError::Internal(_) => "internal",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::NameTaken => "name_taken",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Rejected(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::RateLimited | ApiError::TooManyAttempts { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::NameTaken => StatusCode::CONFLICT,
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            ApiError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        let mut body = serde_json::json!({"kind": self.kind(), "message": message});
        if let ApiError::TooManyAttempts { retry_after_secs } = &self {
            body["retry_after_secs"] = (*retry_after_secs).into();
        }
        (status, Json(body)).into_response()
    }
}
