-- How a chat got its first agent: manually_answered, auto_answered or outbound (NULL until then).
ALTER TABLE chats ADD COLUMN start_type TEXT;
