//! Figures of the real app in a real window (Xvfb + tauri-driver + WebKitWebDriver): start-up to
//! first paint, idle memory of the whole process tree, start-up to interactive with 100,000
//! history rows next to an empty database, and frame pacing while a generation streams. Prints
//! `| area | measurement | value | note |` rows; nothing is asserted about time.
//!
//! Needs: INKSTONE_APP (path of the built app) and a tauri-driver at INKSTONE_BENCH_DRIVER
//! (default http://127.0.0.1:4446, so it never meets the E2E suite's :4444). The driver's
//! environment should hold INKSTONE_DEMO_TOKENS_PER_SECOND=50.
//! BENCH_RUNS sets the repetitions of the start-up figures (default 5). Run by
//! scripts/bench.sh (`cargo run -p inkstone-e2e --example bench_app`); an example rather than a
//! test so the E2E suite's `cargo test -- --ignored` never runs it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, Locator};
use inkstone_e2e::{app_pids, launch, sign_in, type_into, wait_css, R};
use serde_json::{json, Value};

const HISTORY_ROWS: i64 = 100_000;

fn row(area: &str, measurement: &str, value: String, note: &str) {
    println!("| {area} | {measurement} | {value} | {note} |");
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(5)
}

/// The bench's own tauri-driver (the E2E suite uses 4444).
fn driver() -> String {
    std::env::var("INKSTONE_BENCH_DRIVER").unwrap_or_else(|_| "http://127.0.0.1:4446".to_string())
}

async fn session(data_dir: &Path) -> R<Client> {
    launch(&driver(), data_dir, &[]).await
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn median_max(v: &[f64]) -> String {
    let s = sorted(v.to_vec());
    format!(
        "{:.0} ms / {:.0} ms",
        pct(&s, 0.5),
        s.last().copied().unwrap_or(f64::NAN)
    )
}

// ---------------------------------------------------------------- processes

struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
}

fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let mut comm = stat[open + 1..close].to_string();
        // comm is cut at 15 bytes (WebKitNetworkPr): take the program's name when it is longer.
        if comm.len() == 15 {
            if let Some(argv0) = std::fs::read(format!("/proc/{pid}/cmdline"))
                .ok()
                .and_then(|c| c.split(|&b| b == 0).next().map(|a| a.to_vec()))
            {
                let argv0 = String::from_utf8_lossy(&argv0).to_string();
                if let Some(name) = argv0.rsplit('/').next().filter(|n| n.starts_with(&comm)) {
                    comm = name.to_string();
                }
            }
        }
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        out.push(Proc { pid, ppid, comm });
    }
    out
}

fn kib(pid: u32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// RSS and PSS (KiB) of `root` and all its descendants, per process name.
fn tree_memory(root: u32) -> BTreeMap<String, (usize, u64, u64)> {
    let all = processes();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    let mut by_name: BTreeMap<String, (usize, u64, u64)> = BTreeMap::new();
    for pid in tree {
        let name = all
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| p.comm.clone())
            .unwrap_or_default();
        let e = by_name.entry(name).or_default();
        e.0 += 1;
        e.1 += kib(pid, "status", "VmRSS:");
        e.2 += kib(pid, "smaps_rollup", "Pss:");
    }
    by_name
}

fn memory_rows(label: &str, data_dir: &Path) {
    let Some(pid) = app_pids(data_dir).first().copied() else {
        row(
            "app",
            &format!("memory, {label}"),
            "app process not found".into(),
            "-",
        );
        return;
    };
    let tree = tree_memory(pid);
    let (rss, pss) = tree
        .values()
        .fold((0, 0), |(r, p), (_, rss, pss)| (r + rss, p + pss));
    let parts: Vec<String> = tree
        .iter()
        .map(|(name, (n, rss, _))| {
            let count = if *n > 1 {
                format!(" x{n}")
            } else {
                String::new()
            };
            format!("{name}{count} {:.0}", *rss as f64 / 1024.0)
        })
        .collect();
    row(
        "app",
        &format!("memory, {label}: RSS / PSS of the process tree"),
        format!(
            "{:.0} MiB / {:.0} MiB",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0
        ),
        &format!("RSS MiB: {}", parts.join(", ")),
    );
}

// ---------------------------------------------------------------- start-up

struct Startup {
    session: f64,
    visible: f64,
    nav_start: f64,
    fcp: Option<f64>,
    dom_ready: Option<f64>,
    load: Option<f64>,
}

/// One cold start: from asking for the session (which launches the app) to the login form.
async fn start_once(data_dir: &Path) -> R<(Client, Startup)> {
    let wall0 = epoch_ms();
    let t0 = Instant::now();
    let c = session(data_dir).await?;
    let session = t0.elapsed().as_secs_f64() * 1e3;
    wait_css(&c, "[data-testid=login-username]").await?;
    let visible = t0.elapsed().as_secs_f64() * 1e3;
    let timing = c
        .execute(
            "const fcp = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint'); \
             const nav = performance.getEntriesByType('navigation')[0]; \
             return {origin: performance.timeOrigin, fcp: fcp ? fcp.startTime : null, \
                     dcl: nav ? nav.domContentLoadedEventEnd : null, load: nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : null}",
            vec![],
        )
        .await?;
    let origin = timing["origin"].as_f64().unwrap_or(f64::NAN);
    Ok((
        c,
        Startup {
            session,
            visible,
            nav_start: origin - wall0,
            fcp: timing["fcp"].as_f64().map(|f| origin + f - wall0),
            dom_ready: timing["dcl"].as_f64().map(|f| origin + f - wall0),
            load: timing["load"].as_f64().map(|f| origin + f - wall0),
        },
    ))
}

async fn startup_and_memory(dir: &Path) -> R<()> {
    // The first start creates the database and seeds the demo users (argon2 hashes); the
    // measured starts after it find them in place, as every later start of the app does.
    let data = dir.join("start");
    let (c, first) = start_once(&data).await?;
    c.close().await?;
    let mut all = Vec::new();
    for i in 0..runs() {
        let (c, s) = start_once(&data).await?;
        if i == 0 {
            // Idle memory, on one run: login page, then signed in.
            tokio::time::sleep(Duration::from_secs(3)).await;
            memory_rows("login page, 3 s idle", &data);
            sign_in(&c, "test_user", "test123456").await?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            memory_rows("signed in (writing page), 3 s idle", &data);
        }
        c.close().await?;
        all.push(s);
    }
    row(
        "app",
        "first start (new data folder: migrations + demo seed): session request -> login form",
        format!("{:.0} ms", first.visible),
        "once",
    );
    let n = all.len();
    let pick = |f: &dyn Fn(&Startup) -> f64| all.iter().map(f).collect::<Vec<f64>>();
    row(
        "app",
        "start: session request -> session ready (app launched): median / max",
        median_max(&pick(&|s| s.session)),
        &format!("{n} starts of an existing data folder"),
    );
    row(
        "app",
        "start: session request -> page navigation start (performance.timeOrigin)",
        median_max(&pick(&|s| s.nav_start)),
        "in-page clock vs wall clock",
    );
    let optional = |name: &str, v: Vec<f64>, note: &str| {
        row(
            "app",
            &format!("start: session request -> {name}"),
            if v.is_empty() {
                "not reported by this WebKit".into()
            } else {
                median_max(&v)
            },
            note,
        )
    };
    optional(
        "DOMContentLoaded end",
        all.iter().filter_map(|s| s.dom_ready).collect(),
        "navigation timing",
    );
    optional(
        "load event end",
        all.iter().filter_map(|s| s.load).collect(),
        "navigation timing",
    );
    optional(
        "first-contentful-paint",
        all.iter().filter_map(|s| s.fcp).collect(),
        "paint timing entry",
    );
    row(
        "app",
        "start: session request -> login form present (WebDriver poll)",
        median_max(&pick(&|s| s.visible)),
        "app visible",
    );
    Ok(())
}

// ---------------------------------------------------------------- history

/// Clicks History in the page and waits, frame by frame, for its first rows; the time is from
/// the click, in the page's clock. (The reply of `history_list` itself cannot be observed here:
/// `__TAURI_INTERNALS__.invoke` is read-only and IPC on Linux is not a fetch.)
const OPEN_HISTORY: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
document.querySelector('[data-testid=nav-history]').click();
function check() {
  const rows = document.querySelectorAll('[data-testid=history-table] .el-table__body tr.el-table__row').length;
  if (rows > 0 || performance.now() - t0 > 25000) {
    done({shown: rows > 0 ? performance.now() - t0 : null, rows});
    return;
  }
  requestAnimationFrame(check);
}
requestAnimationFrame(check);
"#;

struct Interactive {
    login: f64,
    signed_in: f64,
    shown: f64,
    total: f64,
}

async fn to_history(data_dir: &Path) -> R<Interactive> {
    let t0 = Instant::now();
    let c = session(data_dir).await?;
    let result = async {
        wait_css(&c, "[data-testid=login-username]").await?;
        let login = t0.elapsed().as_secs_f64() * 1e3;
        let t1 = Instant::now();
        sign_in(&c, "test_user", "test123456").await?;
        let signed_in = t1.elapsed().as_secs_f64() * 1e3;
        let v = c.execute_async(OPEN_HISTORY, vec![]).await?;
        let shown = v["shown"]
            .as_f64()
            .ok_or_else(|| format!("history never showed: {v}"))?;
        Ok::<_, Box<dyn std::error::Error>>(Interactive {
            login,
            signed_in,
            shown,
            total: t0.elapsed().as_secs_f64() * 1e3,
        })
    }
    .await;
    c.close().await?;
    result
}

/// A data folder whose database holds the demo seed and `rows` generations of the demo user.
async fn build_history_db(data_dir: &Path, rows: i64) -> R<()> {
    use inkstone_core::{bench_support, demo, profiles};
    std::fs::create_dir_all(data_dir)?;
    let db = inkstone_core::open(&data_dir.join("inkstone.db")).await?;
    let now = chrono::Utc::now();
    // The app's own demo seed (idempotent: the app skips it on start), then the history.
    demo::seed_demo(&db, now).await?;
    let user = profiles::find_by_username(&db, demo::DEMO_USER.0)
        .await?
        .ok_or("demo user missing")?;
    let start = now - chrono::Duration::minutes(rows + 60);
    bench_support::fill_generations(&db, user.id, rows, start).await?;
    db.close().await;
    Ok(())
}

async fn history_startup(dir: &Path) -> R<()> {
    let full = dir.join("history-100k");
    // "Empty" holds one generation so both sides end the same way: the first row painted.
    let empty = dir.join("history-1");
    build_history_db(&empty, 1).await?;
    let began = Instant::now();
    build_history_db(&full, HISTORY_ROWS).await?;
    row(
        "app",
        "build database: demo seed + 100,000 generations with search index",
        format!("{:.1} s", began.elapsed().as_secs_f64()),
        "before the app starts",
    );
    let size = std::fs::metadata(full.join("inkstone.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    row(
        "app",
        "database size with 100,000 generations",
        format!("{:.1} MiB", size as f64 / 1048576.0),
        "-",
    );
    let (mut with_rows, mut without) = (Vec::new(), Vec::new());
    // Alternate, so a warm disk cache or a busy moment does not favour one side.
    for _ in 0..runs().min(3) {
        without.push(to_history(&empty).await?);
        with_rows.push(to_history(&full).await?);
    }
    for (label, v) in [
        ("empty (1 generation)", &without),
        ("100,000 generations", &with_rows),
    ] {
        let n = v.len();
        let f = |g: &dyn Fn(&Interactive) -> f64| v.iter().map(g).collect::<Vec<f64>>();
        row(
            "app",
            &format!("history, {label}: session request -> login form"),
            median_max(&f(&|i| i.login)),
            &format!("median / max of {n}"),
        );
        row(
            "app",
            &format!("history, {label}: sign-in -> balance shown"),
            median_max(&f(&|i| i.signed_in)),
            "WebDriver typing included",
        );
        row(
            "app",
            &format!("history, {label}: click History -> first rows painted"),
            median_max(&f(&|i| i.shown)),
            "in-page clock, first frame with rows",
        );
        row(
            "app",
            &format!("history, {label}: session request -> history shown (total)"),
            median_max(&f(&|i| i.total)),
            "start-up to interactive",
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- smoothness

/// Records every frame interval (requestAnimationFrame) and the delay of a setTimeout(0)
/// chain; when `arguments[0]` is true, also keeps a generation running: whenever none is
/// streaming it clicks Generate again.
const PROBE_START: &str = r#"
const keepGenerating = arguments[0];
const b = window.__bench = {frames: [], lags: [], on: true, started: 0, chars0: 0};
const out = () => { const o = document.querySelector('[data-testid=output]'); return o ? o.innerText.length : 0; };
let last = null;
function frame(t) {
  if (!b.on) return;
  if (last !== null) b.frames.push(t - last);
  last = t;
  if (keepGenerating && !document.querySelector('[data-testid=stop]')) {
    const g = document.querySelector('[data-testid=generate]');
    if (g && !g.disabled && (b.lastClick === undefined || t - b.lastClick > 500)) {
      b.lastClick = t; b.started += 1; g.click();
    }
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
function probe() {
  const s = performance.now();
  setTimeout(() => { if (!b.on) return; b.lags.push(performance.now() - s); probe(); }, 0);
}
probe();
b.chars0 = out();
return true;
"#;

const PROBE_READ: &str = r#"
const b = window.__bench;
b.on = false;
const o = document.querySelector('[data-testid=output]');
return {frames: b.frames, lags: b.lags, started: b.started, chars: o ? o.innerText.length : 0};
"#;

fn frame_rows(label: &str, v: &Value, seconds: f64) {
    let list = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let frames = sorted(list("frames"));
    let lags = sorted(list("lags"));
    let long = frames.iter().filter(|&&f| f > 50.0).count();
    row(
        "app",
        &format!("frames, {label}: count (fps)"),
        format!("{} ({:.1}/s)", frames.len(), frames.len() as f64 / seconds),
        "requestAnimationFrame",
    );
    row(
        "app",
        &format!("frames, {label}: interval p50 / p95 / max"),
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            pct(&frames, 0.5),
            pct(&frames, 0.95),
            frames.last().copied().unwrap_or(f64::NAN)
        ),
        "-",
    );
    row(
        "app",
        &format!("frames, {label}: intervals > 50 ms"),
        format!("{long}"),
        "dropped-frame stalls",
    );
    row(
        "app",
        &format!("event loop, {label}: setTimeout(0) delay p50 / p95 / max"),
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            pct(&lags, 0.5),
            pct(&lags, 0.95),
            lags.last().copied().unwrap_or(f64::NAN)
        ),
        &format!("{} probes; nested timers clamp to ~4 ms", lags.len()),
    );
}

async fn smoothness(dir: &Path) -> R<()> {
    const WINDOW: Duration = Duration::from_secs(5);
    let data = dir.join("streaming");
    let c = session(&data).await?;
    let result = async {
        wait_css(&c, "[data-testid=login-username]").await?;
        sign_in(&c, "test_user", "test123456").await?;
        wait_css(&c, "[data-testid=nav-writing]")
            .await?
            .click()
            .await?;
        type_into(&c, "[data-testid=prompt]", "写一篇关于春天的散文").await?;
        tokio::time::sleep(Duration::from_secs(1)).await;

        c.execute(PROBE_START, vec![json!(false)]).await?;
        tokio::time::sleep(WINDOW).await;
        let idle = c.execute(PROBE_READ, vec![]).await?;
        frame_rows("5 s idle (writing page)", &idle, WINDOW.as_secs_f64());

        c.execute(PROBE_START, vec![json!(true)]).await?;
        tokio::time::sleep(WINDOW).await;
        let streaming = c.execute(PROBE_READ, vec![]).await?;
        let tps = std::env::var("INKSTONE_DEMO_TOKENS_PER_SECOND").unwrap_or_else(|_| "?".into());
        frame_rows(
            &format!("5 s streaming at {tps} tokens/s"),
            &streaming,
            WINDOW.as_secs_f64(),
        );
        row(
            "app",
            "streaming window: generations started / output chars at the end",
            format!("{} / {}", streaming["started"], streaming["chars"]),
            "Generate clicked again whenever one finished",
        );
        if let Ok(stop) = c.find(Locator::Css("[data-testid=stop]")).await {
            let _ = stop.click().await;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    c.close().await?;
    result
}

#[tokio::main]
async fn main() -> R<()> {
    let dir = tempfile::tempdir()?;
    println!("| area | measurement | value | note |");
    println!("| --- | --- | --- | --- |");
    // BENCH_ONLY=startup|history|smoothness runs one part (while working on it).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only == name;
    if part("startup") {
        startup_and_memory(dir.path()).await?;
    }
    if part("history") {
        history_startup(dir.path()).await?;
    }
    if part("smoothness") {
        smoothness(dir.path()).await?;
    }
    Ok(())
}
