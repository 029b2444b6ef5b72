-- Outbound media (MMS, docs/outbound.md "Pictures and media"): agents and integrations upload media
-- (POST /api/v1/media) before they send it, so a media row may exist before its message. Such a row
-- has no message_id yet and names its uploader in uploaded_by ("agent:ID" or "admin"); it is stored at
-- once (status 'stored', carrier 'upload', no source URL). Sending links it to its message in the
-- engine's batch; one still unattached a day after its upload is deleted by the retention worker.
-- SQLite cannot drop a NOT NULL: the table is rebuilt with message_id nullable.
CREATE TABLE media_new (
    id TEXT PRIMARY KEY,
    message_id TEXT,
    chat_id TEXT,
    carrier TEXT NOT NULL,
    source_url TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    data BLOB,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    uploaded_by TEXT
);
INSERT INTO media_new (id, message_id, chat_id, carrier, source_url, content_type, size, data, status, attempts,
                       next_attempt_at, claimed_until, error, created_at, updated_at)
    SELECT id, message_id, chat_id, carrier, source_url, content_type, size, data, status, attempts,
           next_attempt_at, claimed_until, error, created_at, updated_at FROM media;
DROP TABLE media;
ALTER TABLE media_new RENAME TO media;
CREATE INDEX media_message ON media (message_id);
CREATE INDEX media_due ON media (status, next_attempt_at) WHERE status IN ('pending', 'fetching');
CREATE INDEX media_unattached ON media (created_at) WHERE message_id IS NULL;

-- Keys the server signs with, shared by every node: created once by whichever node starts first
-- (INSERT ... ON CONFLICT DO NOTHING, then read back), never logged. 'media' signs the expiring media
-- URLs carriers fetch outbound media from.
CREATE TABLE signing_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
