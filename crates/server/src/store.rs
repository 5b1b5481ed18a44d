//! The server's database: SQLite by default, PostgreSQL in production, one
//! set of queries through sqlx's `Any` driver (`$n` placeholders work in
//! both). A migration whose SQL is the same on both backends is written once,
//! in `migrations/server/common`; the backend folders hold only those whose DDL
//! differs (identity columns, PostgreSQL's NOTIFY trigger). The tables are the same.

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

static COMMON: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server/common");
static SQLITE_OWN: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server/sqlite");
static POSTGRES_OWN: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server/postgres");
static SQLITE: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| with_common(&SQLITE_OWN));
static POSTGRES: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| with_common(&POSTGRES_OWN));

/// A backend's own migrations and the common ones, in version order (each version is in
/// exactly one of the two folders; a test checks it).
fn with_common(own: &sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    let mut all: Vec<sqlx::migrate::Migration> = own.iter().chain(COMMON.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all),
        ..sqlx::migrate::Migrator::DEFAULT
    }
}

pub type Db = AnyPool;

/// Opens and migrates `url` (`sqlite://path?mode=rwc` or `postgres://…`) with at
/// most `connections` pooled connections (see `Config::database_connections`).
pub async fn open(url: &str, connections: Option<u32>) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(connections.unwrap_or(if sqlite { 4 } else { 8 }))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    // Durable, concurrent readers, and a writer that waits instead of failing.
                    sqlx::query("PRAGMA journal_mode=WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous=FULL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout=10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys=ON")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    let migrator: &sqlx::migrate::Migrator = if sqlite { &SQLITE } else { &POSTGRES };
    migrator
        .run(&pool)
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_every_version_once_and_the_common_ones_are_shared() {
        let versions =
            |m: &sqlx::migrate::Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        let (sqlite, postgres) = (versions(&SQLITE), versions(&POSTGRES));
        assert_eq!(sqlite, postgres, "the same versions on both backends");
        let mut unique = sqlite.clone();
        unique.dedup();
        assert_eq!(unique, sqlite, "a version in one folder only");
        assert!(sqlite.windows(2).all(|w| w[0] < w[1]));
        for common in COMMON.iter() {
            let on = |m: &sqlx::migrate::Migrator| {
                m.iter()
                    .find(|x| x.version == common.version)
                    .map(|x| x.checksum.clone())
            };
            assert_eq!(on(&SQLITE), Some(common.checksum.clone()));
            assert_eq!(on(&POSTGRES), Some(common.checksum.clone()));
        }
        assert!(COMMON.iter().count() >= 2);
    }
}
