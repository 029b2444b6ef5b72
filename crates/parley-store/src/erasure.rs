//! Erasing one phone's data on request (privacy). Everything Parley stores about the phone goes in one
//! write transaction; what stays is a tombstone in `erased_phones`, keyed by a salted hash of the number
//! that the caller computes, which remembers whether the phone was opted out so that its opt-out is
//! still honored when it texts again.

use sqlx::Row as _;

use crate::rows::EventRow;
use crate::{Result, Store, StoreError, dispatch, dispatch_write, push_list};

/// What one erasure deleted, row counts by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureReport {
    /// Messages to and from the phone, every number, every chat, and those outside any chat.
    pub messages: u64,
    /// Media that came with the phone's messages (bytes included).
    pub media: u64,
    /// Events of the phone's chats, and chat-less events about its messages.
    pub events: u64,
    pub chats: u64,
    /// The simulator's thread of the phone (what it sent and what it was sent).
    pub sim_messages: u64,
    /// The phone's consent row (0 or 1).
    pub consents: u64,
    pub consent_ledger: u64,
    /// Delivery receipts kept for the phone's outbound messages.
    pub pending_receipts: u64,
    /// Contacts the phone was removed from, and of those, the ones deleted because nothing was left
    /// of them (no phone, no e-mail, no notes).
    pub contacts_changed: u64,
    pub contacts_deleted: u64,
    /// Whether the tombstone says the phone is opted out.
    pub opted_out: bool,
}

impl ErasureReport {
    /// Whether nothing at all was stored about the phone (nothing was deleted and no tombstone written).
    pub fn is_empty(&self) -> bool {
        self.messages == 0
            && self.media == 0
            && self.events == 0
            && self.chats == 0
            && self.sim_messages == 0
            && self.consents == 0
            && self.consent_ledger == 0
            && self.pending_receipts == 0
            && self.contacts_changed == 0
    }
}

impl Store {
    /// Deletes everything stored about `phone` in one transaction: its messages in both directions,
    /// their media and pending receipts, its chats and their events, chat-less events naming its
    /// messages, its simulator thread, its consent row and ledger. Then writes (or updates) the
    /// tombstone `hash` (the caller's salted hash of the number) with whether the phone was opted out:
    /// from its consent row, or, when it has none, from an earlier tombstone.
    ///
    /// A phone with a live chat is refused with [`StoreError::Conflict`] naming the chat, and nothing
    /// is deleted: the chat must end first, so no agent loses a conversation under their hands. When
    /// nothing is stored about the phone, the report [`is_empty`](ErasureReport::is_empty) and no
    /// tombstone is written.
    ///
    /// The phone leaves every contact that has it (the next phone becomes primary); a contact left with
    /// no phone, no e-mail and no notes is deleted. For each such contact `erased_event(contact_id,
    /// deleted, external_ids)` gives the `contact.erased` event written in the same transaction (the
    /// CRM connectors act on it). The erased chats leave their contacts' records.
    pub async fn erase_phone(
        &self,
        phone: &str,
        hash: &str,
        erased_by: &str,
        now: i64,
        erased_event: &(dyn Fn(&str, bool, Vec<String>) -> EventRow + Send + Sync),
    ) -> Result<ErasureReport> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            // Between two engine batches, never in the middle of one (one door for writes).
            crate::take_turn!(self, tx);
            let live: Option<(String,)> =
                sqlx::query_as("SELECT id FROM chats WHERE consumer = $1 AND status <> 'finished' ORDER BY id LIMIT 1")
                    .bind(phone)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((chat,)) = live {
                return Err(StoreError::Conflict(format!(
                    "{phone} has a live chat ({chat}): end it before erasing the phone"
                )));
            }
            // Rows that point at messages or chats go first, while those can still be found.
            let media =
                sqlx::query("DELETE FROM media WHERE message_id IN (SELECT id FROM messages WHERE consumer = $1)")
                    .bind(phone)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            let pending_receipts = sqlx::query(
                "DELETE FROM receipts_pending WHERE EXISTS (SELECT 1 FROM messages m WHERE m.consumer = $1 \
                 AND m.direction = 'out' AND m.carrier = receipts_pending.carrier \
                 AND m.provider_id = receipts_pending.provider_id)",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // What the Twilio-compatible API kept about the phone's messages (a callback URL, its token).
            sqlx::query(
                "DELETE FROM twilio_messages WHERE message_id IN (SELECT id FROM messages WHERE consumer = $1)",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?;
            // The delivery timeline of the phone's messages (it holds carriers' errors about them).
            sqlx::query(
                "DELETE FROM message_status_changes WHERE message_id IN (SELECT id FROM messages WHERE consumer = $1)",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?;
            let chat_events =
                sqlx::query("DELETE FROM events WHERE chat_id IN (SELECT id FROM chats WHERE consumer = $1)")
                    .bind(phone)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            // A text from an opted-out phone, or the confirmation of a STOP sent outside a chat, has
            // events without a chat; their data names the message id (and may hold the text). Ids are
            // UUIDs, so the quoted id matches nothing else. Agent presence events, the bulk of chat-less
            // events, never name a consumer's message and are not searched.
            let loose_events = sqlx::query(
                "DELETE FROM events WHERE chat_id IS NULL AND kind <> 'agent.status' AND EXISTS \
                 (SELECT 1 FROM messages m WHERE m.consumer = $1 AND events.data LIKE '%\"' || m.id || '\"%')",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Consent changes name the phone itself (E.164, quoted: "+1555" never matches "+15550").
            let consent_events = sqlx::query(
                "DELETE FROM events WHERE chat_id IS NULL AND kind = 'consent.changed' \
                 AND data LIKE '%\"phone\":\"' || $1 || '\"%'",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let (contacts_changed, contacts_deleted) = {
                let holders: Vec<(String,)> = sqlx::query_as(
                    "SELECT DISTINCT contact_id FROM contact_phones WHERE phone = $1 ORDER BY contact_id",
                )
                .bind(phone)
                .fetch_all(&mut *tx)
                .await?;
                let mut deleted = 0u64;
                for (id,) in &holders {
                    sqlx::query("DELETE FROM contact_phones WHERE contact_id = $1 AND phone = $2")
                        .bind(id.clone())
                        .bind(phone)
                        .execute(&mut *tx)
                        .await?;
                    let left: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT phone, is_primary FROM contact_phones WHERE contact_id = $1 ORDER BY position",
                    )
                    .bind(id.clone())
                    .fetch_all(&mut *tx)
                    .await?;
                    if let Some((first, _)) = left.first().filter(|_| left.iter().all(|(_, p)| *p == 0)) {
                        sqlx::query("UPDATE contact_phones SET is_primary = 1 WHERE contact_id = $1 AND phone = $2")
                            .bind(id.clone())
                            .bind(first.clone())
                            .execute(&mut *tx)
                            .await?;
                    }
                    let rest: Option<(Option<String>, String)> =
                        sqlx::query_as("SELECT email, notes FROM contacts WHERE id = $1")
                            .bind(id.clone())
                            .fetch_optional(&mut *tx)
                            .await?;
                    let keep = !left.is_empty()
                        || rest.is_some_and(|(email, notes)| email.is_some() || !notes.trim().is_empty());
                    let external: Vec<(String, String)> = sqlx::query_as(
                        "SELECT connector, external_id FROM contact_external_ids WHERE contact_id = $1 \
                         ORDER BY connector",
                    )
                    .bind(id.clone())
                    .fetch_all(&mut *tx)
                    .await?;
                    if keep {
                        sqlx::query("UPDATE contacts SET updated_at = $2 WHERE id = $1")
                            .bind(id.clone())
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query("DELETE FROM chat_contacts WHERE contact_id = $1")
                            .bind(id.clone())
                            .execute(&mut *tx)
                            .await?;
                        crate::contacts::delete_contact_rows!(tx, id.as_str());
                        deleted += 1;
                    }
                    let external = external.into_iter().map(|(c, e)| format!("{c}:{e}")).collect();
                    let event = erased_event(id, !keep, external);
                    crate::events::insert_event!(tx, &event);
                }
                // The reports' rollups of the phone's chats go with them (they hold the phone).
                for table in ["report_visits", "report_agents"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM {table} WHERE chat_id IN (SELECT id FROM chats WHERE consumer = $1)"
                    )))
                    .bind(phone)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM report_chats WHERE consumer = $1").bind(phone).execute(&mut *tx).await?;
                // The erased chats leave their links and records; a record left without chats goes.
                sqlx::query("DELETE FROM chat_contacts WHERE chat_id IN (SELECT id FROM chats WHERE consumer = $1)")
                    .bind(phone)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM crm_record_chats WHERE chat_id IN (SELECT id FROM chats WHERE consumer = $1)")
                    .bind(phone)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM crm_records WHERE NOT EXISTS \
                     (SELECT 1 FROM crm_record_chats rc WHERE rc.record_id = crm_records.id)",
                )
                .execute(&mut *tx)
                .await?;
                (holders.len() as u64, deleted)
            };
            // The caller's calls go with their events (which name the call, not the phone).
            sqlx::query(
                "DELETE FROM events WHERE chat_id IS NULL AND kind LIKE 'call.%' AND EXISTS \
                 (SELECT 1 FROM calls c WHERE c.caller = $1 AND events.data LIKE '%\"call_id\":\"' || c.id || '\"%')",
            )
            .bind(phone)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM calls WHERE caller = $1").bind(phone).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM app_sessions WHERE consumer = $1").bind(phone).execute(&mut *tx).await?;
            let messages = sqlx::query("DELETE FROM messages WHERE consumer = $1")
                .bind(phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let chats = sqlx::query("DELETE FROM chats WHERE consumer = $1")
                .bind(phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let sim_messages = sqlx::query("DELETE FROM sim_messages WHERE phone = $1")
                .bind(phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let consent: Option<(i64,)> = sqlx::query_as("DELETE FROM consents WHERE phone = $1 RETURNING opted_out")
                .bind(phone)
                .fetch_optional(&mut *tx)
                .await?;
            let consent_ledger = sqlx::query("DELETE FROM consent_ledger WHERE phone = $1")
                .bind(phone)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let earlier: Option<(i64,)> = sqlx::query_as("SELECT opted_out FROM erased_phones WHERE hash = $1")
                .bind(hash)
                .fetch_optional(&mut *tx)
                .await?;
            let report = ErasureReport {
                messages,
                media,
                events: chat_events + loose_events + consent_events,
                chats,
                sim_messages,
                consents: u64::from(consent.is_some()),
                consent_ledger,
                pending_receipts,
                contacts_changed,
                contacts_deleted,
                // The latest known state wins: the consent row if the phone came back since an earlier
                // erasure, else what that erasure remembered.
                opted_out: consent.or(earlier).is_some_and(|(v,)| v != 0),
            };
            if report.is_empty() {
                // Nothing was stored: write nothing, not even a tombstone (an earlier one stays as it is).
                tx.rollback().await?;
                return Ok(report);
            }
            sqlx::query(
                "INSERT INTO erased_phones (hash, opted_out, erased_at, erased_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (hash) DO UPDATE SET opted_out = excluded.opted_out, erased_at = excluded.erased_at, \
                 erased_by = excluded.erased_by",
            )
            .bind(hash)
            .bind(i64::from(report.opted_out))
            .bind(now)
            .bind(erased_by)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(report)
        })
    }

    /// Whether the tombstone `hash` says its phone is opted out (false when there is none).
    pub async fn erased_opt_out(&self, hash: &str) -> Result<bool> {
        Ok(!self.erased_opt_outs(&[hash.to_owned()]).await?.is_empty())
    }

    /// Those of `hashes` whose tombstone says the phone is opted out: one query per chunk, for the
    /// engine's batch of phones without a consent row.
    pub async fn erased_opt_outs(&self, hashes: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for chunk in hashes.chunks(crate::CHUNK) {
            dispatch!(self, |pool, DB, begin| {
                let mut q =
                    sqlx::QueryBuilder::<DB>::new("SELECT hash FROM erased_phones WHERE opted_out <> 0 AND hash IN (");
                push_list!(q, chunk);
                for row in q.build().fetch_all(pool).await? {
                    out.push(row.try_get("hash")?);
                }
            });
        }
        Ok(out)
    }
}
