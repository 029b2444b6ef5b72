-- The chat's language; when an agent first took it (handle times count from here); the consumer's
-- oldest message the agent has not answered (the agent response timer); when the queue's wait limit
-- started counting; and, after hours, when the queue opens.
ALTER TABLE chats ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN answered_at INTEGER;
ALTER TABLE chats ADD COLUMN awaiting_reply_since INTEGER;
ALTER TABLE chats ADD COLUMN wait_since INTEGER;
ALTER TABLE chats ADD COLUMN after_hours_until INTEGER;
-- Recent handle times per queue, for the estimated wait.
CREATE INDEX chats_handled ON chats (ended_at) WHERE answered_at IS NOT NULL;
