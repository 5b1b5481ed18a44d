//! The server's database: SQLite by default, PostgreSQL in production, one
//! set of queries through sqlx's `Any` driver (`$n` placeholders work in
//! both). A migration whose SQL is the same on both backends is written once,
//! in `migrations/server/common`; the backend folders hold only those whose DDL
//! differs (identity columns, PostgreSQL's NOTIFY trigger). The tables are the same.

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

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
    let migrator = if sqlite {
        inkstone_schema::server_sqlite()
    } else {
        inkstone_schema::server_postgres()
    };
    migrator
        .run(&pool)
        .await
        .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
    Ok(pool)
}
