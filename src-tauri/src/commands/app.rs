//! About the app itself, and the one way out of it: a link opened in the system browser.

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::{AppError, CommandResult};

/// The app's version (this crate's version, which the bundles carry too).
#[tauri::command]
#[tracing::instrument]
pub fn app_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Opens a web link from model output in the system browser. The page shows the address and
/// asks the writer first; here only http(s) links pass, never `file:` or app URLs.
#[tauri::command]
#[tracing::instrument(skip(app), err)]
pub async fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> CommandResult<()> {
    let link = crate::navigation::external_link(&url).ok_or(AppError::InvalidArgument {
        field: "url",
        reason: "only http(s) links open outside the app",
    })?;
    #[cfg(target_os = "linux")]
    {
        // Without the webview levers' variables (webview_tuning::set_by_app): they are for
        // this app's page, not for a browser that may start now.
        let mut command = browser_command(&link, crate::webview_tuning::set_by_app());
        if let Ok(child) = command.spawn() {
            return opened(child, OPENER_VERDICT).await;
        }
        // No xdg-open: the plugin's other ways (gio, the desktop's own opener).
    }
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| AppError::Open(e.to_string()))
}

/// How long xdg-open has to say it failed (no browser, nothing set to open web links).
#[cfg(target_os = "linux")]
const OPENER_VERDICT: std::time::Duration = std::time::Duration::from_secs(3);

/// xdg-open's verdict on the link: a failure within `within` is the writer's to see; still
/// running then, it has started a browser in the foreground and is left to it (reaped on its
/// own thread, never a zombie).
#[cfg(target_os = "linux")]
async fn opened(mut child: std::process::Child, within: std::time::Duration) -> CommandResult<()> {
    let (done, verdict) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    match tokio::time::timeout(within, verdict).await {
        Ok(Ok(Ok(status))) if !status.success() => {
            Err(AppError::Open(format!("xdg-open: {status}")))
        }
        Ok(Ok(Err(error))) => Err(AppError::Open(error.to_string())),
        _ => Ok(()),
    }
}

/// `xdg-open LINK` with the variables in `strip` removed from its environment.
#[cfg(target_os = "linux")]
fn browser_command(link: &tauri::Url, strip: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new("xdg-open");
    command.arg(link.as_str());
    for key in strip {
        command.env_remove(key);
    }
    command
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_browser_starts_without_the_levers_variables() {
        let link = crate::navigation::external_link("https://example.com/a b").expect("a web link");
        let command = browser_command(&link, &["JSC_forceMiniVMMode", "MALLOC_ARENA_MAX"]);
        assert_eq!(command.get_program(), "xdg-open");
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, vec!["https://example.com/a%20b"]);
        let envs: Vec<_> = command.get_envs().collect();
        assert!(envs.contains(&(std::ffi::OsStr::new("JSC_forceMiniVMMode"), None)));
        assert!(envs.contains(&(std::ffi::OsStr::new("MALLOC_ARENA_MAX"), None)));
        assert_eq!(envs.len(), 2, "nothing else is changed");
    }

    fn sh(script: &str) -> std::process::Child {
        std::process::Command::new("sh")
            .args(["-c", script])
            .spawn()
            .expect("sh runs")
    }

    #[tokio::test]
    async fn a_failing_opener_is_the_writers_to_see_and_a_lingering_one_is_left_running() {
        let quick = std::time::Duration::from_secs(2);
        assert!(opened(sh("exit 0"), quick).await.is_ok());
        match opened(sh("exit 3"), quick).await {
            Err(AppError::Open(message)) => assert!(message.contains('3'), "{message}"),
            other => panic!("a failing xdg-open was {other:?}"),
        }
        // A browser started in the foreground: the writer is not kept waiting for it.
        let started = std::time::Instant::now();
        let short = std::time::Duration::from_millis(200);
        assert!(opened(sh("sleep 5"), short).await.is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
