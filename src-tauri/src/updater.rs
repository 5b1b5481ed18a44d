//! `tauri-plugin-updater` behind `inkstone_desktop::updates::UpdateDriver` (issue 19, item 1):
//! the plugin asks the endpoint (Tauri's updater protocol), downloads with progress and
//! verifies the signature with the public key built into this app; the rules (no key: no
//! update, older refused, verified again, `.deb` kept with its command) stay in
//! crates/desktop. This file only translates the plugin's API and errors.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use inkstone_desktop::updates::{
    Installer, Offer, ProgressFn, UpdateDriver, UpdateError, UpdateSource, MAX_BUNDLE_BYTES,
};
use tauri::{AppHandle, Runtime};
use tauri_plugin_updater::{Error as PluginError, Update, UpdaterExt};

/// The update manifest's route on the endpoint (the plugin fills in the names); the bundle
/// kind lets the endpoint answer a `.deb` install with the `.deb`.
pub const ROUTE: &str =
    "/v1/updates/{{target}}/{{arch}}/{{current_version}}?bundle_type={{bundle_type}}";

pub struct PluginDriver<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> PluginDriver<R> {
    pub fn new(app: AppHandle<R>) -> Self {
        Self { app }
    }
}

/// What the page and the rules see of the plugin's release.
pub fn offer_of(update: &Update) -> Offer {
    Offer {
        version: update.version.clone(),
        notes: update.body.clone().unwrap_or_default(),
        // As the endpoint wrote it (the plugin checked it is a date).
        pub_date: update
            .raw_json
            .get("pub_date")
            .and_then(|d| d.as_str())
            .map(|d| d.chars().take(64).collect()),
        url: update.download_url.to_string(),
        signature: update.signature.clone(),
    }
}

/// The plugin's error as one of ours. `received`/`total`: how far a download got, which tells
/// a cut connection (`Truncated`) from a server that cannot be reached.
pub fn error_of(error: PluginError, received: u64, total: Option<u64>) -> UpdateError {
    match error {
        PluginError::Minisign(_)
        | PluginError::Base64(_)
        | PluginError::SignatureUtf8(_)
        | PluginError::SignedVersionMismatch { .. }
        | PluginError::MissingSignedVersion => UpdateError::BadSignature,
        PluginError::Reqwest(_) | PluginError::Network(_)
            if total.is_some_and(|t| received < t) && received > 0 =>
        {
            UpdateError::Truncated {
                got: received,
                expected: total.unwrap_or_default(),
            }
        }
        PluginError::Reqwest(e) if e.is_decode() => UpdateError::Malformed(e.to_string()),
        PluginError::Reqwest(e) => UpdateError::Network(e.without_url().to_string()),
        PluginError::Network(e) => UpdateError::Network(e),
        PluginError::ReleaseNotFound => {
            UpdateError::Network("the update server answered no release".into())
        }
        e @ (PluginError::Serialization(_)
        | PluginError::Semver(_)
        | PluginError::UrlParse(_)
        | PluginError::TargetNotFound(_)
        | PluginError::TargetsNotFound(_)
        | PluginError::EmptyEndpoints
        | PluginError::InsecureTransportProtocol) => UpdateError::Malformed(e.to_string()),
        PluginError::Io(e) => UpdateError::Io(e),
        other => UpdateError::InstallFailed(other.to_string()),
    }
}

impl<R: Runtime> UpdateDriver for PluginDriver<R> {
    type Pending = Update;

    async fn fetch(&self, source: &UpdateSource) -> Result<Option<(Offer, Update)>, UpdateError> {
        let endpoint = format!("{}{ROUTE}", source.endpoint.trim_end_matches('/'));
        let endpoint = tauri::Url::parse(&endpoint)
            .map_err(|e| UpdateError::Malformed(format!("the update endpoint: {e}")))?;
        let updater = self
            .app
            .updater_builder()
            .pubkey(source.public_key.clone())
            .endpoints(vec![endpoint])
            .map_err(|e| error_of(e, 0, None))?
            // Every release reaches the rules, which call the same version "up to date" and
            // refuse an older one with a message instead of saying nothing.
            .version_comparator(|_, _| true)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| error_of(e, 0, None))?;
        let update = updater.check().await.map_err(|e| error_of(e, 0, None))?;
        Ok(update.map(|u| (offer_of(&u), u)))
    }

    async fn download(
        &self,
        update: &Update,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<u8>, UpdateError> {
        let received = AtomicU64::new(0);
        let total = AtomicU64::new(u64::MAX);
        let too_large = AtomicBool::new(false);
        let stop = tokio::sync::Notify::new();
        let on_chunk = |chunk: usize, length: Option<u64>| {
            let got = received.fetch_add(chunk as u64, Ordering::SeqCst) + chunk as u64;
            total.store(length.unwrap_or(u64::MAX), Ordering::SeqCst);
            // The plugin keeps the bundle in memory: a larger one is not ours, stop reading.
            if got > MAX_BUNDLE_BYTES || length.is_some_and(|l| l > MAX_BUNDLE_BYTES) {
                too_large.store(true, Ordering::SeqCst);
                stop.notify_one();
            }
            progress(got, length);
        };
        let result = tokio::select! {
            result = update.download(on_chunk, || {}) => result,
            () = stop.notified() => return Err(UpdateError::TooLarge),
        };
        if too_large.load(Ordering::SeqCst) {
            return Err(UpdateError::TooLarge);
        }
        let total = Some(total.load(Ordering::SeqCst)).filter(|&t| t != u64::MAX);
        result.map_err(|e| error_of(e, received.load(Ordering::SeqCst), total))
    }

    fn install(&self, update: &Update, bytes: &[u8]) -> Result<(), UpdateError> {
        // The plugin verifies the bytes once more before it replaces anything.
        update.install(bytes).map_err(|e| error_of(e, 0, None))
    }

    fn installer(&self) -> Installer {
        use tauri::utils::config::BundleType;
        // A running AppImage (the plugin replaces the file at $APPIMAGE, which Tauri checked).
        #[cfg(target_os = "linux")]
        if tauri::Manager::env(&self.app).appimage.is_some() {
            return Installer::InPlace;
        }
        match tauri::utils::platform::bundle_type() {
            Some(BundleType::Deb) => Installer::Deb,
            Some(BundleType::Rpm) => Installer::Rpm,
            // An AppImage not running as one (unpacked) has no file to replace.
            Some(BundleType::AppImage) | None => Installer::Keep,
            Some(_) => Installer::InPlace,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tauri_plugin_updater::RemoteRelease;

    fn manifest() -> String {
        serde_json::json!({
            "version": "0.2.0", "notes": "新功能", "pub_date": "2026-12-01T00:00:00Z",
            "platforms": {"linux-x86_64": {
                "url": "https://updates.example.com/inkstone_0.2.0_amd64.AppImage",
                "signature": "dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZQ==",
            }}
        })
        .to_string()
    }

    #[test]
    fn the_manifest_the_endpoint_publishes_is_what_the_plugin_reads() {
        let release: RemoteRelease = serde_json::from_str(&manifest()).unwrap();
        assert_eq!(release.version.to_string(), "0.2.0");
        assert!(release.download_url("linux-x86_64").is_ok());
    }

    /// The plugin's errors reach the writer as the kinds they are.
    #[test]
    fn the_plugins_errors_keep_their_meaning() {
        use tauri_plugin_updater::Error as E;
        let kind = |e: E, got: u64, total: Option<u64>| super::error_of(e, got, total).kind();
        // A connection that ends partway through the announced length is a cut download.
        assert_eq!(
            kind(E::Network("reset".into()), 50, Some(100)),
            "update_truncated"
        );
        assert_eq!(
            kind(E::Network("refused".into()), 0, None),
            "update_network"
        );
        assert_eq!(
            kind(E::Network("x".into()), 100, Some(100)),
            "update_network"
        );
        assert_eq!(kind(E::ReleaseNotFound, 0, None), "update_network");
        let mismatch = E::SignedVersionMismatch {
            signed: "0.1.0".into(),
            announced: "0.2.0".into(),
        };
        assert_eq!(kind(mismatch, 0, None), "update_bad_signature");
        assert_eq!(
            kind(E::MissingSignedVersion, 0, None),
            "update_bad_signature"
        );
        assert_eq!(
            kind(E::SignatureUtf8("x".into()), 0, None),
            "update_bad_signature"
        );
        assert_eq!(
            kind(E::TargetsNotFound(vec![]), 0, None),
            "update_malformed"
        );
        assert_eq!(
            kind(E::InsecureTransportProtocol, 0, None),
            "update_malformed"
        );
        assert_eq!(
            kind(E::InvalidUpdaterFormat, 0, None),
            "update_install_failed"
        );
        assert_eq!(
            kind(E::Io(std::io::Error::other("disk full")), 0, None),
            "update_io"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The manifest as the plugin parses it (the endpoint's `latest.json`, or the
        /// dynamic answer): random or mutated bytes are read or refused, never a panic.
        #[test]
        fn a_random_or_mutated_manifest_never_panics(
            random in proptest::collection::vec(any::<u8>(), 0..300),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut mutated = manifest().into_bytes();
            for (at, byte) in edits {
                let i = at.index(mutated.len());
                mutated[i] = byte;
            }
            for body in [random, mutated] {
                if let Ok(release) = serde_json::from_slice::<RemoteRelease>(&body) {
                    let _ = release.download_url("linux-x86_64");
                    let _ = release.signature("linux-x86_64");
                }
            }
        }
    }
}
