//! The writing workspace through the desktop facade (issue 17): the services' clock decides
//! when the trash lets go, bad input is a typed error that changes nothing, and every kind
//! reaches the UI's list.

use std::sync::Arc;

use chrono::TimeZone;
use inkstone_core::{open, Clock};
use inkstone_desktop::{error_kinds, Options, Services};
use inkstone_domain::ProfileId;
use inkstone_keychain::MemoryStore;

async fn start(dir: &std::path::Path, clock: Clock) -> Services {
    let db = open(&dir.join("inkstone.db")).await.unwrap();
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo: false,
        clock,
        ..Default::default()
    };
    Services::start(db, options, Arc::new(MemoryStore::default()))
        .await
        .unwrap()
}

#[tokio::test]
async fn documents_are_saved_trashed_and_purged_by_the_services_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap());
    let s = start(dir.path(), clock.clone()).await;
    let me = s.register("writer", "password123", false).await.unwrap().id;
    let project = s.project_create(me, "长篇").await.unwrap();
    let doc = s.document_create(me, project.id, "第一章").await.unwrap();
    let saved = s
        .document_save(me, doc.meta.id, "春眠不觉晓", 0)
        .await
        .unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(saved.updated_at, clock.now());
    // A repeated save on the same base is refused and leaves the text as it was.
    let err = s.document_save(me, doc.meta.id, "旧", 0).await.unwrap_err();
    assert_eq!(err.kind(), "document_conflict");
    assert_eq!(
        s.document_get(me, doc.meta.id).await.unwrap().body,
        "春眠不觉晓"
    );
    // A bad name is a typed error and changes nothing.
    let err = s
        .document_rename(me, doc.meta.id, "a\u{0}b")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_name");
    assert_eq!(
        s.document_get(me, doc.meta.id).await.unwrap().meta.title,
        "第一章"
    );

    s.document_trash(me, doc.meta.id).await.unwrap();
    clock.advance(chrono::Duration::days(29));
    let tree = s.workspace_tree(me).await.unwrap();
    assert_eq!(tree.trash.documents.len(), 1);
    clock.advance(chrono::Duration::days(1));
    let tree = s.workspace_tree(me).await.unwrap();
    assert!(tree.trash.documents.is_empty());
    assert_eq!(
        s.document_get(me, doc.meta.id).await.unwrap_err().kind(),
        "unknown_document"
    );
}

async fn unindexed(s: &Services) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM documents_unindexed")
        .fetch_one(&s.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_autosave_stores_the_text_and_the_index_catches_up_when_typing_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap());
    let s = start(dir.path(), clock).await;
    let me = s.register("writer", "password123", false).await.unwrap().id;
    let project = s.project_create(me, "长篇").await.unwrap();
    let doc = s.document_create(me, project.id, "第一章").await.unwrap();
    // Three saves in a row, as while typing: none of them pays for the index.
    for (base, text) in ["春", "春眠", "春眠不觉晓"].iter().enumerate() {
        s.document_save(me, doc.meta.id, text, base as i64)
            .await
            .unwrap();
        assert_eq!(unindexed(&s).await, 1);
    }
    // The pause: the index catches up by itself (the pause is wall time, not a rule).
    let waited = std::time::Instant::now();
    while unindexed(&s).await > 0 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "the index never caught up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(waited.elapsed() >= inkstone_desktop::workspace::INDEX_AFTER_PAUSE / 2);
    let hits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH '\"不觉\"' AND rowid = ?",
    )
    .bind(doc.meta.id)
    .fetch_one(&s.db)
    .await
    .unwrap();
    assert_eq!(hits, 1);
}

#[test]
fn workspace_error_kinds_reach_the_ui_list() {
    let kinds = error_kinds();
    for kind in inkstone_core::workspace::WorkspaceError::KINDS {
        assert!(kinds.contains(kind), "{kind}");
    }
}

mod ai {
    use super::*;
    use inkstone_core::generations::Status;
    use inkstone_core::ledger;
    use inkstone_desktop::preferences::Locale;
    use inkstone_desktop::workspace::{DocumentAction, DocumentAiRequest, NoteKind};
    use inkstone_studio::Update;

    /// Demo mode: the bundled fake DashScope answers (the real protocol, streamed).
    async fn demo(dir: &std::path::Path) -> Services {
        let db = open(&dir.join("inkstone.db")).await.unwrap();
        let options = Options {
            data_dir: dir.to_path_buf(),
            demo: true,
            demo_tokens_per_second: 1000.0,
            ..Default::default()
        };
        Services::start(db, options, Arc::new(MemoryStore::default()))
            .await
            .unwrap()
    }

    fn polish(document_id: i64, text: &str) -> DocumentAiRequest {
        DocumentAiRequest {
            document_id,
            action: DocumentAction::Polish,
            text: text.into(),
            from: 2,
            to: 2 + text.chars().count() as u32,
            regenerated_from: None,
            notes: Vec::new(),
        }
    }

    async fn credits(s: &Services, profile: ProfileId) -> i64 {
        ledger::balance(&s.db, profile, s.now())
            .await
            .unwrap()
            .credits
            .get()
    }

    #[tokio::test]
    async fn a_run_on_a_document_is_a_charged_generation_that_links_back_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = demo(dir.path()).await;
        let me = inkstone_core::profiles::login(&s.db, "test_user", "test123456")
            .await
            .unwrap()
            .id;
        let p = s.project_create(me, "长篇").await.unwrap();
        let doc = s.document_create(me, p.id, "第一章").await.unwrap();
        let before = credits(&s, me).await;
        let mut streamed = String::new();
        let mut started = None;
        let g = s
            .document_ai(me, polish(doc.meta.id, "春眠不觉晓"), &mut |u| match u {
                Update::Started {
                    generation_id,
                    charged,
                    ..
                } => started = Some((generation_id, charged)),
                Update::Text { text } => streamed.push_str(&text),
                _ => {}
            })
            .await
            .unwrap();
        assert_eq!(g.status, Status::Succeeded);
        assert_eq!(started, Some((g.id, inkstone_domain::Credits::new(10))));
        assert_eq!(g.tool, inkstone_domain::Tool::Document);
        assert_eq!(g.params["document_id"], doc.meta.id);
        assert_eq!(g.params["action"], "polish");
        assert_eq!(
            (g.params["from"].as_i64(), g.params["to"].as_i64()),
            (Some(2), Some(7))
        );
        assert!(!streamed.is_empty() && streamed == g.output_text);
        assert_eq!(credits(&s, me).await, before - 10);
        // In history like every run.
        let h = inkstone_core::generations::get(&s.db, me, g.id)
            .await
            .unwrap();
        assert_eq!(h.prompt, "春眠不觉晓");
        assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_or_stopped_run_is_refunded_and_a_bad_request_charges_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = demo(dir.path()).await;
        let me = inkstone_core::profiles::login(&s.db, "test_user", "test123456")
            .await
            .unwrap()
            .id;
        let p = s.project_create(me, "项目").await.unwrap();
        let doc = s.document_create(me, p.id, "文稿").await.unwrap();
        let before = credits(&s, me).await;
        // The provider fails: refunded by the runner's rules.
        let g = s
            .document_ai(
                me,
                polish(doc.meta.id, "[[fault:internal]] 文字"),
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(g.status, Status::Failed);
        assert!(g.refunded);
        assert_eq!(credits(&s, me).await, before);
        // Stopped before the first word: refunded.
        let studio = s.studio.clone();
        let g = s
            .document_ai(me, polish(doc.meta.id, "夜来风雨声"), &mut |u| {
                if let Update::Started { generation_id, .. } = u {
                    studio.cancel(generation_id);
                }
            })
            .await
            .unwrap();
        assert_eq!(g.status, Status::Stopped);
        assert!(g.refunded);
        assert_eq!(credits(&s, me).await, before);
        // Refused before anything is charged: an empty selection, another profile's or a
        // trashed document, an unknown language.
        let other = inkstone_core::profiles::login(&s.db, "admin", "admin123456")
            .await
            .unwrap()
            .id;
        let refused = [
            s.document_ai(me, polish(doc.meta.id, "  "), &mut |_| {})
                .await,
            s.document_ai(other, polish(doc.meta.id, "字"), &mut |_| {})
                .await,
            s.document_ai(
                me,
                DocumentAiRequest {
                    action: DocumentAction::Translate {
                        language: "klingon".into(),
                    },
                    ..polish(doc.meta.id, "字")
                },
                &mut |_| {},
            )
            .await,
        ];
        let kinds: Vec<&str> = refused
            .iter()
            .map(|r| r.as_ref().unwrap_err().kind())
            .collect();
        assert_eq!(
            kinds,
            ["invalid_input", "unknown_document", "invalid_input"]
        );
        s.document_trash(me, doc.meta.id).await.unwrap();
        assert_eq!(
            s.document_ai(me, polish(doc.meta.id, "字"), &mut |_| {})
                .await
                .unwrap_err()
                .kind(),
            "in_trash"
        );
        assert_eq!(credits(&s, me).await, before);
        assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    }

    async fn count_generations(s: &Services, profile: ProfileId) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM generations WHERE profile_id = ?")
            .bind(profile)
            .fetch_one(&s.db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_attached_note_reaches_the_request_and_too_much_is_refused_uncharged() {
        let dir = tempfile::tempdir().unwrap();
        let s = demo(dir.path()).await;
        let me = inkstone_core::profiles::login(&s.db, "test_user", "test123456")
            .await
            .unwrap()
            .id;
        let p = s.project_create(me, "长篇").await.unwrap();
        let doc = s.document_create(me, p.id, "第一章").await.unwrap();
        let plain = s
            .document_ai(me, polish(doc.meta.id, "春眠不觉晓"), &mut |_| {})
            .await
            .unwrap();
        let note = s
            .note_create(me, p.id, NoteKind::Character, "黛玉", &"愁".repeat(1000))
            .await
            .unwrap();
        let with_note = s
            .document_ai(
                me,
                DocumentAiRequest {
                    notes: vec![note.id],
                    ..polish(doc.meta.id, "春眠不觉晓")
                },
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(with_note.status, Status::Succeeded);
        assert_eq!(with_note.params["notes"], serde_json::json!([note.id]));
        // The fake DashScope counts the input tokens of every message it was sent (half a
        // token per character): the note's 1000 characters and its heading are in the request.
        let grown = with_note.usage.input_tokens.unwrap() - plain.usage.input_tokens.unwrap();
        assert!((500..=540).contains(&grown), "{grown}");
        // And the fake's fault marker, in the note only, makes the provider fail: refunded.
        let faulty = s
            .note_create(me, p.id, NoteKind::Style, "规则", "[[fault:internal]]")
            .await
            .unwrap();
        let before = credits(&s, me).await;
        let g = s
            .document_ai(
                me,
                DocumentAiRequest {
                    notes: vec![faulty.id],
                    ..polish(doc.meta.id, "夜来风雨声")
                },
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(g.status, Status::Failed);
        assert!(g.refunded);
        assert_eq!(credits(&s, me).await, before);

        // Three full notes are more than qwen-plus's 131,072 tokens: refused politely,
        // nothing charged, nothing in history.
        let big = "字".repeat(inkstone_core::notes::MAX_NOTE_CHARS);
        let mut ids = Vec::new();
        for name in ["一", "二", "三"] {
            ids.push(
                s.note_create(me, p.id, NoteKind::Place, name, &big)
                    .await
                    .unwrap()
                    .id,
            );
        }
        let runs = count_generations(&s, me).await;
        let err = s
            .document_ai(
                me,
                DocumentAiRequest {
                    notes: ids.clone(),
                    ..polish(doc.meta.id, "字")
                },
                &mut |_| {},
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "context_too_long");
        // Two fit.
        ids.pop();
        // Another project's note, or another profile's, is unknown.
        let q = s.project_create(me, "别的").await.unwrap();
        let elsewhere = s
            .note_create(me, q.id, NoteKind::Style, "别处", "x")
            .await
            .unwrap();
        let err = s
            .document_ai(
                me,
                DocumentAiRequest {
                    notes: vec![elsewhere.id],
                    ..polish(doc.meta.id, "字")
                },
                &mut |_| {},
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "unknown_note");
        assert_eq!(credits(&s, me).await, before);
        assert_eq!(count_generations(&s, me).await, runs);
        let g = s
            .document_ai(
                me,
                DocumentAiRequest {
                    notes: ids,
                    ..polish(doc.meta.id, "字")
                },
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(g.status, Status::Succeeded);
        assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_outline_is_a_charged_run_whose_answer_becomes_an_editable_outline_note() {
        let dir = tempfile::tempdir().unwrap();
        let s = demo(dir.path()).await;
        let me = inkstone_core::profiles::login(&s.db, "test_user", "test123456")
            .await
            .unwrap()
            .id;
        let p = s.project_create(me, "长篇").await.unwrap();
        let doc = s.document_create(me, p.id, "第一章").await.unwrap();
        let before = credits(&s, me).await;
        // An empty document: refused, nothing charged.
        assert_eq!(
            s.outline_generate(me, doc.meta.id, Vec::new(), Locale::ZhCn, &mut |_| {})
                .await
                .unwrap_err()
                .kind(),
            "invalid_input"
        );
        assert_eq!(credits(&s, me).await, before);
        s.document_save(me, doc.meta.id, "黛玉进府，宝玉初见。", 0)
            .await
            .unwrap();
        let run = s
            .outline_generate(me, doc.meta.id, Vec::new(), Locale::ZhCn, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(run.generation.status, Status::Succeeded);
        assert_eq!(run.generation.params["action"], "outline");
        assert_eq!(credits(&s, me).await, before - run.generation.cost.get());
        assert!(run.generation.cost > 0);
        let note = run.note.unwrap();
        assert_eq!(note.kind, NoteKind::Outline);
        assert_eq!(note.body, run.generation.output_text);
        assert_eq!(note.name, "大纲 · 第一章");
        // A writer who reads English gets an English name.
        s.document_save(me, doc.meta.id, "Daiyu arrives.", 1)
            .await
            .unwrap();
        let english = s
            .outline_generate(me, doc.meta.id, Vec::new(), Locale::En, &mut |_| {})
            .await
            .unwrap()
            .note
            .unwrap();
        assert_eq!(english.name, "Outline · 第一章");
        s.note_delete(me, english.id).await.unwrap();
        let edited = s
            .note_update(me, note.id, "大纲", "一、进府")
            .await
            .unwrap();
        assert_eq!(edited.body, "一、进府");
        assert_eq!(s.note_list(me, p.id).await.unwrap(), vec![edited]);
        // A failed run is refunded and makes no note.
        s.document_save(me, doc.meta.id, "[[fault:internal]]", 2)
            .await
            .unwrap();
        let after = credits(&s, me).await;
        let run = s
            .outline_generate(me, doc.meta.id, Vec::new(), Locale::ZhCn, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(run.generation.status, Status::Failed);
        assert!(run.generation.refunded && run.note.is_none());
        assert_eq!(credits(&s, me).await, after);
        assert_eq!(s.note_list(me, p.id).await.unwrap().len(), 1);
        s.note_delete(me, note.id).await.unwrap();
        assert!(s.note_list(me, p.id).await.unwrap().is_empty());
        assert!(ledger::audit(&s.db).await.unwrap().is_empty());
    }
}

mod import_export {
    use super::*;
    use inkstone_desktop::workspace_io::ExportFormat;

    #[tokio::test]
    async fn files_come_in_as_documents_and_go_out_as_word_markdown_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap());
        let s = start(dir.path(), clock).await;
        let me = s.register("writer", "password123", false).await.unwrap().id;
        let p = s.project_create(me, "长篇").await.unwrap();
        let md = s
            .document_import(
                me,
                p.id,
                "第一章.md",
                "# 春\r\n**春眠**不觉晓".as_bytes().to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(
            (md.meta.title.as_str(), md.body.as_str()),
            ("第一章", "# 春\n**春眠**不觉晓")
        );
        let docx = inkstone_docx::write("## 夏\n- 列表\n*斜体*").unwrap();
        let from_word = s
            .document_import(me, p.id, "C:\\稿子\\第二章.DOCX", docx)
            .await
            .unwrap();
        assert_eq!(from_word.meta.title, "第二章");
        assert_eq!(from_word.body, "## 夏\n- 列表\n*斜体*");

        // Out: a real Word file that reads back the same, Markdown as is, text without marks.
        let word = s
            .document_export(me, md.meta.id, ExportFormat::Docx, None)
            .await
            .unwrap();
        assert!(word.starts_with(dir.path().join("exports")));
        assert_eq!(
            inkstone_docx::read(&std::fs::read(&word).unwrap()).unwrap(),
            "# 春\n**春眠**不觉晓"
        );
        let text = s
            .document_export(me, md.meta.id, ExportFormat::Txt, None)
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(text).unwrap(), "春\n春眠不觉晓");
        let folder = s
            .project_export(me, p.id, ExportFormat::Md, None)
            .await
            .unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["第一章.md", "第二章.md"]);
    }

    /// Every file under `dir`, recursively (relative paths, sorted).
    fn files_under(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(
                        path.strip_prefix(dir)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn exports_go_to_the_folder_the_writer_picked_and_a_bad_folder_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let picked = tempfile::tempdir().unwrap();
        let clock = Clock::manual(chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap());
        let s = start(dir.path(), clock).await;
        let me = s.register("writer", "password123", false).await.unwrap().id;
        let p = s.project_create(me, "长篇").await.unwrap();
        let doc = s
            .document_import(me, p.id, "第一章.md", "# 春\n正文".as_bytes().to_vec())
            .await
            .unwrap();
        let app_files = files_under(dir.path());

        // The picked folder takes the file, and a second export never overwrites the first.
        let first = s
            .document_export(me, doc.meta.id, ExportFormat::Md, Some(picked.path()))
            .await
            .unwrap();
        let second = s
            .document_export(me, doc.meta.id, ExportFormat::Docx, Some(picked.path()))
            .await
            .unwrap();
        let third = s
            .document_export(me, doc.meta.id, ExportFormat::Md, Some(picked.path()))
            .await
            .unwrap();
        let picked_dir = std::fs::canonicalize(picked.path()).unwrap();
        for path in [&first, &second, &third] {
            assert_eq!(path.parent().unwrap(), picked_dir);
        }
        assert_ne!(first, third);
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "# 春\n正文");
        let folder = s
            .project_export(me, p.id, ExportFormat::Txt, Some(picked.path()))
            .await
            .unwrap();
        assert_eq!(folder.parent().unwrap(), picked_dir);
        assert_eq!(files_under(&folder), ["第一章.txt"]);
        // Nothing went to the app's own exports folder, and no write-check file stayed behind.
        assert_eq!(files_under(dir.path()), app_files);
        assert_eq!(files_under(picked.path()).len(), 4);

        // Bad folders: a typed error each, and nothing written anywhere.
        let not_a_folder = picked.path().join("a-file.txt");
        std::fs::write(&not_a_folder, "x").unwrap();
        let inside_data = dir.path().join("backups");
        std::fs::create_dir_all(&inside_data).unwrap();
        let app_files = files_under(dir.path());
        let picked_files = files_under(picked.path());
        let cases: Vec<(std::path::PathBuf, &str)> = vec![
            (picked.path().join("missing"), "export_folder_missing"),
            (not_a_folder, "export_folder_missing"),
            ("relative/folder".into(), "export_folder_missing"),
            (dir.path().to_path_buf(), "export_folder_in_app_data"),
            (inside_data.clone(), "export_folder_in_app_data"),
            // The way back in through `..` is seen through.
            (
                picked
                    .path()
                    .join("..")
                    .join(dir.path().file_name().unwrap()),
                "export_folder_in_app_data",
            ),
        ];
        for (folder, kind) in &cases {
            let err = s
                .document_export(me, doc.meta.id, ExportFormat::Md, Some(folder))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), *kind, "{folder:?}");
            let err = s
                .project_export(me, p.id, ExportFormat::Md, Some(folder))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), *kind, "{folder:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let read_only = picked.path().join("read-only");
            std::fs::create_dir(&read_only).unwrap();
            std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
            // Root writes anywhere: the check only means something for a normal user.
            if std::fs::write(read_only.join("probe"), "x").is_err() {
                let err = s
                    .document_export(me, doc.meta.id, ExportFormat::Md, Some(&read_only))
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), "export_folder_not_writable");
            } else {
                std::fs::remove_file(read_only.join("probe")).unwrap();
            }
            std::fs::remove_dir(&read_only).unwrap();
        }
        assert_eq!(files_under(dir.path()), app_files);
        assert_eq!(files_under(picked.path()), picked_files);
        // The app's own exports folder may be picked: it is where exports go anyway.
        let exports = dir.path().join("exports");
        std::fs::create_dir_all(&exports).unwrap();
        let path = s
            .document_export(me, doc.meta.id, ExportFormat::Md, Some(&exports))
            .await
            .unwrap();
        assert!(path.starts_with(std::fs::canonicalize(&exports).unwrap()));
    }

    #[tokio::test]
    async fn a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(chrono::Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap());
        let s = start(dir.path(), clock).await;
        let me = s.register("writer", "password123", false).await.unwrap().id;
        let p = s.project_create(me, "项目").await.unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("假的.docx", b"just some text".to_vec(), "import_unreadable"),
            (
                "图片.txt",
                vec![0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe],
                "import_unreadable",
            ),
            ("表格.pdf", b"%PDF-1.7".to_vec(), "import_unsupported"),
            ("a\u{7}b.md", b"x".to_vec(), "invalid_name"),
            (
                "大.txt",
                vec![b'a'; 10 * 1024 * 1024 + 1],
                "document_too_large",
            ),
        ];
        for (name, bytes, kind) in cases {
            let err = s.document_import(me, p.id, name, bytes).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{name}");
        }
        let tree = s.workspace_tree(me).await.unwrap();
        assert!(tree.projects[0].documents.is_empty());
    }
}
