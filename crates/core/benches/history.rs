//! History benchmarks (issue 5): search at 100,000 generations, and start-up
//! work (open + migrate + crash recovery + first page) with 100,000 rows next
//! to an empty database. Prints `| area | measurement | value | target |` rows.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use inkstone_core::generations::{self, HistoryFilter, Status};
use inkstone_core::ledger::{self, PageRequest};
use inkstone_core::{bench_support, open, profiles};
use inkstone_domain::ProfileId;

const GENERATIONS: i64 = 100_000;
const SAMPLES: usize = 200;

fn row(measurement: &str, value: String, target: &str) {
    println!("| history | {measurement} | {value} | {target} |");
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn fill(path: &std::path::Path) -> ProfileId {
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let db = open(path).await.expect("open");
    let p = profiles::create_profile(&db, "bench", "password123", false, now)
        .await
        .expect("profile");
    bench_support::fill_generations(&db, p.id, GENERATIONS, now)
        .await
        .expect("fill");
    db.close().await;
    p.id
}

/// What the app does before its first screen is usable.
async fn start_up(path: &std::path::Path, profile: ProfileId) -> Duration {
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
        PageRequest::first(50),
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
            generations::history(&db, profile, filter, PageRequest::first(50))
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
