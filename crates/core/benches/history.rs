//! History benchmarks (issue 5): search at 100,000 generations, and start-up
//! work (open + migrate + crash recovery + first page) with 100,000 rows next
//! to an empty database. Prints `| area | measurement | value | target |` rows.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use inkstone_core::generations::{self, HistoryFilter, Status};
use inkstone_core::ledger::{self, PageRequest};
use inkstone_core::{open, profiles, search};

const GENERATIONS: i64 = 100_000;
const SAMPLES: usize = 200;

const PHRASES: &[&str] = &[
    "春天来了，桃花盛开",
    "秋天的落叶铺满小路",
    "人工智能正在改变写作",
    "一篇关于家乡的散文",
    "市场营销文案要简洁有力",
    "产品发布会的演讲稿",
    "夜空中最亮的星",
    "城市的清晨和咖啡",
    "the quick brown fox",
    "quarterly report summary",
    "大海与少年的故事",
    "如何写好一个开头",
];

fn row(measurement: &str, value: String, target: &str) {
    println!("| history | {measurement} | {value} | {target} |");
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn text_for(i: i64) -> (String, String) {
    let pick = |k: i64| PHRASES[(k.rem_euclid(PHRASES.len() as i64)) as usize];
    let prompt = format!("{}，第{}篇", pick(i * 7 + 3), i);
    let output = format!(
        "{}。{}。{}。编号{}",
        pick(i),
        pick(i * 3 + 1),
        pick(i * 5 + 2),
        i
    );
    (prompt, output)
}

async fn fill(path: &std::path::Path) -> i64 {
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let db = open(path).await.expect("open");
    let p = profiles::create_profile(&db, "bench", "password123", false, now)
        .await
        .expect("profile");
    let mut tx = db.begin().await.expect("begin");
    for i in 0..GENERATIONS {
        let (prompt, output) = text_for(i);
        let status = if i % 20 == 0 { "failed" } else { "succeeded" };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO generations (profile_id, tool, model, prompt, status, output_text, cost,
                                      created_at_ms, finished_at_ms)
             VALUES (?, ?, 'qwen-plus', ?, ?, ?, 10, ?, ?) RETURNING id",
        )
        .bind(p.id)
        .bind(if i % 3 == 0 { "article" } else { "rewrite" })
        .bind(&prompt)
        .bind(status)
        .bind(&output)
        .bind(now.timestamp_millis() + i * 60_000)
        .bind(now.timestamp_millis() + i * 60_000 + 5_000)
        .fetch_one(&mut *tx)
        .await
        .expect("insert");
        sqlx::query("INSERT INTO generations_fts (rowid, body) VALUES (?, ?)")
            .bind(id)
            .bind(search::index_text(&format!("{prompt}\n{output}")))
            .execute(&mut *tx)
            .await
            .expect("index");
    }
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE").execute(&db).await.expect("analyze");
    db.close().await;
    p.id
}

/// What the app does before its first screen is usable.
async fn start_up(path: &std::path::Path, profile: i64) -> Duration {
    let now = Utc::now();
    let start = Instant::now();
    let db = open(path).await.expect("open");
    generations::recover_interrupted(&db, now)
        .await
        .expect("recover");
    ledger::balance(&db, profile, now).await.expect("balance");
    generations::history(
        &db,
        profile,
        &HistoryFilter::default(),
        PageRequest {
            limit: 50,
            before_id: None,
        },
    )
    .await
    .expect("page");
    let took = start.elapsed();
    db.close().await;
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full.db");
    let began = Instant::now();
    let profile = fill(&full).await;
    row(
        "fill 100,000 generations with search index",
        format!("{:.1} s", began.elapsed().as_secs_f64()),
        "-",
    );

    let db = open(&full).await.expect("open");
    let queries: &[(&str, HistoryFilter)] = &[
        (
            "2 chars, in 1/4 of rows (春天)",
            HistoryFilter {
                text: Some("春天".into()),
                ..Default::default()
            },
        ),
        (
            "4 chars (桃花盛开)",
            HistoryFilter {
                text: Some("桃花盛开".into()),
                ..Default::default()
            },
        ),
        (
            "1 char (星)",
            HistoryFilter {
                text: Some("星".into()),
                ..Default::default()
            },
        ),
        (
            "unique number (编号99999)",
            HistoryFilter {
                text: Some("编号99999".into()),
                ..Default::default()
            },
        ),
        (
            "English prefix (quar)",
            HistoryFilter {
                text: Some("quar".into()),
                ..Default::default()
            },
        ),
        (
            "no match (冬雪)",
            HistoryFilter {
                text: Some("冬雪".into()),
                ..Default::default()
            },
        ),
        (
            "text + status failed (城市)",
            HistoryFilter {
                text: Some("城市".into()),
                statuses: vec![Status::Failed],
                ..Default::default()
            },
        ),
        (
            "no text, tool filter",
            HistoryFilter {
                tools: vec!["article".into()],
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in queries {
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let start = Instant::now();
            generations::history(
                &db,
                profile,
                filter,
                PageRequest {
                    limit: 50,
                    before_id: None,
                },
            )
            .await
            .expect("search");
            samples.push(start.elapsed());
        }
        samples.sort();
        row(
            &format!("search at 100k, {name}: p50"),
            ms(samples[SAMPLES / 2]),
            "-",
        );
        row(
            &format!("search at 100k, {name}: p95"),
            ms(samples[SAMPLES * 95 / 100]),
            "< 20 ms",
        );
    }
    db.close().await;

    let empty = dir.path().join("empty.db");
    let empty_profile = {
        let db = open(&empty).await.expect("open");
        let p = profiles::create_profile(&db, "bench", "password123", false, Utc::now())
            .await
            .expect("p");
        db.close().await;
        p.id
    };
    let mut with_rows = Vec::new();
    let mut without = Vec::new();
    for _ in 0..7 {
        with_rows.push(start_up(&full, profile).await);
        without.push(start_up(&empty, empty_profile).await);
    }
    row(
        "start-up data work, empty database (median)",
        ms(median(without)),
        "-",
    );
    row(
        "start-up data work, 100,000 generations (median)",
        ms(median(with_rows)),
        "close to empty",
    );
}
