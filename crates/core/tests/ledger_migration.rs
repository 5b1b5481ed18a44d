//! Migration 0007 on a database written by the previous version: prompt excerpts leave the
//! ledger, every amount and balance stays, and the ledger is append-only again afterwards.

use std::path::Path;

use inkstone_core::ledger::{self, PageRequest, Reason, TxFilter};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/app");

/// A database file migrated only up to `last` (as an older app left it).
async fn database_at(path: &Path, last: i64) -> SqlitePool {
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(MIGRATIONS).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let version: i64 = name[..4].parse().unwrap();
        if version <= last {
            std::fs::copy(entry.path(), old.path().join(&name)).unwrap();
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

async fn exec(pool: &SqlitePool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

type MoneyRow = (
    i64,
    i64,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
);

async fn money(pool: &SqlitePool) -> (Vec<MoneyRow>, Vec<(i64, i64)>) {
    let rows = sqlx::query_as(
        "SELECT id, profile_id, kind, delta, balance_after, tool, order_no, generation_id,
                refund_of, created_at_ms
         FROM credit_transactions ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let balances = sqlx::query_as("SELECT id, credits FROM profiles ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    (rows, balances)
}

#[tokio::test]
async fn migration_0007_blanks_prompt_excerpts_and_keeps_every_amount() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inkstone.db");
    let old = database_at(&path, 6).await;
    // What version 0006 wrote: a demo grant, a purchase with its bonus, a charge carrying the
    // first 40 characters of a prompt, its refund, an expiry.
    exec(
        &old,
        "INSERT INTO profiles (id, username, password_hash, credits, created_at_ms)
                VALUES (1, 'writer', 'x', 0, 1)",
    )
    .await;
    exec(
        &old,
        "INSERT INTO purchases (order_no, profile_id, account_id, kind, sku, credits,
                  bonus_credits, amount_fen, provider, provider_txn_id, paid_at_ms, applied_at_ms,
                  receipt_json)
                VALUES ('IS1', 1, 'acc', 'credits', 'credits_100', 100, 10, 1000, 'sandbox', 't',
                  2, 2, '{}')",
    )
    .await;
    for sql in [
        "(1, 'BONUS', 100, 100, '演示账户初始积分 / demo starting credits', NULL, NULL, NULL, NULL, 1)",
        "(1, 'RECHARGE', 100, 200, '积分充值 / credit purchase credits_100', NULL, 'IS1', NULL, NULL, 2)",
        "(1, 'BONUS', 10, 210, '充值赠送 / purchase bonus credits_100', NULL, 'IS1', NULL, NULL, 2)",
        "(1, 'CONSUME', -10, 200, 'AI写作 · 我的秘密日记：今天我和他在西湖边', 'article', NULL, 7, NULL, 3)",
        "(1, 'REFUND', 10, 210, '生成失败退款 / refund: generation failed', 'article', NULL, 7, 4, 4)",
        "(1, 'CONSUME', 0, 210, '续写 · 另一段私密的文字', 'continue', NULL, 8, NULL, 5)",
        "(1, 'EXPIRE', -10, 200, '赠送积分过期 / bonus expired (#3)', NULL, NULL, NULL, NULL, 6)",
    ] {
        exec(
            &old,
            &format!(
                "INSERT INTO credit_transactions (profile_id, kind, delta, balance_after,
                   description, tool, order_no, generation_id, refund_of, created_at_ms)
                 VALUES {sql}"
            ),
        )
        .await;
    }
    let before = money(&old).await;
    assert_eq!(before.1, vec![(1, 200)]);
    old.close().await;

    let db = inkstone_core::open(&path).await.unwrap();
    assert_eq!(
        money(&db).await,
        before,
        "amounts, balances and links unchanged"
    );
    let descriptions: Vec<String> =
        sqlx::query_scalar("SELECT description FROM credit_transactions ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(
        descriptions.iter().all(String::is_empty),
        "{descriptions:?}"
    );
    let page = ledger::transactions(
        &db,
        inkstone_domain::ProfileId::new(1),
        &TxFilter::default(),
        PageRequest::first(20),
    )
    .await
    .unwrap();
    let reasons: Vec<Option<Reason>> = page.items.iter().rev().map(|t| t.reason).collect();
    assert_eq!(
        reasons,
        [
            Reason::DemoStart,
            Reason::Purchase,
            Reason::PurchaseBonus,
            Reason::Generation,
            Reason::RefundFailed,
            Reason::Generation,
            Reason::BonusExpired,
        ]
        .map(Some)
    );
    // The purchase's package is named from the purchase, not from stored text.
    let recharge = &page.items[5];
    assert_eq!(
        recharge.package.as_ref().map(|p| p.credits.get()),
        Some(100)
    );
    assert!(ledger::audit(&db).await.unwrap().is_empty());
    // Append-only again: a rewrite of any column, the description included, is refused.
    for sql in [
        "UPDATE credit_transactions SET description = 'x' WHERE id = 1",
        "UPDATE credit_transactions SET delta = 50 WHERE id = 2",
        "DELETE FROM credit_transactions WHERE id = 1",
    ] {
        let err = sqlx::query(sql).execute(&db).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(money(&db).await, before);
}

/// The guard that migration 0007 runs under refuses a change of an amount, so the
/// migration could not have moved money even by mistake.
#[tokio::test]
async fn the_migration_guard_refuses_amount_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_at(&dir.path().join("inkstone.db"), 6).await;
    exec(
        &db,
        "INSERT INTO profiles (id, username, password_hash, credits, created_at_ms)
               VALUES (1, 'w', 'x', 0, 1)",
    )
    .await;
    exec(
        &db,
        "INSERT INTO credit_transactions (profile_id, kind, delta, balance_after,
                 description, created_at_ms) VALUES (1, 'RECHARGE', 5, 5, 'x', 1)",
    )
    .await;
    let sql = std::fs::read_to_string(format!("{MIGRATIONS}/0007_ledger_reason.sql")).unwrap();
    // The migration up to its UPDATE, then an UPDATE that moves money.
    let (head, _) = sql.split_once("UPDATE credit_transactions SET").unwrap();
    sqlx::raw_sql(head).execute(&db).await.unwrap();
    let err = sqlx::query("UPDATE credit_transactions SET delta = 6, balance_after = 6")
        .execute(&db)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("may only rewrite descriptions"),
        "{err}"
    );
    sqlx::query("UPDATE credit_transactions SET description = ''")
        .execute(&db)
        .await
        .unwrap();
}
