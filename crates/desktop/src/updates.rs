//! Signed updates (issue 19, item 1): ask the update endpoint
//! (`GET {endpoint}/v1/updates/{target}/{arch}/{current_version}`, Tauri's updater protocol:
//! 204 nothing, 200 an offer), download the bundle with progress, and verify its minisign
//! signature (Tauri's signer format) against the public key this build carries before the
//! file may be used. Nothing unverified is ever kept under the bundle's name.
//!
//! Safe by default: a build without a public key checks nothing and installs nothing. An
//! offer of a version that is not newer than this one is refused whatever the endpoint says.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A bundle larger than this is not ours.
pub const MAX_BUNDLE_BYTES: u64 = 1024 * 1024 * 1024;
/// An offer larger than this is not ours.
pub const MAX_OFFER_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Occurs when this build has no update key or endpoint: updates are off.
    #[error("updates are not set up in this build")]
    Unavailable,
    /// Occurs when the endpoint or the download cannot be reached.
    #[error("the update server cannot be reached: {0}")]
    Network(String),
    /// Occurs when the endpoint answers something that is not an offer.
    #[error("the update server's answer cannot be read: {0}")]
    Malformed(String),
    /// Occurs when the offered version is not newer than this one.
    #[error("the offered version {offered} is not newer than {current}")]
    NotNewer { offered: String, current: String },
    /// Occurs when the bundle's signature does not verify with the built-in key.
    #[error("the update's signature is not valid")]
    BadSignature,
    /// Occurs when the download ends before the size the server announced.
    #[error("the download was cut short ({got} of {expected} bytes)")]
    Truncated { got: u64, expected: u64 },
    /// Occurs when the bundle is larger than any bundle of this app.
    #[error("the update is too large")]
    TooLarge,
    /// Occurs when the bundle cannot be written or put in place.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl UpdateError {
    pub const KINDS: &'static [&'static str] = &[
        "update_unavailable",
        "update_network",
        "update_malformed",
        "update_not_newer",
        "update_bad_signature",
        "update_truncated",
        "update_too_large",
        "update_io",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable => "update_unavailable",
            Self::Network(_) => "update_network",
            Self::Malformed(_) => "update_malformed",
            Self::NotNewer { .. } => "update_not_newer",
            Self::BadSignature => "update_bad_signature",
            Self::Truncated { .. } => "update_truncated",
            Self::TooLarge => "update_too_large",
            Self::Io(_) => "update_io",
        }
    }
}

/// Where updates come from and the key they must be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSource {
    /// The endpoint's base URL (the payment endpoint serves the manifest).
    pub endpoint: String,
    /// The public key in Tauri's format: base64 of a minisign public key file.
    pub public_key: String,
    /// This build's version.
    pub current_version: String,
}

/// What the endpoint offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub version: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub pub_date: Option<String>,
    pub url: String,
    pub signature: String,
}

/// What to do with a verified bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstallPlan {
    /// The running AppImage was replaced: restart to use the new version.
    Restart { version: String },
    /// A package the system installs (`.deb`): the writer runs `command`.
    RunCommand { version: String, command: String },
    /// An installer to open (Windows, macOS): verified and kept at `path`.
    OpenInstaller { version: String, path: String },
}

/// Tauri's names for this machine: (`linux` | `windows` | `darwin`, `x86_64` | `aarch64` | …).
pub fn platform() -> (&'static str, &'static str) {
    let target = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7",
        other => other,
    };
    (target, arch)
}

fn version(v: &str) -> Result<semver::Version, UpdateError> {
    semver::Version::parse(v.trim().trim_start_matches('v')).map_err(|_| {
        UpdateError::Malformed(format!(
            "not a version: {}",
            v.chars().take(40).collect::<String>()
        ))
    })
}

fn client() -> Result<reqwest::Client, UpdateError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| UpdateError::Network(e.to_string()))
}

/// Asks the endpoint whether there is a newer version for this machine.
pub async fn check(source: &UpdateSource) -> Result<Option<Offer>, UpdateError> {
    if source.public_key.trim().is_empty() || source.endpoint.trim().is_empty() {
        return Err(UpdateError::Unavailable);
    }
    let current = version(&source.current_version)?;
    let (target, arch) = platform();
    let url = format!(
        "{}/v1/updates/{target}/{arch}/{current}",
        source.endpoint.trim_end_matches('/')
    );
    let response = client()?
        .get(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| UpdateError::Network(e.without_url().to_string()))?;
    match response.status().as_u16() {
        204 => return Ok(None),
        200 => {}
        other => return Err(UpdateError::Network(format!("status {other}"))),
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| UpdateError::Network(e.without_url().to_string()))?;
    if body.len() > MAX_OFFER_BYTES {
        return Err(UpdateError::Malformed("the offer is too large".into()));
    }
    let offer: Offer =
        serde_json::from_slice(&body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    check_offer(&offer, &current)?;
    Ok(Some(offer))
}

/// An offer must be a newer version with an https (or this machine's) URL and a signature.
pub fn check_offer(offer: &Offer, current: &semver::Version) -> Result<(), UpdateError> {
    let offered = version(&offer.version)?;
    if offered <= *current {
        return Err(UpdateError::NotNewer {
            offered: offered.to_string(),
            current: current.to_string(),
        });
    }
    let local =
        offer.url.starts_with("http://127.0.0.1") || offer.url.starts_with("http://localhost");
    if !(offer.url.starts_with("https://") || local) || offer.url.len() > 2048 {
        return Err(UpdateError::Malformed(
            "the bundle URL must be https".into(),
        ));
    }
    if offer.signature.is_empty() || offer.signature.len() > 4096 || offer.notes.len() > 32 * 1024 {
        return Err(UpdateError::Malformed("signature or notes".into()));
    }
    Ok(())
}

fn decode_b64_text(value: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Whether `public_key` (Tauri's format: base64 of a minisign public key file) can verify
/// anything: a release built with a malformed key would silently never update.
pub fn check_public_key(public_key: &str) -> Result<(), UpdateError> {
    let text = decode_b64_text(public_key).ok_or(UpdateError::Unavailable)?;
    minisign_verify::PublicKey::decode(&text).map_err(|_| UpdateError::Unavailable)?;
    Ok(())
}

/// The verifier for `signature` (Tauri's format) under `public_key`.
fn verifier(
    public_key: &str,
    signature: &str,
) -> Result<(minisign_verify::PublicKey, minisign_verify::Signature), UpdateError> {
    let key_text = decode_b64_text(public_key).ok_or(UpdateError::Unavailable)?;
    let key =
        minisign_verify::PublicKey::decode(&key_text).map_err(|_| UpdateError::Unavailable)?;
    let sig_text = decode_b64_text(signature).ok_or(UpdateError::BadSignature)?;
    let sig =
        minisign_verify::Signature::decode(&sig_text).map_err(|_| UpdateError::BadSignature)?;
    Ok((key, sig))
}

/// Checks `bytes` against `signature` with `public_key` (both in Tauri's format).
pub fn verify(public_key: &str, signature: &str, bytes: &[u8]) -> Result<(), UpdateError> {
    let (key, sig) = verifier(public_key, signature)?;
    key.verify(bytes, &sig, false)
        .map_err(|_| UpdateError::BadSignature)
}

/// Downloads the offered bundle into `dir`, reporting `(received, total)`, and verifies it.
/// The file takes its name only once verified; anything else is removed and refused.
pub async fn download(
    source: &UpdateSource,
    offer: &Offer,
    dir: &Path,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<PathBuf, UpdateError> {
    use std::io::Write;
    let current = version(&source.current_version)?;
    check_offer(offer, &current)?;
    let (key, sig) = verifier(&source.public_key, &offer.signature)?;
    let name: String = offer
        .url
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(120)
        .collect();
    let name = match name.trim_start_matches('.') {
        "" => format!("inkstone-{}", offer.version),
        n => n.to_string(),
    };
    std::fs::create_dir_all(dir)?;
    let dest = dir.join(&name);
    let partial = dir.join(format!("{name}.partial"));
    let mut response = client()?
        .get(&offer.url)
        .send()
        .await
        .map_err(|e| UpdateError::Network(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(UpdateError::Network(format!(
            "status {}",
            response.status().as_u16()
        )));
    }
    let total = response.content_length();
    if total.is_some_and(|t| t > MAX_BUNDLE_BYTES) {
        return Err(UpdateError::TooLarge);
    }
    // Tauri's signer prehashes (minisign "ED"): the file is checked as it streams in.
    let mut stream = key
        .verify_stream(&sig)
        .map_err(|_| UpdateError::BadSignature)?;
    let mut file = std::fs::File::create(&partial)?;
    let result: Result<(), UpdateError> = async {
        let mut got = 0u64;
        loop {
            let chunk = match response.chunk().await {
                Ok(chunk) => chunk,
                // The connection ended before the announced size: a cut download.
                Err(_) if total.is_some_and(|t| got < t) => {
                    return Err(UpdateError::Truncated {
                        got,
                        expected: total.unwrap_or_default(),
                    })
                }
                Err(e) => return Err(UpdateError::Network(e.without_url().to_string())),
            };
            let Some(chunk) = chunk else { break };
            got += chunk.len() as u64;
            if got > MAX_BUNDLE_BYTES {
                return Err(UpdateError::TooLarge);
            }
            file.write_all(&chunk)?;
            stream.update(&chunk);
            progress(got, total);
        }
        if let Some(expected) = total {
            if got != expected {
                return Err(UpdateError::Truncated { got, expected });
            }
        }
        file.sync_all()?;
        stream.finalize().map_err(|_| UpdateError::BadSignature)
    }
    .await;
    drop(file);
    match result {
        Ok(()) => {
            std::fs::rename(&partial, &dest)?;
            Ok(dest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// What to do with the verified bundle at `path`, and doing what can be done here: an
/// AppImage replaces the running one (`appimage`, from `$APPIMAGE`).
pub fn install(
    path: &Path,
    offer: &Offer,
    appimage: Option<&Path>,
) -> Result<InstallPlan, UpdateError> {
    let version = offer.version.clone();
    let lower = path.to_string_lossy().to_lowercase();
    if lower.ends_with(".appimage") {
        if let Some(running) = appimage {
            // Beside the running file, then renamed over it: the running process keeps its
            // open inode, and a crash leaves either the old or the new AppImage, whole.
            let staged = running.with_extension("new");
            std::fs::copy(path, &staged)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755))?;
            }
            std::fs::rename(&staged, running)?;
            return Ok(InstallPlan::Restart { version });
        }
    }
    if lower.ends_with(".deb") {
        return Ok(InstallPlan::RunCommand {
            version,
            command: format!(
                "sudo apt install '{}'",
                path.to_string_lossy().replace('\'', "'\\''")
            ),
        });
    }
    Ok(InstallPlan::OpenInstaller {
        version,
        path: path.to_string_lossy().into_owned(),
    })
}

impl crate::Services {
    /// Asks the update endpoint for a newer version (none: `None`).
    pub async fn check_update(&self, source: &UpdateSource) -> crate::DesktopResult<Option<Offer>> {
        Ok(check(source).await?)
    }

    /// Checks again, downloads the newer version into `<data>/updates` with `progress`,
    /// verifies its signature, and installs it where the bundle format allows (`$APPIMAGE`).
    /// The offer comes from the endpoint here, never from the page.
    pub async fn install_update(
        &self,
        source: &UpdateSource,
        progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
    ) -> crate::DesktopResult<Option<InstallPlan>> {
        let Some(offer) = check(source).await? else {
            return Ok(None);
        };
        let dir = self.options.data_dir.join("updates");
        let path = download(source, &offer, &dir, progress).await?;
        let appimage = std::env::var_os("APPIMAGE").map(PathBuf::from);
        Ok(Some(install(&path, &offer, appimage.as_deref())?))
    }
}
