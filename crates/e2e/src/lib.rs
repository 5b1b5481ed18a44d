//! Driving the real app through tauri-driver, shared by the end-to-end tests (`tests/`,
//! `#[ignore]`d in plain `cargo test`; scripts/checks/50-e2e.sh runs them) and the app
//! benchmark (`examples/bench_app.rs`, scripts/bench.sh). Everything here acts as a user
//! would: it finds elements by `data-testid`, types, clicks and reads what is on screen.
//!
//! Invariants: while the app runs, a test acts only through the window (it may prepare a data
//! folder before the app starts, and read it after a step to check what was stored); every app runs on its
//! own data folder; waits are bounded (`wait_css` 60 s, `wait_text` 30 s), so a broken step fails
//! with the selector it waited for instead of hanging the suite.
//!
//! The example needs a display, tauri-driver and the built app (`INKSTONE_APP`), which
//! scripts/checks/50-e2e.sh provides, so it is compiled here but not run:
//!
//! ```no_run
//! # async fn demo() -> inkstone_e2e::R<()> {
//! use inkstone_e2e::{click, launch, sign_in, wait_text};
//!
//! let data = tempfile::tempdir()?;
//! let app = launch("http://127.0.0.1:4444", data.path(), &[]).await?;
//! sign_in(&app, "test_user", "test123456").await?;
//! // The demo user starts with 100 credits, shown in the header.
//! let balance = wait_text(&app, "[data-testid=balance-value]", |t| t == "100").await?;
//! assert_eq!(balance, "100");
//! click(&app, "[data-testid=balance]").await?; // to the recharge page
//! app.close().await?;
//! # Ok(())
//! # }
//! ```

pub mod notifications;
pub mod workspace_figures;

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub type R<T> = Result<T, Box<dyn std::error::Error>>;

/// Starts the app (demo mode, its own data folder, `extra` arguments) in a new window through
/// the tauri-driver at `driver` (e.g. `http://127.0.0.1:4444`). The app binary is
/// `INKSTONE_APP`.
pub async fn launch(driver: &str, data_dir: &Path, extra: &[String]) -> R<Client> {
    launch_mode(driver, data_dir, extra, true).await
}

/// Starts the app as a release runs it (no `--demo`: no demo users, no demo model, no
/// embedded endpoint), on its own data folder with `extra` arguments.
pub async fn launch_release(driver: &str, data_dir: &Path, extra: &[String]) -> R<Client> {
    launch_mode(driver, data_dir, extra, false).await
}

async fn launch_mode(driver: &str, data_dir: &Path, extra: &[String], demo: bool) -> R<Client> {
    let app = std::env::var("INKSTONE_APP").map_err(|_| "INKSTONE_APP is not set")?;
    let mut args = Vec::new();
    if demo {
        args.push("--demo".to_string());
    }
    args.extend([
        "--data-dir".to_string(),
        data_dir.to_string_lossy().into_owned(),
    ]);
    args.extend(extra.iter().cloned());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        json!({"application": app, "args": args}),
    );
    // A window that never comes up (seen on a loaded machine: GTK failing to open the Xvfb
    // display, and the app gone at once) leaves WebDriver's new-session request waiting
    // forever. Bound it and try once more, so a start that fails twice fails the test
    // instead of hanging the suite.
    let mut last = String::new();
    for attempt in 1..=2 {
        // tauri-driver listens on plain HTTP on this machine: no TLS stack (fantoccini's
        // rustls feature compiled aws-lc, ~35 s of a clean test build, for nothing).
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps.clone());
        match tokio::time::timeout(Duration::from_secs(90), builder.connect(driver)).await {
            Ok(Ok(client)) => return Ok(client),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "no window within 90 s".into(),
        }
        eprintln!("e2e: the app did not start (attempt {attempt}): {last}");
    }
    Err(format!("the app did not start: {last}").into())
}

/// Waits (up to a minute) for an element matching `css`.
pub async fn wait_css(c: &Client, css: &str) -> R<fantoccini::elements::Element> {
    Ok(c.wait()
        .at_most(Duration::from_secs(60))
        .every(Duration::from_millis(10))
        .for_element(Locator::Css(css))
        .await?)
}

/// Clicks the first element matching `css` once it is there and has stopped moving.
pub async fn click(c: &Client, css: &str) -> R<()> {
    let e = wait_css(c, css).await?;
    settle(c, css).await?;
    e.click().await?;
    Ok(())
}

/// Opens the settings page at one of its tabs (`general`, `account`, `ai`, `backups`,
/// `about`), as a writer does: a section is built only while its tab is shown.
pub async fn open_settings(c: &Client, tab: &str) -> R<()> {
    click(c, "[data-testid=nav-settings]").await?;
    click(c, &format!("[data-testid=settings-tab-{tab}]")).await
}

/// Waits (at most a second) until the first element matching `css` has kept its place for two
/// frames. WebDriver clicks at the coordinates it computes first, so a button in a drawer or
/// dialog still sliding in is missed: the click lands where the button no longer is (seen as
/// a "new note" click that opened nothing while the notes drawer slid in).
async fn settle(c: &Client, css: &str) -> R<()> {
    c.execute_async(
        "const [css, done] = arguments;
         const place = () => {
           const e = document.querySelector(css);
           if (!e) return '';
           const r = e.getBoundingClientRect();
           return [r.x, r.y, r.width, r.height].join(',');
         };
         const start = performance.now();
         let last = place(), still = 0;
         const tick = () => {
           const now = place();
           still = now === last ? still + 1 : 0;
           last = now;
           if (still >= 2 || performance.now() - start > 1000) done(null);
           else requestAnimationFrame(tick);
         };
         requestAnimationFrame(tick);",
        vec![json!(css)],
    )
    .await?;
    Ok(())
}

/// Replaces the text of an input (or the input inside an Element Plus wrapper).
pub async fn type_into(c: &Client, css: &str, text: &str) -> R<()> {
    let e = wait_css(c, css).await?;
    let e = match e.find(Locator::Css("input, textarea")).await {
        Ok(inner) => inner,
        Err(_) => e,
    };
    // Select all and delete, as a user would: `clear()` empties the DOM without telling Vue.
    e.send_keys("\u{E009}a\u{E000}\u{E003}").await?;
    e.send_keys(text).await?;
    Ok(())
}

/// The visible text of the first element matching `css`, if any. Read with `innerText` in the
/// page: WebKitWebDriver's element text fails on some Element Plus tables.
pub async fn text_of(c: &Client, css: &str) -> R<Option<String>> {
    let read = c
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null",
            vec![json!(css)],
        )
        .await?;
    Ok(read.as_str().map(str::to_owned))
}

/// Waits (up to 30 s) until the element's visible text satisfies `ok`; returns it. Polls every
/// 20 ms, so the bench can time what a user waits for.
pub async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> R<String> {
    let mut last = String::new();
    for _ in 0..1500 {
        if let Some(text) = text_of(c, css).await? {
            if ok(&text) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{css}: text never matched, last {last:?}").into())
}

/// Signs in on the login page (not kept signed in) and waits until the header shows a balance.
pub async fn sign_in(c: &Client, user: &str, password: &str) -> R<()> {
    type_into(c, "[data-testid=login-username]", user).await?;
    type_into(c, "[data-testid=login-password]", password).await?;
    // "Keep me signed in" is on by default; these tests sign in at every start, so it is
    // turned off here (the first-profile test keeps it on and checks the restart).
    c.execute(
        "const e = document.querySelector('[data-testid=login-remember]'); \
         const box = e && (e.tagName === 'INPUT' ? e : e.querySelector('input')); \
         if (box && box.checked) box.click();",
        vec![],
    )
    .await?;
    click(c, "[data-testid=login-submit]").await?;
    wait_text(c, "[data-testid=balance-value]", |t| {
        t.parse::<i64>().is_ok()
    })
    .await?;
    Ok(())
}

/// A positive count from the environment (a bench's repetitions), or `default` when the
/// variable is unset, zero or not a number.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(default)
}

/// The app processes started for `data_dir` (found by their command line, so other runs never
/// count).
pub fn app_pids(data_dir: &Path) -> Vec<u32> {
    let needle = data_dir.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            comm.starts_with("inkstone-app") && String::from_utf8_lossy(&cmd).contains(&needle)
        })
        .collect()
}

/// Something on the page changes on every frame while `work` runs, then stops.
///
/// Where GL is software the app runs without accelerated compositing (src-tauri's
/// `webview_tuning`), and then WebKitGTK 2.50 answers a WebDriver screenshot only after its
/// next paint, which an idle page never makes: the screenshot waited forever. The change is a
/// 1-pixel, nearly transparent dot in the top-left corner that ignores the pointer, removed
/// afterwards.
async fn while_repainting<T>(
    c: &Client,
    work: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
) -> R<T> {
    c.execute(
        "if (!window.__e2eRepaint) { \
           const d = document.createElement('div'); \
           d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0.01;pointer-events:none;z-index:2147483647'; \
           document.documentElement.appendChild(d); \
           let dark = false; \
           const state = { d, on: true }; \
           const tick = () => { if (!state.on) { d.remove(); return; } dark = !dark; d.style.background = dark ? '#000' : '#fff'; requestAnimationFrame(tick); }; \
           window.__e2eRepaint = state; requestAnimationFrame(tick); \
         }",
        vec![],
    )
    .await?;
    let result = work.await;
    c.execute(
        "if (window.__e2eRepaint) { window.__e2eRepaint.on = false; window.__e2eRepaint = null; }",
        vec![],
    )
    .await?;
    Ok(result?)
}

/// A WebDriver screenshot of the window (PNG), with or without accelerated compositing.
pub async fn screenshot(c: &Client) -> R<Vec<u8>> {
    while_repainting(c, c.screenshot()).await
}

/// A WebDriver screenshot of one element (PNG), with or without accelerated compositing.
pub async fn element_screenshot(c: &Client, e: &fantoccini::elements::Element) -> R<Vec<u8>> {
    while_repainting(c, e.screenshot()).await
}
