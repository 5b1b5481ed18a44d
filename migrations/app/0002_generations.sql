-- Every generation a writer ran, whatever the tool, and its fate.
CREATE TABLE generations (
    id             INTEGER PRIMARY KEY,
    profile_id     INTEGER NOT NULL REFERENCES profiles(id),
    tool           TEXT NOT NULL,
    model          TEXT NOT NULL,
    prompt         TEXT NOT NULL,
    params_json    TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL
                   CHECK (status IN ('running', 'succeeded', 'failed', 'stopped', 'interrupted')),
    output_text    TEXT NOT NULL DEFAULT '',
    files_json     TEXT NOT NULL DEFAULT '[]',
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    -- Credits taken for this run (0 for a member); refunded when refund_id is set.
    cost           INTEGER NOT NULL DEFAULT 0 CHECK (cost >= 0),
    consume_id     INTEGER REFERENCES credit_transactions(id),
    refund_id      INTEGER REFERENCES credit_transactions(id),
    error_kind     TEXT,
    error_message  TEXT,
    regenerated_from INTEGER,
    created_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    CHECK ((status = 'running') = (finished_at_ms IS NULL))
);
CREATE INDEX generations_by_profile ON generations(profile_id, id DESC);
CREATE INDEX generations_by_profile_tool ON generations(profile_id, tool, id DESC);
CREATE INDEX generations_by_profile_status ON generations(profile_id, status, id DESC);
CREATE INDEX generations_running ON generations(status) WHERE status = 'running';

-- Full-text index of prompt and output. Chinese has no spaces, so the Rust
-- side writes CJK runs as overlapping bigrams (plus each run's last character)
-- and unicode61 splits on the spaces between them; rowid = generations.id.
CREATE VIRTUAL TABLE generations_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
