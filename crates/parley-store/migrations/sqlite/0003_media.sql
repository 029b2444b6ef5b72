-- Media that came with inbound messages (MMS). The row is written with its message, in the same
-- transaction, so a text is never lost to a failed download; the bytes are fetched afterwards.
CREATE TABLE media (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    chat_id TEXT,
    carrier TEXT NOT NULL,
    source_url TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    data BLOB,
    -- pending, fetching, stored, linked (the carrier offers no download: only the source URL is kept), failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX media_message ON media (message_id);
CREATE INDEX media_due ON media (status, next_attempt_at) WHERE status IN ('pending', 'fetching');
