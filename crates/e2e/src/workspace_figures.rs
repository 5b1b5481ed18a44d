//! The writing workspace's long-document figures (issue 17, item 7), measured in the real
//! window: shared by the E2E test that prints them (`tests/workspace`) and the bench
//! (`examples/bench_workspace.rs`, scripts/bench.sh), so both measure the same thing.

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::{click, wait_text, R};

/// 2,000 lines of 100 characters (200,000) with single line breaks, as a Chinese manuscript
/// or an imported `.txt` has them.
pub fn long_document() -> String {
    let line: String = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
        .chars()
        .cycle()
        .take(100)
        .collect();
    vec![line; 2000].join("\n")
}

/// How the status bar counts `text` ("N 字"): its Han characters (the document has no Latin).
pub fn han_words(text: &str) -> String {
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    format!("{han} 字")
}

/// The `p` quantile of `sorted` (nearest rank); NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The middle value; for an even count the mean of the two middle ones; NaN when empty.
pub fn median(v: &[f64]) -> f64 {
    let s = sorted(v.to_vec());
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Waits in the page until `css`'s text starts with `prefix`, returning how long that took
/// from when the call started, in ms. (No code from strings: the app's CSP refuses eval.)
const WAIT_MS: &str = r#"
    const [css, prefix, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
    const t0 = performance.now();
    const poll = () => {
        const e = document.querySelector(css);
        if (e && e.textContent.startsWith(prefix)) done(performance.now() - t0);
        else if (performance.now() - t0 > 30000) done(-1);
        else requestAnimationFrame(poll);
    };
    poll();
"#;

/// Imports `file` through the page's own file input (as picking it would) and waits until it
/// is open with `words`; then opens another document and times a click back on it: from the
/// click to its text in the editor, in ms (the time to editable).
pub async fn import_and_time_to_editable(
    c: &Client,
    file: &Path,
    title: &str,
    first_line: &str,
    words: &str,
) -> R<f64> {
    let input = c.find(Locator::Css("[data-testid=ws-import-file]")).await?;
    input.send_keys(&file.to_string_lossy()).await?;
    wait_text(c, "[data-testid=ws-doc-heading]", |t| t == title).await?;
    wait_text(c, "[data-testid=ws-words]", |t| t == words).await?;
    click(
        c,
        "[data-testid=ws-doc]:first-child [data-testid=ws-doc-title]",
    )
    .await?;
    wait_text(c, "[data-testid=ws-doc-heading]", |t| t != title).await?;
    let opened = c
        .execute_async(
            &format!(
                "{{ const e = [...document.querySelectorAll('[data-testid=ws-doc-title]')].find((e) => e.textContent === arguments[2]); \
                 e.click(); }} {WAIT_MS}"
            ),
            vec![
                serde_json::json!("[data-testid=ws-editor] .cm-content"),
                serde_json::json!(first_line),
                serde_json::json!(title),
            ],
        )
        .await?
        .as_f64()
        .unwrap_or(-1.0);
    wait_text(c, "[data-testid=ws-words]", |t| t == words).await?;
    if opened < 0.0 {
        return Err("the long document never opened".into());
    }
    Ok(opened)
}

/// What typing into the open document measured, in ms each.
#[derive(Debug, Default)]
pub struct Typing {
    /// Each key's keydown to the first frame after the editor's DOM changed (input-to-paint,
    /// including the wait for that frame: up to 16.7 ms at 60 Hz).
    pub to_paint: Vec<f64>,
    /// Each key's keydown to the editor's DOM changed (the work the key costs the page).
    pub handling: Vec<f64>,
    /// Each autosave's round trip as the page sees it: "saving" to "saved".
    pub saves: Vec<f64>,
}

/// Types `keys` keys (letters, a space every tenth) into the open document, 60 ms apart, and
/// waits for the last save.
pub async fn measure_typing(c: &Client, keys: usize) -> R<Typing> {
    c.execute(
        "window.__lat = []; window.__handle = []; window.__saves = [];
         // Observers of an earlier measurement stop counting.
         const gen = (window.__gen = (window.__gen || 0) + 1);
         const content = document.querySelector('[data-testid=ws-editor] .cm-content');
         let down = null;
         content.addEventListener('keydown', () => { down = performance.now(); }, true);
         new MutationObserver(() => {
         if (down === null || window.__gen !== gen) return;
         const at = down; down = null;
         window.__handle.push(performance.now() - at);
         requestAnimationFrame(() => window.__lat.push(performance.now() - at));
         }).observe(content, { childList: true, subtree: true, characterData: true });
         const state = document.querySelector('[data-testid=ws-save-state]');
         let saving = null;
         new MutationObserver(() => {
         if (window.__gen !== gen) return;
         const s = state.getAttribute('data-state');
         if (s === 'saving') saving = performance.now();
         else if (s === 'saved' && saving !== null) { window.__saves.push(performance.now() - saving); saving = null; }
         }).observe(state, { attributes: true });",
        vec![],
    )
    .await?;
    let content = c
        .find(Locator::Css("[data-testid=ws-editor] .cm-content"))
        .await?;
    content.click().await?;
    for i in 0..keys {
        content
            .send_keys(if i % 10 == 9 { " " } else { "a" })
            .await?;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // The last save done (by its state, not its text: either language).
    let mut saved = false;
    for _ in 0..600 {
        let state = c
            .execute(
                "return document.querySelector('[data-testid=ws-save-state]').getAttribute('data-state')",
                vec![],
            )
            .await?;
        if state.as_str() == Some("saved") {
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !saved {
        return Err("the typing was never saved".into());
    }
    let read = |name: &'static str| async move {
        let v = c.execute(&format!("return window.{name}"), vec![]).await?;
        Ok::<Vec<f64>, Box<dyn std::error::Error>>(serde_json::from_value(v)?)
    };
    Ok(Typing {
        to_paint: read("__lat").await?,
        handling: read("__handle").await?,
        saves: read("__saves").await?,
    })
}

/// The page rectangle (CSS pixels, device pixel ratio 1) of the element `css`, clipped to the
/// window: where a key's effect is looked for on screen.
async fn visible_rect(c: &Client, css: &str) -> R<[i64; 4]> {
    let v = c
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
             const x = Math.max(0, r.left), y = Math.max(0, r.top); \
             return [x, y, Math.min(r.right, innerWidth) - x, Math.min(r.bottom, innerHeight) - y].map(Math.round)",
            vec![serde_json::json!(css)],
        )
        .await?;
    let r: [i64; 4] = serde_json::from_value(v)?;
    if r[2] <= 0 || r[3] <= 0 {
        return Err(format!("{css} is not on screen: {r:?}").into());
    }
    Ok(r)
}

/// What [`pixel_typing`] read: each key's latency in ms, and what to read it with.
#[derive(Debug, Clone, Default)]
pub struct PixelTyping {
    /// Key press to the first changed pixel, ms, for the keys that changed one.
    pub ms: Vec<f64>,
    /// Keys that changed no pixel within 500 ms (lost or painted elsewhere: reported, never hidden).
    pub lost: usize,
    /// Keys found by the probe's backup poll before the X server's DAMAGE event said so
    /// (timed up to 4 ms late).
    pub by_poll: usize,
    /// The probe's own CPU time per key while it waited for pixels.
    pub probe_cpu_ms: f64,
}

/// How the probe looks for a key's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The X server's DAMAGE events say where and when it drew; only those rows are read.
    Damage,
    /// The whole rectangle read every 0.2 ms (the probe until 2026-11-30): it holds most of
    /// a core while the key is handled.
    Whole,
}

/// Input-to-pixels, measured from outside the app (scripts/lib/typing-latency.py): `keys`
/// keys pressed through the X server's XTEST extension into app `pid`'s window, 60 ms apart,
/// each timed until the first pixel inside `rect` (page coordinates: x, y, width, height)
/// changes in Xvfb's framebuffer file `framebuffer` (`Xvfb -fbdir`). The element that should
/// receive the keys must have the focus already.
pub fn pixel_typing(
    framebuffer: &Path,
    pid: u32,
    rect: [i64; 4],
    keys: usize,
    probe: Probe,
) -> R<PixelTyping> {
    let mut command = std::process::Command::new(system_python());
    command
        .arg(script("typing-latency.py"))
        .arg(framebuffer)
        .arg(pid.to_string())
        .args(rect.iter().map(|n| n.to_string()))
        .arg(keys.to_string());
    if probe == Probe::Whole {
        command.arg("--whole");
    }
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!(
            "typing-latency.py failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    parse_pixel_typing(&out.stdout)
}

/// Debian's python3-xlib is the system Python's (scripts/setup-system.sh).
fn system_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/lib")
        .join(name)
}

/// The probe checked on a window whose drawing time is known: scripts/lib/typing-standin.py
/// maps a 600 × 400 window at the screen's corner and draws 8 ms after each key, and both
/// probes time `keys` keys on it ([`Probe::Damage`], then [`Probe::Whole`]). What they read
/// beyond 8 ms is the X server's and their own; the DAMAGE probe must not read later than
/// the one that polls the pixels themselves. Run with no other window over that corner.
pub fn probe_check(framebuffer: &Path, keys: usize) -> R<[PixelTyping; 2]> {
    let mut standin = std::process::Command::new(system_python())
        .arg(script("typing-standin.py"))
        .arg("8")
        .spawn()?;
    // Until its window is mapped (typing-latency.py looks it up by process id).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let rect = [0, 0, 600, 400];
    let result =
        pixel_typing(framebuffer, standin.id(), rect, keys, Probe::Damage).and_then(|damage| {
            Ok([
                damage,
                pixel_typing(framebuffer, standin.id(), rect, keys, Probe::Whole)?,
            ])
        });
    let _ = standin.kill();
    let _ = standin.wait();
    result
}

/// typing-latency.py's one line of JSON.
fn parse_pixel_typing(stdout: &[u8]) -> R<PixelTyping> {
    let parsed: serde_json::Value = serde_json::from_slice(stdout)?;
    let ms = parsed["ms"]
        .as_array()
        .ok_or("typing-latency.py printed no \"ms\" list")?;
    let count = |name: &str| parsed[name].as_u64().unwrap_or(0) as usize;
    Ok(PixelTyping {
        ms: ms.iter().filter_map(|m| m.as_f64()).collect(),
        lost: ms.iter().filter(|m| m.is_null()).count(),
        by_poll: count("by_poll"),
        probe_cpu_ms: parsed["probe_cpu_ms"].as_f64().unwrap_or(f64::NAN),
    })
}

/// [`pixel_typing`] into the workspace's editor, which has the focus after [`measure_typing`].
pub async fn pixel_typing_in_editor(
    c: &Client,
    framebuffer: &Path,
    pid: u32,
    keys: usize,
    probe: Probe,
) -> R<PixelTyping> {
    let rect = visible_rect(c, ".workspace__editor").await?;
    pixel_typing(framebuffer, pid, rect, keys, probe)
}

/// The same keys into a bare `<textarea>` laid over the page (removed after): what WebKit,
/// GTK and the X server cost with no editor at all, the floor under any editor's figure.
pub async fn pixel_typing_floor(
    c: &Client,
    framebuffer: &Path,
    pid: u32,
    keys: usize,
) -> R<PixelTyping> {
    c.execute(
        "const t = document.createElement('textarea'); t.id = 'bench-floor'; \
         t.style.cssText = 'position:fixed;top:120px;left:320px;width:480px;height:120px;z-index:99999'; \
         document.body.appendChild(t); t.focus();",
        vec![],
    )
    .await?;
    let result = visible_rect(c, "#bench-floor")
        .await
        .and_then(|rect| pixel_typing(framebuffer, pid, rect, keys, Probe::Damage));
    c.execute("document.getElementById('bench-floor')?.remove()", vec![])
        .await?;
    result
}

#[cfg(test)]
mod tests {
    use super::{median, parse_pixel_typing};

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[19.4, 20.6, 19.4]), 19.4);
        assert_eq!(median(&[14.3, 13.1]), 13.7);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn the_probe_line_keeps_lost_keys_apart_and_its_own_figures() {
        let p = parse_pixel_typing(
            br#"{"ms": [12.5, null, 9.0], "mode": "damage", "by_poll": 2, "probe_cpu_ms": 0.31}"#,
        )
        .expect("parses");
        assert_eq!(p.ms, vec![12.5, 9.0]);
        assert_eq!(p.lost, 1);
        assert_eq!(p.by_poll, 2);
        assert!((p.probe_cpu_ms - 0.31).abs() < 1e-9);
    }

    #[test]
    fn a_probe_line_without_keys_is_an_error() {
        assert!(parse_pixel_typing(br#"{"by_poll": 0}"#).is_err());
        assert!(parse_pixel_typing(b"not json").is_err());
    }
}
