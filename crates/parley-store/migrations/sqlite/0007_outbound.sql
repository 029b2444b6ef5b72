-- Who wrote first: the consumer ('inbound') or the business, through an agent or the outbound API
-- ('outbound'). Quiet hours bind only the business's first contact.
ALTER TABLE chats ADD COLUMN origin TEXT NOT NULL DEFAULT 'inbound';

-- Proactive messages held back by the consumer's quiet hours wait as 'scheduled' until next_attempt_at;
-- the outbox claims them from the same index as queued ones.
DROP INDEX messages_outbox;
CREATE INDEX messages_outbox ON messages (status, seq) WHERE status IN ('scheduled', 'queued', 'sending');
