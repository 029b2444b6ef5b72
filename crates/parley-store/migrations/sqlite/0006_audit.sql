-- Who read which chat and when: one row per chat view, transcript or media served. Rows are only ever
-- appended. No foreign key to chats: erasing a phone deletes its chats, and the record of who read
-- them must stay.
CREATE TABLE audit_reads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    chat_id TEXT,
    what TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX audit_reads_chat ON audit_reads (chat_id, seq);
