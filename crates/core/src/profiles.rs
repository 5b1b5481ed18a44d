//! Local profiles: password sign-in (argon2id, slowed down after 5 failures), the first
//! profile as the computer's owner, password changes, deletion, the payment account link.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use inkstone_domain::{GenerationId, ProfileId};
use serde::Serialize;
use sqlx::Row;

use crate::error::{invalid, CoreError, CoreResult};
use crate::generations::InputFile;
use crate::ledger::begin_write;
use crate::sign_in;
use crate::time::{from_ms, to_ms};
use crate::{Clock, Database};

/// A profile as the UI sees it; never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub id: ProfileId,
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
    get_profile(db, ProfileId::new(result.last_insert_rowid())).await
}

/// Checks a username and password, without counting failures (see [`sign_in`]); the same
/// error for an unknown user and a wrong password.
async fn verify(db: &Database, username: &str, password: &str) -> CoreResult<Profile> {
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

/// Checks a username and password, slowed down after 5 failures in a row on that name
/// (see [`crate::sign_in`]): while the delay runs, even the right password gets
/// `too_many_attempts`. The same error for an unknown user and a wrong password.
pub async fn sign_in(
    db: &Database,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> CoreResult<Profile> {
    // A name that cannot exist is never counted: it can match nothing, and the table of
    // failures stays bounded by what a profile name can be.
    if validate_username(username).is_err() {
        return Err(CoreError::BadCredentials);
    }
    sign_in::check_not_locked(db, username, now).await?;
    match verify(db, username, password).await {
        Ok(profile) => {
            sign_in::clear_failures(db, username).await?;
            Ok(profile)
        }
        Err(CoreError::BadCredentials) => {
            sign_in::record_failure(db, username, now).await?;
            Err(CoreError::BadCredentials)
        }
        Err(other) => Err(other),
    }
}

/// [`sign_in`] on the system clock (kept for callers that have no clock of their own).
pub async fn login(db: &Database, username: &str, password: &str) -> CoreResult<Profile> {
    sign_in(db, username, password, Clock::system().now()).await
}

/// Creates a profile from the welcome or sign-in page. The first profile on this computer is
/// its owner (sees every profile's statistics, manages AI models); the check and the insert
/// are one statement, so two first profiles at once cannot both be owners.
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
    get_profile(db, ProfileId::new(result.last_insert_rowid())).await
}

/// Whether any profile exists (none: the app shows its welcome page).
pub async fn any_profile(db: &Database) -> CoreResult<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM profiles)")
        .fetch_one(db)
        .await?)
}

/// Replaces the password after checking the current one (slowed down like signing in).
/// Every remembered session of the profile is forgotten: a stolen one stops working.
pub async fn change_password(
    db: &Database,
    profile_id: ProfileId,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    validate_password(new)?;
    let me = get_profile(db, profile_id).await?;
    sign_in(db, &me.username, current, now).await?;
    let hash = hash_password(new)?;
    let mut tx = begin_write(db).await?;
    sqlx::query("UPDATE profiles SET password_hash = ? WHERE id = ?")
        .bind(&hash)
        .bind(profile_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM remembered_sessions WHERE profile_id = ?")
        .bind(profile_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What deleting a profile left for the caller to remove outside the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedProfile {
    pub profile_id: ProfileId,
    pub username: String,
    /// Files (generated, or kept inputs) that no remaining generation refers to.
    pub files: Vec<String>,
    /// The profile that became the owner, when the owner was deleted and others remain.
    pub new_owner: Option<ProfileId>,
}

/// Deletes a profile and everything it owns in the database: history, its ledger, bonus lots,
/// purchases, orders, remembered sessions. `confirmation` must be the profile's name typed
/// again, and `password` its password (slowed down like signing in); otherwise nothing
/// changes. When the owner goes, the oldest remaining profile becomes the owner.
pub async fn delete_profile(
    db: &Database,
    profile_id: ProfileId,
    password: &str,
    confirmation: &str,
    now: DateTime<Utc>,
) -> CoreResult<DeletedProfile> {
    let me = get_profile(db, profile_id).await?;
    if confirmation.trim() != me.username {
        return Err(CoreError::ConfirmationMismatch);
    }
    sign_in(db, &me.username, password, now).await?;

    let mut tx = begin_write(db).await?;
    let rows =
        sqlx::query("SELECT id, files_json, inputs_json FROM generations WHERE profile_id = ?")
            .bind(profile_id)
            .fetch_all(&mut *tx)
            .await?;
    let mut candidates = Vec::new();
    for row in &rows {
        let files: Vec<String> =
            serde_json::from_str(row.try_get("files_json")?).unwrap_or_default();
        let inputs: Vec<InputFile> =
            serde_json::from_str(row.try_get("inputs_json")?).unwrap_or_default();
        candidates.extend(files);
        candidates.extend(inputs.into_iter().map(|i| i.path));
        sqlx::query("DELETE FROM generations_fts WHERE rowid = ?")
            .bind(row.try_get::<GenerationId, _>("id")?)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO profile_deletions (profile_id) VALUES (?)")
        .bind(profile_id)
        .execute(&mut *tx)
        .await?;
    for statement in [
        "UPDATE generations SET regenerated_from = NULL WHERE regenerated_from IN
             (SELECT id FROM generations WHERE profile_id = ?1)",
        "DELETE FROM generations WHERE profile_id = ?1",
        "DELETE FROM bonus_lots WHERE profile_id = ?1",
        "DELETE FROM credit_transactions WHERE profile_id = ?1",
        "DELETE FROM purchases WHERE profile_id = ?1",
        "DELETE FROM orders WHERE profile_id = ?1",
        "DELETE FROM remembered_sessions WHERE profile_id = ?1",
        "DELETE FROM profiles WHERE id = ?1",
        "DELETE FROM profile_deletions WHERE profile_id = ?1",
    ] {
        sqlx::query(statement)
            .bind(profile_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM sign_in_failures WHERE username = ?")
        .bind(&me.username)
        .execute(&mut *tx)
        .await?;
    let new_owner = if me.is_admin {
        let next: Option<ProfileId> = sqlx::query_scalar(
            "UPDATE profiles SET is_admin = 1 WHERE id =
                 (SELECT id FROM profiles ORDER BY created_at_ms, id LIMIT 1)
                 AND NOT EXISTS (SELECT 1 FROM profiles WHERE is_admin = 1)
             RETURNING id",
        )
        .fetch_optional(&mut *tx)
        .await?;
        next
    } else {
        None
    };
    // Kept inputs are content-addressed: another profile's run may share one.
    let mut files = Vec::new();
    candidates.sort();
    candidates.dedup();
    for path in candidates {
        let shared: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM generations g, json_each(g.files_json) f
                            WHERE f.value = ?1)
                 OR EXISTS (SELECT 1 FROM generations g, json_each(g.inputs_json) i
                            WHERE json_extract(i.value, '$.path') = ?1)",
        )
        .bind(&path)
        .fetch_one(&mut *tx)
        .await?;
        if !shared {
            files.push(path);
        }
    }
    tx.commit().await?;
    Ok(DeletedProfile {
        profile_id,
        username: me.username,
        files,
        new_owner,
    })
}

pub async fn get_profile(db: &Database, profile_id: ProfileId) -> CoreResult<Profile> {
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
    profile_id: ProfileId,
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
