//! Two server processes on one PostgreSQL (issue 13, item 3): orders paid through
//! either instance are paid exactly once, and a waiter on one instance hears of a
//! payment settled on the other through LISTEN/NOTIFY, not at its next one-second poll.
//! Runs when DATABASE_URL is a PostgreSQL (scripts/checks/20-server-postgres.sh); on
//! SQLite there is one instance by construction and the test says it is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const RECEIPT_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SANDBOX_KEY: &str = "ICAfHh0cGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwI=";

/// A running `inkstone-server` process, killed when dropped.
struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on a free port and reads its address from the "listening" log line.
fn instance(database_url: &str) -> Instance {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inkstone-server"))
        .env("INKSTONE_SERVER_BIND", "127.0.0.1:0")
        .env("INKSTONE_SERVER_DATABASE_URL", database_url)
        .env("INKSTONE_SERVER_SANDBOX", "1")
        .env("INKSTONE_SERVER_SANDBOX_SECRET", "two-instances")
        .env("INKSTONE_SERVER_RECEIPT_KEY", RECEIPT_KEY)
        .env("INKSTONE_SERVER_SANDBOX_RECEIPT_KEY", SANDBOX_KEY)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start inkstone-server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["fields"]["message"] == "listening" {
                    let _ = tx.send(v["fields"]["url"].as_str().unwrap_or("").to_string());
                }
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server said where it listens");
    Instance { child, base }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_pay_each_order_once_and_wake_each_other() {
    let url = match std::env::var("DATABASE_URL") {
        Ok(u) if inkstone_server::notify::is_postgres(&u) => u,
        _ => {
            eprintln!("skipped: two instances need DATABASE_URL=postgres://… (scripts/checks/20-server-postgres.sh)");
            return;
        }
    };
    let a = instance(&url);
    let b = instance(&url);
    let http = reqwest::Client::new();
    let acct: Value = http
        .post(format!("{}/v1/accounts", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = acct["token"].as_str().unwrap().to_string();
    let mut latencies = Vec::new();
    const ORDERS: usize = 8;
    for i in 0..ORDERS {
        // Alternate: wait on one instance, pay through the other.
        let (waiter, payer) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let created: Value = http
            .post(format!("{}/v1/orders", payer.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({"sku": "credits_100", "provider": "sandbox"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let no = created["order_no"].as_str().expect("order").to_string();
        let wait = tokio::spawn({
            let (http, token) = (http.clone(), token.clone());
            let url = format!("{}/v1/orders/{no}/wait?timeout=20", waiter.base);
            async move {
                let v: Value = http
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                (v, Instant::now())
            }
        });
        // The waiter is parked (its first database read done) before the payment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = http
            .post(format!("{}/sandbox/pay/{no}/confirm", payer.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let committed = Instant::now();
        let (view, answered) = wait.await.unwrap();
        assert_eq!(view["status"], "paid", "{view}");
        assert!(view["receipt"].is_object(), "{view}");
        latencies.push(answered.saturating_duration_since(committed));
        // Paying again through the other instance changes nothing.
        http.post(format!("{}/sandbox/pay/{no}/confirm", waiter.base))
            .send()
            .await
            .unwrap();
    }
    let receipts: Vec<Value> = http
        .get(format!("{}/v1/receipts", b.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(receipts.len(), ORDERS, "one receipt per order");
    latencies.sort();
    eprintln!("commit on one instance → waiter on the other: {latencies:?}");
    // One-second polling would make the median about 500 ms; a notification, a few ms.
    assert!(
        latencies[ORDERS / 2] < Duration::from_millis(250),
        "{latencies:?}"
    );
    assert!(
        latencies[ORDERS - 1] < Duration::from_millis(900),
        "{latencies:?}"
    );
}
