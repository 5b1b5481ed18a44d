//! Figures of the real app in a real window (Xvfb + tauri-driver + WebKitWebDriver): process
//! start to first contentful paint, memory of the whole process tree (idle, and after 50
//! streamed generations and a visit to every page), start-up to interactive with 100,000
//! history rows next to an empty database, and frame pacing while a generation streams. Prints
//! `| area | measurement | value | target / note |` rows, each with its target (or "figure
//! only"); nothing is asserted.
//!
//! Needs: INKSTONE_APP (path of the built app) and a tauri-driver at INKSTONE_BENCH_DRIVER
//! (default http://127.0.0.1:4446, so it never meets the E2E suite's :4444). The driver's
//! environment should hold INKSTONE_DEMO_TOKENS_PER_SECOND=50.
//! BENCH_RUNS sets the repetitions of the start-up figures (default 5), BENCH_GENERATIONS the
//! generations of a memory session (default 50), BENCH_MEMORY_SESSIONS how many memory
//! sessions (default 3; the median is next to the target). BENCH_MEMORY_STEPS=1 prints the tree's
//! memory after each step of that session (`released`: after a release at each step, `paced`:
//! after the same 21 s without one); BENCH_SMAPS_DIR=dir keeps each process's
//! `/proc/PID/smaps` at every memory reading. Run by
//! scripts/bench.sh (`cargo run -p inkstone-e2e --example bench_app`); an example rather than a
//! test so the E2E suite's `cargo test -- --ignored` never runs it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, Locator};
use inkstone_e2e::workspace_figures::{median, percentile as pct, sorted};
use inkstone_e2e::{app_pids, env_count, launch, sign_in, type_into, wait_css, R};
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
    env_count("BENCH_RUNS", 5)
}

/// The bench's own tauri-driver (the E2E suite uses 4444).
fn driver() -> String {
    std::env::var("INKSTONE_BENCH_DRIVER").unwrap_or_else(|_| "http://127.0.0.1:4446".to_string())
}

async fn session(data_dir: &Path) -> R<Client> {
    launch(&driver(), data_dir, &[]).await
}

/// Ends the session and waits (up to 15 s) for the app to be gone, so the next start on the
/// same data folder never meets the previous process's lock.
async fn close(c: Client, data_dir: &Path) -> R<()> {
    // Quit the app first, as a writer does (SIGTERM exits like closing the window): ending the
    // WebDriver session kills it, and a killed app checks its whole database at the next
    // start, which no start after a clean exit does (issue 18).
    for pid in app_pids(data_dir) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    for _ in 0..100 {
        if app_pids(data_dir).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The session's end fails once the app is gone; that is expected.
    let _ = c.close().await;
    for _ in 0..300 {
        if app_pids(data_dir).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn median_max(v: &[f64]) -> String {
    format!(
        "{:.0} ms / {:.0} ms",
        median(v),
        sorted(v.to_vec()).last().copied().unwrap_or(f64::NAN)
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

/// `root` and all its descendants.
fn tree_pids(root: u32, all: &[Proc]) -> Vec<u32> {
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    tree
}

/// RSS, PSS and private memory (KiB) of `root` and all its descendants, per process name.
/// PSS splits shared pages among every process mapping them, so it falls when other WebKit
/// apps run on the machine; private memory (`Private_Clean` + `Private_Dirty`) does not.
fn tree_memory(root: u32) -> BTreeMap<String, (usize, u64, u64, u64)> {
    let all = processes();
    let tree = tree_pids(root, &all);
    let mut by_name: BTreeMap<String, (usize, u64, u64, u64)> = BTreeMap::new();
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
        e.3 +=
            kib(pid, "smaps_rollup", "Private_Clean:") + kib(pid, "smaps_rollup", "Private_Dirty:");
    }
    by_name
}

/// What a mapping of `/proc/PID/smaps` is, for the breakdown rows (issue 18: which MiB are the
/// heap, which the libraries, which graphics buffers).
fn mapping_kind(path: &str, exe: &str) -> &'static str {
    if path.is_empty() || path == "[heap]" || path.starts_with("[anon") || path == "[stack]" {
        "heap"
    } else if path.starts_with("/dev/dri")
        || path.starts_with("/memfd:")
        || path.starts_with("/dev/shm")
        || path.starts_with("/SYSV")
        || path.ends_with("(deleted)")
    {
        "buffers"
    } else if path.contains(".so") || path == exe {
        // Shared objects and the app's own binary.
        "libraries"
    } else if path.starts_with('[') {
        // [vdso], [vvar], [vsyscall]
        "libraries"
    } else {
        "files"
    }
}

/// PSS and private memory (KiB) of one process by kind of mapping: `heap` (anonymous memory:
/// malloc, the JavaScript heap, stacks), `libraries` (code and data of shared objects and of
/// the app's binary),
/// `buffers` (DRM, memfd and shared-memory buffers: graphics), `files` (fonts, data files).
fn smaps_kinds(pid: u32) -> BTreeMap<&'static str, (u64, u64)> {
    let mut out: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return out;
    };
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut kind = "heap";
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.ends_with(':') {
            let value: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let e = out.entry(kind).or_default();
            match first {
                "Pss:" => e.0 += value,
                "Private_Clean:" | "Private_Dirty:" => e.1 += value,
                _ => {}
            }
        } else if first.contains('-') {
            // A mapping's header: address perms offset dev inode [path (may hold spaces)].
            let path = line
                .splitn(6, char::is_whitespace)
                .nth(5)
                .map(str::trim)
                .unwrap_or("");
            kind = mapping_kind(path, &exe);
        }
    }
    out
}

/// One reading of a process tree, KiB.
#[derive(Debug, Clone, Copy)]
struct Reading {
    pss: u64,
    private: u64,
    /// Anonymous private memory: malloc, the JavaScript heap, stacks.
    heap: u64,
    /// PSS of shared objects and the program's own binary.
    libraries: u64,
}

/// Prints the memory rows of the app's process tree and returns its reading. The heap does
/// not move with other WebKit apps on the machine; PSS and even private memory do (library
/// pages another process maps are not private).
fn memory_rows(label: &str, data_dir: &Path, target: &str) -> Option<Reading> {
    let Some(pid) = app_pids(data_dir).first().copied() else {
        row(
            "app",
            &format!("memory, {label}"),
            "app process not found".into(),
            target,
        );
        return None;
    };
    Some(tree_rows(label, pid, target))
}

/// The rows of [`memory_rows`] for the tree under `pid`.
fn tree_rows(label: &str, pid: u32, target: &str) -> Reading {
    let tree = tree_memory(pid);
    let (rss, pss, private) = tree
        .values()
        .fold((0, 0, 0), |(r, p, u), (_, rss, pss, private)| {
            (r + rss, p + pss, u + private)
        });
    let parts: Vec<String> = tree
        .iter()
        .map(|(name, (n, _, pss, _))| {
            let count = if *n > 1 {
                format!(" x{n}")
            } else {
                String::new()
            };
            format!("{name}{count} {:.0}", *pss as f64 / 1024.0)
        })
        .collect();
    row(
        "app",
        &format!("memory, {label}: RSS / PSS / private of the process tree"),
        format!(
            "{:.0} / {:.0} / {:.0} MiB",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0,
            private as f64 / 1024.0
        ),
        &format!("{target}; PSS MiB: {}", parts.join(", ")),
    );
    // Where each process's MiB are, so the next lever is aimed (figure only).
    let all = processes();
    let mut kinds: BTreeMap<String, BTreeMap<&'static str, (u64, u64)>> = BTreeMap::new();
    let (mut heap, mut libraries) = (0, 0);
    for tree_pid in tree_pids(pid, &all) {
        let name = all
            .iter()
            .find(|p| p.pid == tree_pid)
            .map(|p| p.comm.clone())
            .unwrap_or_default();
        // BENCH_SMAPS_DIR keeps every mapping, to look at by hand.
        if let Ok(dir) = std::env::var("BENCH_SMAPS_DIR") {
            let tag: String = label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let _ = std::fs::create_dir_all(&dir);
            if let Ok(text) = std::fs::read_to_string(format!("/proc/{tree_pid}/smaps")) {
                let _ = std::fs::write(format!("{dir}/{tag}.{name}.{tree_pid}.smaps"), text);
            }
        }
        let e = kinds.entry(name).or_default();
        for (kind, (p, u)) in smaps_kinds(tree_pid) {
            if kind == "heap" {
                heap += u;
            }
            if kind == "libraries" {
                libraries += p;
            }
            let k = e.entry(kind).or_default();
            k.0 += p;
            k.1 += u;
        }
    }
    for (name, by_kind) in kinds {
        let text: Vec<String> = by_kind
            .iter()
            .map(|(kind, (p, u))| {
                format!(
                    "{kind} {:.0} ({:.0})",
                    *p as f64 / 1024.0,
                    *u as f64 / 1024.0
                )
            })
            .collect();
        row(
            "app",
            &format!("memory, {label}: {name} by kind, PSS (private) MiB"),
            text.join(", "),
            "figure only; heap = anonymous (malloc, JavaScript, stacks), buffers = DRM/memfd/shm",
        );
    }
    Reading {
        pss,
        private,
        heap,
        libraries,
    }
}

/// With `BENCH_MEMORY_STEPS=1`: the tree's PSS and private memory per process after one step
/// of the memory session, to find the step that grows it. With `BENCH_MEMORY_STEPS=released`
/// each step first waits 21 s and has WebKit release memory (as a writer's page does once it
/// settles or idles), so the row is what the step *keeps*, not its garbage; `paced` waits the
/// same 21 s without the release. The web process's heap is printed too.
async fn step_row(c: &Client, label: &str, data_dir: &Path) -> R<()> {
    let mode = std::env::var("BENCH_MEMORY_STEPS").unwrap_or_default();
    let (released, paced) = match mode.as_str() {
        "1" => (false, false),
        "released" => (true, true),
        // The same pace without the release: what the time on each page alone gives back.
        "paced" => (false, true),
        _ => return Ok(()),
    };
    if paced {
        tokio::time::sleep(Duration::from_secs(21)).await;
    }
    if released {
        // The release blocks the web process's main loop: the longest wait of a 0 ms timer
        // in the 2 s after asking is what a click at that moment would wait.
        let v = c
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                if (!window.__inkstoneReleaseMemory) { done(null); return; }
                const asked = window.__inkstoneReleaseMemory();
                let last = performance.now(), longest = 0; const end = last + 2000;
                const tick = () => { const now = performance.now();
                  longest = Math.max(longest, now - last); last = now;
                  if (now < end) setTimeout(tick, 0); else done([asked, longest]); };
                setTimeout(tick, 0);"#,
                vec![],
            )
            .await?;
        match v.as_array().map(Vec::as_slice) {
            Some([asked, longest]) if asked == &json!(true) => row(
                "app",
                &format!("release, {label}: longest main-thread wait"),
                format!("{:.0} ms", longest.as_f64().unwrap_or(-1.0)),
                "figure only (BENCH_MEMORY_STEPS=released)",
            ),
            _ => row(
                "app",
                &format!("release, {label}"),
                format!("refused or missing: {v}"),
                "figure only (BENCH_MEMORY_STEPS=released)",
            ),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let Some(pid) = app_pids(data_dir).first().copied() else {
        return Ok(());
    };
    let mut parts: Vec<String> = tree_memory(pid)
        .iter()
        .map(|(name, (_, _, pss, private))| {
            format!(
                "{name} {:.0} ({:.0})",
                *pss as f64 / 1024.0,
                *private as f64 / 1024.0
            )
        })
        .collect();
    let all = processes();
    let web_heap: u64 = tree_pids(pid, &all)
        .into_iter()
        .filter(|p| {
            all.iter()
                .any(|q| q.pid == *p && q.comm == "WebKitWebProcess")
        })
        .filter_map(|p| smaps_kinds(p).get("heap").map(|(_, private)| *private))
        .sum();
    parts.push(format!("web heap {:.1}", web_heap as f64 / 1024.0));
    // What the page holds: hidden popper layers (Element Plus keeps closed dropdowns and
    // pickers there) are most of what a page builds and never shows.
    let counts = c
        .execute(
            "return [document.getElementsByTagName('*').length, \
             document.querySelectorAll('[id^=el-popper-container] *').length]",
            vec![],
        )
        .await?;
    if let Some([all, hidden]) = counts.as_array().map(Vec::as_slice) {
        parts.push(format!("elements {all} ({hidden} in popper layers)"));
    }
    let (what, note) = match (released, paced) {
        (true, _) => (
            " after a release",
            "figure only (BENCH_MEMORY_STEPS=released)",
        ),
        (false, true) => (" after 21 s", "figure only (BENCH_MEMORY_STEPS=paced)"),
        _ => ("", "figure only (BENCH_MEMORY_STEPS=1)"),
    };
    row(
        "app",
        &format!("memory step{what}, {label}: PSS (private) MiB"),
        parts.join(", "),
        note,
    );
    Ok(())
}

/// When `pid` started, in ms since the Unix epoch, from /proc (10 ms resolution): the
/// process's start in clock ticks since boot, against the time since boot now.
fn process_start_epoch_ms(pid: u32) -> Option<f64> {
    let now = epoch_ms();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    // Field 22 (starttime); after "pid (comm)" the state is field 3.
    let ticks: f64 = stat[close + 1..].split_whitespace().nth(19)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(now - (uptime - ticks / 100.0) * 1e3)
}

// ---------------------------------------------------------------- start-up

struct Startup {
    /// Process start -> first contentful paint (the figure issue 18 sets a target for).
    process_fcp: Option<f64>,
    /// Process start -> the login form found by WebDriver (an upper bound of the paint, for
    /// the starts where WebKit reports no paint entry).
    process_visible: Option<f64>,
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
    let started = app_pids(data_dir)
        .first()
        .and_then(|&pid| process_start_epoch_ms(pid));
    let process_visible = started.map(|start| wall0 + visible - start);
    let process_fcp = match (started, timing["fcp"].as_f64()) {
        (Some(start), Some(fcp)) => Some(origin + fcp - start),
        _ => None,
    };
    Ok((
        c,
        Startup {
            process_fcp,
            process_visible,
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
    close(c, &data).await?;
    let mut all = Vec::new();
    for i in 0..runs() {
        let (c, s) = start_once(&data).await?;
        if i == 0 {
            // Idle memory, on one run: login page, then signed in.
            tokio::time::sleep(Duration::from_secs(3)).await;
            memory_rows("login page, 3 s idle", &data, "figure only");
            sign_in(&c, "test_user", "test123456").await?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            memory_rows(
                "signed in (writing page), 3 s idle",
                &data,
                "figure only (60 s idle: below)",
            );
        }
        close(c, &data).await?;
        all.push(s);
    }
    row(
        "app",
        "first start (new data folder: migrations + demo seed): session request -> login form",
        format!("{:.0} ms", first.visible),
        "figure only; once",
    );
    let n = all.len();
    let fcp: Vec<f64> = all.iter().filter_map(|s| s.process_fcp).collect();
    row(
        "app",
        "start: process start -> first-contentful-paint: median / max",
        if fcp.is_empty() {
            "not measured (no paint entry or no process)".into()
        } else {
            median_max(&fcp)
        },
        &format!("target: median < 500 ms; {n} starts, /proc start time (10 ms ticks)"),
    );
    let visible: Vec<f64> = all.iter().filter_map(|s| s.process_visible).collect();
    row(
        "app",
        "start: process start -> login form present (WebDriver poll): median / max",
        if visible.is_empty() {
            "not measured (no process)".into()
        } else {
            median_max(&visible)
        },
        "target: median < 500 ms (an upper bound of the paint: WebKit does not always report one)",
    );
    let pick = |f: &dyn Fn(&Startup) -> f64| all.iter().map(f).collect::<Vec<f64>>();
    row(
        "app",
        "start: session request -> session ready (app launched): median / max",
        median_max(&pick(&|s| s.session)),
        &format!("figure only (WebDriver included); {n} starts of an existing data folder"),
    );
    row(
        "app",
        "start: session request -> page navigation start (performance.timeOrigin)",
        median_max(&pick(&|s| s.nav_start)),
        "figure only; in-page clock vs wall clock",
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
        "figure only; navigation timing",
    );
    optional(
        "load event end",
        all.iter().filter_map(|s| s.load).collect(),
        "figure only; navigation timing",
    );
    optional(
        "first-contentful-paint",
        all.iter().filter_map(|s| s.fcp).collect(),
        "figure only (WebDriver included); paint timing entry",
    );
    row(
        "app",
        "start: session request -> login form present (WebDriver poll)",
        median_max(&pick(&|s| s.visible)),
        "figure only; app visible",
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
    close(c, data_dir).await?;
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
        "figure only; before the app starts",
    );
    let size = std::fs::metadata(full.join("inkstone.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    row(
        "app",
        "database size with 100,000 generations",
        format!("{:.1} MiB", size as f64 / 1048576.0),
        "figure only",
    );
    let (mut with_rows, mut without) = (Vec::new(), Vec::new());
    // Alternate, so a warm disk cache or a busy moment does not favour one side.
    for _ in 0..runs().min(3) {
        without.push(to_history(&empty).await?);
        with_rows.push(to_history(&full).await?);
    }
    for (label, v, rows_target) in [
        (
            "empty (1 generation)",
            &without,
            "figure only (100,000: < 300 ms)",
        ),
        ("100,000 generations", &with_rows, "target: < 300 ms"),
    ] {
        let n = v.len();
        let f = |g: &dyn Fn(&Interactive) -> f64| v.iter().map(g).collect::<Vec<f64>>();
        row(
            "app",
            &format!("history, {label}: session request -> login form"),
            median_max(&f(&|i| i.login)),
            &format!("figure only (WebDriver included); median / max of {n}"),
        );
        row(
            "app",
            &format!("history, {label}: sign-in -> balance shown"),
            median_max(&f(&|i| i.signed_in)),
            "figure only; WebDriver typing included",
        );
        row(
            "app",
            &format!("history, {label}: click History -> first rows painted"),
            median_max(&f(&|i| i.shown)),
            &format!("{rows_target}; in-page clock, first frame with rows"),
        );
        row(
            "app",
            &format!("history, {label}: session request -> history shown (total)"),
            median_max(&f(&|i| i.total)),
            "figure only (WebDriver typing included); start-up to interactive",
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
        "target: >= 50/s; requestAnimationFrame",
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
        "target: p95 < 33 ms (two frames at 60 Hz)",
    );
    row(
        "app",
        &format!("frames, {label}: intervals > 50 ms"),
        format!("{long}"),
        "target: 0; dropped-frame stalls",
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
        &format!(
            "target: p95 < 16 ms; {} probes; nested timers clamp to ~4 ms",
            lags.len()
        ),
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
            "figure only; Generate clicked again whenever one finished",
        );
        if let Ok(stop) = c.find(Locator::Css("[data-testid=stop]")).await {
            let _ = stop.click().await;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    close(c, &data).await?;
    result
}

// ---------------------------------------------------------------- memory over a session

/// One generation on the writing page: Generate, then wait until Stop is gone (stopped after
/// 25 s, inside WebDriver's 30 s script timeout); reports whether it finished and how long it took.
const GENERATE_MANY: &str = r#"
const [count, done] = [arguments[0], arguments[arguments.length - 1]];
const t0 = performance.now();
let finished = 0, state = 'idle', since = t0;
function tick() {
  const now = performance.now();
  const stop = document.querySelector('[data-testid=stop]');
  if (state === 'idle') {
    const g = document.querySelector('[data-testid=generate]');
    if (g && !g.disabled && !stop) { g.click(); state = 'asked'; since = now; }
  } else if (state === 'asked') {
    if (stop) state = 'streaming';
    else if (now - since > 3000) state = 'idle';  // the click did not take: try again
  } else if (!stop) {
    finished += 1; state = 'idle';
  } else if (now - since > 25000) {
    stop.click(); finished += 1; state = 'idle';
  }
  if (finished >= count || now - t0 > 28000) {
    done({finished, ms: now - t0});
    return;
  }
  setTimeout(tick, 20);
}
tick();
"#;

fn generations() -> usize {
    env_count("BENCH_GENERATIONS", 50)
}

/// How many idle releases the page has asked for so far (lever idle-release:
/// `ui/src/idleRelease.ts`), and which commands are in flight (they hold it back).
async fn idle_release_row(c: &Client, when: &str) -> R<()> {
    let state = c
        .execute(
            "const w = window.__inkstoneIdle; return w ? [w.asked(), w.commands()] : null",
            vec![],
        )
        .await?;
    let value = match state.as_array().map(Vec::as_slice) {
        Some([asked, commands]) => format!("{asked} asked; in flight: {commands}"),
        _ => "no watcher (lever idle-release off, or no web extension)".to_string(),
    };
    row(
        "app",
        &format!("idle releases, {when}"),
        value,
        "figure only (one per quiet spell of 30 s)",
    );
    Ok(())
}

/// The pages of the memory session's tour: every page, or the order `BENCH_TOUR` names
/// (comma-separated `nav-<page>` ids, each optionally followed by `+<tab>` for every tab to
/// open there, e.g. `settings+account+ai+backups+about`; with `BENCH_MEMORY_STEPS=released`
/// and `BENCH_GENERATIONS=1`, what each page leaves in that order). Every page is the
/// navigation's; the settings page shows its first tab, as when a writer opens it.
fn tour_pages() -> Vec<String> {
    const EVERY_PAGE: [&str; 11] = [
        "workspace",
        "image",
        "video",
        "ppt",
        "history",
        "recharge",
        "membership",
        "transactions",
        "stats",
        "settings",
        "writing",
    ];
    match std::env::var("BENCH_TOUR") {
        Ok(tour) if !tour.trim().is_empty() => tour
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => EVERY_PAGE.iter().map(|p| p.to_string()).collect(),
    }
}

fn memory_sessions() -> usize {
    env_count("BENCH_MEMORY_SESSIONS", 3)
}

/// Issue 18's memory figures, from `memory_sessions()` sessions of a fresh app and profile
/// each: one session's growth moves by ~3 MiB from run to run (all of it in the web process's
/// heap), as much as the gap to the target, so the figures next to the targets are the median
/// session's, with every session's beside them.
async fn memory(dir: &Path) -> R<()> {
    let n = memory_sessions();
    let mut readings = Vec::new();
    for k in 1..=n {
        // Only the first session visits every page a second time: that row asks whether the
        // first visit's growth is a one-time cost, once is enough.
        if let Some(pair) = memory_session(dir, k, n, k == 1).await? {
            readings.push(pair);
        }
    }
    let mib = |kib: i64| kib as f64 / 1024.0;
    let listed = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if readings.is_empty() {
        row(
            "app",
            "memory, median of the sessions",
            "no session read the app's memory".into(),
            "target: PSS < 150 MiB idle, growth < 20 MiB",
        );
        return Ok(());
    }
    let idle: Vec<f64> = readings.iter().map(|(i, _)| mib(i.pss as i64)).collect();
    let growth = |f: fn(&Reading) -> u64| -> Vec<f64> {
        readings
            .iter()
            .map(|(i, a)| mib(f(a) as i64 - f(i) as i64))
            .collect()
    };
    let (pss, private, heap) = (growth(|r| r.pss), growth(|r| r.private), growth(|r| r.heap));
    let sessions = format!("median of {} session(s)", readings.len());
    row(
        "app",
        &format!("memory, signed in (writing page), 60 s idle, PSS, {sessions}"),
        format!("{:.0} MiB (sessions: {})", median(&idle), listed(&idle)),
        "target: PSS < 150 MiB",
    );
    row(
        "app",
        &format!(
            "memory growth over {} generations and every page, {sessions}: PSS / private / heap",
            generations()
        ),
        format!(
            "{:+.1} / {:+.1} / {:+.1} MiB (PSS by session: {}; private: {}; heap: {})",
            median(&pss),
            median(&private),
            median(&heap),
            listed(&pss),
            listed(&private),
            listed(&heap)
        ),
        if generations() == 50 {
            "target: PSS < 20 MiB; 60 s idle before each figure"
        } else {
            "figure only (the target, < 20 MiB, is over 50 generations)"
        },
    );
    Ok(())
}

/// One memory session: signed in on the writing page after 60 s idle, then again after
/// `generations()` streamed generations and a visit to every page (back on the writing page,
/// 60 s idle), and with `second_visit` once more after a second visit to every page. The admin
/// profile is used: a member, so 50 generations cost no credits. Returns the idle reading and
/// the one after the session.
async fn memory_session(
    dir: &Path,
    k: usize,
    n_sessions: usize,
    second_visit: bool,
) -> R<Option<(Reading, Reading)>> {
    let data = dir.join(format!("memory-{k}"));
    let c = session(&data).await?;
    let of = format!("session {k} of {n_sessions}");
    let result = async {
        wait_css(&c, "[data-testid=login-username]").await?;
        sign_in(&c, "admin", "admin123456").await?;
        wait_css(&c, "[data-testid=nav-writing]")
            .await?
            .click()
            .await?;
        wait_css(&c, "[data-testid=prompt]").await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let idle = memory_rows(
            &format!("{of}, signed in (writing page), 60 s idle"),
            &data,
            "figure only (the median session's: below)",
        );
        idle_release_row(&c, "signed in, 60 s idle").await?;
        type_into(&c, "[data-testid=prompt]", "写一篇关于春天的散文").await?;
        let n = generations();
        let (mut finished, began) = (0, Instant::now());
        for _ in 0..n {
            let v = c.execute_async(GENERATE_MANY, vec![json!(1)]).await?;
            finished += v["finished"].as_u64().unwrap_or(0);
        }
        row(
            "app",
            "memory session: generations finished / time",
            format!("{finished} of {n} / {:.0} s", began.elapsed().as_secs_f64()),
            "figure only; demo model, one after the other",
        );
        step_row(&c, &format!("after {n} generations"), &data).await?;
        let pages = tour_pages();
        let tour = |round: &'static str| {
            let (c, data, pages) = (&c, &data, &pages);
            async move {
                for page in pages {
                    // `settings+account+ai`: the page, then each tab named after it, as a
                    // writer who opens them one after the other.
                    let mut parts = page.split('+');
                    let nav = parts.next().unwrap_or_default();
                    wait_css(c, &format!("[data-testid=nav-{nav}]"))
                        .await?
                        .click()
                        .await?;
                    for tab in parts {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        wait_css(c, &format!("[data-testid={nav}-tab-{tab}]"))
                            .await?
                            .click()
                            .await?;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    step_row(c, &format!("{round}: page {page} open 1 s"), data).await?;
                }
                Ok::<_, Box<dyn std::error::Error>>(())
            }
        };
        let mib = |a: u64, b: u64| (a as f64 - b as f64) / 1024.0;
        let growth = |label: &str, from: Reading, to: Reading, target: &str| {
            row(
                "app",
                label,
                format!(
                    "{:+.1} / {:+.1} / {:+.1} MiB",
                    mib(to.pss, from.pss),
                    mib(to.private, from.private),
                    mib(to.heap, from.heap)
                ),
                target,
            );
        };
        tour("first visit").await?;
        // As long as the idle figure waited, so the two are comparable (WebKit frees some
        // caches on timers; 30 s before the third pass of issue 18).
        tokio::time::sleep(Duration::from_secs(60)).await;
        let after = memory_rows(
            &format!("{of}, after {n} generations and every page, 60 s idle"),
            &data,
            "figure only (growth: below)",
        );
        idle_release_row(&c, "after the session, 60 s idle").await?;
        if let (Some(idle), Some(after)) = (idle, after) {
            growth(
                &format!(
                    "memory growth over {n} generations and every page, {of}: PSS / private / heap"
                ),
                idle,
                after,
                "figure only (the median session's: below)",
            );
        }
        if !second_visit {
            return Ok(idle.zip(after));
        }
        // Steady state or a leak? Every page once more: a one-time cache adds ~0 here.
        tour("second visit").await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let again = memory_rows(
            "after a second visit to every page, 60 s idle",
            &data,
            "figure only (growth: below)",
        );
        idle_release_row(&c, "after the second visit, 60 s idle").await?;
        if let (Some(after), Some(again)) = (after, again) {
            growth(
                "memory growth of a second visit to every page: PSS / private / heap",
                after,
                again,
                "figure only; ~0 means the first visit's growth is a one-time cache",
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(idle.zip(after))
    }
    .await;
    close(c, &data).await?;
    result
}

// ---------------------------------------------------------------- the floor

/// Issue 18's floor: an empty Tauri 2 window (`src-tauri/examples/empty_window`, path in
/// INKSTONE_FLOOR_APP) in the same Xvfb and session bus, 60 s idle, measured like the app:
/// once with the levers the app would run with here, once with none.
async fn floor() -> R<()> {
    let Ok(bin) = std::env::var("INKSTONE_FLOOR_APP") else {
        row(
            "app",
            "floor: an empty Tauri 2 window",
            "not measured: INKSTONE_FLOOR_APP unset".into(),
            "scripts/bench.sh builds it",
        );
        return Ok(());
    };
    // What the app in this bench runs with: the variable as given, or production (unset).
    let app_levers = std::env::var("INKSTONE_WEBVIEW_LEVERS").ok();
    let app_label = match &app_levers {
        None => "the app's production levers".to_string(),
        Some(v) => format!("the levers given ({v})"),
    };
    for (label, levers) in [
        ("no levers".to_string(), Some("none".to_string())),
        (app_label, app_levers.clone()),
    ] {
        let mut command = std::process::Command::new(&bin);
        match &levers {
            Some(v) => command.env("INKSTONE_WEBVIEW_LEVERS", v),
            None => command.env_remove("INKSTONE_WEBVIEW_LEVERS"),
        };
        let mut child = command
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{bin}: {e}"))?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let what = format!("floor, an empty Tauri 2 window with {label}, 60 s idle");
        let reading = tree_rows(&what, child.id(), "figure only: the stack's floor");
        let _ = child.kill();
        let _ = child.wait();
        let mib = |k: u64| k as f64 / 1024.0;
        row(
            "app",
            &format!(
                "an empty Tauri 2 window on this machine (the floor), {label}: PSS / private / heap / libraries"
            ),
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} MiB",
                mib(reading.pss),
                mib(reading.private),
                mib(reading.heap),
                mib(reading.libraries)
            ),
            "figure only: what < 150 MiB PSS is measured against (libraries: PSS)",
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> R<()> {
    let dir = tempfile::tempdir()?;
    println!("| area | measurement | value | target / note |");
    println!("| --- | --- | --- | --- |");
    // BENCH_ONLY=floor|startup|memory|history|smoothness runs one part (while working on it);
    // several, comma-separated, run in the bench's order.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let part = |name: &str| only.is_empty() || only.split(',').any(|p| p.trim() == name);
    if part("floor") {
        floor().await?;
    }
    if part("startup") {
        startup_and_memory(dir.path()).await?;
    }
    if part("memory") {
        memory(dir.path()).await?;
    }
    if part("history") {
        history_startup(dir.path()).await?;
    }
    if part("smoothness") {
        smoothness(dir.path()).await?;
    }
    Ok(())
}
