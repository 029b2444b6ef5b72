-- A transfer waiting for the receiving agent's answer (JSON: from, target, offered_to, note,
-- started_at); NULL when none. The chat stays with its agent until the transfer is accepted.
ALTER TABLE chats ADD COLUMN transfer TEXT;
