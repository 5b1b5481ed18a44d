//! Signed updates against the payment endpoint's real update route and bundles signed the
//! way `tauri signer sign` signs them: a newer signed bundle is offered, downloaded and
//! verified; a bad signature, another key, a truncated download and an older version are
//! refused with their own kind, and nothing unverified is left under the bundle's name.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine;
use inkstone_desktop::updates::{
    self, check, check_offer, download, install, InstallPlan, Offer, UpdateSource,
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

fn sign(key: &Key, bytes: &[u8]) -> String {
    let sig = minisign::sign(
        Some(&key.kp.pk),
        &key.kp.sk,
        Cursor::new(bytes),
        Some("inkstone test bundle"),
        None,
    )
    .unwrap();
    b64(&sig.into_string())
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
    base: String,
    source: UpdateSource,
    bundle: Vec<u8>,
}

async fn setup(version: &str, key: &Key, signed: &[u8], served: &[u8]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    std::fs::create_dir_all(path.join("files")).unwrap();
    std::fs::write(path.join("files/inkstone_0.2.0.AppImage"), served).unwrap();
    let base = serve(path.join("latest.json"), path.join("files")).await;
    std::fs::write(
        path.join("latest.json"),
        manifest(
            version,
            &format!("{base}/files/inkstone_0.2.0.AppImage"),
            &sign(key, signed),
        ),
    )
    .unwrap();
    Setup {
        _dir: dir,
        dir: path,
        source: UpdateSource {
            endpoint: base.clone(),
            public_key: key.public.clone(),
            current_version: "0.1.0".into(),
        },
        base,
        bundle: served.to_vec(),
    }
}

fn no_partial_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_newer_signed_bundle_is_offered_verified_and_replaces_the_appimage() {
    let k = key();
    let bundle: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let s = setup("0.2.0", &k, &bundle, &bundle).await;
    let offer = check(&s.source).await.unwrap().expect("an offer");
    assert_eq!(
        (offer.version.as_str(), offer.notes.as_str()),
        ("0.2.0", "新功能 / new things")
    );

    let mut seen = Vec::new();
    let target = s.dir.join("updates");
    let path = download(&s.source, &offer, &target, &mut |got, total| {
        seen.push((got, total))
    })
    .await
    .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), s.bundle);
    let last = *seen.last().unwrap();
    assert_eq!(last, (bundle.len() as u64, Some(bundle.len() as u64)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));

    // The running AppImage is replaced whole.
    let running = s.dir.join("Inkstone.AppImage");
    std::fs::write(&running, b"old version").unwrap();
    let plan = install(&path, &offer, Some(&running)).unwrap();
    assert_eq!(
        plan,
        InstallPlan::Restart {
            version: "0.2.0".into()
        }
    );
    assert_eq!(std::fs::read(&running).unwrap(), bundle);
    // A .deb says what to run instead.
    let deb = s.dir.join("inkstone_0.2.0_amd64.deb");
    std::fs::write(&deb, b"deb").unwrap();
    match install(&deb, &offer, None).unwrap() {
        InstallPlan::RunCommand { command, .. } => {
            assert!(command.starts_with("sudo apt install '") && command.ends_with(".deb'"))
        }
        other => panic!("expected a command, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bundle_that_is_not_what_was_signed_is_refused_and_removed() {
    let k = key();
    let signed = vec![7u8; 50_000];
    let mut served = signed.clone();
    served[25_000] ^= 1;
    let s = setup("0.2.0", &k, &signed, &served).await;
    let offer = check(&s.source).await.unwrap().unwrap();
    let target = s.dir.join("updates");
    let err = download(&s.source, &offer, &target, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");
    no_partial_left(&target);
}

#[tokio::test]
async fn a_bundle_signed_with_another_key_is_refused() {
    let signer = key();
    let built_in = key();
    let bundle = vec![9u8; 10_000];
    let mut s = setup("0.2.0", &signer, &bundle, &bundle).await;
    s.source.public_key = built_in.public.clone();
    let offer = check(&s.source).await.unwrap().unwrap();
    let target = s.dir.join("updates");
    let err = download(&s.source, &offer, &target, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "update_bad_signature");
    no_partial_left(&target);
    // And a signature that is not one at all.
    let forged = Offer {
        signature: b64("not a minisign signature"),
        ..offer
    };
    assert_eq!(
        download(&s.source, &forged, &target, &mut |_, _| {})
            .await
            .unwrap_err()
            .kind(),
        "update_bad_signature"
    );
}

#[tokio::test]
async fn a_truncated_download_is_refused() {
    let k = key();
    let bundle = vec![3u8; 100_000];
    // A server that announces the whole bundle and sends half of it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/inkstone_0.2.0.AppImage",
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
    let dir = tempfile::tempdir().unwrap();
    let source = UpdateSource {
        endpoint: "http://127.0.0.1:9".into(),
        public_key: k.public.clone(),
        current_version: "0.1.0".into(),
    };
    let offer = Offer {
        version: "0.2.0".into(),
        notes: String::new(),
        pub_date: None,
        url,
        signature: sign(&k, &bundle),
    };
    let target = dir.path().join("updates");
    match download(&source, &offer, &target, &mut |_, _| {}).await {
        Err(updates::UpdateError::Truncated { got, expected }) => {
            assert_eq!((got, expected), (50_000, 100_000))
        }
        other => panic!("expected a truncated download, got {other:?}"),
    }
    no_partial_left(&target);
}

#[tokio::test]
async fn an_older_or_equal_version_is_never_offered_and_updates_need_a_key() {
    let k = key();
    let bundle = vec![1u8; 1000];
    for version in ["0.1.0", "0.0.9"] {
        let s = setup(version, &k, &bundle, &bundle).await;
        assert_eq!(check(&s.source).await.unwrap(), None, "{version}");
        assert!(s.base.starts_with("http://127.0.0.1"));
    }
    // An endpoint that offers an older version anyway is refused here too.
    let older = Offer {
        version: "0.0.1".into(),
        notes: String::new(),
        pub_date: None,
        url: "https://example.com/a.AppImage".into(),
        signature: "c2ln".into(),
    };
    let current = semver::Version::new(0, 1, 0);
    assert_eq!(
        check_offer(&older, &current).unwrap_err().kind(),
        "update_not_newer"
    );
    let plain_http = Offer {
        version: "0.2.0".into(),
        url: "http://example.com/a.AppImage".into(),
        ..older
    };
    assert_eq!(
        check_offer(&plain_http, &current).unwrap_err().kind(),
        "update_malformed"
    );
    // No key built in: nothing is checked.
    let s = setup("0.2.0", &k, &bundle, &bundle).await;
    let keyless = UpdateSource {
        public_key: String::new(),
        ..s.source.clone()
    };
    assert_eq!(
        check(&keyless).await.unwrap_err().kind(),
        "update_unavailable"
    );
    // What the build-time key check accepts: a real public key, nothing else.
    assert!(updates::check_public_key(&k.public).is_ok());
    let truncated = b64("untrusted comment: minisign public key\nAAAA\n");
    for bad in ["", "not base64!", truncated.as_str()] {
        assert!(updates::check_public_key(bad).is_err(), "{bad}");
    }
}
