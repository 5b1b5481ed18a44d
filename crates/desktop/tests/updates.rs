//! Signed updates: the rules of `inkstone_desktop::updates` against the payment endpoint's
//! real update route and bundles signed the way `tauri signer sign` signs them. The app
//! drives `tauri-plugin-updater` (tested in the real window by crates/e2e); here a driver
//! speaking the same protocol over HTTP stands in for it, and it deliberately verifies
//! nothing itself, so every refusal below is the rules' own: a newer signed bundle is offered,
//! verified and installed or kept; a bad signature, another key, a signature made for another
//! version, a truncated download and an older version are refused with their own kind, and
//! nothing unverified is left behind.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use base64::Engine;
use inkstone_desktop::updates::{
    self, check, check_offer, install, InstallPlan, Installer, Offer, ProgressFn, UpdateDriver,
    UpdateError, UpdateSource,
};
use tokio::io::AsyncWriteExt;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

struct Key {
    public: String,
    kp: minisign::KeyPair,
}

fn key() -> Key {
    let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let public = b64(&kp.pk.to_box().unwrap().into_string());
    Key { public, kp }
}

/// Signs like `tauri signer sign` (prehashed minisign, base64 of the .sig text); with
/// `version`, like `--app-version`, whose value goes into the trusted comment.
fn sign_for(key: &Key, bytes: &[u8], version: Option<&str>) -> String {
    let trusted = match version {
        Some(v) => format!("timestamp:1764460800\tfile:inkstone.AppImage\tversion:{v}"),
        None => "timestamp:1764460800\tfile:inkstone.AppImage".to_string(),
    };
    let sig = minisign::sign(
        Some(&key.kp.pk),
        &key.kp.sk,
        Cursor::new(bytes),
        Some(&trusted),
        Some("signature from tauri secret key"),
    )
    .unwrap();
    b64(&sig.into_string())
}

fn sign(key: &Key, bytes: &[u8]) -> String {
    sign_for(key, bytes, None)
}

/// The updater protocol over HTTP, as the plugin speaks it: `GET` the endpoint (204 or an
/// offer), `GET` the bundle (a cut body is `Truncated`). It verifies nothing.
struct HttpDriver {
    installer: Installer,
    installed: Mutex<Vec<Vec<u8>>>,
}

impl HttpDriver {
    fn new(installer: Installer) -> Self {
        Self {
            installer,
            installed: Mutex::new(Vec::new()),
        }
    }
}

impl UpdateDriver for HttpDriver {
    type Pending = Offer;

    async fn fetch(&self, source: &UpdateSource) -> Result<Option<(Offer, Offer)>, UpdateError> {
        let (target, arch) = updates::platform();
        let url = format!(
            "{}/v1/updates/{target}/{arch}/{}",
            source.endpoint, source.current_version
        );
        let response = reqwest::get(&url)
            .await
            .map_err(|e| UpdateError::Network(e.to_string()))?;
        if response.status() == 204 {
            return Ok(None);
        }
        let offer: Offer = response
            .json()
            .await
            .map_err(|e| UpdateError::Malformed(e.to_string()))?;
        Ok(Some((offer.clone(), offer)))
    }

    async fn download(
        &self,
        offer: &Offer,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<u8>, UpdateError> {
        let mut response = reqwest::get(&offer.url)
            .await
            .map_err(|e| UpdateError::Network(e.to_string()))?;
        let total = response.content_length();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    progress(bytes.len() as u64, total);
                }
                Ok(None) => break,
                Err(_) if total.is_some_and(|t| (bytes.len() as u64) < t) => {
                    return Err(UpdateError::Truncated {
                        got: bytes.len() as u64,
                        expected: total.unwrap_or_default(),
                    })
                }
                Err(e) => return Err(UpdateError::Network(e.to_string())),
            }
        }
        Ok(bytes)
    }

    fn install(&self, _offer: &Offer, bytes: &[u8]) -> Result<(), UpdateError> {
        self.installed.lock().unwrap().push(bytes.to_vec());
        Ok(())
    }

    fn installer(&self) -> Installer {
        self.installer
    }
}

/// A driver that hands back whatever it is given: an endpoint that offers anything. Its
/// downloads go through at once, or, [`Canned::held`], one per permit the test adds.
struct Canned {
    offer: Offer,
    bytes: Vec<u8>,
    fetched: AtomicUsize,
    release: tokio::sync::Semaphore,
}

impl Canned {
    fn new(offer: Offer, bytes: Vec<u8>) -> Self {
        Self {
            offer,
            bytes,
            fetched: AtomicUsize::new(0),
            release: tokio::sync::Semaphore::new(tokio::sync::Semaphore::MAX_PERMITS),
        }
    }

    /// Downloads wait until the test lets them through (`release.add_permits`).
    fn held(offer: Offer, bytes: Vec<u8>) -> Self {
        Self {
            release: tokio::sync::Semaphore::new(0),
            ..Self::new(offer, bytes)
        }
    }
}

impl UpdateDriver for Canned {
    type Pending = ();

    async fn fetch(&self, _: &UpdateSource) -> Result<Option<(Offer, ())>, UpdateError> {
        self.fetched.fetch_add(1, Ordering::SeqCst);
        Ok(Some((self.offer.clone(), ())))
    }

    async fn download(&self, _: &(), progress: ProgressFn<'_>) -> Result<Vec<u8>, UpdateError> {
        progress(0, Some(self.bytes.len() as u64));
        // Each permit lets one download through.
        if let Ok(permit) = self.release.acquire().await {
            permit.forget();
        }
        Ok(self.bytes.clone())
    }

    fn install(&self, _: &(), _: &[u8]) -> Result<(), UpdateError> {
        panic!("nothing may be installed here")
    }

    fn installer(&self) -> Installer {
        Installer::Keep
    }
}

/// Serves the real update route over `manifest` and the files in `files` at `/files/…`.
async fn serve(manifest: PathBuf, files: PathBuf) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = inkstone_server::updates::routes::<()>(Some(manifest)).route(
        "/files/{name}",
        axum::routing::get(
            move |axum::extract::Path(name): axum::extract::Path<String>| {
                let files = files.clone();
                async move { std::fs::read(files.join(name)).unwrap_or_default() }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn manifest(version: &str, url: &str, signature: &str) -> String {
    let (target, arch) = updates::platform();
    serde_json::json!({
        "version": version, "notes": "新功能 / new things", "pub_date": "2026-12-01T00:00:00Z",
        "platforms": {format!("{target}-{arch}"): {"url": url, "signature": signature}}
    })
    .to_string()
}

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    source: UpdateSource,
}

async fn setup(version: &str, signature: &str, served: &[u8]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    std::fs::create_dir_all(path.join("files")).unwrap();
    std::fs::write(path.join("files/inkstone_0.2.0_amd64.deb"), served).unwrap();
    let base = serve(path.join("latest.json"), path.join("files")).await;
    std::fs::write(
        path.join("latest.json"),
        manifest(
            version,
            &format!("{base}/files/inkstone_0.2.0_amd64.deb"),
            signature,
        ),
    )
    .unwrap();
    Setup {
        _dir: dir,
        dir: path,
        source: UpdateSource {
            endpoint: base,
            public_key: String::new(),
            current_version: "0.1.0".into(),
        },
    }
}

async fn signed_setup(version: &str, key: &Key, signed: &[u8], served: &[u8]) -> Setup {
    let mut s = setup(version, &sign(key, signed), served).await;
    s.source.public_key = key.public.clone();
    s
}

fn nothing_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_newer_signed_bundle_is_offered_verified_and_installed_or_kept_with_its_command() {
    let k = key();
    let mut bundle = updates::DEB_MAGIC.to_vec();
    bundle.extend((0..300_000u32).map(|i| (i % 253) as u8));
    let s = signed_setup("0.2.0", &k, &bundle, &bundle).await;
    let driver = HttpDriver::new(Installer::InPlace);
    let offer = check(&driver, &s.source).await.unwrap().expect("an offer");
    assert_eq!(
        (offer.version.as_str(), offer.notes.as_str()),
        ("0.2.0", "新功能 / new things")
    );

    // In place (a running AppImage): the driver installs exactly the verified bytes.
    let mut seen = Vec::new();
    let target = s.dir.join("updates");
    let plan = install(&driver, &s.source, &target, &mut |got, total| {
        seen.push((got, total))
    })
    .await
    .unwrap();
    assert_eq!(
        plan,
        Some(InstallPlan::Restart {
            version: "0.2.0".into()
        })
    );
    assert_eq!(*driver.installed.lock().unwrap(), vec![bundle.clone()]);
    assert_eq!(
        *seen.last().unwrap(),
        (bundle.len() as u64, Some(bundle.len() as u64))
    );
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    nothing_left(&target);

    // A .deb: kept whole in the updates folder, with the command to run.
    let deb = HttpDriver::new(Installer::Deb);
    match install(&deb, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap()
    {
        Some(InstallPlan::RunCommand { version, command }) => {
            let path = target.join("inkstone_0.2.0_amd64.deb");
            assert_eq!(version, "0.2.0");
            assert_eq!(command, format!("sudo apt install '{}'", path.display()));
            assert_eq!(std::fs::read(&path).unwrap(), bundle);
        }
        other => panic!("expected a command, got {other:?}"),
    }
    assert!(deb.installed.lock().unwrap().is_empty());
    std::fs::remove_dir_all(&target).unwrap();

    // A verified bundle that is not a package, for a package install: no command to run it.
    let other = tempfile::tempdir().unwrap();
    let appimage: Vec<u8> = b"\x7fELF an AppImage".repeat(1000);
    let s2 = signed_setup("0.2.0", &k, &appimage, &appimage).await;
    for installer in [Installer::Deb, Installer::Rpm] {
        let err = install(
            &HttpDriver::new(installer),
            &s2.source,
            other.path(),
            &mut |_, _| {},
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "update_install_failed");
        nothing_left(other.path());
    }

    // A build from no bundle: kept, and named.
    let dev = HttpDriver::new(Installer::Keep);
    match install(&dev, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap()
    {
        Some(InstallPlan::OpenInstaller { path, .. }) => {
            assert_eq!(std::fs::read(path).unwrap(), bundle)
        }
        other => panic!("expected the kept file, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bundle_that_is_not_what_was_signed_is_refused_and_nothing_is_kept() {
    let k = key();
    let signed = vec![7u8; 50_000];
    let mut served = signed.clone();
    served[25_000] ^= 1;
    let s = signed_setup("0.2.0", &k, &signed, &served).await;
    let target = s.dir.join("updates");
    for installer in [Installer::InPlace, Installer::Deb, Installer::Keep] {
        let driver = HttpDriver::new(installer);
        let err = install(&driver, &s.source, &target, &mut |_, _| {})
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "update_bad_signature");
        assert!(driver.installed.lock().unwrap().is_empty());
        nothing_left(&target);
    }
}

#[tokio::test]
async fn a_bundle_signed_with_another_key_or_for_another_version_is_refused() {
    let signer = key();
    let built_in = key();
    let bundle = vec![9u8; 10_000];
    let mut s = signed_setup("0.2.0", &signer, &bundle, &bundle).await;
    s.source.public_key = built_in.public.clone();
    let target = s.dir.join("updates");
    let driver = HttpDriver::new(Installer::InPlace);
    let err = install(&driver, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");

    // The right key, but the signature says it was made for 0.1.5: an old bundle passed off
    // as 0.2.0 by the endpoint.
    let mut s = setup("0.2.0", &sign_for(&signer, &bundle, Some("0.1.5")), &bundle).await;
    s.source.public_key = signer.public.clone();
    let err = install(&driver, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");
    // Made for 0.2.0 (spelled v0.2.0): accepted.
    let mut s = setup(
        "0.2.0",
        &sign_for(&signer, &bundle, Some("v0.2.0")),
        &bundle,
    )
    .await;
    s.source.public_key = signer.public.clone();
    install(&driver, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap();

    // And a signature that is not one at all.
    let forged = Canned::new(
        Offer {
            version: "0.2.0".into(),
            notes: String::new(),
            pub_date: None,
            url: "https://example.com/inkstone.AppImage".into(),
            signature: b64("not a minisign signature"),
        },
        bundle,
    );
    let err = install(&forged, &s.source, &target, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");
}

#[tokio::test]
async fn a_truncated_download_is_refused() {
    let k = key();
    let bundle = vec![3u8; 100_000];
    // A host that announces the whole bundle and sends half of it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/inkstone_0.2.0_amd64.deb",
        listener.local_addr().unwrap()
    );
    let half = bundle[..50_000].to_vec();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let half = half.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&half).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    let mut s = setup("0.2.0", &sign(&k, &bundle), &bundle).await;
    s.source.public_key = k.public.clone();
    std::fs::write(
        s.dir.join("latest.json"),
        manifest("0.2.0", &url, &sign(&k, &bundle)),
    )
    .unwrap();
    let target = s.dir.join("updates");
    let driver = HttpDriver::new(Installer::Deb);
    match install(&driver, &s.source, &target, &mut |_, _| {}).await {
        Err(UpdateError::Truncated { got, expected }) => {
            assert_eq!((got, expected), (50_000, 100_000))
        }
        other => panic!("expected a truncated download, got {other:?}"),
    }
    nothing_left(&target);
}

#[tokio::test]
async fn an_older_version_is_refused_the_same_is_up_to_date_and_updates_need_a_key() {
    let k = key();
    let bundle = vec![1u8; 1000];
    // The endpoint itself answers 204 for the same or an older version.
    for version in ["0.1.0", "0.0.9"] {
        let s = signed_setup(version, &k, &bundle, &bundle).await;
        let driver = HttpDriver::new(Installer::InPlace);
        assert_eq!(check(&driver, &s.source).await.unwrap(), None, "{version}");
    }
    // A host that offers whatever it has: the same version is up to date, an older one is
    // refused, and neither is downloaded.
    let source = UpdateSource {
        endpoint: "https://updates.example.com".into(),
        public_key: k.public.clone(),
        current_version: "0.1.0".into(),
    };
    let canned = |version: &str| {
        Canned::new(
            Offer {
                version: version.into(),
                notes: String::new(),
                pub_date: None,
                url: "https://example.com/a.AppImage".into(),
                signature: sign(&k, &bundle),
            },
            bundle.clone(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(check(&canned("v0.1.0"), &source).await.unwrap(), None);
    let older = canned("0.0.1");
    let err = install(&older, &source, dir.path(), &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_not_newer");
    nothing_left(dir.path());

    let current = semver::Version::new(0, 1, 0);
    let plain_http = Offer {
        version: "0.2.0".into(),
        url: "http://example.com/a.AppImage".into(),
        ..older.offer.clone()
    };
    assert_eq!(
        check_offer(&plain_http, &current).unwrap_err().kind(),
        "update_malformed"
    );

    // No key built in, or one that cannot verify: nothing is asked, nothing installed.
    for public_key in ["", "bm90IGEga2V5"] {
        let keyless = UpdateSource {
            public_key: public_key.into(),
            ..source.clone()
        };
        let driver = canned("0.2.0");
        assert_eq!(
            check(&driver, &keyless).await.unwrap_err().kind(),
            "update_unavailable"
        );
        assert_eq!(
            install(&driver, &keyless, dir.path(), &mut |_, _| {})
                .await
                .unwrap_err()
                .kind(),
            "update_unavailable"
        );
        assert_eq!(driver.fetched.load(Ordering::SeqCst), 0);
    }
    // What the build-time key check accepts: a real public key, nothing else.
    assert!(updates::check_public_key(&k.public).is_ok());
    let truncated = b64("untrusted comment: minisign public key\nAAAA\n");
    for bad in ["", "not base64!", truncated.as_str()] {
        assert!(updates::check_public_key(bad).is_err(), "{bad}");
    }
}

/// Waits (up to 5 s) until the driver has been asked `n` times.
async fn fetched(driver: &Canned, n: usize) {
    for _ in 0..500 {
        if driver.fetched.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "the driver was asked {} times, not {n}",
        driver.fetched.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn one_install_at_a_time_a_second_is_refused_and_the_gate_opens_when_the_first_ends() {
    use std::sync::Arc;
    let k = key();
    let bundle = vec![7u8; 4096];
    let driver = Arc::new(Canned::held(
        Offer {
            version: "0.2.0".into(),
            notes: String::new(),
            pub_date: None,
            url: "https://example.com/inkstone_0.2.0.AppImage".into(),
            signature: sign(&k, &bundle),
        },
        bundle.clone(),
    ));
    let source = UpdateSource {
        endpoint: "https://updates.example.com".into(),
        public_key: k.public.clone(),
        current_version: "0.1.0".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(updates::InstallGate::default());
    let start = || {
        let (gate, driver, source) = (gate.clone(), driver.clone(), source.clone());
        let dir = dir.path().to_path_buf();
        tokio::spawn(async move { gate.install(&*driver, &source, &dir, &mut |_, _| {}).await })
    };

    // The first is downloading; a second is refused before it asks the endpoint anything.
    let first = start();
    fetched(&driver, 1).await;
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        gate.install(&*driver, &source, dir.path(), &mut |_, _| {}),
    )
    .await
    .expect("a second install waited for the first instead of being refused")
    .unwrap_err();
    assert_eq!(second.kind(), "update_in_progress");
    assert!(UpdateError::KINDS.contains(&second.kind()));
    assert_eq!(driver.fetched.load(Ordering::SeqCst), 1);
    assert!(!first.is_finished());

    // The first ends with its bundle kept, once.
    driver.release.add_permits(1);
    let plan = first.await.unwrap().unwrap();
    assert!(
        matches!(plan, Some(InstallPlan::OpenInstaller { .. })),
        "{plan:?}"
    );
    let kept: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");

    // A failed install opens the gate too (here: a download of bytes the key did not sign).
    let tampered = Canned::new(driver.offer.clone(), vec![8u8; 4096]);
    let err = gate
        .install(&tampered, &source, dir.path(), &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");

    // So does one that is dropped halfway (the window closed during the download).
    let cancelled = start();
    fetched(&driver, 2).await;
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());
    driver.release.add_permits(1);
    let again = gate
        .install(&*driver, &source, dir.path(), &mut |_, _| {})
        .await
        .unwrap();
    assert!(matches!(again, Some(InstallPlan::OpenInstaller { .. })));
    assert_eq!(driver.fetched.load(Ordering::SeqCst), 3);
}
