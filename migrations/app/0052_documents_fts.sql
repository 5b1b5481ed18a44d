-- History search also finds workspace documents (issue 17, item 6): the same Chinese-aware
-- index as generations (crates/core/src/search.rs: CJK bigrams, unicode61 words), over each
-- document's title and text; rowid = documents.id. Kept by the saves in core.
CREATE VIRTUAL TABLE documents_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
