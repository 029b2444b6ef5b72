-- Dismissal (status 'dismissed'): the connected agent's last message, from which the dismissal timer
-- counts, and when the chat was dismissed (the console shows how long ago).
ALTER TABLE chats ADD COLUMN agent_message_at INTEGER;
ALTER TABLE chats ADD COLUMN dismissed_at INTEGER;
