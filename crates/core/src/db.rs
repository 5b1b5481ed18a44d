//! The app's SQLite database: opened durable (WAL, synchronous FULL) and
//! migrated from `migrations/app/` every time it is opened.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// The migrated database pool every core module works on.
pub type Database = SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Occurs when the file cannot be created or opened.
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
    /// Occurs when a migration fails (for example a newer schema than this build knows).
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

fn options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Credits move here: a committed transaction must survive power loss.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// The app's migrations (`migrations/app/`), built in.
pub fn migrator() -> &'static sqlx::migrate::Migrator {
    inkstone_schema::app()
}

/// Opens (creating if needed) and migrates the database file at `path`.
pub async fn open(path: &Path) -> Result<Database, OpenError> {
    let pool = open_unmigrated(path, Duration::from_secs(10)).await?;
    migrator().run(&pool).await?;
    Ok(pool)
}

/// Opens (creating if needed) the database file at `path` without migrating it, waiting at
/// most `busy_timeout` for a lock another connection holds. Start-up uses this to look at the
/// file (and copy it aside) before a new version migrates it.
pub async fn open_unmigrated(path: &Path, busy_timeout: Duration) -> Result<Database, sqlx::Error> {
    let opts = options("sqlite://")?
        .filename(path)
        .busy_timeout(busy_timeout);
    SqlitePoolOptions::new()
        .max_connections(8)
        // A SQLite connection is a file handle in this process, not a socket that can
        // go stale: a ping before every use would only add a round trip to each write.
        .test_before_acquire(false)
        .connect_with(opts)
        .await
}

/// A fresh migrated in-memory database, for tests and benchmarks.
pub async fn open_in_memory() -> Result<Database, OpenError> {
    // One connection: each in-memory connection would otherwise be its own database.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options("sqlite::memory:")?)
        .await?;
    migrator().run(&pool).await?;
    Ok(pool)
}
