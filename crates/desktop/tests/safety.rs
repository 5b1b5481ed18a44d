//! What the desktop must never do, whatever the page or the settings ask: run twice on one
//! data folder, let anyone but the owner change AI models and keys, or send the DashScope key
//! anywhere but DashScope.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::TimeZone;
use futures_util::StreamExt;
use inkstone_core::generations::{self, NewGeneration, Status};
use inkstone_core::models::ModelInput;
use inkstone_core::{ledger, open, profiles, Clock};
use inkstone_desktop::{DataLock, DesktopError, LockError, Options, Services};
use inkstone_keychain::{MemoryStore, SecretName, SecretStore};
use inkstone_studio::TextModel;

const DASHSCOPE_KEY: &str = "sk-dashscope-secret-of-the-owner-0001";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap()
}

async fn start(
    dir: &std::path::Path,
    demo: bool,
    secrets: Arc<MemoryStore>,
) -> Result<Services, DesktopError> {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo,
        clock: Clock::manual(now()),
        ..Default::default()
    };
    Services::start(db, options, secrets).await
}

#[tokio::test]
async fn a_second_start_on_the_same_folder_is_refused_before_recovery_touches_the_first_ones_runs()
{
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), true, Arc::new(MemoryStore::default()))
        .await
        .unwrap();
    let user = profiles::login(&first.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    // A run of the first app, charged and still going.
    let running = generations::start(
        &first.db,
        &NewGeneration {
            profile_id: user,
            tool: inkstone_domain::Tool::Article,
            model: "qwen-plus".into(),
            prompt: "春天".into(),
            params: serde_json::json!({}),
            regenerated_from: None,
            inputs: Vec::new(),
        },
        now(),
    )
    .await
    .unwrap();

    let second = start(dir.path(), true, Arc::new(MemoryStore::default())).await;
    let error = second
        .err()
        .expect("a second app on the same folder starts");
    assert_eq!(error.kind(), "already_running");
    assert!(error.to_string().contains("already running"), "{error}");

    let g = generations::get(&first.db, user, running.generation_id)
        .await
        .unwrap();
    assert_eq!((g.status, g.refunded), (Status::Running, false));
    assert_eq!(
        ledger::balance(&first.db, user, now())
            .await
            .unwrap()
            .credits,
        90,
        "still charged: nobody closed the first app's run"
    );
    first.shutdown().await;
    drop(first);
    // Once the first app is gone, the folder is free again (and its run is recovered).
    let again = start(dir.path(), true, Arc::new(MemoryStore::default()))
        .await
        .unwrap();
    let g = generations::get(&again.db, user, running.generation_id)
        .await
        .unwrap();
    assert_eq!((g.status, g.refunded), (Status::Interrupted, true));
    again.shutdown().await;
}

/// The child half of the process test below: locks the folder it is given and says how it went.
#[test]
fn a_second_process_on_the_same_data_folder_is_refused() {
    if let Ok(dir) = std::env::var("INKSTONE_LOCK_CHILD_DIR") {
        let code = match DataLock::acquire(std::path::Path::new(&dir)) {
            Ok(_) => 0,
            Err(LockError::AlreadyRunning { .. }) => 17,
            Err(LockError::Io { .. }) => 1,
        };
        std::process::exit(code);
    }
    let dir = tempfile::tempdir().unwrap();
    let child = |dir: &std::path::Path| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_second_process_on_the_same_data_folder_is_refused",
                "--test-threads=1",
            ])
            .env("INKSTONE_LOCK_CHILD_DIR", dir)
            .status()
            .unwrap()
            .code()
    };
    let lock = DataLock::acquire(dir.path()).unwrap();
    assert_eq!(child(dir.path()), Some(17), "refused while we hold it");
    drop(lock);
    assert_eq!(child(dir.path()), Some(0), "free once we let go");
}

fn openai_model(url: &str) -> ModelInput {
    ModelInput {
        name: "本地模型".into(),
        provider: "openai".into(),
        model_id: "local-writer".into(),
        kind: "text".into(),
        base_url: Some(url.into()),
        params: serde_json::Value::Null,
    }
}

#[tokio::test]
async fn only_the_signed_in_owner_changes_ai_models_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let s = start(dir.path(), true, secrets.clone()).await.unwrap();
    let writer = profiles::login(&s.db, "test_user", "test123456")
        .await
        .unwrap()
        .id;
    let admin = profiles::login(&s.db, "admin", "admin123456")
        .await
        .unwrap()
        .id;
    let model = openai_model("http://127.0.0.1:11434/v1");
    for who in [None, Some(writer)] {
        let refused = [
            s.add_model(who, &model, None).await.err(),
            s.activate_model(who, 1).await.err(),
            s.delete_model(who, 1).await.err(),
            s.set_api_key(who, DASHSCOPE_KEY).await.err(),
            s.delete_api_key(who).await.err(),
        ];
        for e in refused {
            assert_eq!(e.map(|e| e.kind()), Some("owner_only"), "{who:?}");
        }
    }
    assert!(secrets.get(&SecretName::DashScopeKey).unwrap().is_none());
    let before = inkstone_core::models::list_models(&s.db).await.unwrap();

    let added = s
        .add_model(Some(admin), &model, Some("sk-local-model-key"))
        .await
        .unwrap();
    assert!(s.model_has_key(added.id).unwrap());
    assert_eq!(
        secrets
            .get(&SecretName::ModelKey { model_id: added.id })
            .unwrap()
            .as_deref(),
        Some("sk-local-model-key")
    );
    s.set_api_key(Some(admin), DASHSCOPE_KEY).await.unwrap();
    s.delete_model(Some(admin), added.id).await.unwrap();
    assert!(!s.model_has_key(added.id).unwrap(), "its key went with it");
    assert_eq!(
        inkstone_core::models::list_models(&s.db).await.unwrap(),
        before
    );
    s.shutdown().await;
}

#[tokio::test]
async fn an_openai_compatible_model_needs_https_unless_it_runs_on_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), true, Arc::new(MemoryStore::default()))
        .await
        .unwrap();
    let admin = Some(
        profiles::login(&s.db, "admin", "admin123456")
            .await
            .unwrap()
            .id,
    );
    let before = inkstone_core::models::list_models(&s.db).await.unwrap();
    for url in [
        "http://api.example.com/v1",
        "http://192.168.1.20:11434/v1",
        "http://localhost.example.com/v1",
    ] {
        let e = s
            .add_model(admin, &openai_model(url), None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "invalid_input", "{url}");
    }
    // A DashScope model whose own URL is not DashScope's would carry the DashScope key there.
    let mut elsewhere = openai_model("https://proxy.example.com");
    elsewhere.provider = "dashscope".into();
    let e = s.add_model(admin, &elsewhere, None).await.unwrap_err();
    assert_eq!(e.kind(), "key_host_refused");
    // A key of its own belongs to an OpenAI-compatible model only.
    let mut dashscope = openai_model("https://dashscope.aliyuncs.com");
    dashscope.provider = "dashscope".into();
    let e = s
        .add_model(admin, &dashscope, Some("sk-x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_input");
    assert_eq!(
        inkstone_core::models::list_models(&s.db).await.unwrap(),
        before,
        "nothing stored"
    );
    for url in [
        "https://api.example.com/v1",
        "http://127.0.0.1:11434/v1",
        "http://localhost:8000/v1",
    ] {
        let mut m = openai_model(url);
        m.model_id = format!("m{}", url.len());
        s.add_model(admin, &m, None).await.unwrap();
    }
    s.shutdown().await;
}

/// A plain HTTP server that writes down every request it gets and answers 400 (not retried).
fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = Vec::new();
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&got).into_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

async fn drain(model: &dyn TextModel) {
    let mut stream = model.stream(vec![inkstone_core::prompts::Message {
        role: "user".into(),
        content: "春天".into(),
    }]);
    while stream.next().await.is_some() {}
}

#[tokio::test]
async fn the_dashscope_key_never_reaches_another_host() {
    let (url, seen) = recorder();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(MemoryStore::default());
    secrets
        .set(&SecretName::DashScopeKey, DASHSCOPE_KEY)
        .unwrap();
    let s = start(dir.path(), true, secrets.clone()).await.unwrap();
    let admin = Some(
        profiles::login(&s.db, "admin", "admin123456")
            .await
            .unwrap()
            .id,
    );

    // 1. An OpenAI-compatible model on another host: its own key, or none; never DashScope's.
    let local = s
        .add_model(admin, &openai_model(&format!("{url}/v1")), None)
        .await
        .unwrap();
    drain(&s.text_model(Some(local.id), Vec::new()).await.unwrap()).await;
    let mut own = openai_model(&format!("{url}/v1"));
    own.model_id = "with-own-key".into();
    let own = s
        .add_model(admin, &own, Some("sk-own-key-of-the-model"))
        .await
        .unwrap();
    drain(&s.text_model(Some(own.id), Vec::new()).await.unwrap()).await;

    // 2. A DashScope model whose URL (from the database) is another host: refused, nothing sent.
    let sneaked = inkstone_core::models::add_model(
        &s.db,
        &ModelInput {
            provider: "dashscope".into(),
            model_id: "qwen-sneaky".into(),
            ..openai_model(&url)
        },
        0,
    )
    .await
    .unwrap();
    let e = s
        .text_model(Some(sneaked.id), Vec::new())
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), "key_host_refused");

    // 3. A region set to another host: refused when saved, and never used.
    let prefs = inkstone_desktop::preferences::Preferences {
        region: inkstone_desktop::preferences::Region::Custom(url.clone()),
        ..Default::default()
    };
    assert!(s.set_preferences(&prefs).is_err());

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "only the two OpenAI-compatible calls: {seen:#?}"
    );
    assert!(
        seen.iter().all(|r| !r.contains(DASHSCOPE_KEY)),
        "the DashScope key reached {url}: {seen:#?}"
    );
    assert!(!seen[0].to_ascii_lowercase().contains("authorization:"));
    assert!(
        seen[1].contains("Bearer sk-own-key-of-the-model"),
        "{}",
        seen[1]
    );
    s.shutdown().await;
}
