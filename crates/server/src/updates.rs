//! The update manifest for the desktop app (issue 19, item 1):
//! `GET /v1/updates/{target}/{arch}/{current_version}` answers in the format of Tauri's
//! updater ("dynamic server"): `204 No Content` when there is nothing newer for that
//! platform, `200` with `{version, notes, pub_date, url, signature}` when there is.
//!
//! The operator publishes a release by replacing one JSON file (`updates_manifest` in the
//! config), the same shape as Tauri's static `latest.json`:
//!
//! ```json
//! {"version": "0.2.0", "notes": "…", "pub_date": "2026-12-01T00:00:00Z",
//!  "platforms": {"linux-x86_64": {"url": "https://…AppImage", "signature": "…"}}}
//! ```
//!
//! The file is read at each request (a few KiB, capped), so publishing needs no restart. The
//! server signs nothing here: a bundle's signature is made offline with the private update
//! key, and the desktop verifies it against the public key it was built with.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A manifest larger than this is an operator's mistake, not a release.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// Targets and architectures Tauri's updater names.
const TARGETS: &[&str] = &["linux", "windows", "darwin"];
const ARCHES: &[&str] = &["x86_64", "aarch64", "i686", "armv7"];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    pub version: String,
    #[serde(default)]
    pub notes: String,
    pub pub_date: Option<String>,
    pub platforms: std::collections::BTreeMap<String, Platform>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    pub url: String,
    pub signature: String,
}

/// What the updater receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub version: String,
    pub notes: String,
    pub pub_date: Option<String>,
    pub url: String,
    pub signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("the manifest's version is not a semantic version")]
    Version,
    #[error("a platform's url must be https (or http on this machine): {0}")]
    Url(String),
    #[error("a platform has no signature: {0}")]
    Signature(String),
}

/// Parses and checks a manifest the operator published.
pub fn parse_manifest(bytes: &[u8]) -> Result<(Manifest, semver::Version), ManifestError> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Shape(e.to_string()))?;
    let version = semver::Version::parse(manifest.version.trim_start_matches('v'))
        .map_err(|_| ManifestError::Version)?;
    for (name, p) in &manifest.platforms {
        let loopback =
            p.url.starts_with("http://127.0.0.1") || p.url.starts_with("http://localhost");
        if !(p.url.starts_with("https://") || loopback) || p.url.len() > 2048 {
            return Err(ManifestError::Url(name.clone()));
        }
        if p.signature.trim().is_empty() || p.signature.len() > 4096 {
            return Err(ManifestError::Signature(name.clone()));
        }
    }
    Ok((manifest, version))
}

/// The bundle kinds Tauri's updater names (`?bundle_type=`, its `{{bundle_type}}`).
const BUNDLES: &[&str] = &["appimage", "deb", "rpm", "msi", "nsis", "app"];

/// The offer for `target`-`arch` at `current`, if the manifest has a newer version for it:
/// the `{target}-{arch}-{bundle}` entry when the app says how it was installed and there is
/// one (a `.deb` install gets the `.deb`), else `{target}-{arch}`, as Tauri's updater looks
/// them up in a static `latest.json`.
pub fn offer_for(
    manifest: &Manifest,
    version: &semver::Version,
    target: &str,
    arch: &str,
    bundle: Option<&str>,
    current: &semver::Version,
) -> Option<Offer> {
    if version <= current {
        return None;
    }
    let p = bundle
        .and_then(|b| manifest.platforms.get(&format!("{target}-{arch}-{b}")))
        .or_else(|| manifest.platforms.get(&format!("{target}-{arch}")))?;
    Some(Offer {
        version: version.to_string(),
        notes: manifest.notes.clone(),
        pub_date: manifest.pub_date.clone(),
        url: p.url.clone(),
        signature: p.signature.clone(),
    })
}

/// The route; `manifest` is the file the operator publishes (none: nothing is offered).
pub fn routes<S: Clone + Send + Sync + 'static>(manifest: Option<PathBuf>) -> Router<S> {
    let manifest = Arc::new(manifest);
    Router::new().route(
        "/v1/updates/{target}/{arch}/{current_version}",
        get(
            move |Path((target, arch, current)): Path<(String, String, String)>,
                  RawQuery(query): RawQuery| {
                let manifest = manifest.clone();
                // An unknown or missing bundle kind is no error: the plain platform entry.
                let bundle = query.as_deref().and_then(|q| {
                    q.split('&')
                        .find_map(|pair| pair.strip_prefix("bundle_type="))
                        .and_then(|b| BUNDLES.iter().find(|&&known| known == b).copied())
                });
                async move {
                    answer(
                        manifest.as_ref().as_deref(),
                        &target,
                        &arch,
                        bundle,
                        &current,
                    )
                    .await
                }
            },
        ),
    )
}

async fn answer(
    manifest: Option<&std::path::Path>,
    target: &str,
    arch: &str,
    bundle: Option<&str>,
    current: &str,
) -> Response {
    if !TARGETS.contains(&target) || !ARCHES.contains(&arch) {
        return ApiError::BadRequest("unknown target or arch".into()).into_response();
    }
    let Ok(current) = semver::Version::parse(current.trim_start_matches('v')) else {
        return ApiError::BadRequest("current_version is not a semantic version".into())
            .into_response();
    };
    let Some(path) = manifest else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let bytes = match read_capped(path).await {
        Ok(Some(bytes)) => bytes,
        // Not published yet: nothing to offer.
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            tracing::error!(%error, "the update manifest cannot be read");
            return ApiError::Internal("update manifest".into()).into_response();
        }
    };
    match parse_manifest(&bytes) {
        Ok((m, version)) => match offer_for(&m, &version, target, arch, bundle, &current) {
            Some(offer) => Json(offer).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(error) => {
            // The operator's file is wrong: every desktop keeps its version meanwhile.
            tracing::error!(%error, "the update manifest is invalid");
            ApiError::Internal("update manifest".into()).into_response()
        }
    }
}

async fn read_capped(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt;
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut out)
        .await?;
    if out.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(std::io::Error::other("the update manifest is too large"));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use proptest::prelude::*;
    use tower::ServiceExt;

    const MANIFEST: &str = r#"{"version": "0.2.0", "notes": "修复与改进 / fixes",
        "pub_date": "2026-12-01T00:00:00Z",
        "platforms": {
          "linux-x86_64": {"url": "https://updates.example.com/inkstone_0.2.0_amd64.AppImage", "signature": "c2ln"},
          "linux-x86_64-deb": {"url": "https://updates.example.com/inkstone_0.2.0_amd64.deb", "signature": "c2ln"},
          "windows-x86_64": {"url": "https://updates.example.com/inkstone_0.2.0_x64-setup.exe", "signature": "c2ln"}
        }}"#;

    async fn get_status(router: Router, uri: &str) -> (StatusCode, Vec<u8>) {
        let response = router
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, body.to_vec())
    }

    #[tokio::test]
    async fn a_newer_version_is_offered_per_platform_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("latest.json");
        std::fs::write(&file, MANIFEST).unwrap();
        let router = || routes::<()>(Some(file.clone()));

        let (status, body) = get_status(router(), "/v1/updates/linux/x86_64/0.1.0").await;
        assert_eq!(status, StatusCode::OK);
        let offer: Offer = serde_json::from_slice(&body).unwrap();
        assert_eq!(offer.version, "0.2.0");
        assert!(offer.url.ends_with("amd64.AppImage"));
        assert_eq!(offer.notes, "修复与改进 / fixes");
        // A .deb install gets the .deb; a kind the manifest has no entry for (or none, or one
        // that is not a bundle kind) gets the platform's entry.
        for (query, ending) in [
            ("?bundle_type=deb", "amd64.deb"),
            ("?bundle_type=appimage", "amd64.AppImage"),
            ("?bundle_type=unknown", "amd64.AppImage"),
            ("?bundle_type=deb%00", "amd64.AppImage"),
            ("?x=1&bundle_type=deb", "amd64.deb"),
        ] {
            let uri = format!("/v1/updates/linux/x86_64/0.1.0{query}");
            let (status, body) = get_status(router(), &uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            let offer: Offer = serde_json::from_slice(&body).unwrap();
            assert!(offer.url.ends_with(ending), "{uri}: {}", offer.url);
        }
        for (uri, want) in [
            ("/v1/updates/linux/x86_64/0.2.0", StatusCode::NO_CONTENT),
            ("/v1/updates/linux/x86_64/0.3.0", StatusCode::NO_CONTENT),
            ("/v1/updates/darwin/aarch64/0.1.0", StatusCode::NO_CONTENT),
            (
                "/v1/updates/linux/x86_64/not-a-version",
                StatusCode::BAD_REQUEST,
            ),
            ("/v1/updates/plan9/x86_64/0.1.0", StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(get_status(router(), uri).await.0, want, "{uri}");
        }
        // Publishing is replacing the file: no restart.
        std::fs::write(&file, MANIFEST.replace("0.2.0", "0.2.1")).unwrap();
        let (_, body) = get_status(router(), "/v1/updates/linux/x86_64/0.2.0").await;
        assert_eq!(
            serde_json::from_slice::<Offer>(&body).unwrap().version,
            "0.2.1"
        );
    }

    #[tokio::test]
    async fn no_manifest_offers_nothing_and_a_broken_one_is_an_error_not_an_offer() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("latest.json");
        assert_eq!(
            get_status(routes::<()>(None), "/v1/updates/linux/x86_64/0.1.0")
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            get_status(
                routes::<()>(Some(file.clone())),
                "/v1/updates/linux/x86_64/0.1.0"
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        for broken in [
            "{".to_string(),
            MANIFEST.replace("https://", "ftp://"),
            MANIFEST.replace("\"c2ln\"", "\"\""),
            MANIFEST.replace("\"0.2.0\"", "\"soon\""),
        ] {
            std::fs::write(&file, broken).unwrap();
            assert_eq!(
                get_status(
                    routes::<()>(Some(file.clone())),
                    "/v1/updates/linux/x86_64/0.1.0"
                )
                .await
                .0,
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
    }

    proptest! {
        #[test]
        fn any_manifest_bytes_parse_or_fail_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_manifest(&bytes);
        }

        #[test]
        fn only_a_strictly_newer_version_is_offered(a in 0u64..5, b in 0u64..5, c in 0u64..5, x in 0u64..5, y in 0u64..5, z in 0u64..5) {
            let (m, v) = parse_manifest(MANIFEST.replace("0.2.0", &format!("{a}.{b}.{c}")).as_bytes()).unwrap();
            let current = semver::Version::new(x, y, z);
            for bundle in [None, Some("deb"), Some("rpm")] {
                let offer = offer_for(&m, &v, "linux", "x86_64", bundle, &current);
                prop_assert_eq!(offer.is_some(), v > current);
            }
        }
    }
}
