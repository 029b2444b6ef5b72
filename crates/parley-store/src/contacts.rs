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

use parley_core::crm::contact::{ContactData, ContactPhone, SearchQuery, search_key};
use parley_core::phone::E164;
use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, StoreError, dispatch, dispatch_write, push_list};

/// The largest page of contacts.
pub const MAX_PAGE: i64 = 200;

/// The most matches of a prefix that search collects from a key's index before it walks the contacts
/// in id order instead (see [`Store::search_contacts`]).
pub const FEW_MATCHES: i64 = 10_000;

/// The upper end of a prefix range: sorts after every text that starts with the prefix.
const RANGE_END: char = '\u{10FFFF}';

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
        let row: &ContactRow = $row;
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
                return Err(StoreError::NotFound);
            }
            for statement in DELETE_CHILDREN {
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
    /// the name or e-mail, or of a phone's digits), or only among `among` (an agent's contacts).
    /// `limit` is clamped to 1..=[`MAX_PAGE`].
    ///
    /// A prefix can match a handful of contacts or a third of them (`+44`), and no one plan is fast
    /// for both while pages stay in id order. So the prefix's matches are first read from the key's
    /// index (id beside the key, no table rows), at most [`FEW_MATCHES`] of them: when that is all of
    /// them, they are sorted here and the page taken. Otherwise the prefix is common, and the page is
    /// found by walking contacts in id order and checking each, which stops after `limit` matches
    /// (at one match in [`FEW_MATCHES`] / N contacts, a page of 50 walks at most 50 N / FEW_MATCHES).
    pub async fn search_contacts(
        &self,
        q: Option<&SearchQuery>,
        among: Option<&[String]>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ContactRow>> {
        let limit = limit.clamp(1, MAX_PAGE);
        if among.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let after = after.unwrap_or("").to_owned();
        if let Some(q) = q
            && let Some(mut ids) = self.few_matches(q, &after).await?
        {
            if let Some(among) = among {
                let among: std::collections::HashSet<&str> = among.iter().map(String::as_str).collect();
                ids.retain(|id| among.contains(id.as_str()));
            }
            ids.sort_unstable();
            ids.dedup();
            ids.truncate(limit as usize);
            return self.contacts(&ids).await;
        }
        let ids: Vec<String> = dispatch!(self, |pool, DB, begin| {
            let mut q_b = sqlx::QueryBuilder::<DB>::new("SELECT id FROM contacts c WHERE c.id > ");
            q_b.push_bind(after.clone());
            // substr(..) = prefix rather than a range: the same test, but no index of the key can serve
            // it, so both engines walk the id order, as this path wants.
            match q {
                None => {}
                Some(SearchQuery::Phone(digits)) => {
                    let prefix = format!("+{digits}");
                    q_b.push(
                        " AND EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = c.id AND substr(p.phone, 1, ",
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
            if let Some(among) = among {
                q_b.push(" AND c.id IN (");
                push_list!(q_b, among);
            }
            q_b.push(" ORDER BY c.id LIMIT ").push_bind(limit);
            let rows = q_b.build().fetch_all(pool).await?;
            rows.iter().map(|r| r.try_get::<String, _>("id").map_err(StoreError::from)).collect::<Result<Vec<_>>>()
        })?;
        self.contacts(&ids).await
    }

    /// Every id after `after` that `q` matches, read from the keys' indexes, when there are at most
    /// [`FEW_MATCHES`] per key; `None` when there are more (unsorted, a contact may come twice).
    async fn few_matches(&self, q: &SearchQuery, after: &str) -> Result<Option<Vec<String>>> {
        let (prefix, statements): (String, &'static [&'static str]) = match q {
            SearchQuery::Phone(digits) => (
                format!("+{digits}"),
                &[
                    "SELECT contact_id FROM contact_phones WHERE phone >= $1 AND phone < $2 AND contact_id > $3 LIMIT $4",
                ],
            ),
            SearchQuery::Text(text) => (
                text.clone(),
                &[
                    "SELECT id FROM contacts WHERE name_key >= $1 AND name_key < $2 AND id > $3 LIMIT $4",
                    "SELECT id FROM contacts WHERE email_key >= $1 AND email_key < $2 AND id > $3 LIMIT $4",
                ],
            ),
        };
        let hi = format!("{prefix}{RANGE_END}");
        let mut ids = Vec::new();
        for statement in statements {
            let found: Vec<(String,)> = dispatch!(self, |pool, DB, begin| {
                Ok::<_, StoreError>(
                    sqlx::query_as(*statement)
                        .bind(prefix.clone())
                        .bind(hi.clone())
                        .bind(after.to_owned())
                        .bind(FEW_MATCHES + 1)
                        .fetch_all(pool)
                        .await?,
                )
            })?;
            if found.len() as i64 > FEW_MATCHES {
                return Ok(None);
            }
            ids.extend(found.into_iter().map(|(id,)| id));
        }
        Ok(Some(ids))
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
        self.search_contacts(None, None, after, page).await
    }
}
