-- The writing workspace (issue 17): a writer's projects and the documents in them.
-- Rows belong to one profile and go with it (ON DELETE CASCADE) when the profile is deleted.
-- Deleting a project or a document only marks it (deleted_at_ms): it stays in the trash for
-- 30 days, then `inkstone_core::workspace::purge_expired` removes it.

CREATE TABLE projects (
    id             INTEGER PRIMARY KEY,
    profile_id     INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    archived_at_ms INTEGER,
    deleted_at_ms  INTEGER,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX projects_by_profile ON projects(profile_id, id);

CREATE TABLE documents (
    id             INTEGER PRIMARY KEY,
    profile_id     INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    -- The text as the editor keeps it (Markdown).
    body           TEXT NOT NULL DEFAULT '',
    -- Bumped by every save: a save names the revision it was based on, so a late or
    -- duplicated save can never overwrite newer text.
    revision       INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0),
    archived_at_ms INTEGER,
    deleted_at_ms  INTEGER,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX documents_by_profile ON documents(profile_id, project_id, id);
CREATE INDEX documents_by_project ON documents(project_id);
