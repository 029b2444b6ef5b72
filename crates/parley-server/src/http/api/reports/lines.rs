//! The row-per-chat reports (calls-chats, chat-history) a page at a time, so a month of a million
//! chats answers its first page at once and its CSV streams in constant memory: the rolled-up chats
//! come from the database by keyset (opening time, id), merged with the chats folded from their
//! events and the IVR calls, oldest first.

use std::collections::VecDeque;
use std::sync::Arc;

use parley_core::report::figures::Filter;
use parley_core::report::kinds::{CallLine, call_cells, line_cells};
use parley_core::report::range::Period;
use parley_core::report::rollup::Line;
use parley_core::report::table::Cell;
use parley_core::setup::Setup;
use parley_core::time::Timestamp;
use parley_store::Store;
use parley_store::report_rollups::RolledQuery;

/// Where a row sorts: its time, chats before calls at the same instant, then its id.
pub(crate) type Key = (i64, u8, String);

/// A position to go on after, as `next` in a page and `after=` in the request: `time.rank.id`.
pub(crate) fn key_text(key: &Key) -> String {
    format!("{}.{}.{}", key.0, key.1, key.2)
}

/// The position `after=` names; `None` when it does not read.
pub(crate) fn parse_key(text: &str) -> Option<Key> {
    let mut parts = text.splitn(3, '.');
    let at = parts.next()?.parse().ok()?;
    let rank = parts.next()?.parse().ok().filter(|r| *r <= 1)?;
    let id = parts.next()?.to_owned();
    Some((at, rank, id))
}

pub(crate) struct LinePager {
    store: Store,
    setup: Arc<Setup>,
    period: Period,
    filter: Filter,
    /// Chats the database must leave to the folded ones (see `crate::report_facts`).
    excluded: Vec<String>,
    /// Masks consumers' phones by their queue's setting.
    supervisor: bool,
    /// The folded chats and the calls, oldest first.
    memory: VecDeque<(Key, Vec<Cell>)>,
    /// The database's next rows, and where to read on from.
    buffer: VecDeque<(Key, Vec<Cell>)>,
    after: Option<(i64, String)>,
    database_done: bool,
}

impl LinePager {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        setup: Arc<Setup>,
        period: Period,
        filter: Filter,
        excluded: Vec<String>,
        from_database: bool,
        supervisor: bool,
        now: Timestamp,
        folded: &[Line],
        calls: &[CallLine],
    ) -> LinePager {
        let mut memory: Vec<(Key, Vec<Cell>)> = folded
            .iter()
            .map(|l| {
                let consumer = masked(&setup, supervisor, l);
                ((l.opened_at.0, 0, l.id.clone()), line_cells(&period, consumer, l))
            })
            .collect();
        memory.extend(calls.iter().map(|c| ((c.started_at.0, 1, c.id.clone()), call_cells(&period, now, c))));
        memory.sort_by(|a, b| a.0.cmp(&b.0));
        LinePager {
            store,
            setup,
            period,
            filter,
            excluded,
            supervisor,
            memory: memory.into(),
            buffer: VecDeque::new(),
            after: None,
            database_done: !from_database,
        }
    }

    /// Goes on after `key` (a page's `next`).
    pub(crate) fn skip_to(&mut self, key: &Key) {
        self.memory.retain(|(k, _)| k > key);
        // The database holds chats only (rank 0): after a call, every chat of its instant came first.
        self.after = Some(if key.1 == 0 { (key.0, key.2.clone()) } else { (key.0 + 1, String::new()) });
    }

    /// Up to `n` rows, oldest first; fewer only at the end.
    pub(crate) async fn page(&mut self, n: usize) -> parley_store::Result<Vec<(Key, Vec<Cell>)>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.buffer.is_empty() && !self.database_done {
                self.fill(n).await?;
            }
            let take_database = match (self.buffer.front(), self.memory.front()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(d), Some(m)) => d.0 <= m.0,
            };
            let next = if take_database { self.buffer.pop_front() } else { self.memory.pop_front() };
            out.extend(next);
        }
        Ok(out)
    }

    async fn fill(&mut self, n: usize) -> parley_store::Result<()> {
        let query = RolledQuery {
            from: self.period.from.0,
            to: self.period.to.0,
            filter: &self.filter,
            excluded: &self.excluded,
            by_end: false,
        };
        let after = self.after.as_ref().map(|(at, id)| (*at, id.as_str()));
        let lines = self.store.rolled_lines(query, after, n.max(1) as i64).await?;
        self.database_done = lines.len() < n.max(1);
        if let Some(last) = lines.last() {
            self.after = Some((last.opened_at.0, last.id.clone()));
        }
        for l in &lines {
            let consumer = masked(&self.setup, self.supervisor, l);
            self.buffer.push_back(((l.opened_at.0, 0, l.id.clone()), line_cells(&self.period, consumer, l)));
        }
        Ok(())
    }
}

/// A chat's consumer as the viewer may see it: admins in full, supervisors as the chat's queue says.
pub(crate) fn masked(setup: &Setup, supervisor: bool, chat: &Line) -> String {
    use parley_core::phone::E164;
    use parley_core::setup::{ConsumerNumber, mask};
    let masking = if supervisor {
        chat.queue.as_ref().map_or(ConsumerNumber::Hidden, |q| setup.consumer_number_of(q))
    } else {
        ConsumerNumber::Full
    };
    E164::parse(&chat.consumer).map_or_else(|_| chat.consumer.clone(), |p| mask(&p, masking))
}
