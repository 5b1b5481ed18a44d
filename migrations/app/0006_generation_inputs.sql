-- What the writer gave a generation besides the prompt (the picture a vision run was about):
-- a JSON array of {"path", "name"}; the path is the app's own copy under <data>/files.
ALTER TABLE generations ADD COLUMN inputs_json TEXT NOT NULL DEFAULT '[]';
