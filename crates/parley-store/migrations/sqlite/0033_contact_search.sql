-- Prefix search of contacts (Store::search_contacts) first reads a prefix's matches from the key's
-- index, up to a few thousand: with the id beside the key in the index, that touches no table rows.
-- These replace the indexes of 0028 on the key alone; matching a phone (phone = $1) uses the new one.
CREATE INDEX contacts_name_key_id ON contacts (name_key, id);
CREATE INDEX contacts_email_key_id ON contacts (email_key, id);
CREATE INDEX contact_phones_phone_contact ON contact_phones (phone, contact_id);
DROP INDEX contacts_name_key;
DROP INDEX contacts_email_key;
DROP INDEX contact_phones_phone;
