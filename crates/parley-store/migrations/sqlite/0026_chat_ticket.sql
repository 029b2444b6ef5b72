-- The outbound API's ticket_id and context (docs/outbound.md): what the integration that started a
-- chat attached to it, kept as given for the agent to read. context is a JSON object of strings
-- (at most 20 entries); both stay NULL for every other chat. Set once when the chat opens.
ALTER TABLE chats ADD COLUMN ticket_id TEXT;
ALTER TABLE chats ADD COLUMN context TEXT;
