//! Issue 19, item 1: signed updates through `tauri-plugin-updater` in the real app. The app
//! is built with the test builds' public update key (scripts/lib/update-test-key.sh), and a
//! bundle is signed here with the matching private key by the Tauri CLI (`tauri signer sign`,
//! as a release is). A local update host speaks Tauri's updater protocol; the app is pointed
//! at it with `--update-endpoint`. A bundle that is not what was signed, a download cut
//! short and an older version are refused with their message in the writer's language and
//! the app keeps running; then the real bundle is offered with its notes, downloaded,
//! verified and kept (this build is not from a bundle the updater could replace).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fantoccini::Client;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{
    app_pids, click, login, open_settings, recorded, session_with, shot_of, text_of, wait_text, R,
};

/// What the update host serves at the moment.
#[derive(Clone)]
struct Release {
    version: String,
    signature: String,
    /// The bundle's bytes as sent.
    body: Vec<u8>,
    /// The Content-Length announced for them.
    announced: usize,
    /// Sent in pieces with pauses, as over a slow line (the progress bar has time to show).
    slow: bool,
}

/// A static update host: the offer at `/v1/updates/…` (Tauri's dynamic format) and the
/// bundle at `/files/…`, with whatever length the release announces.
async fn update_host(release: Arc<Mutex<Release>>) -> R<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let host = base.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let release = release.clone();
            let host = host.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
                let Ok(release) = release.lock().map(|r| r.clone()) else {
                    return;
                };
                let (kind, body, announced) = if path.starts_with("/v1/updates/") {
                    let offer = json!({
                        "version": release.version,
                        "notes": "新功能：更快的保存 / faster saves",
                        "pub_date": "2026-12-01T00:00:00Z",
                        "url": format!("{host}/files/inkstone_{}_amd64.AppImage", release.version),
                        "signature": release.signature,
                    })
                    .to_string()
                    .into_bytes();
                    let len = offer.len();
                    ("application/json", offer, len)
                } else {
                    ("application/octet-stream", release.body, release.announced)
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let slow = release.slow && kind != "application/json";
                let piece = if slow { 64 * 1024 } else { body.len().max(1) };
                for part in body.chunks(piece) {
                    let _ = socket.write_all(part).await;
                    if slow {
                        let _ = socket.flush().await;
                        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(base)
}

/// Signs `file` as a release is signed: `tauri signer sign` with the test builds' key.
fn tauri_sign(file: &Path) -> R<String> {
    let cli = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/node_modules/.bin/tauri");
    let key = std::env::var("INKSTONE_UPDATE_TEST_KEY")
        .map_err(|_| "INKSTONE_UPDATE_TEST_KEY is not set (scripts/lib/update-test-key.sh)")?;
    let password = std::env::var("INKSTONE_UPDATE_TEST_KEY_PASSWORD").unwrap_or_default();
    let status = std::process::Command::new(cli)
        .args(["signer", "sign", "-f", &key, "-p", &password])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("tauri signer sign failed: {status}").into());
    }
    Ok(std::fs::read_to_string(format!("{}.sig", file.display()))?
        .trim()
        .to_string())
}

/// The app is still there and answering: its process runs and the page still draws.
async fn still_running(c: &Client, data_dir: &Path) -> R<()> {
    if app_pids(data_dir).is_empty() {
        return Err("the app is gone".into());
    }
    text_of(c, "[data-testid=updates-section]")
        .await?
        .ok_or("the updates section is gone")?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver and the built app: scripts/checks/50-e2e.sh"]
async fn updates_through_the_plugin_refuse_a_bad_signature_a_cut_download_and_an_older_version(
) -> R<()> {
    let bundle: Vec<u8> = (0..600_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let work = tempfile::tempdir()?;
    let file = work.path().join("inkstone_99.0.0_amd64.AppImage");
    std::fs::write(&file, &bundle)?;
    let signature = tauri_sign(&file)?;
    let mut tampered = bundle.clone();
    tampered[300_000] ^= 0x20;
    let release = Arc::new(Mutex::new(Release {
        version: "99.0.0".into(),
        signature,
        body: tampered,
        announced: bundle.len(),
        slow: false,
    }));
    let set = |change: &dyn Fn(&mut Release)| -> R<()> {
        let mut r = release.lock().map_err(|_| "poisoned")?;
        change(&mut r);
        Ok(())
    };
    let base = update_host(release.clone()).await?;
    let data = tempfile::tempdir()?;
    let c = session_with(data.path(), &["--update-endpoint".to_string(), base]).await?;
    let outcome = recorded(&c, "updates", || async {
        login(&c, "test_user", "test123456").await?;
        open_settings(&c, "about").await?;

        // Offered with its notes; the bytes served are not the ones signed: refused.
        click(&c, "[data-testid=updates-check]").await?;
        wait_text(&c, "[data-testid=updates-offer]", |t| t.contains("99.0.0")).await?;
        wait_text(&c, "[data-testid=updates-notes]", |t| {
            t.contains("更快的保存")
        })
        .await?;
        click(&c, "[data-testid=updates-install]").await?;
        wait_text(&c, "[data-testid=updates-error]", |t| {
            t.contains("签名无效")
        })
        .await?;
        shot_of(
            &c,
            "[data-testid=updates-section]",
            "95-update-bad-signature",
        )
        .await?;
        still_running(&c, data.path()).await?;

        // The whole length announced, half of it sent: refused as cut short.
        set(&|r| {
            r.body = bundle[..bundle.len() / 2].to_vec();
            r.announced = bundle.len();
        })?;
        click(&c, "[data-testid=updates-install]").await?;
        wait_text(&c, "[data-testid=updates-error]", |t| {
            t.contains("没有下载完整")
        })
        .await?;
        shot_of(&c, "[data-testid=updates-section]", "96-update-truncated").await?;
        still_running(&c, data.path()).await?;

        // An older version: refused, not offered.
        set(&|r| r.version = "0.0.1".into())?;
        click(&c, "[data-testid=updates-check]").await?;
        wait_text(&c, "[data-testid=updates-error]", |t| {
            t.contains("并不比当前版本新")
        })
        .await?;
        shot_of(&c, "[data-testid=updates-section]", "97-update-older").await?;
        still_running(&c, data.path()).await?;

        // Nothing refused was kept.
        let kept = data.path().join("updates");
        let left: Vec<_> = std::fs::read_dir(&kept)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        if !left.is_empty() {
            return Err(format!("refused downloads left behind: {left:?}").into());
        }

        // The real release: offered, downloaded, verified and kept whole.
        set(&|r| {
            r.version = "99.0.0".into();
            r.body = bundle.clone();
            r.announced = bundle.len();
            r.slow = true;
        })?;
        click(&c, "[data-testid=updates-check]").await?;
        wait_text(&c, "[data-testid=updates-offer]", |t| t.contains("99.0.0")).await?;
        // What the progress bar shows while the download runs.
        c.execute(
            "window.__progress = []; \
             new MutationObserver(() => { \
               const p = document.querySelector('[data-testid=updates-progress]'); \
               if (p) window.__progress.push(p.textContent.trim()); \
             }).observe(document.querySelector('[data-testid=updates-section]'), \
               { subtree: true, childList: true, characterData: true, attributes: true });",
            vec![],
        )
        .await?;
        click(&c, "[data-testid=updates-install]").await?;
        let done = wait_text(&c, "[data-testid=updates-done]", |t| t.contains("99.0.0")).await?;
        shot_of(&c, "[data-testid=updates-done]", "98-update-verified").await?;
        let path = kept.join("inkstone_99.0.0_amd64.AppImage");
        if !done.contains(&path.to_string_lossy().into_owned()) {
            return Err(format!("the page does not say where the update is: {done}").into());
        }
        if std::fs::read(&path)? != bundle {
            return Err("the kept update is not the signed bundle".into());
        }
        let shown = c.execute("return window.__progress", vec![]).await?;
        let percents: Vec<u64> = shown
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str()?.trim_end_matches('%').trim().parse().ok())
            .collect();
        if !percents.iter().any(|&p| p > 0 && p < 100) {
            return Err(format!("no progress shown during the download: {shown}").into());
        }
        still_running(&c, data.path()).await
    })
    .await;
    c.close().await?;
    outcome
}
