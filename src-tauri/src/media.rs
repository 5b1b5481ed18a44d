//! The `inkfile:` protocol: generated files for `<img>`/`<video>`, by generation id and index,
//! only for the signed-in profile's generations, in byte ranges (crates/desktop/src/media.rs
//! decides; this only translates to HTTP). Nothing is base64-encoded or sent over IPC.

use std::io::{Read, Seek, SeekFrom};

use inkstone_desktop::media::{self, MediaError};
use tauri::http::{self as http, header, Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::state::AppState;

fn status_only(status: StatusCode) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(Vec::new())
        .unwrap_or_default()
}

/// The protocol handler registered in `configure`.
pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let address = request.uri().path().to_owned();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    tauri::async_runtime::spawn(async move {
        responder.respond(answer(&app, &address, range.as_deref()).await);
    });
}

/// One answer for both ways in (the protocol and the loopback listener): the signed-in
/// profile's file at `address` (`/g/{generation}/{f|i}/{index}`), in byte ranges.
async fn answer<R: Runtime>(
    app: &tauri::AppHandle<R>,
    address: &str,
    range: Option<&str>,
) -> Response<Vec<u8>> {
    let Some(state) = app.try_state::<AppState>() else {
        return status_only(StatusCode::SERVICE_UNAVAILABLE);
    };
    let profile = state.profile().ok();
    let root = state.data_dir.join("files");
    let path = match media::resolve(&state.db, &root, profile, address).await {
        Ok(path) => path,
        Err(MediaError::BadAddress) => return status_only(StatusCode::BAD_REQUEST),
        Err(_) => return status_only(StatusCode::NOT_FOUND),
    };
    let range = range.map(str::to_owned);
    tauri::async_runtime::spawn_blocking(move || read_span(&path, range.as_deref()))
        .await
        .unwrap_or_else(|_| status_only(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Videos: WebKitGTK hands a custom scheme's media URL straight to GStreamer, which has no
/// source for it (images and fetches go through WebKit and work). So `<video>` reads the same
/// files from a listener on 127.0.0.1 whose every path starts with a secret made at start
/// (another process on this machine cannot guess it), answering exactly as the protocol does:
/// only the signed-in profile's files, in byte ranges, nothing else. Returns its base URL.
pub async fn serve_loopback<R: Runtime>(app: tauri::AppHandle<R>) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("/{secret}");
    let router = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let app = app.clone();
        let prefix = prefix.clone();
        async move {
            let reply = match request.uri().path().strip_prefix(prefix.as_str()) {
                Some(address)
                    if address.starts_with('/')
                        && matches!(*request.method(), http::Method::GET | http::Method::HEAD) =>
                {
                    let range = request
                        .headers()
                        .get(header::RANGE)
                        .and_then(|v| v.to_str().ok());
                    answer(&app, address, range).await
                }
                _ => status_only(StatusCode::NOT_FOUND),
            };
            let (parts, body) = reply.into_parts();
            axum::response::Response::from_parts(parts, axum::body::Body::from(body))
        }
    });
    tauri::async_runtime::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the loopback media listener stopped");
        }
    });
    Ok(format!("http://127.0.0.1:{port}/{secret}"))
}

fn read_span(path: &std::path::Path, range: Option<&str>) -> Response<Vec<u8>> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let span = match media::span(range, len) {
        Ok(span) => span,
        Err(_) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Vec::new())
                .unwrap_or_default()
        }
    };
    let mut body = Vec::new();
    if len > 0 {
        let count = span.end - span.start + 1;
        if file.seek(SeekFrom::Start(span.start)).is_err()
            || file.take(count).read_to_end(&mut body).is_err()
        {
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
    let mut answer = Response::builder()
        .header(header::CONTENT_TYPE, media::mime_of(path))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, body.len().to_string())
        // The bytes of a finished generation never change, but a signed-out webview must not keep them.
        .header(header::CACHE_CONTROL, "no-store");
    if span.partial {
        answer = answer.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{len}",
                span.start,
                span.start + body.len().saturating_sub(1) as u64
            ),
        );
    } else {
        answer = answer.status(StatusCode::OK);
    }
    answer.body(body).unwrap_or_default()
}
