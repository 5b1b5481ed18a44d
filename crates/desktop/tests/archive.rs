//! "Export everything" and its import (issue 19, item 5): the zip holds Markdown per
//! generation, the generated files, the transactions as CSV; the import takes history back
//! into another installation and never credits or memberships; any archive bytes, random or
//! mutated, are refused or read without a panic.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::TimeZone;
use inkstone_core::generations::{self, HistoryFilter, NewGeneration, Outcome, Usage};
use inkstone_core::ledger::{self, PageRequest};
use inkstone_core::{open, profiles, Clock, Database};
use inkstone_desktop::archive::{parse_archive, ArchiveError};
use inkstone_desktop::{MemoryStore, Options, Services};
use inkstone_domain::ProfileId;
use proptest::prelude::*;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap()
}

async fn start(dir: &Path) -> Services {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        clock: Clock::manual(now()),
        ..Default::default()
    };
    Services::start(db, options, Arc::new(MemoryStore::default()))
        .await
        .unwrap()
}

async fn profile_with(db: &Database, name: &str, credits: i64) -> inkstone_domain::ProfileId {
    let p = profiles::create_profile(db, name, "long enough", false, now())
        .await
        .unwrap();
    if credits > 0 {
        let g = ledger::Grant {
            kind: ledger::GrantKind::Recharge,
            credits: inkstone_domain::Credits::new(credits),
            description: "top-up".into(),
            order_no: None,
            expires_at: None,
        };
        ledger::add_credits(db, p.id, &g, now()).await.unwrap();
    }
    p.id
}

async fn generate(db: &Database, profile: ProfileId, tool: &str, prompt: &str, files: Vec<String>) {
    let started = generations::start(
        db,
        &NewGeneration {
            profile_id: profile,
            tool: tool.parse().unwrap(),
            model: "qwen-plus".into(),
            prompt: prompt.into(),
            params: serde_json::json!({"tone": "warm"}),
            regenerated_from: None,
            inputs: Vec::new(),
        },
        now(),
    )
    .await
    .unwrap();
    generations::finish(
        db,
        started.generation_id,
        Outcome::Succeeded {
            output_text: format!("{prompt}：写好了。"),
            files,
            usage: Usage::default(),
        },
        now() + chrono::Duration::seconds(5),
    )
    .await
    .unwrap();
}

fn entries(zip_path: &Path) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect()
}

fn read_entry(zip_path: &Path, name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut out = Vec::new();
    zip.by_name(name).unwrap().read_to_end(&mut out).unwrap();
    out
}

async fn exported_archive(
    dir: &Path,
    out: &Path,
) -> (Services, inkstone_domain::ProfileId, std::path::PathBuf) {
    let s = start(dir).await;
    let me = profile_with(&s.db, "writer", 50).await;
    generate(&s.db, me, "article", "秋天的散文", Vec::new()).await;
    let image_dir = dir.join("files/2");
    std::fs::create_dir_all(&image_dir).unwrap();
    let image = image_dir.join("image-1.png");
    std::fs::write(&image, b"\x89PNG\r\n\x1a\nnot really a picture").unwrap();
    generate(
        &s.db,
        me,
        "image",
        "一只猫",
        vec![image.to_string_lossy().into_owned()],
    )
    .await;
    let report = s.export_everything(me, out).await.unwrap();
    assert_eq!((report.generations, report.files), (2, 1));
    let path = std::path::PathBuf::from(report.path);
    (s, me, path)
}

#[tokio::test]
async fn the_zip_holds_markdown_files_transactions_and_the_history_to_import() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (_s, _me, zip_path) = exported_archive(dir.path(), out.path()).await;
    let names = entries(&zip_path);
    for want in [
        "manifest.json",
        "history.json",
        "generations/0001-article.md",
        "generations/0002-image.md",
        "files/0002/1-image-1.png",
        "transactions.csv",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    let md = String::from_utf8(read_entry(&zip_path, "generations/0001-article.md")).unwrap();
    assert!(md.contains("> 秋天的散文") && md.contains("写好了"));
    let csv = String::from_utf8(read_entry(&zip_path, "transactions.csv")).unwrap();
    assert!(csv.contains("RECHARGE") && csv.contains("CONSUME"));
    assert_eq!(
        read_entry(&zip_path, "files/0002/1-image-1.png"),
        b"\x89PNG\r\n\x1a\nnot really a picture"
    );
}

#[tokio::test]
async fn import_takes_history_back_never_credits_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (_s, _me, zip_path) = exported_archive(dir.path(), out.path()).await;

    let other = tempfile::tempdir().unwrap();
    let s = start(other.path()).await;
    let me = profile_with(&s.db, "writer", 0).await;
    let report = s.import_everything(me, &zip_path).await.unwrap();
    assert_eq!((report.imported, report.skipped, report.files), (2, 0, 1));
    // History is back and searchable, with the picture in this installation's folder.
    let found = generations::history(
        &s.db,
        me,
        &HistoryFilter {
            text: Some("秋天".into()),
            ..Default::default()
        },
        PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(found.items.len(), 1);
    let all = inkstone_core::history_import::generations_of(&s.db, me)
        .await
        .unwrap();
    let image = all
        .iter()
        .find(|g| g.tool == inkstone_domain::Tool::Image)
        .unwrap();
    assert!(Path::new(&image.files[0]).starts_with(other.path().join("files")));
    assert_eq!(
        std::fs::read(&image.files[0]).unwrap(),
        b"\x89PNG\r\n\x1a\nnot really a picture"
    );
    assert!(all.iter().all(|g| g.cost == 0 && g.consume_id.is_none()));
    // Not one credit or membership day moved.
    let balance = ledger::balance(&s.db, me, now()).await.unwrap();
    assert_eq!((balance.credits.get(), balance.is_member), (0, false));
    let rows = ledger::transactions(&s.db, me, &Default::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(rows.items.is_empty());
    assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    // A second import adds nothing.
    let again = s.import_everything(me, &zip_path).await.unwrap();
    assert_eq!((again.imported, again.skipped, again.files), (0, 2, 0));
}

/// A zip of `entries` (name, bytes).
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

fn manifest() -> Vec<u8> {
    br#"{"format":"inkstone-export","version":1,"exported_at":"2026-11-29T08:00:00Z","generations":1}"#.to_vec()
}

fn record(extra: &str) -> String {
    format!(
        r#"{{"tool":"article","model":"qwen-plus","prompt":"p","params":{{}},"status":"succeeded",
        "output_text":"o","files":[],"created_at":"2026-11-29T08:00:00Z",
        "finished_at":"2026-11-29T08:00:05Z"{extra}}}"#
    )
}

fn parse(bytes: Vec<u8>) -> Result<usize, ArchiveError> {
    parse_archive(std::io::Cursor::new(bytes)).map(|(p, _)| p.history.len())
}

#[test]
fn archives_that_claim_money_climb_out_or_are_not_ours_are_refused_before_anything_is_written() {
    let ok = zip_of(&[
        ("manifest.json", manifest()),
        ("history.json", format!("[{}]", record("")).into_bytes()),
    ]);
    assert_eq!(parse(ok).unwrap(), 1);
    for (history, kind) in [
        // Credits are no field of a record: refused, not ignored.
        (
            format!("[{}]", record(r#","credits":1000"#)),
            "export_damaged",
        ),
        (
            format!("[{}]", record(r#","member_until":"2099-01-01T00:00:00Z""#)),
            "export_damaged",
        ),
        (
            format!(
                "[{}]",
                record("").replace(r#""files":[]"#, r#""files":["files/../../etc/passwd"]"#)
            ),
            "export_damaged",
        ),
        (
            format!(
                "[{}]",
                record("").replace(r#""files":[]"#, r#""files":["files/1/missing.png"]"#)
            ),
            "export_damaged",
        ),
        (
            format!("[{}]", record("").replace("succeeded", "running")),
            "export_damaged",
        ),
        (
            format!(
                "[{}]",
                record("").replace(r#""tool":"article""#, r#""tool":"mint_credits""#)
            ),
            "export_damaged",
        ),
        ("{}".to_string(), "export_damaged"),
    ] {
        let bytes = zip_of(&[
            ("manifest.json", manifest()),
            ("history.json", history.into_bytes()),
        ]);
        assert_eq!(parse(bytes).unwrap_err().kind(), kind);
    }
    let newer = zip_of(&[(
        "manifest.json",
        br#"{"format":"inkstone-export","version":9,"exported_at":"2026-11-29T08:00:00Z","generations":0}"#.to_vec(),
    )]);
    assert_eq!(parse(newer).unwrap_err().kind(), "export_newer");
    assert_eq!(
        parse(zip_of(&[("notes.txt", b"hi".to_vec())]))
            .unwrap_err()
            .kind(),
        "export_not_archive"
    );
    assert_eq!(
        parse(b"PK\x03\x04 not really".to_vec()).unwrap_err().kind(),
        "export_not_archive"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(parse(bytes).is_err());
    }

    #[test]
    fn a_mutated_archive_is_refused_or_read_whole_without_a_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = zip_of(&[
            ("manifest.json", manifest()),
            ("history.json", format!("[{},{}]", record(""), record("").replace("\"p\"", "\"q\"")).into_bytes()),
            ("files/1/a.png", vec![1u8; 300]),
        ]);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value;
        }
        if let Some(cut) = cut {
            let keep = cut.index(bytes.len());
            bytes.truncate(keep);
        }
        if let Ok(n) = parse(bytes) {
            prop_assert!(n <= 2);
        }
    }

    #[test]
    fn any_record_is_validated_before_import_and_never_moves_credits(
        tool in prop::sample::select(vec!["article", "image", "nope", ""]),
        prompt in "\\PC{0,40}",
        status in prop::sample::select(vec!["succeeded", "failed", "running", "stopped"]),
        tokens in proptest::option::of(any::<i64>()),
        created in any::<i64>(),
    ) {
        let json = serde_json::json!({
            "tool": tool, "model": "m", "prompt": prompt, "status": status,
            "created_at": chrono::Utc.timestamp_millis_opt(created.rem_euclid(4_000_000_000_000)).single().map(|t| t.to_rfc3339()),
            "finished_at": null, "input_tokens": tokens,
        });
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let db = inkstone_core::open_in_memory().await.unwrap();
            let me = profile_with(&db, "writer", 7).await;
            if let Ok(record) = serde_json::from_value::<inkstone_core::history_import::ArchivedGeneration>(json) {
                let _ = inkstone_core::history_import::import_generation(&db, me, &record, &[]).await;
            }
            let b = ledger::balance(&db, me, now()).await.unwrap();
            assert_eq!((b.credits.get(), b.is_member), (7, false));
            assert!(ledger::audit(&db).await.unwrap().is_empty());
        });
    }
}
