//! The writing workspace through the desktop facade (issue 17): the services' clock decides
//! when the trash lets go, bad input is a typed error that changes nothing, and every kind
//! reaches the UI's list.

use std::sync::Arc;

use chrono::TimeZone;
use inkstone_core::{open, Clock};
use inkstone_desktop::{error_kinds, Options, Services};
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

#[test]
fn workspace_error_kinds_reach_the_ui_list() {
    let kinds = error_kinds();
    for kind in inkstone_core::workspace::WorkspaceError::KINDS {
        assert!(kinds.contains(kind), "{kind}");
    }
}
