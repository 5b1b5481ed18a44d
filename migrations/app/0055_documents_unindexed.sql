-- The autosave stores a document's text without re-indexing it for search (issue 17, item 7:
-- indexing 200,000 characters cost most of each save). The documents whose index lags their
-- text are listed here; `inkstone_core::workspace::index_pending` brings them up to date when
-- typing pauses, and every search does so first, so search never misses saved text.
CREATE TABLE documents_unindexed (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE
);
