//! Signing in to a local profile on this computer: failed attempts that slow down (kept in
//! the database, so a restart does not reset them) and "keep me signed in" sessions whose
//! secret the caller keeps in the OS keychain (only its SHA-256 is stored here).

use chrono::{DateTime, Duration, Utc};
use inkstone_domain::ProfileId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::{CoreError, CoreResult};
use crate::profiles::{self, Profile};
use crate::time::{from_ms, to_ms};
use crate::Database;

/// Failed attempts allowed in a row before each further one has to wait.
pub const FREE_ATTEMPTS: i64 = 5;
/// The wait after the 5th failure; it doubles with each further one.
const FIRST_DELAY_SECS: i64 = 30;
/// The longest wait, so a forgotten password never locks a profile for days.
const MAX_DELAY_SECS: i64 = 60 * 60;

/// How long a writer waits after `failures` failed attempts in a row (none before the 5th).
pub fn delay_after(failures: i64) -> Duration {
    if failures < FREE_ATTEMPTS {
        return Duration::zero();
    }
    let doublings = (failures - FREE_ATTEMPTS).clamp(0, 20) as u32;
    Duration::seconds(
        FIRST_DELAY_SECS
            .saturating_mul(1 << doublings)
            .min(MAX_DELAY_SECS),
    )
}

/// Refuses an attempt on `username` while its delay runs.
pub(crate) async fn check_not_locked(
    db: &Database,
    username: &str,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until_ms FROM sign_in_failures WHERE username = ?")
            .bind(username)
            .fetch_optional(db)
            .await?;
    match locked_until {
        Some(until) if until > to_ms(now) => Err(CoreError::TooManyAttempts {
            retry_after_secs: ((until - to_ms(now)) + 999) / 1000,
        }),
        _ => Ok(()),
    }
}

/// Counts a failed attempt (one statement, so two at once both count) and returns the count.
pub(crate) async fn record_failure(
    db: &Database,
    username: &str,
    now: DateTime<Utc>,
) -> CoreResult<i64> {
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO sign_in_failures (username, failures, last_failure_ms) VALUES (?, 1, ?)
         ON CONFLICT(username) DO UPDATE SET failures = failures + 1,
             last_failure_ms = excluded.last_failure_ms
         RETURNING failures",
    )
    .bind(username)
    .bind(to_ms(now))
    .fetch_one(db)
    .await?;
    let until = now + delay_after(failures);
    sqlx::query("UPDATE sign_in_failures SET locked_until_ms = ? WHERE username = ?")
        .bind(to_ms(until))
        .bind(username)
        .execute(db)
        .await?;
    Ok(failures)
}

pub(crate) async fn clear_failures(db: &Database, username: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE username = ?")
        .bind(username)
        .execute(db)
        .await?;
    Ok(())
}

/// Failed attempts in a row on `username`, and until when the next one must wait.
pub async fn failures(db: &Database, username: &str) -> CoreResult<(i64, Option<DateTime<Utc>>)> {
    let row =
        sqlx::query("SELECT failures, locked_until_ms FROM sign_in_failures WHERE username = ?")
            .bind(username)
            .fetch_optional(db)
            .await?;
    Ok(match row {
        None => (0, None),
        Some(row) => {
            let until: i64 = row.try_get("locked_until_ms")?;
            (
                row.try_get("failures")?,
                (until > 0).then(|| from_ms(until)),
            )
        }
    })
}

/// A session secret as kept in the keychain: 64 lowercase hex characters.
fn valid_secret(secret: &str) -> bool {
    secret.len() == 64
        && secret
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Starts a "keep me signed in" session for `profile_id`: returns the secret for the caller to
/// keep in the OS keychain. Only its SHA-256 is stored, so the database file alone signs
/// nobody in.
pub async fn remember(
    db: &Database,
    profile_id: ProfileId,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    profiles::get_profile(db, profile_id).await?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    sqlx::query(
        "INSERT INTO remembered_sessions (profile_id, secret_sha256, created_at_ms) VALUES (?, ?, ?)",
    )
    .bind(profile_id)
    .bind(digest(&secret))
    .bind(to_ms(now))
    .execute(db)
    .await?;
    Ok(secret)
}

/// The profile a remembered secret signs in, or `None` when the secret is malformed, was
/// forgotten (signed out, password changed) or its profile was deleted.
pub async fn resume(db: &Database, secret: &str) -> CoreResult<Option<Profile>> {
    if !valid_secret(secret) {
        return Ok(None);
    }
    let profile_id: Option<ProfileId> =
        sqlx::query_scalar("SELECT profile_id FROM remembered_sessions WHERE secret_sha256 = ?")
            .bind(digest(secret))
            .fetch_optional(db)
            .await?;
    match profile_id {
        Some(id) => Ok(Some(profiles::get_profile(db, id).await?)),
        None => Ok(None),
    }
}

/// Forgets a remembered session (signing out). Unknown secrets are fine.
pub async fn forget(db: &Database, secret: &str) -> CoreResult<()> {
    sqlx::query("DELETE FROM remembered_sessions WHERE secret_sha256 = ?")
        .bind(digest(secret))
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets every remembered session of a profile (its password changed).
pub async fn forget_all(db: &Database, profile_id: ProfileId) -> CoreResult<()> {
    sqlx::query("DELETE FROM remembered_sessions WHERE profile_id = ?")
        .bind(profile_id)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_at_the_fifth_failure_grows_and_is_capped() {
        for n in 0..FREE_ATTEMPTS {
            assert_eq!(delay_after(n), Duration::zero());
        }
        assert_eq!(delay_after(5), Duration::seconds(30));
        assert_eq!(delay_after(6), Duration::seconds(60));
        assert_eq!(delay_after(7), Duration::seconds(120));
        assert_eq!(delay_after(100), Duration::seconds(MAX_DELAY_SECS));
        assert_eq!(delay_after(i64::MAX), Duration::seconds(MAX_DELAY_SECS));
    }

    #[test]
    fn only_well_formed_secrets_are_looked_up() {
        assert!(valid_secret(&"a".repeat(64)));
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(!valid_secret(bad), "{bad}");
        }
    }
}
