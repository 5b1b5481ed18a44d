//! The window never leaves the app: the main window may only show the app's own pages, and a
//! link from model output opens in the system browser (after the writer confirms, in the
//! page) through [`external_link`]'s check.

use tauri::Url;

/// Whether `url` is one of the app's own pages: the embedded UI (`tauri://localhost` on
/// Linux and macOS, `http(s)://tauri.localhost` on Windows) or, in a dev build, the dev server.
pub fn is_app_page(url: &Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => url.port().is_none(),
        ("http", Some("127.0.0.1")) if tauri::is_dev() => url.port() == Some(1420),
        // WebKit reports the first, empty document so.
        ("about", None) => url.as_str() == "about:blank",
        _ => false,
    }
}

/// A link the system browser may open: http(s) with a host and without credentials.
pub fn external_link(url: &str) -> Option<Url> {
    let parsed = Url::parse(url.trim()).ok()?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none();
    ok.then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_apps_own_pages_may_be_shown() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#/writing",
            "http://tauri.localhost/#/history",
            "https://tauri.localhost/",
            "about:blank",
        ] {
            assert!(is_app_page(&url(ok)), "{ok}");
        }
        for bad in [
            "https://example.com/inkstone-demo",
            "http://tauri.localhost.evil.example/",
            "http://tauri.localhost:8080/",
            "tauri://evil/",
            "file:///etc/passwd",
            "data:text/html,<h1>x</h1>",
            "javascript:alert(1)",
            "about:srcdoc",
            "http://127.0.0.1:9999/",
        ] {
            assert!(!is_app_page(&url(bad)), "{bad}");
        }
    }

    #[test]
    fn only_web_links_open_outside() {
        assert!(external_link("https://example.com/a?b=c#d").is_some());
        assert!(external_link(" http://example.com ").is_some());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "tauri://localhost/",
            "https://user:pw@example.com/",
            "smb://host/share",
            "/relative",
            "",
        ] {
            assert!(external_link(bad).is_none(), "{bad}");
        }
    }
}
