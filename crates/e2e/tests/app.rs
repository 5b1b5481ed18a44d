//! The real app in a real window (Xvfb + tauri-driver + WebKitWebDriver),
//! driven as a writer would: the seed report's test flow end to end against
//! the bundled demo model and the embedded sandbox payment endpoint. Every
//! step saves a screenshot under target/e2e/ for a person to look at.
//!
//! Needs: INKSTONE_APP (path of the built app), tauri-driver on :4444,
//! zbarimg. Run by scripts/checks/50-e2e.sh; `#[ignore]`d in plain `cargo test`.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

type R<T> = Result<T, Box<dyn std::error::Error>>;

fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn session(data_dir: &std::path::Path) -> R<Client> {
    // Both rustls providers are in the dependency graph: pick one explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = std::env::var("INKSTONE_APP").map_err(|_| "INKSTONE_APP is not set")?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        json!({"application": app, "args": ["--demo", "--data-dir", data_dir.to_string_lossy()]}),
    );
    Ok(ClientBuilder::rustls()?
        .capabilities(caps)
        .connect("http://127.0.0.1:4444")
        .await?)
}

async fn shot(c: &Client, name: &str) -> R<PathBuf> {
    let path = shots_dir().join(format!("{name}.png"));
    std::fs::write(&path, c.screenshot().await?)?;
    Ok(path)
}

async fn wait_css(c: &Client, css: &str) -> R<fantoccini::elements::Element> {
    Ok(c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await?)
}

/// Waits until the element's visible text satisfies `ok`; returns it. Read with `innerText` in
/// the page: WebKitWebDriver's element text fails on some Element Plus tables.
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> R<String> {
    let mut last = String::new();
    for _ in 0..150 {
        let read = c
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null",
                vec![json!(css)],
            )
            .await?;
        if let Some(text) = read.as_str() {
            last = text.to_string();
            if ok(&last) {
                return Ok(last);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("{css}: text never matched, last {last:?}").into())
}

async fn click(c: &Client, css: &str) -> R<()> {
    wait_css(c, css).await?.click().await?;
    Ok(())
}

async fn type_into(c: &Client, css: &str, text: &str) -> R<()> {
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

async fn balance(c: &Client, want: &str) -> R<()> {
    wait_text(c, "[data-testid=balance-value]", |t| t == want).await?;
    Ok(())
}

/// Reads the QR code off a screenshot, as a phone camera would, and pays.
async fn scan_and_pay(c: &Client, name: &str) -> R<()> {
    wait_css(c, "[data-testid=qr-code] svg").await?;
    let png = shot(c, name).await?;
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&png)
        .output()?;
    let url = String::from_utf8(out.stdout)?.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "QR held {url:?} ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = reqwest::get(&url).await?.text().await?;
    assert!(page.contains("确认支付"), "{page}");
    let r = reqwest::Client::new()
        .post(format!("{url}/confirm"))
        .send()
        .await?;
    assert!(r.status().is_success());
    wait_css(c, "[data-testid=pay-success]").await?;
    Ok(())
}

async fn write(c: &Client, prompt: &str) -> R<()> {
    click(c, "[data-testid=nav-writing]").await?;
    type_into(c, "[data-testid=prompt]", prompt).await?;
    click(c, "[data-testid=generate]").await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and the built app: scripts/checks/50-e2e.sh"]
async fn the_report_test_flow_in_the_real_window() -> R<()> {
    let data = tempfile::tempdir()?;
    let c = session(data.path()).await?;
    let result = flow(&c).await;
    if result.is_err() {
        // What the user saw, and what the page was, for whoever reads the CI log.
        let _ = shot(&c, "99-failure").await;
        if let Ok(html) = c.source().await {
            let _ = std::fs::write(shots_dir().join("99-failure.html"), html);
        }
        let probe = "const done = arguments[arguments.length - 1]; const s = document.querySelector('script[type=module]'); \
                     import(s.src).then(() => done('loaded: ' + document.getElementById('app').innerHTML.length + ' errors: ' + JSON.stringify(window.__inkstoneErrors) + ' csp: ' + JSON.stringify(window.__inkstoneCspViolations))).catch(e => done('error: ' + e + ' ' + (e && e.stack)))";
        if let Ok(v) = c.execute_async(probe, vec![]).await {
            eprintln!("module probe: {v}");
        }
        if let Ok(url) = c.current_url().await {
            eprintln!("failed at {url}");
        }
    }
    c.close().await?;
    result
}

async fn flow(c: &Client) -> R<()> {
    // 1. Log in as the demo user: balance 100, Chinese layout.
    wait_css(c, "[data-testid=login-username]").await?;
    shot(c, "01-login").await?;
    type_into(c, "[data-testid=login-username]", "test_user").await?;
    type_into(c, "[data-testid=login-password]", "test123456").await?;
    click(c, "[data-testid=login-submit]").await?;
    balance(c, "100").await?;
    assert_eq!(
        wait_text(c, "[data-testid=nav-writing]", |t| !t.is_empty()).await?,
        "写作"
    );
    shot(c, "02-signed-in").await?;

    // 2. An article streams in; 10 credits.
    write(c, "写一篇关于春天的散文").await?;
    wait_css(c, "[data-testid=stop]").await?;
    wait_text(c, "[data-testid=output]", |t| t.contains("春天")).await?;
    shot(c, "03-streaming").await?;
    balance(c, "90").await?;
    wait_text(c, "[data-testid=output]", |t| t.chars().count() > 100).await?;
    shot(c, "04-article").await?;

    // 3. A failure mid-way: refunded, the balance stays 90.
    write(c, "秋天 [[fault:disconnect_after=5]]").await?;
    wait_text(c, "[data-testid=generation-status]", |t| {
        t.contains("失败") && t.contains("已退款")
    })
    .await?;
    balance(c, "90").await?;
    shot(c, "05-failed-refunded").await?;
    click(c, "[data-testid=nav-transactions]").await?;
    wait_css(c, "[data-testid=tx-kind-REFUND]").await?;
    wait_css(c, "[data-testid=tx-kind-CONSUME]").await?;
    shot(c, "06-transactions").await?;

    // 4. Buy 100 credits in the sandbox: exactly 110 more.
    click(c, "[data-testid=nav-recharge]").await?;
    click(c, "[data-testid=package-credits_100]").await?;
    click(c, "[data-testid=buy]").await?;
    wait_css(c, "[data-testid=sandbox-label]").await?;
    scan_and_pay(c, "07-recharge-qr").await?;
    balance(c, "200").await?;
    shot(c, "08-recharged").await?;

    // 5. A monthly membership: active, with its end date.
    click(c, "[data-testid=nav-membership]").await?;
    wait_text(c, "[data-testid=member-preview]", |t| !t.is_empty()).await?;
    click(c, "[data-testid=buy-member]").await?;
    scan_and_pay(c, "09-membership-qr").await?;
    wait_text(c, "[data-testid=member-status]", |t| t.contains("有效期至")).await?;
    wait_text(c, "[data-testid=member-badge]", |t| t == "会员").await?;
    shot(c, "10-member").await?;

    // 6. As a member, a generation costs nothing.
    write(c, "会员写作测试").await?;
    wait_text(c, "[data-testid=output]", |t| t.contains("会员写作测试")).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    balance(c, "200").await?;

    // 7. Every row is in the history of transactions; history finds the article by a Chinese word.
    click(c, "[data-testid=nav-transactions]").await?;
    wait_css(c, "[data-testid=tx-kind-RECHARGE]").await?;
    wait_css(c, "[data-testid=tx-kind-BONUS]").await?;
    shot(c, "11-all-transactions").await?;
    click(c, "[data-testid=nav-history]").await?;
    type_into(c, "[data-testid=history-search]", "散文").await?;
    click(c, "[data-testid=history-search-button]").await?;
    wait_text(c, "[data-testid=history-table]", |t| {
        t.contains("写一篇关于春天的散文")
    })
    .await?;
    shot(c, "12-history-search").await?;

    // 8. Switching to English works.
    click(c, "[data-testid=nav-settings]").await?;
    click(c, "[data-testid=locale-en]").await?;
    wait_text(c, "[data-testid=nav-writing]", |t| t == "Writing").await?;
    assert!(
        !wait_text(c, "[data-testid=app-version]", |t| !t.is_empty())
            .await?
            .is_empty()
    );
    shot(c, "13-english").await?;
    let violations = c
        .execute("return window.__inkstoneCspViolations", vec![])
        .await?;
    assert_eq!(violations, json!([]), "CSP violations");
    Ok(())
}
