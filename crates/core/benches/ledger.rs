//! Ledger benchmarks (issue 3). Prints markdown table rows:
//! `| area | measurement | value | target |`. Run with `cargo bench -p inkstone-core`.
//! Figures are printed, never asserted: timing belongs here, not in tests.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use inkstone_core::ledger::{self, Grant, GrantKind, PageRequest, TxFilter, TxKind};
use inkstone_core::{open, profiles, Database};
use inkstone_domain::{Credits, ProfileId};

const CONSUMES: usize = 2_000;
const ROUNDS: usize = 4;
const HISTORY_ROWS: i64 = 1_000_000;
const PAGE_SAMPLES: usize = 400;
/// A full scan of 1M rows takes about a second here: fewer samples keep the bench to minutes.
const FULL_SCAN_SAMPLES: usize = 20;

fn row(area: &str, measurement: &str, value: String, target: &str) {
    println!("| {area} | {measurement} | {value} | {target} |");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn consume_rate(dir: &std::path::Path) -> (f64, f64) {
    let now = Utc::now();
    let db = open(&dir.join("consume.db")).await.expect("open");
    let p = profiles::create_profile(&db, "bench", "password123", false, now)
        .await
        .expect("profile");
    let grant = Grant {
        kind: GrantKind::Recharge,
        credits: Credits::new((CONSUMES as i64) * 10),
        description: "bench".into(),
        order_no: None,
        expires_at: None,
    };
    ledger::add_credits(&db, p.id, &grant, now)
        .await
        .expect("grant");
    // The same durable settings (same open()), one plain autocommit insert each.
    sqlx::query("CREATE TABLE raw_rows (id INTEGER PRIMARY KEY, profile_id INTEGER, delta INTEGER, description TEXT, created_at_ms INTEGER)")
        .execute(&db)
        .await
        .expect("raw table");
    // Rounds alternate so that a slow spell of the disk falls on both sides.
    let (mut ledger_time, mut raw_time) = (Duration::ZERO, Duration::ZERO);
    let per_round = CONSUMES / ROUNDS;
    for round in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..per_round {
            let n = round * per_round + i;
            ledger::check_and_consume(
                &db,
                p.id,
                inkstone_domain::Tool::Article,
                &format!("生成 {n}"),
                now,
            )
            .await
            .expect("consume");
        }
        ledger_time += start.elapsed();
        let start = Instant::now();
        for i in 0..per_round {
            let n = round * per_round + i;
            sqlx::query("INSERT INTO raw_rows (profile_id, delta, description, created_at_ms) VALUES (?, ?, ?, ?)")
                .bind(p.id)
                .bind(-10)
                .bind(format!("生成 {n}"))
                .bind(now.timestamp_millis())
                .execute(&db)
                .await
                .expect("raw insert");
        }
        raw_time += start.elapsed();
    }
    let done = (per_round * ROUNDS) as f64;
    let ledger_rate = done / ledger_time.as_secs_f64();
    let raw_rate = done / raw_time.as_secs_f64();
    db.close().await;
    (ledger_rate, raw_rate)
}

/// Fills one profile's history with a million rows in one statement; ids and
/// times grow together like real history (one row a minute).
async fn fill_history(db: &Database) -> (ProfileId, i64) {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let p = profiles::create_profile(db, "heavy", "password123", false, start)
        .await
        .expect("profile");
    let t0 = start.timestamp_millis();
    // Balances must follow row by row (the ledger trigger refuses anything else):
    // per ten rows a recharge of 100, a bonus of 10 and eight charges of 10.
    sqlx::query(
        "WITH RECURSIVE n(i, delta, balance) AS (
             SELECT 1, 100, 100
             UNION ALL
             SELECT i + 1,
                    CASE WHEN (i + 1) % 10 = 1 THEN 100 WHEN (i + 1) % 10 = 6 THEN 10 ELSE -10 END,
                    balance
                    + CASE WHEN (i + 1) % 10 = 1 THEN 100 WHEN (i + 1) % 10 = 6 THEN 10 ELSE -10 END
             FROM n WHERE i < ?1)
         INSERT INTO credit_transactions (profile_id, kind, delta, balance_after, description, tool, created_at_ms)
         SELECT ?2,
                CASE WHEN i % 10 = 1 THEN 'RECHARGE' WHEN i % 10 = 6 THEN 'BONUS' ELSE 'CONSUME' END,
                delta,
                balance,
                CASE WHEN i % 10 = 1 THEN '积分充值 第' || i || '单' ELSE 'AI写作 文章 #' || i END,
                CASE WHEN i % 10 = 1 THEN NULL ELSE 'article' END,
                ?3 + i * 60000
         FROM n",
    )
    .bind(HISTORY_ROWS)
    .bind(p.id)
    .bind(t0)
    .execute(db)
    .await
    .expect("fill");
    sqlx::query("ANALYZE").execute(db).await.expect("analyze");
    (p.id, t0)
}

async fn page_latency(
    db: &Database,
    profile: ProfileId,
    filter: &TxFilter,
    deep: bool,
    n: usize,
) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(n);
    let mut before_id = None;
    for i in 0..n {
        let start = Instant::now();
        let page = ledger::transactions(
            db,
            profile,
            filter,
            PageRequest {
                limit: 50,
                before_id,
            },
        )
        .await
        .expect("page");
        samples.push(start.elapsed());
        // Walk deeper pages too, as a user scrolling does.
        before_id = if deep && i % 20 != 19 {
            page.next_before_id
        } else {
            None
        };
    }
    samples.sort();
    (percentile(&samples, 0.5), percentile(&samples, 0.95))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger_rate, raw_rate) = consume_rate(dir.path()).await;
    row(
        "ledger",
        "consume + record /s (WAL, synchronous=FULL)",
        format!("{ledger_rate:.0}/s"),
        "-",
    );
    row(
        "ledger",
        "plain INSERT /s, same settings",
        format!("{raw_rate:.0}/s"),
        "-",
    );
    row(
        "ledger",
        "consume rate / raw insert rate",
        format!("{:.2}", ledger_rate / raw_rate),
        ">= 0.50",
    );

    let db = open(&dir.path().join("history.db")).await.expect("open");
    let fill = Instant::now();
    let (profile, t0) = fill_history(&db).await;
    row(
        "ledger",
        "fill 1,000,000 history rows",
        format!("{:.1} s", fill.elapsed().as_secs_f64()),
        "-",
    );
    let day = 86_400_000;
    let cases: Vec<(&str, TxFilter)> = vec![
        ("unfiltered", TxFilter::default()),
        (
            "type = CONSUME",
            TxFilter {
                kinds: vec![TxKind::Consume],
                ..Default::default()
            },
        ),
        (
            "type = RECHARGE,BONUS",
            TxFilter {
                kinds: vec![TxKind::Recharge, TxKind::Bonus],
                ..Default::default()
            },
        ),
        (
            "one month, 200 days back",
            TxFilter {
                from: Some(
                    Utc.timestamp_millis_opt(t0 + 300 * day)
                        .single()
                        .expect("ts"),
                ),
                to: Some(
                    Utc.timestamp_millis_opt(t0 + 330 * day)
                        .single()
                        .expect("ts"),
                ),
                ..Default::default()
            },
        ),
        (
            "text \"文章\"",
            TxFilter {
                text: Some("文章".into()),
                ..Default::default()
            },
        ),
        (
            "type + text \"充值\"",
            TxFilter {
                kinds: vec![TxKind::Recharge],
                text: Some("充值".into()),
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in &cases {
        let (p50, p95) = page_latency(&db, profile, filter, true, PAGE_SAMPLES).await;
        row(
            "ledger",
            &format!("page of 50 at 1M rows, {name}: p50"),
            ms(p50),
            "-",
        );
        row(
            "ledger",
            &format!("page of 50 at 1M rows, {name}: p95"),
            ms(p95),
            "< 5 ms",
        );
    }
    let rare = TxFilter {
        text: Some("第999991单".into()),
        ..Default::default()
    };
    let (p50, p95) = page_latency(&db, profile, &rare, false, FULL_SCAN_SAMPLES).await;
    row(
        "ledger",
        &format!(
            "page at 1M rows, text matching 1 row (full scan, {FULL_SCAN_SAMPLES} samples): p50"
        ),
        ms(p50),
        "-",
    );
    row(
        "ledger",
        &format!(
            "page at 1M rows, text matching 1 row (full scan, {FULL_SCAN_SAMPLES} samples): p95"
        ),
        ms(p95),
        "(informative)",
    );
}
