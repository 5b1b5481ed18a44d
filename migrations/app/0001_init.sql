-- Schema bookkeeping for the desktop database; real tables arrive in later migrations.
CREATE TABLE IF NOT EXISTS app_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
