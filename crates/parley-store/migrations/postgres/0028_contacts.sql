-- The built-in CRM's contacts (docs/crm.md "Contacts"). A contact's id is "CT" and 32 hex digits.
-- Searchable texts are kept beside their folded form (*_key: lower case, for prefix search with a range
-- on an index, the same query on both engines); NULL name means "not known yet" (a contact created
-- by matching a chat's phone). The keys and phones compare bytewise (COLLATE "C"), as on SQLite, so a
-- prefix range (>= q AND < q || U+10FFFF) is served by their indexes.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    name TEXT,
    name_key TEXT COLLATE "C",
    email TEXT,
    email_key TEXT COLLATE "C",
    company TEXT,
    -- The agent who owns the contact (NULL: nobody).
    owner TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_name_key ON contacts (name_key);
CREATE INDEX contacts_email_key ON contacts (email_key);
CREATE INDEX contacts_updated ON contacts (updated_at, id);

-- A contact's phone numbers (E.164), exactly one of them primary. A phone may belong to several
-- contacts: that is the "several match" case of matching on connect.
CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL,
    phone TEXT COLLATE "C" NOT NULL,
    is_primary BIGINT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (contact_id, phone)
);
CREATE INDEX contact_phones_phone ON contact_phones (phone);

-- A contact's id in each external CRM a connector ([crm.NAME]) keeps it in.
CREATE TABLE contact_external_ids (
    contact_id TEXT NOT NULL,
    connector TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (contact_id, connector)
);
CREATE UNIQUE INDEX contact_external_ids_by_connector ON contact_external_ids (connector, external_id);

CREATE TABLE contact_tags (
    contact_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag);

-- Values of the custom fields the setup declares ([[contact_fields]]), as text in the field type's
-- canonical form (a number as written by Rust's f64 Display, a date as YYYY-MM-DD, a choice as is).
CREATE TABLE contact_values (
    contact_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (contact_id, field)
);
