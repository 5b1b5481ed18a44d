//! Local profiles: password login (argon2id), listing, the payment account link.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::error::{invalid, CoreError, CoreResult};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// A profile as the UI sees it; never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub server_account_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 128;

/// Usernames: 3–32 characters of letters (any script), digits, `_` or `-`.
pub fn validate_username(username: &str) -> CoreResult<()> {
    let n = username.chars().count();
    if !(3..=32).contains(&n) {
        return Err(invalid("username", "must be 3 to 32 characters"));
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid("username", "only letters, digits, _ and -"));
    }
    Ok(())
}

fn validate_password(password: &str) -> CoreResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(invalid("password", "must be at least 8 characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(invalid("password", "must be at most 128 characters"));
    }
    Ok(())
}

fn hash_password(password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| invalid("password", "cannot be hashed"))
}

fn row_to_profile(row: &sqlx::sqlite::SqliteRow) -> Result<Profile, sqlx::Error> {
    Ok(Profile {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        server_account_id: row.try_get("server_account_id")?,
        created_at: from_ms(row.try_get("created_at_ms")?),
    })
}

const PROFILE_COLUMNS: &str = "id, username, is_admin, server_account_id, created_at_ms";

/// Creates a profile with no credits and no membership.
pub async fn create_profile(
    db: &Database,
    username: &str,
    password: &str,
    is_admin: bool,
    now: DateTime<Utc>,
) -> CoreResult<Profile> {
    validate_username(username)?;
    validate_password(password)?;
    let hash = hash_password(password)?;
    let result = sqlx::query(
        "INSERT INTO profiles (username, password_hash, is_admin, created_at_ms)
         VALUES (?, ?, ?, ?) ON CONFLICT(username) DO NOTHING",
    )
    .bind(username)
    .bind(&hash)
    .bind(is_admin as i64)
    .bind(to_ms(now))
    .execute(db)
    .await?;
    if result.rows_affected() == 0 {
        return Err(CoreError::UsernameTaken);
    }
    get_profile(db, result.last_insert_rowid()).await
}

/// Checks a username and password; the same error for an unknown user and a wrong password.
/// Registers a profile from the sign-in page. The first profile of a data folder is its owner
/// (an admin: the one who changes AI models and keys); every later one is a writer. Decided in
/// the same statement as the insert, so two registrations at once cannot both become owner.
pub async fn register(
    db: &Database,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> CoreResult<Profile> {
    validate_username(username)?;
    validate_password(password)?;
    let hash = hash_password(password)?;
    let result = sqlx::query(
        "INSERT INTO profiles (username, password_hash, is_admin, created_at_ms)
         SELECT ?, ?, NOT EXISTS (SELECT 1 FROM profiles), ?
         WHERE true ON CONFLICT(username) DO NOTHING",
    )
    .bind(username)
    .bind(&hash)
    .bind(to_ms(now))
    .execute(db)
    .await?;
    if result.rows_affected() == 0 {
        return Err(CoreError::UsernameTaken);
    }
    get_profile(db, result.last_insert_rowid()).await
}

pub async fn login(db: &Database, username: &str, password: &str) -> CoreResult<Profile> {
    let row = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS}, password_hash FROM profiles WHERE username = ?"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Err(CoreError::BadCredentials);
    };
    let stored: String = row.try_get("password_hash")?;
    let parsed = PasswordHash::new(&stored).map_err(|_| CoreError::BadCredentials)?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| CoreError::BadCredentials)?;
    Ok(row_to_profile(&row)?)
}

pub async fn get_profile(db: &Database, profile_id: i64) -> CoreResult<Profile> {
    let row = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?"
    ))
    .bind(profile_id)
    .fetch_optional(db)
    .await?
    .ok_or(CoreError::UnknownProfile(profile_id))?;
    Ok(row_to_profile(&row)?)
}

pub async fn find_by_username(db: &Database, username: &str) -> CoreResult<Option<Profile>> {
    let row = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles WHERE username = ?"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?;
    Ok(row.as_ref().map(row_to_profile).transpose()?)
}

pub async fn list_profiles(db: &Database) -> CoreResult<Vec<Profile>> {
    let rows = sqlx::query(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles ORDER BY username"
    ))
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(row_to_profile).collect::<Result<_, _>>()?)
}

/// Links the profile to its account at the payment endpoint (set once, at first purchase).
pub async fn set_server_account(
    db: &Database,
    profile_id: i64,
    account_id: &str,
) -> CoreResult<()> {
    if account_id.is_empty() || account_id.len() > 128 || account_id.chars().any(char::is_control) {
        return Err(invalid(
            "account_id",
            "empty, too long or has control characters",
        ));
    }
    let r = sqlx::query("UPDATE profiles SET server_account_id = ? WHERE id = ?")
        .bind(account_id)
        .bind(profile_id)
        .execute(db)
        .await?;
    if r.rows_affected() == 0 {
        return Err(CoreError::UnknownProfile(profile_id));
    }
    Ok(())
}
