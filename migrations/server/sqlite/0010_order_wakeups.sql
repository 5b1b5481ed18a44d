-- Issue 13 (sqlite; keep in step with the other backend).
-- PostgreSQL notifies other instances of every order status change (LISTEN/NOTIFY).
-- SQLite is one instance by construction: waiters are woken in-process, so there is
-- nothing to create here. The file keeps both backends' migration numbers in step.
SELECT 1;
