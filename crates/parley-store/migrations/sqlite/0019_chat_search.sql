-- Chat search (GET /api/v1/chats?q=): the words of every message body in an FTS5 index (external
-- content: the text stays in messages, the index holds only the words), kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content = 'messages', content_rowid = 'seq');
INSERT INTO messages_fts (rowid, body) SELECT seq, body FROM messages;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
END;
-- Listings are newest first and paged by (opened_at, id).
CREATE INDEX chats_opened ON chats (opened_at, id);
