-- A project's memory (issue 17, item 5): notes on its characters, places, outline and style
-- rules that the writer attaches to AI runs. Rows belong to one profile and one project and
-- go with them (ON DELETE CASCADE); a project in the trash keeps its notes until purged.

CREATE TABLE project_notes (
    id            INTEGER PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('character', 'place', 'outline', 'style')),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    body          TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX project_notes_by_project ON project_notes(profile_id, project_id, id);
