//! Group commit: everything a batch of inputs changed, written with a handful of multi-row statements
//! in one transaction. The engine acknowledges the inputs only after [`Store::commit_batch`] returns.

use parley_core::chat::ChatStatus;
use sqlx::{QueryBuilder, Row as _};

use crate::media::insert_media_rows;
use crate::rows::{
    AgentStateRow, ChatRow, ConsentEntry, ConsentRow, EventRow, HeldUpdate, MediaRow, MessageRow, PendingReceiptRow,
    SimRow, StatusChangeRow, StatusUpdate,
};
use crate::sim::insert_sim_rows;
use crate::timeline::insert_status_changes;
use crate::{Result, Store};

/// The writes of one batch. Each chat, consent and agent state appears at most once (its final
/// state); messages, events and ledger entries are appended in order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub chats: Vec<ChatRow>,
    pub messages: Vec<MessageRow>,
    pub events: Vec<EventRow>,
    pub consents: Vec<ConsentRow>,
    pub ledger: Vec<ConsentEntry>,
    pub agent_states: Vec<AgentStateRow>,
    /// What simulated phones sent in this batch, kept for the phone page.
    pub sim: Vec<SimRow>,
    /// Delivery statuses of outbound messages (from receipts), each message at most once.
    pub status_updates: Vec<StatusUpdate>,
    /// Receipts whose message is not known yet.
    pub pending_receipts: Vec<PendingReceiptRow>,
    /// Pending receipts applied in this batch, by (carrier, provider id), to remove.
    pub applied_receipts: Vec<(String, String)>,
    /// Media announced by inbound messages, to fetch.
    pub media: Vec<MediaRow>,
    /// Uploaded media attached to the messages of this batch (outbound MMS).
    pub media_links: Vec<crate::media::MediaLink>,
    /// Held (send-later) messages released in this batch, by seq: deleted before `messages` are
    /// inserted, where each comes back under its id as the message its input sent.
    pub held_released: Vec<i64>,
    /// Held messages that wait on (quiet hours), were given up or canceled.
    pub held_updates: Vec<HeldUpdate>,
    /// Messages resent in this batch: (seq of the original, id of its resend).
    pub resent: Vec<(i64, String)>,
    /// Texts that answered a sessionless notification, linked to it.
    pub notification_replies: Vec<crate::notifications::NotificationReplyRow>,
    /// The idempotency claims (owner, key) of the requests this batch carried out: marked
    /// 'committed' with them, so a claim whose node dies before it stores the answer is never run
    /// again (see [`crate::keys`]).
    pub idempotent_requests: Vec<(String, String)>,
    /// Messages sent through the Twilio-compatible API, with their status callbacks.
    pub twilio_messages: Vec<crate::twilio::NewTwilioMessage>,
}

impl Batch {
    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.chats.is_empty()
            && self.messages.is_empty()
            && self.events.is_empty()
            && self.consents.is_empty()
            && self.ledger.is_empty()
            && self.agent_states.is_empty()
            && self.sim.is_empty()
            && self.status_updates.is_empty()
            && self.pending_receipts.is_empty()
            && self.applied_receipts.is_empty()
            && self.media.is_empty()
            && self.media_links.is_empty()
            && self.held_released.is_empty()
            && self.held_updates.is_empty()
            && self.resent.is_empty()
            && self.notification_replies.is_empty()
            && self.idempotent_requests.is_empty()
            && self.twilio_messages.is_empty()
    }
}

/// Writes every row of `$batch` inside the open transaction `$tx` with the multi-row statements of
/// engine `$db`; evaluates to the ids given to the batch's events, in order. A macro so the one query
/// text compiles for both engines.
macro_rules! write_rows {
    ($db:ty, $tx:expr, $batch:expr) => {{
        #[allow(dead_code)]
        type DB = $db;
        let batch: &Batch = $batch;
        // Both engines check the one-live-chat-per-pair index row by row, so a chat that ends in
        // this batch must be written before the pair's next live chat, whatever the batch's order.
        let mut chats: Vec<&ChatRow> = batch.chats.iter().collect();
        chats.sort_by_key(|c| c.status != ChatStatus::Finished);
        for chunk in chats.chunks(crate::CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO chats (id, number, consumer, origin, status, queue, agent, opened_at, queued_at, offered_at, \
                 last_message_at, warned_at, due_at, transfer, menu_level, start_type, language, answered_at, awaiting_reply_since, \
                 wait_since, after_hours_until, ended_at, end_reason, ended_by, updated_at, agent_message_at, dismissed_at, \
                 ticket_id, context) ",
            );
            q.push_values(chunk, |mut b, c| {
                b.push_bind(c.id.clone())
                    .push_bind(c.number.clone())
                    .push_bind(c.consumer.clone())
                    .push_bind(c.origin.clone())
                    .push_bind(c.status.as_str())
                    .push_bind(c.queue.clone())
                    .push_bind(c.agent.clone())
                    .push_bind(c.opened_at)
                    .push_bind(c.queued_at)
                    .push_bind(c.offered_at)
                    .push_bind(c.last_message_at)
                    .push_bind(c.warned_at)
                    .push_bind(c.due_at)
                    .push_bind(c.transfer.clone())
                    .push_bind(c.menu_level.clone())
                    .push_bind(c.start_type.clone())
                    .push_bind(c.language.clone())
                    .push_bind(c.answered_at)
                    .push_bind(c.awaiting_reply_since)
                    .push_bind(c.wait_since)
                    .push_bind(c.after_hours_until)
                    .push_bind(c.ended_at)
                    .push_bind(c.end_reason.clone())
                    .push_bind(c.ended_by.clone())
                    .push_bind(c.updated_at)
                    .push_bind(c.agent_message_at)
                    .push_bind(c.dismissed_at)
                    .push_bind(c.ticket_id.clone())
                    .push_bind(c.context.clone());
            });
            q.push(
                " ON CONFLICT (id) DO UPDATE SET status = excluded.status, queue = excluded.queue, agent = excluded.agent, \
                 queued_at = excluded.queued_at, offered_at = excluded.offered_at, \
                 last_message_at = excluded.last_message_at, warned_at = excluded.warned_at, due_at = excluded.due_at, \
                 transfer = excluded.transfer, menu_level = excluded.menu_level, start_type = excluded.start_type, \
                 language = excluded.language, answered_at = excluded.answered_at, \
                 awaiting_reply_since = excluded.awaiting_reply_since, wait_since = excluded.wait_since, \
                 after_hours_until = excluded.after_hours_until, \
                 ended_at = excluded.ended_at, end_reason = excluded.end_reason, \
                 ended_by = excluded.ended_by, updated_at = excluded.updated_at, \
                 agent_message_at = excluded.agent_message_at, dismissed_at = excluded.dismissed_at",
            );
            q.build().execute(&mut *$tx).await?;
        }
        // A released held message leaves its place before it comes back under the same id.
        for seq in &batch.held_released {
            sqlx::query("DELETE FROM messages WHERE seq = $1 AND status = 'scheduled' AND held IS NOT NULL")
                .bind(*seq)
                .execute(&mut *$tx)
                .await?;
        }
        for chunk in batch.messages.chunks(crate::CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO messages (id, chat_id, number, consumer, direction, author, body, media, status, purpose, carrier, \
                 provider_id, attempts, next_attempt_at, error, created_at, updated_at, send_at, held, held_queue, \
                 resend_of, resent_as) ",
            );
            q.push_values(chunk, |mut b, m: &MessageRow| {
                b.push_bind(m.id.clone())
                    .push_bind(m.chat_id.clone())
                    .push_bind(m.number.clone())
                    .push_bind(m.consumer.clone())
                    .push_bind(m.direction.as_str())
                    .push_bind(m.author.clone())
                    .push_bind(m.body.clone())
                    .push_bind(m.media.clone())
                    .push_bind(m.status.as_str())
                    .push_bind(m.purpose.as_str())
                    .push_bind(m.carrier.clone())
                    .push_bind(m.provider_id.clone())
                    .push_bind(m.attempts)
                    .push_bind(m.next_attempt_at)
                    .push_bind(m.error.clone())
                    .push_bind(m.created_at)
                    .push_bind(m.updated_at)
                    .push_bind(m.send_at)
                    .push_bind(m.held.clone())
                    .push_bind(m.held_queue.clone())
                    .push_bind(m.resend_of.clone())
                    .push_bind(m.resent_as.clone());
            });
            q.build().execute(&mut *$tx).await?;
            // The first line of each message's timeline (notes have none).
            let changes: Vec<StatusChangeRow> = chunk
                .iter()
                .filter(|m| m.direction != parley_core::message::Direction::Note)
                .map(|m| StatusChangeRow {
                    message_id: m.id.clone(),
                    status: m.status,
                    at: m.created_at,
                    carrier_code: None,
                    error: m.error.clone(),
                })
                .collect();
            insert_status_changes!(DB, &mut *$tx, changes);
        }
        for u in &batch.held_updates {
            let done = sqlx::query(
                "UPDATE messages SET status = $1, next_attempt_at = $2, error = $3, updated_at = $4 \
                 WHERE seq = $5 AND status = 'scheduled' AND held IS NOT NULL",
            )
            .bind(u.status.as_str())
            .bind(u.next_attempt_at)
            .bind(u.error.clone())
            .bind(u.at)
            .bind(u.seq)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if done > 0 && u.status != parley_core::message::MessageStatus::Scheduled {
                let change = [StatusChangeRow {
                    message_id: u.message_id.clone(),
                    status: u.status,
                    at: u.at,
                    carrier_code: None,
                    error: u.error.clone(),
                }];
                insert_status_changes!(DB, &mut *$tx, change);
            }
        }
        for (seq, resend) in &batch.resent {
            sqlx::query("UPDATE messages SET resent_as = $1 WHERE seq = $2")
                .bind(resend.clone())
                .bind(*seq)
                .execute(&mut *$tx)
                .await?;
        }
        let mut event_ids = Vec::with_capacity(batch.events.len());
        for chunk in batch.events.chunks(crate::CHUNK) {
            let mut q = QueryBuilder::<DB>::new("INSERT INTO events (chat_id, queue, agent, kind, data, at) ");
            q.push_values(chunk, |mut b, e: &EventRow| {
                b.push_bind(e.chat_id.clone())
                    .push_bind(e.queue.clone())
                    .push_bind(e.agent.clone())
                    .push_bind(e.kind.clone())
                    .push_bind(e.data.clone())
                    .push_bind(e.at);
            });
            q.push(" RETURNING id");
            let rows = q.build().fetch_all(&mut *$tx).await?;
            let mut ids = Vec::with_capacity(rows.len());
            for row in rows {
                ids.push(row.try_get::<i64, _>("id")?);
            }
            // Both engines hand out increasing ids in VALUES order; sorting guards against a
            // RETURNING order that differs from it.
            ids.sort_unstable();
            event_ids.extend(ids);
        }
        for chunk in batch.consents.chunks(crate::CHUNK) {
            let mut q =
                QueryBuilder::<DB>::new("INSERT INTO consents (phone, opted_out, notice_sent, updated_at) ");
            q.push_values(chunk, |mut b, c: &ConsentRow| {
                b.push_bind(c.phone.clone())
                    .push_bind(i64::from(c.opted_out))
                    .push_bind(i64::from(c.notice_sent))
                    .push_bind(c.updated_at);
            });
            q.push(
                " ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, notice_sent = excluded.notice_sent, \
                 updated_at = excluded.updated_at",
            );
            q.build().execute(&mut *$tx).await?;
        }
        for chunk in batch.ledger.chunks(crate::CHUNK) {
            let mut q =
                QueryBuilder::<DB>::new("INSERT INTO consent_ledger (phone, change, keyword, number, source, at) ");
            q.push_values(chunk, |mut b, e: &ConsentEntry| {
                b.push_bind(e.phone.clone())
                    .push_bind(e.change.clone())
                    .push_bind(e.keyword.clone())
                    .push_bind(e.number.clone())
                    .push_bind(e.source.clone())
                    .push_bind(e.at);
            });
            q.build().execute(&mut *$tx).await?;
        }
        for chunk in batch.agent_states.chunks(crate::CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO agent_states (agent, status, connected, last_assigned, updated_at, status_since) ",
            );
            q.push_values(chunk, |mut b, a: &AgentStateRow| {
                b.push_bind(a.agent.clone())
                    .push_bind(a.status.as_str())
                    .push_bind(i64::from(a.connected))
                    .push_bind(a.last_assigned)
                    .push_bind(a.updated_at)
                    .push_bind(a.updated_at);
            });
            // The monitor's "for how long" moves only when what it shows changes.
            q.push(
                " ON CONFLICT (agent) DO UPDATE SET status = excluded.status, connected = excluded.connected, \
                 last_assigned = excluded.last_assigned, updated_at = excluded.updated_at, \
                 status_since = CASE WHEN agent_states.status <> excluded.status \
                 OR agent_states.connected <> excluded.connected THEN excluded.updated_at \
                 ELSE agent_states.status_since END",
            );
            q.build().execute(&mut *$tx).await?;
        }
        for chunk in batch.sim.chunks(crate::CHUNK) {
            insert_sim_rows!(DB, &mut *$tx, chunk);
        }
        for chunk in batch.media.chunks(crate::CHUNK) {
            insert_media_rows!(DB, &mut *$tx, chunk);
        }
        // An upload is linked once: the first message it goes out with keeps it (a resend names the
        // same media without taking it over).
        for link in &batch.media_links {
            sqlx::query::<DB>(
                "UPDATE media SET message_id = $1, chat_id = $2, updated_at = $3 WHERE id = $4 AND message_id IS NULL",
            )
            .bind(link.message_id.clone())
            .bind(link.chat_id.clone())
            .bind(link.at)
            .bind(link.media_id.clone())
            .execute(&mut *$tx)
            .await?;
        }
        // One statement per chunk; the rank guard keeps a late receipt from undoing a later state.
        for chunk in batch.status_updates.chunks(crate::CHUNK) {
            let mut q = QueryBuilder::<DB>::new("WITH v (seq, status, new_rank, error, at) AS (");
            for (i, u) in chunk.iter().enumerate() {
                q.push(if i == 0 { "VALUES (" } else { ", (" });
                q.push_bind(u.seq);
                q.push(", ");
                q.push_bind(u.status.as_str());
                q.push(", ");
                q.push_bind(u.status.rank());
                q.push(", ");
                q.push_bind(u.error.clone());
                q.push(", ");
                q.push_bind(u.at);
                q.push(")");
            }
            q.push(format!(
                ") UPDATE messages SET status = v.status, error = COALESCE(v.error, messages.error), updated_at = v.at \
                 FROM v WHERE messages.seq = v.seq AND {} < v.new_rank RETURNING messages.seq, messages.id",
                crate::messages::status_rank_sql("messages.status")
            ));
            // Only the receipts that moved their message forward join its timeline.
            let moved = q.build().fetch_all(&mut *$tx).await?;
            let mut changes = Vec::with_capacity(moved.len());
            for row in moved {
                let seq: i64 = row.try_get("seq")?;
                let Some(u) = chunk.iter().find(|u| u.seq == seq) else { continue };
                changes.push(StatusChangeRow {
                    message_id: row.try_get("id")?,
                    status: u.status,
                    at: u.at,
                    carrier_code: u.error.clone(),
                    error: None,
                });
            }
            insert_status_changes!(DB, &mut *$tx, changes);
        }
        for chunk in batch.pending_receipts.chunks(crate::CHUNK) {
            let mut q =
                QueryBuilder::<DB>::new("INSERT INTO receipts_pending (carrier, provider_id, status, error, at) ");
            q.push_values(chunk, |mut b, r: &PendingReceiptRow| {
                b.push_bind(r.carrier.clone())
                    .push_bind(r.provider_id.clone())
                    .push_bind(r.status.as_str())
                    .push_bind(r.error.clone())
                    .push_bind(r.at);
            });
            q.build().execute(&mut *$tx).await?;
        }
        for chunk in batch.notification_replies.chunks(crate::CHUNK) {
            let mut q =
                QueryBuilder::<DB>::new("INSERT INTO notification_replies (message_id, notification_id, created_at) ");
            q.push_values(chunk, |mut b, r: &crate::notifications::NotificationReplyRow| {
                b.push_bind(r.message_id.clone()).push_bind(r.notification_id.clone()).push_bind(r.created_at);
            });
            q.build().execute(&mut *$tx).await?;
        }
        for m in &batch.twilio_messages {
            let (url, token) = m.callback.clone().unzip();
            sqlx::query(
                "INSERT INTO twilio_messages (message_id, key_id, messaging_service_sid, callback_url, auth_token, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(m.message_id.clone())
            .bind(m.key_id.clone())
            .bind(m.messaging_service_sid.clone())
            .bind(url)
            .bind(token)
            .bind(m.created_at)
            .execute(&mut *$tx)
            .await?;
        }
        for (owner, key) in &batch.idempotent_requests {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'committed' WHERE owner = $1 AND idem_key = $2 AND state = 'pending'",
            )
            .bind(owner.clone())
            .bind(key.clone())
            .execute(&mut *$tx)
            .await?;
        }
        for (carrier, provider_id) in &batch.applied_receipts {
            sqlx::query("DELETE FROM receipts_pending WHERE carrier = $1 AND provider_id = $2")
                .bind(carrier.clone())
                .bind(provider_id.clone())
                .execute(&mut *$tx)
                .await?;
        }
        event_ids
    }};
}

/// The engine's turn to write: taken before a batch loads what it decides on, ended by
/// [`Store::commit_turn`]. On PostgreSQL it is an open transaction holding the writers' advisory lock,
/// so the batches of every node run one after another: no node decides on state another node is
/// changing, and event ids become visible in id order (see ARCHITECTURE.md, "Many nodes"). On SQLite,
/// where one process serves a database file, it only remembers the write epoch it saw.
pub struct WriteTurn {
    previous: i64,
    tx: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl std::fmt::Debug for WriteTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTurn").field("previous", &self.previous).finish_non_exhaustive()
    }
}

impl WriteTurn {
    /// The write epoch before this turn: equal to the epoch of the caller's previous turn exactly when
    /// no other writer wrote in between.
    pub fn previous_epoch(&self) -> i64 {
        self.previous
    }
}

/// What a committed turn gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The ids given to the batch's events, in order.
    pub event_ids: Vec<i64>,
    /// The write epoch after the turn.
    pub epoch: i64,
}

/// The channel on which PostgreSQL tells every node that events were committed.
pub const EVENTS_CHANNEL: &str = "parley_events";

impl Store {
    /// Waits for the engine's turn to write (see [`WriteTurn`]).
    pub async fn begin_turn(&self) -> Result<WriteTurn> {
        match self {
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let epoch = crate::take_turn!(self, tx);
                Ok(WriteTurn { previous: epoch - 1, tx: Some(tx) })
            }
            Store::Sqlite(pools) => {
                let (epoch,): (i64,) =
                    sqlx::query_as("SELECT seq FROM write_epoch WHERE id = 1").fetch_one(&pools.read).await?;
                Ok(WriteTurn { previous: epoch, tx: None })
            }
        }
    }

    /// Writes a batch in the turn's transaction and commits it, which ends the turn. An empty batch
    /// writes nothing and leaves the epoch as it was.
    pub async fn commit_turn(&self, turn: WriteTurn, batch: &Batch) -> Result<Committed> {
        let unchanged = Committed { event_ids: vec![], epoch: turn.previous };
        match self {
            Store::Sqlite(pools) => {
                if batch.is_empty() {
                    return Ok(unchanged);
                }
                let mut tx = pools.write.begin_with("BEGIN IMMEDIATE").await?;
                let epoch = crate::take_turn!(self, tx);
                let event_ids = write_rows!(sqlx::Sqlite, tx, batch);
                tx.commit().await?;
                Ok(Committed { event_ids, epoch })
            }
            Store::Postgres(_) => {
                let Some(mut tx) = turn.tx else {
                    return Err(anyhow::anyhow!("a PostgreSQL write turn has no transaction").into());
                };
                if batch.is_empty() {
                    tx.rollback().await?;
                    return Ok(unchanged);
                }
                // The turn queued the NOTIFY: every listening node hears of the commit.
                let event_ids = write_rows!(sqlx::Postgres, tx, batch);
                tx.commit().await?;
                Ok(Committed { event_ids, epoch: turn.previous + 1 })
            }
        }
    }

    /// Takes a turn and writes a batch in it; returns the ids given to its events, in order.
    pub async fn commit_batch(&self, batch: &Batch) -> Result<Vec<i64>> {
        let turn = self.begin_turn().await?;
        Ok(self.commit_turn(turn, batch).await?.event_ids)
    }
}
