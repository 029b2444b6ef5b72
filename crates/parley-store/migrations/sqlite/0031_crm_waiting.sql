-- Chats whose matching waits for the consumer's Nth message (record policy create_after_messages):
-- the matcher looks at them every round, so they are found without reading every link.
CREATE INDEX chat_contacts_waiting ON chat_contacts (at, chat_id) WHERE state = 'waiting';
