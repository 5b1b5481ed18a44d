//! Signing back in to a purchase account (issue 14). The writer gives the account a name and a
//! password (`PUT /v1/account/credentials`, authenticated); the server keeps an argon2id hash
//! and a one-time recovery code as SHA-256, and `POST /v1/sessions` answers a right name and
//! password, or the recovery code (spent by its use), with a fresh token. Failed attempts are
//! counted per account name and per client address in the database (shared by every
//! instance); after 5 in a row each further attempt waits, the wait doubling.
//! `GET /v1/account` says which account a token belongs to and whether it has purchases;
//! `POST /v1/sessions/revoke` signs out everywhere.

use std::net::SocketAddr;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rand::RngCore;
use serde::Deserialize;

use crate::app::{account, ip_of, new_token, token_hash, AppState};
use crate::error::ApiError;
use crate::orders::now_ms;

/// Failed attempts in a row on one account name before each further one waits.
pub const FREE_ATTEMPTS: i64 = 5;
/// The same from one client address, over every name it tries: more, since many writers can
/// share an address (an office, a carrier's NAT), yet bounded, so one address cannot walk
/// through many names.
pub const FREE_ATTEMPTS_PER_ADDRESS: i64 = 20;
const FIRST_DELAY_MS: i64 = 30_000;
const MAX_DELAY_MS: i64 = 3_600_000;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;
const MAX_NAME_CHARS: usize = 64;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/account", get(get_account))
        .route("/v1/account/credentials", put(set_credentials))
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/revoke", post(revoke_sessions))
}

/// When the next attempt may come after `failures` failures in a row at `now_ms`, when
/// `free` are allowed without waiting.
pub fn locked_until(failures: i64, free: i64, now_ms: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).clamp(0, 20) as u32;
    now_ms.saturating_add(
        FIRST_DELAY_MS
            .saturating_mul(1 << doublings)
            .min(MAX_DELAY_MS),
    )
}

/// An account name as stored and compared: trimmed, lower case; 1–64 characters with no
/// control characters (an e-mail address or free text).
pub fn normalize_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim().to_lowercase();
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "the account name must be 1 to 64 characters without control characters".into(),
        ));
    }
    Ok(name)
}

fn check_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(ApiError::BadRequest(
            "the password must be 8 to 128 characters".into(),
        ));
    }
    Ok(())
}

/// 128 random bits as 32 hex characters in groups of 4: easy to print and to type.
fn new_recovery_code() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let hex = hex::encode_upper(bytes);
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The recovery code as hashed: spaces and dashes dropped, upper case.
fn recovery_digest(code: &str) -> Option<String> {
    let clean: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_uppercase();
    (clean.len() == 32 && clean.bytes().all(|b| b.is_ascii_hexdigit())).then(|| token_hash(&clean))
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))
}

async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[derive(Deserialize)]
struct Credentials {
    login_name: String,
    password: String,
}

/// Sets (or replaces) the account's name and password and issues a new one-time recovery code,
/// shown once. A name another account uses is `name_taken` and changes nothing.
async fn set_credentials(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Json(body): Json<Credentials>,
) -> Result<Response, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let name = normalize_name(&body.login_name)?;
    check_password(&body.password)?;
    let taken: Option<String> =
        sqlx::query_scalar("SELECT account_id FROM account_credentials WHERE login_name = $1")
            .bind(&name)
            .fetch_optional(&s.db)
            .await?;
    if taken.is_some_and(|other| other != account_id) {
        return Err(ApiError::NameTaken);
    }
    let hash = hash_password(body.password).await?;
    let code = new_recovery_code();
    let digest =
        recovery_digest(&code).ok_or_else(|| ApiError::Internal("recovery code".into()))?;
    let result = sqlx::query(
        "INSERT INTO account_credentials (account_id, login_name, password_hash, recovery_sha256, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET login_name = excluded.login_name,
             password_hash = excluded.password_hash, recovery_sha256 = excluded.recovery_sha256,
             updated_at_ms = excluded.updated_at_ms",
    )
    .bind(&account_id)
    .bind(&name)
    .bind(&hash)
    .bind(&digest)
    .bind(now_ms())
    .execute(&s.db)
    .await;
    match result {
        Ok(_) => {}
        // Two accounts taking one name at once: the unique index decides.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::NameTaken)
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(serde_json::json!({
        "account_id": account_id,
        "login_name": name,
        "recovery_code": code,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct SignIn {
    login_name: Option<String>,
    password: Option<String>,
    recovery_code: Option<String>,
}

async fn check_locks(s: &AppState, keys: &[String], now: i64) -> Result<(), ApiError> {
    for key in keys {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT locked_until_ms FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&s.db)
                .await?;
        if let Some(until) = until.filter(|u| *u > now) {
            return Err(ApiError::TooManyAttempts {
                retry_after_secs: (until - now + 999) / 1000,
            });
        }
    }
    Ok(())
}

async fn record_failure(s: &AppState, keys: &[String], now: i64) -> Result<(), ApiError> {
    for key in keys {
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO sign_in_failures (key, failures, locked_until_ms, updated_at_ms)
             VALUES ($1, 1, 0, $2)
             ON CONFLICT (key) DO UPDATE SET failures = sign_in_failures.failures + 1,
                 updated_at_ms = excluded.updated_at_ms
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .fetch_one(&s.db)
        .await?;
        sqlx::query("UPDATE sign_in_failures SET locked_until_ms = $1 WHERE key = $2")
            .bind(locked_until(
                failures,
                if key.starts_with("ip:") {
                    FREE_ATTEMPTS_PER_ADDRESS
                } else {
                    FREE_ATTEMPTS
                },
                now,
            ))
            .bind(key)
            .execute(&s.db)
            .await?;
    }
    Ok(())
}

async fn clear_failures(s: &AppState, keys: &[String]) -> Result<(), ApiError> {
    for key in keys {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&s.db)
            .await?;
    }
    Ok(())
}

/// Signs in with a name and password, or with the recovery code (spent by this use), and
/// answers with a fresh token. Wrong answers count against the name and the address.
async fn create_session(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    connect: ConnectInfo<SocketAddr>,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    s.allow(format!("sessions:{}", ip_of(&s, &headers, &connect)), 60)?;
    let now = now_ms();
    let ip_key = format!("ip:{}", ip_of(&s, &headers, &connect));
    let (keys, account_id) = match (&body.login_name, &body.password, &body.recovery_code) {
        (Some(name), Some(password), None) => {
            let name = normalize_name(name)?;
            let keys = vec![format!("name:{name}"), ip_key];
            check_locks(&s, &keys, now).await?;
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT account_id, password_hash FROM account_credentials WHERE login_name = $1",
            )
            .bind(&name)
            .fetch_optional(&s.db)
            .await?;
            // An unknown name costs the same hashing as a wrong password.
            let (id, stored) = row.unwrap_or_else(|| (String::new(), DUMMY_HASH.to_string()));
            let ok = verify_password(password.clone(), stored).await && !id.is_empty();
            (keys, ok.then_some(id))
        }
        (None, None, Some(code)) => {
            let keys = vec![ip_key];
            check_locks(&s, &keys, now).await?;
            let id =
                match recovery_digest(code) {
                    // Spent on use: the UPDATE ... RETURNING makes two uses at once one.
                    Some(digest) => sqlx::query_scalar(
                        "UPDATE account_credentials SET recovery_sha256 = NULL, updated_at_ms = $2
                     WHERE recovery_sha256 = $1 RETURNING account_id",
                    )
                    .bind(&digest)
                    .bind(now)
                    .fetch_optional(&s.db)
                    .await?,
                    None => None,
                };
            (keys, id)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give login_name and password, or recovery_code".into(),
            ))
        }
    };
    let Some(account_id) = account_id else {
        record_failure(&s, &keys, now).await?;
        return Err(ApiError::BadCredentials);
    };
    clear_failures(&s, &keys[..1]).await?;
    let token = new_token();
    sqlx::query(
        "INSERT INTO account_sessions (token_sha256, account_id, created_at_ms) VALUES ($1, $2, $3)",
    )
    .bind(token_hash(&token))
    .bind(&account_id)
    .bind(now)
    .execute(&s.db)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"account_id": account_id, "token": token})),
    )
        .into_response())
}

/// A valid argon2id hash of a random password, verified against when the name is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jm2p0jGq0QeJcJmJ0i3q2b1Zq1n7qXkzQ2b4mM7cWkQ";

/// Which account the token belongs to, its name, and whether it has purchases (the desktop
/// checks this before every purchase and before replacing a token).
async fn get_account(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    let name: Option<String> =
        sqlx::query_scalar("SELECT login_name FROM account_credentials WHERE account_id = $1")
            .bind(&account_id)
            .fetch_optional(&s.db)
            .await?;
    let purchases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE account_id = $1")
        .bind(&account_id)
        .fetch_one(&s.db)
        .await?;
    Ok(Json(serde_json::json!({
        "account_id": account_id,
        "login_name": name,
        "has_credentials": name.is_some(),
        "purchases": purchases,
    })))
}

/// Signs out everywhere: every token of the account stops working, this one included.
async fn revoke_sessions(
    State(s): State<AppState>,
    headers: HeaderMap,
    connect: ConnectInfo<SocketAddr>,
) -> Result<StatusCode, ApiError> {
    let account_id = account(&s, &headers, &connect).await?;
    sqlx::query("DELETE FROM account_sessions WHERE account_id = $1")
        .bind(&account_id)
        .execute(&s.db)
        .await?;
    // The registration token is replaced by the hash of a token nobody was given.
    sqlx::query("UPDATE accounts SET token_sha256 = $1 WHERE id = $2")
        .bind(token_hash(&new_token()))
        .bind(&account_id)
        .execute(&s.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_wait_from_the_fifth_failure_doubling_up_to_an_hour() {
        for n in 0..FREE_ATTEMPTS {
            assert_eq!(locked_until(n, FREE_ATTEMPTS, 1_000), 0);
        }
        assert_eq!(locked_until(5, FREE_ATTEMPTS, 1_000), 31_000);
        assert_eq!(locked_until(6, FREE_ATTEMPTS, 1_000), 61_000);
        assert_eq!(locked_until(19, FREE_ATTEMPTS_PER_ADDRESS, 1_000), 0);
        assert_eq!(locked_until(20, FREE_ATTEMPTS_PER_ADDRESS, 1_000), 31_000);
        assert_eq!(
            locked_until(1_000, FREE_ATTEMPTS, 1_000),
            1_000 + MAX_DELAY_MS
        );
        assert_eq!(locked_until(i64::MAX, FREE_ATTEMPTS, i64::MAX), i64::MAX);
    }

    #[test]
    fn names_are_trimmed_lowercased_and_bounded() {
        assert_eq!(
            normalize_name("  Writer@Example.com ").unwrap(),
            "writer@example.com"
        );
        assert_eq!(normalize_name("墨砚 作者").unwrap(), "墨砚 作者");
        for bad in ["", "   ", "a\u{0}b", &"x".repeat(65)] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recovery_codes_are_128_bits_and_typed_loosely() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 39);
        let digest = recovery_digest(&code).unwrap();
        assert_eq!(
            recovery_digest(&code.to_lowercase().replace('-', " ")),
            Some(digest)
        );
        for bad in ["", "1234", &"G".repeat(32), &"A".repeat(33)] {
            assert_eq!(recovery_digest(bad), None);
        }
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    proptest::proptest! {
        /// Names, recovery codes and installation ids come from anyone: no input panics, and
        /// what is kept is bounded.
        #[test]
        fn outside_strings_never_panic_and_stay_bounded(input in ".{0,300}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for text in [input.as_str(), lossy.as_str()] {
                if let Ok(name) = normalize_name(text) {
                    proptest::prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
                }
                if let Some(digest) = recovery_digest(text) {
                    proptest::prop_assert_eq!(digest.len(), 64);
                }
                let _ = crate::claims::check_installation_id(text);
            }
        }
    }
}
