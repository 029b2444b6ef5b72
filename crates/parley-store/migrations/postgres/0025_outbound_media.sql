-- Outbound media (MMS, docs/outbound.md "Pictures and media"): agents and integrations upload media
-- (POST /api/v1/media) before they send it, so a media row may exist before its message. Such a row
-- has no message_id yet and names its uploader in uploaded_by ("agent:ID" or "admin"); it is stored at
-- once (status 'stored', carrier 'upload', no source URL). Sending links it to its message in the
-- engine's batch; one still unattached a day after its upload is deleted by the retention worker.
ALTER TABLE media ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE media ADD COLUMN uploaded_by TEXT;
CREATE INDEX media_unattached ON media (created_at) WHERE message_id IS NULL;

-- Keys the server signs with, shared by every node: created once by whichever node starts first
-- (INSERT ... ON CONFLICT DO NOTHING, then read back), never logged. 'media' signs the expiring media
-- URLs carriers fetch outbound media from.
CREATE TABLE signing_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
