//! The built-in CRM's contacts (docs/crm.md "Contacts"): one row in `contacts` and its phones, tags,
//! custom values and external ids in their own tables, always written together in one transaction.
//!
//! Every change (create, update, merge, delete) takes the `contact.changed` event row the caller
//! encoded and writes it in the same transaction, so a webhook or a CRM connector never sees a change
//! that did not happen nor misses one that did. Writes take the engine's turn, as every writer of
//! events outside the engine does, so event ids stay in commit order.
//!
//! Search is a prefix range on an index (`key >= q AND key < q || U+10FFFF`), the same text on both
//! engines: the `*_key` columns are folded to lower case when written, and on PostgreSQL they (and
//! phones) compare bytewise (`COLLATE "C"` in the migration), so the range is served by the index.
//! Pages are keyset pages in id order (ids are UUIDv7, so that is creation order): `after` is the
//! last id of the previous page.

use std::collections::BTreeMap;

use parley_core::crm::contact::{ContactData, ContactPhone, SearchQuery};
use parley_core::phone::E164;
use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, StoreError, dispatch, dispatch_write, push_list};

/// The largest page of contacts.
pub const MAX_PAGE: i64 = 200;

/// The most matches of a prefix that search sorts from a key's index; past it, search walks the
/// contacts in id order instead (see [`Store::search_contacts`]). Measured at 1,000,000 contacts on
/// SQLite: sorting m matches costs about 5 µs each, the walk about 0.3 µs per contact it passes, so
/// the two meet near 2,000 (BENCHMARKS.md "Contact search").
pub const FEW_MATCHES: i64 = 2_000;

/// The upper end of a prefix range: sorts after every text that starts with the prefix.
const RANGE_END: char = '\u{10FFFF}';

/// Which contacts a search looks among.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among<'a> {
    All,
    /// These contact ids.
    Contacts(&'a [String]),
    /// An agent's or supervisor's contacts: those having the phone of a chat in one of these queues,
    /// or linked to one.
    ChatQueues(&'a [String]),
}

/// Pushes `among`'s condition on the contact id column `$id` (` AND …`; nothing for all contacts).
macro_rules! push_among {
    ($q:expr, $among:expr, $id:expr) => {{
        match $among {
            Among::All => {}
            Among::Contacts(ids) => {
                $q.push(concat!(" AND ", $id, " IN ("));
                push_list!($q, ids);
            }
            Among::ChatQueues(queues) => {
                $q.push(concat!(
                    " AND (EXISTS (SELECT 1 FROM contact_phones cp JOIN chats ch ON ch.consumer = cp.phone \
                     WHERE cp.contact_id = ",
                    $id,
                    " AND ch.queue IN ("
                ));
                push_list!($q, queues);
                $q.push(concat!(
                    ") OR EXISTS (SELECT 1 FROM chat_contacts cc JOIN chats ch ON ch.id = cc.chat_id \
                     WHERE cc.contact_id = ",
                    $id,
                    " AND ch.queue IN ("
                ));
                push_list!($q, queues);
                $q.push("))");
            }
        }
    }};
}

impl Among<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Among::All => false,
            Among::Contacts(list) | Among::ChatQueues(list) => list.is_empty(),
        }
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    /// "CT" and 32 hex digits.
    pub id: String,
    pub data: ContactData,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// The statements that delete a contact's child rows.
pub(crate) const DELETE_CHILDREN: [&str; 4] = [
    "DELETE FROM contact_phones WHERE contact_id = $1",
    "DELETE FROM contact_tags WHERE contact_id = $1",
    "DELETE FROM contact_values WHERE contact_id = $1",
    "DELETE FROM contact_external_ids WHERE contact_id = $1",
];

/// Writes the contact's own row and its child rows (phones, tags, values, external ids), replacing
/// child rows it had.
macro_rules! write_contact {
    ($tx:expr, $row:expr, $insert:expr) => {{
        use parley_core::crm::contact::search_key;
        let row: &$crate::contacts::ContactRow = $row;
        let d = &row.data;
        if $insert {
            sqlx::query(
                "INSERT INTO contacts (id, name, name_key, email, email_key, company, owner, notes, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(row.id.clone())
            .bind(d.name.clone())
            .bind(d.name.as_deref().map(search_key))
            .bind(d.email.clone())
            .bind(d.email.as_deref().map(search_key))
            .bind(d.company.clone())
            .bind(d.owner.clone())
            .bind(d.notes.clone())
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&mut *$tx)
            .await?;
        } else {
            let done = sqlx::query(
                "UPDATE contacts SET name = $2, name_key = $3, email = $4, email_key = $5, company = $6, owner = $7, \
                 notes = $8, updated_at = $9 WHERE id = $1",
            )
            .bind(row.id.clone())
            .bind(d.name.clone())
            .bind(d.name.as_deref().map(search_key))
            .bind(d.email.clone())
            .bind(d.email.as_deref().map(search_key))
            .bind(d.company.clone())
            .bind(d.owner.clone())
            .bind(d.notes.clone())
            .bind(row.updated_at)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err($crate::StoreError::NotFound);
            }
            for statement in $crate::contacts::DELETE_CHILDREN {
                sqlx::query(statement).bind(row.id.clone()).execute(&mut *$tx).await?;
            }
        }
        for (i, p) in d.phones.iter().enumerate() {
            sqlx::query("INSERT INTO contact_phones (contact_id, phone, is_primary, position) VALUES ($1, $2, $3, $4)")
                .bind(row.id.clone())
                .bind(p.number.as_str().to_owned())
                .bind(i64::from(p.primary))
                .bind(i as i64)
                .execute(&mut *$tx)
                .await?;
        }
        for tag in &d.tags {
            sqlx::query("INSERT INTO contact_tags (contact_id, tag) VALUES ($1, $2)")
                .bind(row.id.clone())
                .bind(tag.clone())
                .execute(&mut *$tx)
                .await?;
        }
        for (field, value) in &d.fields {
            sqlx::query("INSERT INTO contact_values (contact_id, field, value) VALUES ($1, $2, $3)")
                .bind(row.id.clone())
                .bind(field.clone())
                .bind(value.clone())
                .execute(&mut *$tx)
                .await?;
        }
        for (connector, external) in &d.external_ids {
            sqlx::query("INSERT INTO contact_external_ids (contact_id, connector, external_id) VALUES ($1, $2, $3)")
                .bind(row.id.clone())
                .bind(connector.clone())
                .bind(external.clone())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

pub(crate) use write_contact;

/// Reads the contacts `ids` (those that exist), in the order of `ids`, on `$exec` (a pool or a tx).
macro_rules! load_contacts {
    ($exec:expr, $DB:ty, $ids:expr) => {{
        let ids: &[String] = $ids;
        let mut out: Vec<ContactRow> = Vec::new();
        for chunk in ids.chunks(crate::CHUNK) {
            let mut q = sqlx::QueryBuilder::<$DB>::new(
                "SELECT id, name, email, company, owner, notes, created_at, updated_at FROM contacts WHERE id IN (",
            );
            push_list!(q, chunk);
            let rows = q.build().fetch_all(&mut *$exec).await?;
            let mut by_id: BTreeMap<String, ContactRow> = BTreeMap::new();
            for r in rows {
                let id: String = r.try_get("id")?;
                let data = ContactData {
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                    company: r.try_get("company")?,
                    owner: r.try_get("owner")?,
                    notes: r.try_get("notes")?,
                    ..ContactData::default()
                };
                let row = ContactRow {
                    id: id.clone(),
                    data,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                };
                by_id.insert(id, row);
            }
            let mut q = sqlx::QueryBuilder::<$DB>::new(
                "SELECT contact_id, phone, is_primary FROM contact_phones WHERE contact_id IN (",
            );
            push_list!(q, chunk);
            q.push(" ORDER BY contact_id, position");
            for r in q.build().fetch_all(&mut *$exec).await? {
                let id: String = r.try_get("contact_id")?;
                let phone: String = r.try_get("phone")?;
                let primary: i64 = r.try_get("is_primary")?;
                let number =
                    E164::parse(&phone).map_err(|e| StoreError::Other(anyhow::anyhow!("contact {id}: {e}")))?;
                if let Some(c) = by_id.get_mut(&id) {
                    c.data.phones.push(ContactPhone { number, primary: primary != 0 });
                }
            }
            let mut q =
                sqlx::QueryBuilder::<$DB>::new("SELECT contact_id, tag FROM contact_tags WHERE contact_id IN (");
            push_list!(q, chunk);
            for r in q.build().fetch_all(&mut *$exec).await? {
                let id: String = r.try_get("contact_id")?;
                if let Some(c) = by_id.get_mut(&id) {
                    c.data.tags.insert(r.try_get("tag")?);
                }
            }
            let mut q = sqlx::QueryBuilder::<$DB>::new(
                "SELECT contact_id, field, value FROM contact_values WHERE contact_id IN (",
            );
            push_list!(q, chunk);
            for r in q.build().fetch_all(&mut *$exec).await? {
                let id: String = r.try_get("contact_id")?;
                if let Some(c) = by_id.get_mut(&id) {
                    c.data.fields.insert(r.try_get("field")?, r.try_get("value")?);
                }
            }
            let mut q = sqlx::QueryBuilder::<$DB>::new(
                "SELECT contact_id, connector, external_id FROM contact_external_ids WHERE contact_id IN (",
            );
            push_list!(q, chunk);
            for r in q.build().fetch_all(&mut *$exec).await? {
                let id: String = r.try_get("contact_id")?;
                if let Some(c) = by_id.get_mut(&id) {
                    c.data.external_ids.insert(r.try_get("connector")?, r.try_get("external_id")?);
                }
            }
            out.extend(chunk.iter().filter_map(|id| by_id.remove(id)));
        }
        out
    }};
}

/// Deletes a contact and its child rows.
macro_rules! delete_contact_rows {
    ($tx:expr, $id:expr) => {{
        let id: &str = $id;
        for statement in $crate::contacts::DELETE_CHILDREN {
            sqlx::query(statement).bind(id).execute(&mut *$tx).await?;
        }
        sqlx::query("DELETE FROM contacts WHERE id = $1").bind(id).execute(&mut *$tx).await?.rows_affected()
    }};
}
pub(crate) use delete_contact_rows;

impl Store {
    /// Stores a new contact with its `contact.changed` event (none for callers that write their own,
    /// such as matching, which writes `contact.linked`). A connector's external id that another contact
    /// already has is a [`StoreError::Conflict`].
    pub async fn create_contact(&self, row: &ContactRow, event: Option<&EventRow>) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            write_contact!(tx, row, true);
            if let Some(e) = event {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// After a large import: PostgreSQL's planner statistics of the contact tables brought up to date,
    /// so search picks its plans on the contacts there are (before autovacuum's own ANALYZE, a freshly
    /// filled million searched ten times slower: BENCHMARKS.md "Contact search"). Nothing on SQLite,
    /// whose search plans are fixed by the query text and were measured without statistics.
    pub async fn refresh_contact_statistics(&self) -> Result<()> {
        if let Store::Postgres(pool) = self {
            sqlx::query("ANALYZE contacts, contact_phones").execute(pool).await?;
        }
        Ok(())
    }

    /// Stores many new contacts in one transaction (an import's batch), with their events.
    pub async fn create_contacts(&self, rows: &[ContactRow], events: &[EventRow]) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            for row in rows {
                write_contact!(tx, row, true);
            }
            for e in events {
                crate::events::insert_event!(tx, e);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// One contact.
    pub async fn contact(&self, id: &str) -> Result<Option<ContactRow>> {
        Ok(self.contacts(&[id.to_owned()]).await?.pop())
    }

    /// The contacts `ids` that exist, in the order of `ids`.
    pub async fn contacts(&self, ids: &[String]) -> Result<Vec<ContactRow>> {
        dispatch!(self, |pool, DB, begin| {
            let mut conn = pool.acquire().await?;
            Ok(load_contacts!(conn, DB, ids))
        })
    }

    /// Replaces a contact's data (the caller applied a patch and validated the result); `created_at`
    /// is kept. [`StoreError::NotFound`] when it does not exist.
    pub async fn update_contact(&self, row: &ContactRow, event: &EventRow) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            write_contact!(tx, row, false);
            crate::events::insert_event!(tx, event);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes a contact. [`StoreError::NotFound`] when it does not exist.
    pub async fn delete_contact(&self, id: &str, event: &EventRow) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            if delete_contact_rows!(tx, id) == 0 {
                return Err(StoreError::NotFound);
            }
            crate::events::insert_event!(tx, event);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Merges contact `from` into `into` and deletes `from`: phones `into` lacks are added (not primary),
    /// tags united, notes appended (after a blank line), external ids and custom values moved where
    /// `into` has none of its own (`into` keeps its values). Returns the merged contact.
    /// [`StoreError::NotFound`] when either is missing; merging a contact into itself is a conflict.
    pub async fn merge_contacts(&self, from: &str, into: &str, now: i64, event: &EventRow) -> Result<ContactRow> {
        if from == into {
            return Err(StoreError::Conflict("a contact cannot be merged into itself".to_owned()));
        }
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            crate::take_turn!(self, tx);
            let both = load_contacts!(tx, DB, &[from.to_owned(), into.to_owned()]);
            let [source, target] = <[ContactRow; 2]>::try_from(both).map_err(|_| StoreError::NotFound)?;
            let mut merged = target.clone();
            let d = &mut merged.data;
            for p in source.data.phones {
                if !d.phones.iter().any(|q| q.number == p.number) {
                    let primary = d.phones.is_empty();
                    d.phones.push(ContactPhone { number: p.number, primary });
                }
            }
            d.tags.extend(source.data.tags);
            if !source.data.notes.is_empty() {
                d.notes = if d.notes.is_empty() {
                    source.data.notes
                } else {
                    format!("{}\n\n{}", d.notes, source.data.notes)
                };
            }
            for (k, v) in source.data.fields {
                d.fields.entry(k).or_insert(v);
            }
            for (k, v) in source.data.external_ids {
                d.external_ids.entry(k).or_insert(v);
            }
            d.name = d.name.take().or(source.data.name);
            d.email = d.email.take().or(source.data.email);
            d.company = d.company.take().or(source.data.company);
            d.owner = d.owner.take().or(source.data.owner);
            merged.updated_at = now;
            // The source goes first: its external ids would collide with the target's otherwise.
            delete_contact_rows!(tx, from);
            write_contact!(tx, &merged, false);
            crate::events::insert_event!(tx, event);
            tx.commit().await?;
            Ok(merged)
        })
    }

    /// Every contact that has `phone`, oldest first (matching on connect).
    pub async fn contacts_with_phone(&self, phone: &E164) -> Result<Vec<ContactRow>> {
        let ids: Vec<String> = dispatch!(self, |pool, DB, begin| {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT contact_id FROM contact_phones WHERE phone = $1 ORDER BY contact_id")
                    .bind(phone.as_str())
                    .fetch_all(pool)
                    .await?;
            Ok::<_, StoreError>(rows.into_iter().map(|(id,)| id).collect())
        })?;
        self.contacts(&ids).await
    }

    /// A page of contacts in id order after `after`: all of them, or those `q` matches by prefix (of
    /// the name or e-mail, or of a phone's digits), within `among`. `limit` is clamped to
    /// 1..=[`MAX_PAGE`].
    ///
    /// A prefix can match a handful of contacts or a third of them (`+44`), and no one plan is fast
    /// for both while pages stay in id order. So the database first counts the prefix's matches on
    /// the key's index (id beside the key: no table rows), stopping past [`FEW_MATCHES`]. When they
    /// are few, it reads them all from that index and sorts them by id; otherwise the prefix is
    /// common, and it walks the contacts in id order checking each, which stops after `limit`
    /// matches (at more than [`FEW_MATCHES`] matches among N contacts, a page of 50 walks fewer than
    /// 50 N / [`FEW_MATCHES`] contacts). Both plans are forced by how the query is written, the same
    /// text on both engines: the few are sorted on `id || ''`, which no index serves, and the walk
    /// tests `substr(key, 1, n) = prefix`, which no index of the key serves.
    pub async fn search_contacts(
        &self,
        q: Option<&SearchQuery>,
        among: Among<'_>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ContactRow>> {
        let limit = limit.clamp(1, MAX_PAGE);
        if among.is_empty() {
            return Ok(Vec::new());
        }
        let after = after.unwrap_or("").to_owned();
        let few = match q {
            Some(q) => self.few_matches(q, &after).await?,
            None => false,
        };
        let ids: Vec<String> = dispatch!(self, |pool, DB, begin| {
            let mut q_b = sqlx::QueryBuilder::<DB>::new("");
            match q {
                Some(SearchQuery::Phone(digits)) if few => {
                    let lo = format!("+{digits}");
                    let hi = format!("{lo}{RANGE_END}");
                    q_b.push("SELECT contact_id AS id FROM contact_phones WHERE phone >= ")
                        .push_bind(lo)
                        .push(" AND phone < ")
                        .push_bind(hi)
                        .push(" AND contact_id > ")
                        .push_bind(after.clone());
                    push_among!(q_b, among, "contact_id");
                    q_b.push(" GROUP BY contact_id ORDER BY contact_id || ''");
                }
                Some(SearchQuery::Text(text)) if few => {
                    let hi = format!("{text}{RANGE_END}");
                    q_b.push("SELECT id FROM (SELECT id FROM contacts WHERE name_key >= ")
                        .push_bind(text.clone())
                        .push(" AND name_key < ")
                        .push_bind(hi.clone())
                        .push(" AND id > ")
                        .push_bind(after.clone())
                        .push(" UNION SELECT id FROM contacts WHERE email_key >= ")
                        .push_bind(text.clone())
                        .push(" AND email_key < ")
                        .push_bind(hi)
                        .push(" AND id > ")
                        .push_bind(after.clone())
                        .push(") m WHERE 1 = 1");
                    push_among!(q_b, among, "m.id");
                    q_b.push(" ORDER BY id || ''");
                }
                _ => {
                    q_b.push("SELECT id FROM contacts c WHERE c.id > ").push_bind(after.clone());
                    match q {
                        None => {}
                        Some(SearchQuery::Phone(digits)) => {
                            let prefix = format!("+{digits}");
                            q_b.push(
                                " AND EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = c.id AND \
                                 substr(p.phone, 1, ",
                            )
                            .push_bind(prefix.chars().count() as i32)
                            .push(") = ")
                            .push_bind(prefix)
                            .push(")");
                        }
                        Some(SearchQuery::Text(text)) => {
                            let n = text.chars().count() as i32;
                            q_b.push(" AND (substr(c.name_key, 1, ")
                                .push_bind(n)
                                .push(") = ")
                                .push_bind(text.clone())
                                .push(" OR substr(c.email_key, 1, ")
                                .push_bind(n)
                                .push(") = ")
                                .push_bind(text.clone())
                                .push(")");
                        }
                    }
                    push_among!(q_b, among, "c.id");
                    q_b.push(" ORDER BY c.id");
                }
            }
            q_b.push(" LIMIT ").push_bind(limit);
            let rows = q_b.build().fetch_all(pool).await?;
            rows.iter().map(|r| r.try_get::<String, _>("id").map_err(StoreError::from)).collect::<Result<Vec<_>>>()
        })?;
        self.contacts(&ids).await
    }

    /// Whether `q` has at most [`FEW_MATCHES`] matches after `after` on its keys' indexes (a contact
    /// with two matching phones, or a matching name and e-mail, counts twice). Counted in the
    /// database, which stops past the limit: no row comes back.
    async fn few_matches(&self, q: &SearchQuery, after: &str) -> Result<bool> {
        let (prefix, statement) = match q {
            SearchQuery::Phone(digits) => (
                format!("+{digits}"),
                "SELECT count(*) FROM (SELECT 1 FROM contact_phones WHERE phone >= $1 AND phone < $2 \
                 AND contact_id > $3 LIMIT $4) m",
            ),
            SearchQuery::Text(text) => (
                text.clone(),
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM contacts WHERE name_key >= $1 AND name_key < $2 \
                 AND id > $3 LIMIT $4) n) + (SELECT count(*) FROM (SELECT 1 FROM contacts WHERE email_key >= $1 \
                 AND email_key < $2 AND id > $3 LIMIT $4) e)",
            ),
        };
        let hi = format!("{prefix}{RANGE_END}");
        let (count,): (i64,) = dispatch!(self, |pool, DB, begin| {
            Ok::<_, StoreError>(
                sqlx::query_as(statement)
                    .bind(prefix.clone())
                    .bind(hi.clone())
                    .bind(after.to_owned())
                    .bind(FEW_MATCHES + 1)
                    .fetch_one(pool)
                    .await?,
            )
        })?;
        Ok(count <= FEW_MATCHES)
    }

    /// The ids of contacts having one of `phones` (an agent's contacts: the phones of their chats).
    pub async fn contact_ids_with_phones(&self, phones: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in phones.chunks(crate::CHUNK) {
            let ids: Vec<String> = dispatch!(self, |pool, DB, begin| {
                let mut q =
                    sqlx::QueryBuilder::<DB>::new("SELECT DISTINCT contact_id FROM contact_phones WHERE phone IN (");
                push_list!(q, chunk);
                let rows = q.build().fetch_all(pool).await?;
                rows.iter()
                    .map(|r| r.try_get::<String, _>("contact_id").map_err(StoreError::from))
                    .collect::<Result<Vec<_>>>()
            })?;
            out.extend(ids);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// One page of every contact for an export, in id order after `after` (call again with the last
    /// id until a page comes back short).
    pub async fn contacts_for_export(&self, after: Option<&str>, page: i64) -> Result<Vec<ContactRow>> {
        self.search_contacts(None, Among::All, after, page).await
    }

    /// Whether the contact is one of [`Among::ChatQueues`]`(queues)`: it has the phone of a chat in one
    /// of `queues`, or is linked to one.
    pub async fn contact_in_chat_queues(&self, contact_id: &str, queues: &[String]) -> Result<bool> {
        if queues.is_empty() {
            return Ok(false);
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = sqlx::QueryBuilder::<DB>::new(
                "SELECT 1 AS found FROM contact_phones cp JOIN chats ch ON ch.consumer = cp.phone WHERE cp.contact_id = ",
            );
            q.push_bind(contact_id.to_owned()).push(" AND ch.queue IN (");
            push_list!(q, queues);
            q.push(" UNION ALL SELECT 1 AS found FROM chat_contacts cc JOIN chats ch ON ch.id = cc.chat_id WHERE cc.contact_id = ");
            q.push_bind(contact_id.to_owned()).push(" AND ch.queue IN (");
            push_list!(q, queues);
            q.push(" LIMIT 1");
            Ok(q.build().fetch_optional(pool).await?.is_some())
        })
    }
}
