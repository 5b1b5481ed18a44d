-- Versions of a workspace document (issue 17, item 4): snapshots taken before every accepted
-- AI change, every 10 minutes of editing, on demand with a name, and around a restore.
CREATE TABLE document_versions (
    id            INTEGER PRIMARY KEY,
    document_id   INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL
                  CHECK (kind IN ('manual', 'auto', 'before_ai', 'before_restore', 'restored')),
    -- The writer's name for a manual version.
    name          TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100),
    body          TEXT NOT NULL,
    -- before_ai: the generation whose answer was accepted; restored: the version restored.
    generation_id INTEGER,
    restored_from INTEGER,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX document_versions_by_document ON document_versions(document_id, id);
