//! Payment endpoint benchmarks (issue 6). Prints `| area | measurement | value | target |`.
//! Verified notifications per second and p99 over loopback HTTP (each one a
//! first PAID transition with its receipt), on SQLite and — when DATABASE_URL
//! is set — PostgreSQL; then memory and CPU with 5,000 long-polling waiters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use inkstone_server::sandbox::SandboxKey;
use inkstone_server::{start, Config, RunningServer};
use serde_json::{json, Value};

const NOTIFICATIONS: usize = 3_000;
/// In-flight notifications: a light and a heavy load. Latency is about concurrency divided by
/// throughput, so both are printed rather than one chosen to flatter the p99.
const CONCURRENCY: [usize; 2] = [8, 32];
const WAITERS: usize = 5_000;
const SECRET: &str = "bench-secret";

fn row(measurement: &str, value: String, target: &str) {
    println!("| server | {measurement} | {value} | {target} |");
}

async fn server(database_url: String, dir: &std::path::Path) -> RunningServer {
    let config = Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url,
        receipt_key_file: Some(dir.join("key.b64")),
        sandbox_secret: Some(SECRET.into()),
        sandbox: true,
        sweep_interval_secs: 0,
        rate_per_minute_ip: u32::MAX,
        rate_per_minute_account: u32::MAX,
        ..Config::default()
    };
    start(config).await.expect("server")
}

/// Creates pending orders straight in the database (the bench is about notifications).
async fn orders(s: &RunningServer, n: usize, tag: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let acct: Value = http
        .post(format!("{}/v1/accounts", s.base_url))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let account = acct["account_id"].as_str().expect("id").to_string();
    let purchase =
        json!({"kind": "credits", "sku": "credits_100", "credits": 100, "bonus_credits": 10})
            .to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let mut out = Vec::with_capacity(n);
    let mut tx = s.state.db.begin().await.expect("tx");
    for i in 0..n {
        let no = format!("IKB{tag}{i:08}");
        sqlx::query(
            "INSERT INTO orders (order_no, account_id, sku, kind, purchase_json, amount_fen, currency, provider, qr_payload,
                                 status, expires_at_ms, created_at_ms, updated_at_ms)
             VALUES ($1, $2, 'credits_100', 'credits', $3, 1000, 'CNY', 'sandbox', 'x', 'PENDING', $4, $5, $5)",
        )
        .bind(&no)
        .bind(&account)
        .bind(&purchase)
        .bind(now + 3_600_000)
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("insert");
        out.push(no);
    }
    tx.commit().await.expect("commit");
    out
}

async fn notifications(label: &str, database_url: String, concurrency: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let s = server(database_url, dir.path()).await;
    let tag = format!("{}", chrono::Utc::now().timestamp_millis() % 100_000);
    let nos = Arc::new(orders(&s, NOTIFICATIONS, &tag).await);
    let key = SandboxKey::new(SECRET.as_bytes());
    let http = reqwest::Client::new();
    let url = format!("{}/notify/sandbox", s.base_url);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (nos, key, http, url, next) = (
            nos.clone(),
            key.clone(),
            http.clone(),
            url.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= nos.len() {
                    return lat;
                }
                let ts = chrono::Utc::now().timestamp();
                let body = serde_json::to_vec(&json!({"order_no": nos[i], "amount_fen": 1000, "currency": "CNY", "txn_id": format!("T{}", nos[i]), "paid_at": ts})).expect("body");
                let sig = key.sign(ts, &body);
                let t = Instant::now();
                let r = http.post(&url).header("x-sandbox-timestamp", ts.to_string()).header("x-sandbox-signature", sig).body(body).send().await.expect("send");
                assert!(r.status().is_success(), "{}", r.status());
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let paid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE order_no LIKE $1")
        .bind(format!("IKB{tag}%"))
        .fetch_one(&s.state.db)
        .await
        .expect("count");
    assert_eq!(paid as usize, NOTIFICATIONS);
    row(
        &format!("verified notifications/s, {label}, {concurrency} concurrent"),
        format!("{:.0}/s", NOTIFICATIONS as f64 / elapsed),
        ">= 2000/s",
    );
    row(
        &format!("notification latency, {label}, {concurrency} concurrent: p50"),
        format!("{:.2} ms", lat[lat.len() / 2].as_secs_f64() * 1e3),
        "-",
    );
    row(
        &format!("notification latency, {label}, {concurrency} concurrent: p99"),
        format!("{:.2} ms", lat[lat.len() * 99 / 100].as_secs_f64() * 1e3),
        "< 20 ms",
    );
    s.shutdown().await;
}

/// Two instances on one PostgreSQL (issue 13): notifications spread over both, then the
/// time from a PAID commit on instance B (its notification answered) to the answer of a
/// waiter long-polling the same order on instance A, which hears of it by LISTEN/NOTIFY.
async fn two_instances(database_url: String) {
    const WAKES: usize = 200;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let key_file = dir_a.path().join("key.b64");
    let a = server(database_url.clone(), dir_a.path()).await;
    // The same receipt key on both, as in production.
    std::fs::copy(&key_file, dir_b.path().join("key.b64")).expect("key");
    let b = server(database_url, dir_b.path()).await;
    let key = SandboxKey::new(SECRET.as_bytes());
    let http = reqwest::Client::new();
    let notify = |s: &RunningServer, no: &str, i: usize| {
        let ts = chrono::Utc::now().timestamp();
        let body = serde_json::to_vec(&json!({"order_no": no, "amount_fen": 1000, "currency": "CNY", "txn_id": format!("T2{no}{i}"), "paid_at": ts})).expect("body");
        let sig = key.sign(ts, &body);
        http.post(format!("{}/notify/sandbox", s.base_url))
            .header("x-sandbox-timestamp", ts.to_string())
            .header("x-sandbox-signature", sig)
            .body(body)
    };
    // Throughput: 32 in flight, alternating instances.
    let tag = format!("{}", chrono::Utc::now().timestamp_millis() % 100_000);
    let nos = Arc::new(orders(&a, NOTIFICATIONS, &format!("X{tag}")).await);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (nos, next, urls, key, http) = (
            nos.clone(),
            next.clone(),
            [a.base_url.clone(), b.base_url.clone()],
            key.clone(),
            http.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= nos.len() {
                    return;
                }
                let ts = chrono::Utc::now().timestamp();
                let body = serde_json::to_vec(&json!({"order_no": nos[i], "amount_fen": 1000, "currency": "CNY", "txn_id": format!("TX{}", nos[i]), "paid_at": ts})).expect("body");
                let sig = key.sign(ts, &body);
                let r = http.post(format!("{}/notify/sandbox", urls[i % 2])).header("x-sandbox-timestamp", ts.to_string()).header("x-sandbox-signature", sig).body(body).send().await.expect("send");
                assert!(r.status().is_success(), "{}", r.status());
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    row(
        "verified notifications/s, PostgreSQL, two instances, 32 concurrent",
        format!(
            "{:.0}/s",
            NOTIFICATIONS as f64 / start.elapsed().as_secs_f64()
        ),
        ">= 2000/s",
    );
    // Wake-up latency: a waiter on A, the payment on B.
    let acct: Value = http
        .post(format!("{}/v1/accounts", a.base_url))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("j");
    let token = acct["token"].as_str().expect("token").to_string();
    let account = acct["account_id"].as_str().expect("id").to_string();
    let wakes = orders(&a, WAKES, &format!("Y{tag}")).await;
    sqlx::query("UPDATE orders SET account_id = $1 WHERE order_no LIKE $2")
        .bind(&account)
        .bind(format!("IKBY{tag}%"))
        .execute(&a.state.db)
        .await
        .expect("owner");
    let mut lat = Vec::with_capacity(WAKES);
    for (i, no) in wakes.iter().enumerate() {
        let wait = tokio::spawn({
            let req = http
                .get(format!("{}/v1/orders/{no}/wait?timeout=10", a.base_url))
                .bearer_auth(&token);
            async move {
                let v: Value = req.send().await.expect("wait").json().await.expect("json");
                (v, Instant::now())
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let r = notify(&b, no, i).send().await.expect("notify");
        assert!(r.status().is_success());
        let committed = Instant::now();
        let (v, answered) = wait.await.expect("waiter");
        assert_eq!(v["status"], "paid");
        lat.push(answered.saturating_duration_since(committed));
    }
    lat.sort();
    row(
        "PAID commit on instance B → waiter answered on instance A: p50",
        format!("{:.2} ms", lat[lat.len() / 2].as_secs_f64() * 1e3),
        "-",
    );
    row(
        "PAID commit on instance B → waiter answered on instance A: p99",
        format!("{:.2} ms", lat[lat.len() * 99 / 100].as_secs_f64() * 1e3),
        "< 100 ms (was ~1 s polling)",
    );
    a.shutdown().await;
    b.shutdown().await;
}

fn proc_stat() -> (u64, u64) {
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.rsplit(')').next()?.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    (rss, cpu)
}

async fn waiters() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let s = server(url, dir.path()).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(WAITERS)
        .build()
        .expect("client");
    let acct: Value = http
        .post(format!("{}/v1/accounts", s.base_url))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("j");
    let token = acct["token"].as_str().expect("token").to_string();
    let account = acct["account_id"].as_str().expect("id").to_string();
    // Orders of this account, so the waits are authorised.
    sqlx::query("UPDATE orders SET account_id = $1")
        .bind(&account)
        .execute(&s.state.db)
        .await
        .expect("u");
    let nos = orders(&s, WAITERS, "W").await;
    sqlx::query("UPDATE orders SET account_id = $1")
        .bind(&account)
        .execute(&s.state.db)
        .await
        .expect("u");
    let (rss0, _) = proc_stat();
    let mut tasks = Vec::new();
    for no in nos {
        let (http, token, base) = (http.clone(), token.clone(), s.base_url.clone());
        tasks.push(tokio::spawn(async move {
            http.get(format!("{base}/v1/orders/{no}/wait?timeout=12"))
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss1, cpu1) = proc_stat();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (_, cpu2) = proc_stat();
    let mut ok = 0;
    for t in tasks {
        if matches!(t.await, Ok(Ok(200))) {
            ok += 1;
        }
    }
    let ticks = 100.0; // USER_HZ on Linux
    row(
        &format!("{WAITERS} long-polling waiters: RSS before / while waiting"),
        format!("{} / {} MiB", rss0 / 1024, rss1 / 1024),
        "-",
    );
    row(
        &format!("{WAITERS} long-polling waiters: CPU while waiting (server + client)"),
        format!(
            "{:.0}% of one core",
            (cpu2 - cpu1) as f64 / ticks / 5.0 * 100.0
        ),
        "-",
    );
    row(
        &format!("{WAITERS} long-polling waiters answered at their timeout"),
        format!("{ok}/{WAITERS}"),
        "all",
    );
    s.shutdown().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    for concurrency in CONCURRENCY {
        notifications(
            "SQLite",
            format!("sqlite://{}?mode=rwc", dir.path().join("n.db").display()),
            concurrency,
        )
        .await;
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            for concurrency in CONCURRENCY {
                notifications("PostgreSQL", url.clone(), concurrency).await;
            }
            two_instances(url).await;
        }
        Err(_) => {
            row(
                "verified notifications/s, PostgreSQL",
                "skipped (set DATABASE_URL)".into(),
                ">= 2000/s",
            );
            row(
                "PAID commit on instance B → waiter answered on instance A: p99",
                "skipped (set DATABASE_URL)".into(),
                "< 100 ms (was ~1 s polling)",
            );
        }
    }
    waiters().await;
}
