-- The submenu a consumer is in (a queue with child queues); NULL: the number's own menu.
ALTER TABLE chats ADD COLUMN menu_level TEXT;
