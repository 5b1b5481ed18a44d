//! Signed updates (issue 19, item 1): the rules around Tauri's updater. The shell drives
//! `tauri-plugin-updater` (it asks `GET {endpoint}/v1/updates/{target}/{arch}/{current_version}`,
//! Tauri's updater protocol: 204 nothing, 200 an offer; downloads and verifies the minisign
//! signature, Tauri's signer format) behind [`UpdateDriver`]; what is decided here:
//!
//! - safe by default: a build without a public key (or with one that cannot verify) checks
//!   nothing and installs nothing, and the driver is never called;
//! - an offer of an older version is refused whatever the endpoint says (the same version is
//!   "up to date");
//! - the downloaded bytes are verified again against the built-in key before anything is
//!   installed or kept, so neither a driver bug nor a misconfigured plugin installs an
//!   unverified file; nothing unverified is ever kept under the bundle's name;
//! - what happens to a verified bundle follows how this copy was installed ([`Installer`]):
//!   replaced in place (a running AppImage, Windows and macOS), or, for a `.deb`, kept in
//!   `<data>/updates/` with the command to run.
//!
//! Keeping the rules here (no Tauri) lets them be tested against the real update route and
//! bundles signed like `tauri signer sign` signs them (crates/desktop/tests/updates.rs); the
//! plugin path itself is tested in the real window (crates/e2e).

use std::future::Future;
use std::path::{Path, PathBuf};

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
    /// Occurs when the verified bundle cannot be installed (not a bundle of this kind, the
    /// system's installer refused it); this version keeps running.
    #[error("the update could not be installed: {0}")]
    InstallFailed(String),
    /// Occurs when an update is already being downloaded or installed by this app.
    #[error("an update is already being downloaded")]
    InProgress,
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
        "update_install_failed",
        "update_in_progress",
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
            Self::InstallFailed(_) => "update_install_failed",
            Self::InProgress => "update_in_progress",
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
    /// The app was replaced where it is (a running AppImage, Windows, macOS): restart to use
    /// the new version.
    Restart { version: String },
    /// A package the system installs (`.deb`): the writer runs `command`.
    RunCommand { version: String, command: String },
    /// Not installed from a bundle this app can replace: the verified bundle is kept at `path`.
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

/// A version as the endpoint or this build spells it (`1.2.3`, `v1.2.3`).
pub fn version(v: &str) -> Result<semver::Version, UpdateError> {
    semver::Version::parse(v.trim().trim_start_matches('v')).map_err(|_| {
        UpdateError::Malformed(format!(
            "not a version: {}",
            v.chars().take(40).collect::<String>()
        ))
    })
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

/// Checks `bytes` as the bundle of `offered`: the signature verifies, and when it names the
/// version it was made for (`tauri signer sign --app-version` writes `version:X` into the
/// trusted comment, which the signature covers) that is the version offered, so an endpoint
/// cannot pass an old, validly signed bundle off as a new version.
pub fn verify_release(
    public_key: &str,
    signature: &str,
    offered: &str,
    bytes: &[u8],
) -> Result<(), UpdateError> {
    let (key, sig) = verifier(public_key, signature)?;
    key.verify(bytes, &sig, false)
        .map_err(|_| UpdateError::BadSignature)?;
    let signed = sig
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"));
    if let Some(signed) = signed {
        if version(signed).ok() != Some(version(offered)?) {
            return Err(UpdateError::BadSignature);
        }
    }
    Ok(())
}

/// How this copy of the app was installed, which decides what can be done with a verified
/// bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    /// The updater replaces the app where it is: a running AppImage, the Windows installers,
    /// a macOS `.app`.
    InPlace,
    /// A Debian package: the system's package manager installs it; the writer runs a command.
    Deb,
    /// An RPM package, likewise.
    Rpm,
    /// Not from a bundle (a development or test build): the verified file is kept and named.
    Keep,
}

/// Progress of a download: `(bytes received so far, total announced)`.
pub type ProgressFn<'a> = &'a mut (dyn FnMut(u64, Option<u64>) + Send);

/// The transport and installer: `tauri-plugin-updater` in the app (src-tauri/src/updater.rs),
/// a double speaking the same protocol in tests. The rules stay in this module.
pub trait UpdateDriver: Send + Sync {
    /// What [`UpdateDriver::fetch`] hands back to download and install the same release.
    type Pending: Send + Sync;

    /// Asks `source.endpoint` for a release, whatever its version (the version rule is
    /// [`check_offer`]'s). `None`: the endpoint has nothing (204).
    fn fetch(
        &self,
        source: &UpdateSource,
    ) -> impl Future<Output = Result<Option<(Offer, Self::Pending)>, UpdateError>> + Send;

    /// Downloads the release's bundle (at most [`MAX_BUNDLE_BYTES`]), reporting progress.
    fn download(
        &self,
        pending: &Self::Pending,
        progress: ProgressFn<'_>,
    ) -> impl Future<Output = Result<Vec<u8>, UpdateError>> + Send;

    /// Replaces the running app with the verified `bytes` ([`Installer::InPlace`] only).
    fn install(&self, pending: &Self::Pending, bytes: &[u8]) -> Result<(), UpdateError>;

    /// How this copy of the app was installed.
    fn installer(&self) -> Installer;
}

/// The current version, once the source is usable: an endpoint and a key that can verify.
fn ready(source: &UpdateSource) -> Result<semver::Version, UpdateError> {
    if source.public_key.trim().is_empty() || source.endpoint.trim().is_empty() {
        return Err(UpdateError::Unavailable);
    }
    check_public_key(&source.public_key)?;
    version(&source.current_version)
}

/// Asks for a release and applies the rules; `None` when there is nothing newer.
pub async fn check_with<D: UpdateDriver>(
    driver: &D,
    source: &UpdateSource,
) -> Result<Option<(Offer, D::Pending)>, UpdateError> {
    let current = ready(source)?;
    let Some((offer, pending)) = driver.fetch(source).await? else {
        return Ok(None);
    };
    // The same version is "up to date" (a static host keeps serving the latest release);
    // an older one is a downgrade, refused with its own message.
    if version(&offer.version)? == current {
        return Ok(None);
    }
    check_offer(&offer, &current)?;
    Ok(Some((offer, pending)))
}

/// Asks the update endpoint whether there is a newer version for this machine.
pub async fn check<D: UpdateDriver>(
    driver: &D,
    source: &UpdateSource,
) -> Result<Option<Offer>, UpdateError> {
    Ok(check_with(driver, source).await?.map(|(offer, _)| offer))
}

/// Checks again, downloads the newer version with `progress`, verifies it against the
/// built-in key, and installs it where the bundle format allows; otherwise the verified file
/// is kept in `dir` and the plan says what to do with it. `None`: nothing newer any more.
pub async fn install<D: UpdateDriver>(
    driver: &D,
    source: &UpdateSource,
    dir: &Path,
    progress: ProgressFn<'_>,
) -> Result<Option<InstallPlan>, UpdateError> {
    let Some((offer, pending)) = check_with(driver, source).await? else {
        return Ok(None);
    };
    let bytes = driver.download(&pending, progress).await?;
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(UpdateError::TooLarge);
    }
    // The driver verified already; the same bytes against the same built-in key once more,
    // here, where it is tested: nothing unverified is installed or kept, whatever the driver.
    verify_release(&source.public_key, &offer.signature, &offer.version, &bytes)?;
    let version = offer.version.clone();
    let plan = match driver.installer() {
        Installer::InPlace => {
            driver.install(&pending, &bytes)?;
            InstallPlan::Restart { version }
        }
        Installer::Deb => {
            // The command must not hand the package manager something else (an endpoint that
            // answers with the AppImage to a .deb install).
            if !bytes.starts_with(DEB_MAGIC) {
                return Err(UpdateError::InstallFailed("not a Debian package".into()));
            }
            InstallPlan::RunCommand {
                version,
                command: format!("sudo apt install {}", quoted(&keep(dir, &offer, &bytes)?)),
            }
        }
        Installer::Rpm => {
            if !bytes.starts_with(RPM_MAGIC) {
                return Err(UpdateError::InstallFailed("not an RPM package".into()));
            }
            InstallPlan::RunCommand {
                version,
                command: format!("sudo dnf install {}", quoted(&keep(dir, &offer, &bytes)?)),
            }
        }
        Installer::Keep => InstallPlan::OpenInstaller {
            version,
            path: keep(dir, &offer, &bytes)?.to_string_lossy().into_owned(),
        },
    };
    Ok(Some(plan))
}

/// One download and install at a time for the app, whatever asks (the page's store already
/// asks once; a second window, a script or a bug must not start another download into the
/// same folder or a second install over the running app). A second caller is refused at once
/// with [`UpdateError::InProgress`] and changes nothing; the gate opens again when the first
/// install ends, fails or is dropped.
#[derive(Debug, Default)]
pub struct InstallGate(std::sync::atomic::AtomicBool);

/// Held while an install runs; dropping it (the install ended or was cancelled) opens the gate.
struct Entered<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

impl InstallGate {
    /// [`install`], unless one is already running through this gate.
    pub async fn install<D: UpdateDriver>(
        &self,
        driver: &D,
        source: &UpdateSource,
        dir: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<Option<InstallPlan>, UpdateError> {
        use std::sync::atomic::Ordering;
        self.0
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| UpdateError::InProgress)?;
        let _entered = Entered(&self.0);
        install(driver, source, dir, progress).await
    }
}

/// How a Debian package starts: an `ar` archive whose first member is `debian-binary`.
pub const DEB_MAGIC: &[u8] = b"!<arch>\ndebian-binary";
/// How an RPM package starts (its lead).
pub const RPM_MAGIC: &[u8] = &[0xed, 0xab, 0xee, 0xdb];

/// A path for a POSIX shell, in single quotes.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"))
}

/// The bundle's file name: the last part of its URL, in safe characters.
pub fn bundle_name(offer: &Offer) -> String {
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
    match name.trim_start_matches('.') {
        "" => format!("inkstone-{}", offer.version),
        n => n.to_string(),
    }
}

/// Writes the verified bundle into `dir` whole: a partial file first, renamed once synced.
fn keep(dir: &Path, offer: &Offer, bytes: &[u8]) -> Result<PathBuf, UpdateError> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let name = bundle_name(offer);
    let dest = dir.join(&name);
    let partial = dir.join(format!("{name}.partial"));
    let written = (|| {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, &dest)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    Ok(dest)
}

impl crate::Services {
    /// Asks the update endpoint for a newer version (none: `None`).
    pub async fn check_update<D: UpdateDriver>(
        &self,
        driver: &D,
        source: &UpdateSource,
    ) -> crate::DesktopResult<Option<Offer>> {
        Ok(check(driver, source).await?)
    }

    /// Checks again, downloads the newer version with `progress`, verifies its signature,
    /// and installs it where the bundle format allows; otherwise keeps it in
    /// `<data>/updates`. The offer comes from the endpoint here, never from the page. One at a
    /// time: another while one runs is `InProgress`.
    pub async fn install_update<D: UpdateDriver>(
        &self,
        driver: &D,
        source: &UpdateSource,
        progress: ProgressFn<'_>,
    ) -> crate::DesktopResult<Option<InstallPlan>> {
        let dir = self.options.data_dir.join("updates");
        Ok(self
            .update_install
            .install(driver, source, &dir, progress)
            .await?)
    }
}
