//! The schemas in `migrations/`, built in: the desktop's (`app/`) and the payment endpoint's
//! (`server/common/` once for both backends, then `server/sqlite/` and `server/postgres/`).
//!
//! This is what `sqlx::migrate!` did, without its proc macro: that macro made the test build
//! compile sqlx's SQLite and PostgreSQL drivers, tokio and sqlx-core a second time, for the
//! compiler (about 45 s of CPU in a clean build). Each migration is named here once;
//! a test fails when a file in a folder is not (or a name here has no file).
//!
//! The migrations are the same as the macro's: version and description from the file name,
//! `-- no-transaction` honoured, and the checksum sqlx records (SHA-384 of the SQL) computed by
//! [`Migration::new`], so databases migrated by earlier builds open unchanged.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(file name, SQL)` of each migration in one folder of `migrations/`.
type Files = &'static [(&'static str, &'static str)];

macro_rules! folder {
    ($dir:literal: $($file:literal),+ $(,)?) => {
        &[$((
            $file,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/", $dir, "/", $file)),
        )),+]
    };
}

const APP: Files = folder!("app":
    "0001_init.sql",
    "0002_generations.sql",
    "0003_orders.sql",
    "0004_models.sql",
    "0005_ledger_moves_balance.sql",
    "0006_generation_inputs.sql",
    "0007_ledger_reason.sql",
    "0010_order_followups.sql",
    "0020_profile_sign_in.sql",
    "0030_purchases_elsewhere.sql",
    "0040_revocations.sql",
    "0050_workspace.sql",
    "0051_document_versions.sql",
    "0052_documents_fts.sql",
    "0053_project_notes.sql",
    "0055_documents_unindexed.sql",
);
const SERVER_COMMON: Files = folder!("server/common":
    "0005_account_credentials.sql",
    "0006_receipt_claims.sql",
);
const SERVER_SQLITE: Files = folder!("server/sqlite":
    "0001_init.sql",
    "0002_payment_safety.sql",
    "0010_order_wakeups.sql",
    "0011_refunds.sql",
);
const SERVER_POSTGRES: Files = folder!("server/postgres":
    "0001_init.sql",
    "0002_payment_safety.sql",
    "0010_order_wakeups.sql",
    "0011_refunds.sql",
);

static APP_MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| migrator(&[APP]));
static SERVER_SQLITE_MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| migrator(&[SERVER_SQLITE, SERVER_COMMON]));
static SERVER_POSTGRES_MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| migrator(&[SERVER_POSTGRES, SERVER_COMMON]));

/// The desktop's database (`migrations/app/`).
pub fn app() -> &'static Migrator {
    &APP_MIGRATOR
}

/// The payment endpoint on SQLite: `server/sqlite/` and `server/common/`, in version order.
pub fn server_sqlite() -> &'static Migrator {
    &SERVER_SQLITE_MIGRATOR
}

/// The payment endpoint on PostgreSQL: `server/postgres/` and `server/common/`, in version order.
pub fn server_postgres() -> &'static Migrator {
    &SERVER_POSTGRES_MIGRATOR
}

/// The migrations of `folders`, in version order.
fn migrator(folders: &[Files]) -> Migrator {
    let mut migrations: Vec<Migration> = folders
        .iter()
        .flat_map(|files| files.iter())
        .map(|(name, sql)| migration(name, sql))
        .collect();
    migrations.sort_by_key(|m| m.version);
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// One file as `sqlx::migrate!` reads it: `<version>_<description>.sql`, underscores in the
/// description read as spaces. The names are the constants above, checked by the tests, so a
/// malformed one is a build defect, not input.
fn migration(name: &str, sql: &'static str) -> Migration {
    let (version, rest) = name
        .split_once('_')
        .expect("a migration is named <version>_<description>.sql");
    let version: i64 = version.parse().expect("a migration's version is a number");
    let migration_type = MigrationType::from_filename(rest);
    assert!(
        matches!(migration_type, MigrationType::Simple),
        "reversible migrations are not used here: {name}"
    );
    let description = rest
        .trim_end_matches(migration_type.suffix())
        .replace('_', " ");
    let no_tx = sql.starts_with("-- no-transaction");
    Migration::new(
        version,
        Cow::Owned(description),
        migration_type,
        Cow::Borrowed(sql),
        no_tx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn on_disk(dir: &str) -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn named(files: Files) -> Vec<String> {
        files.iter().map(|(n, _)| n.to_string()).collect()
    }

    #[test]
    fn every_file_in_a_folder_is_built_in_once_in_order() {
        for (dir, files) in [
            ("app", APP),
            ("server/common", SERVER_COMMON),
            ("server/sqlite", SERVER_SQLITE),
            ("server/postgres", SERVER_POSTGRES),
        ] {
            assert_eq!(named(files), on_disk(dir), "migrations/{dir}");
        }
    }

    #[test]
    fn both_server_backends_have_every_version_once_and_share_the_common_ones() {
        let versions = |m: &Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        let (sqlite, postgres) = (versions(server_sqlite()), versions(server_postgres()));
        assert_eq!(sqlite, postgres, "the same versions on both backends");
        assert!(
            sqlite.windows(2).all(|w| w[0] < w[1]),
            "a version in one folder only"
        );
        let common = migrator(&[SERVER_COMMON]);
        assert!(common.iter().count() >= 2);
        for shared in common.iter() {
            for backend in [server_sqlite(), server_postgres()] {
                let found = backend.iter().find(|m| m.version == shared.version);
                assert_eq!(found.map(|m| &m.checksum), Some(&shared.checksum));
            }
        }
    }

    /// Version, description, SQL, checksum, no-transaction flag and kind of one migration.
    type Held = (i64, String, String, Vec<u8>, bool, &'static str);

    /// What a migrator holds that sqlx checks or runs.
    fn held(migrations: &[Migration]) -> Vec<Held> {
        migrations
            .iter()
            .map(|m| {
                let m = m.clone();
                (
                    m.version,
                    m.description.into_owned(),
                    m.sql.into_owned(),
                    m.checksum.into_owned(),
                    m.no_tx,
                    m.migration_type.suffix(),
                )
            })
            .collect()
    }

    /// sqlx's own reading of the folders (what `sqlx::migrate!` built in, and what
    /// `sqlx migrate run` applies), merged in version order.
    async fn read_by_sqlx(dirs: &[&str]) -> Vec<Held> {
        let mut all = Vec::new();
        for dir in dirs {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../migrations")
                .join(dir);
            all.extend(Migrator::new(path).await.unwrap().iter().cloned());
        }
        all.sort_by_key(|m| m.version);
        held(&all)
    }

    #[tokio::test]
    async fn the_built_in_migrations_are_what_sqlx_reads_from_the_folders() {
        // Same checksums: a database an earlier build migrated opens unchanged.
        assert_eq!(held(app().iter().as_slice()), read_by_sqlx(&["app"]).await);
        assert_eq!(
            held(server_sqlite().iter().as_slice()),
            read_by_sqlx(&["server/sqlite", "server/common"]).await
        );
        assert_eq!(
            held(server_postgres().iter().as_slice()),
            read_by_sqlx(&["server/postgres", "server/common"]).await
        );
    }

    #[test]
    fn a_migration_is_read_as_sqlx_reads_its_file() {
        let m = migration(
            "0042_a_new_table.sql",
            "-- no-transaction\nCREATE TABLE t (x);",
        );
        assert_eq!(m.version, 42);
        assert_eq!(m.description, "a new table");
        assert!(m.no_tx);
        assert!(!migration("0001_init.sql", "CREATE TABLE t (x);").no_tx);
    }
}
