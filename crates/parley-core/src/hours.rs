//! Business hours: when a queue is staffed, read off the clock of the queue's own zone.
//!
//! A queue's hours are a weekly schedule of opening ranges in local wall-clock time, less whole closed
//! dates (holidays). What becomes of a chat that arrives outside them is the setup's choice,
//! [`AfterHours`]; this module only answers when the queue is open, and when it next will be.
//!
//! The rule, [`BusinessHours::next_open`] (and [`BusinessHours::is_open`], which is "the next opening
//! is now"):
//!
//! - A range is local time, start included, end excluded. One whose end is earlier than its start runs
//!   past midnight into the next day ("22:00-02:00"); "24:00" ends a range at midnight.
//! - A range belongs to the day it starts on. A closed date cancels the ranges that start on it and
//!   only those: the previous evening's overnight range still runs into it until it ends. So closing
//!   a Friday closes exactly what is written under "fri", and a closure never cuts a shift in half.
//! - No two ranges of the week overlap, an overnight range and the next day's ranges included
//!   ([`BusinessHours::parse`] refuses them). Every moment is then in at most one range, and the end of
//!   a range is a closing.
//! - Clock changes: a range opens at the first moment the local clock reaches its start and closes at
//!   the first moment it reaches its end, once per day. When the clock jumps forward over a time, it
//!   reaches that time at the jump: an opening at 02:30 on a night 02:00 becomes 03:00 opens at 03:00
//!   (and a range lying wholly in the skipped hour does not open that day). When the clock falls back,
//!   a time it shows twice is reached the first time: a range opening at 01:30 opens at the first 01:30
//!   and stays open through the repeated hour; a range closing at 01:30 closes at the first 01:30 and
//!   does not open again while the clock shows 01:00 to 01:30 a second time. Counting the second pass
//!   would turn one range into two openings; a range is one shift.
//! - [`BusinessHours::next_open`] looks a year (366 days) ahead. A weekly schedule opens within a week,
//!   so only one with no ranges at all, or with closed dates covering a year of them, never opens.
//!
//! The search does not step through time: it builds the instants of each day's ranges, day by day from
//! the day before `now`'s local date, and the first range not yet over gives the answer.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::registration::FieldProblem;
use crate::time::Timestamp;

/// The day names of the setup document, Monday first (the index is `Weekday::num_days_from_monday`).
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const MINUTES_PER_DAY: u32 = 24 * 60;

/// How far ahead [`BusinessHours::next_open`] looks.
const HORIZON: TimeDelta = TimeDelta::days(366);

/// How to write a range, for every problem with one.
const RANGE_FORM: &str =
    "write an opening range as HH:MM-HH:MM on a 24-hour clock (00:00 to 23:59, or 24:00 as an end), e.g. 09:00-17:00";

/// Business hours as written in the setup document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessHoursDraft {
    /// IANA zone, e.g. "America/New_York". Required.
    pub time_zone: String,
    /// Day name ("mon", "tue", "wed", "thu", "fri", "sat", "sun") to opening ranges "HH:MM-HH:MM".
    /// A day not listed is closed. "24:00" is allowed as an end. A range whose end is before its start
    /// runs past midnight into the next day (e.g. "22:00-02:00"). Several ranges per day are allowed.
    pub days: BTreeMap<String, Vec<String>>,
    /// Whole local dates the queue is closed ("2026-12-25").
    pub closed_dates: Vec<String>,
    /// What happens to a chat arriving after hours: "keep_queued" (default when empty) or "close".
    pub after_hours: String,
}

/// What happens to a chat that arrives while its queue is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterHours {
    /// It waits in the queue for the next opening. The default: nobody's message is dropped because
    /// of the hour.
    #[default]
    KeepQueued,
    /// It is closed at once (after the after-hours message).
    Close,
}

impl AfterHours {
    /// The choices, as a problem message lists them.
    pub const ALLOWED: &'static str = "keep_queued or close";

    /// The name the setup document uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AfterHours::KeepQueued => "keep_queued",
            AfterHours::Close => "close",
        }
    }

    /// Reads a name written by [`AfterHours::as_str`] (surrounding whitespace is ignored); the empty
    /// text is not a name here, the draft's default is [`BusinessHours::parse`]'s business.
    pub fn parse(text: &str) -> Option<AfterHours> {
        match text.trim() {
            "keep_queued" => Some(AfterHours::KeepQueued),
            "close" => Some(AfterHours::Close),
            _ => None,
        }
    }
}

/// One opening range, in minutes after the local midnight of the day it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Opening {
    /// 0 to 1439.
    start: u32,
    /// After `start`, and less than a day after it (except 00:00-24:00, exactly a day). Above 1440 when
    /// the range runs past midnight.
    end: u32,
}

impl Opening {
    /// Whether the two ranges share a minute, `other` starting `shift` minutes after `self`'s day.
    fn overlaps(self, other: Opening, shift: u32) -> bool {
        self.start < other.end + shift && other.start + shift < self.end
    }

    /// The range as "HH:MM-HH:MM", the form [`parse_range`] reads back.
    fn text(self) -> String {
        let end = if self.end > MINUTES_PER_DAY { self.end - MINUTES_PER_DAY } else { self.end };
        format!("{}-{}", hh_mm(self.start), hh_mm(end))
    }
}

/// A queue's business hours, checked: see the module documentation for what they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    zone: Tz,
    /// Monday first. Each day's ranges are sorted by start, and no two ranges of the week overlap,
    /// counting an overnight range's hours after midnight as the next day's (Sunday's as Monday's).
    week: [Vec<Opening>; 7],
    /// Local dates whose own ranges do not open.
    closed_dates: BTreeSet<NaiveDate>,
    /// What happens to a chat that arrives while the queue is closed.
    pub after_hours: AfterHours,
}

impl BusinessHours {
    /// Checks a draft. Every problem is reported, each naming the field (with its value where that
    /// helps: `days.mon[1] "25:00-26:00"`) and saying what to write instead. Surrounding whitespace is
    /// ignored; names (zones, days, after-hours choices) are case-sensitive. A closed date listed twice
    /// counts once.
    pub fn parse(draft: &BusinessHoursDraft) -> Result<BusinessHours, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let zone = parse_zone(&draft.time_zone, &mut problems);
        let week = parse_week(&draft.days, &mut problems);
        let mut closed_dates = BTreeSet::new();
        for (index, text) in draft.closed_dates.iter().enumerate() {
            match parse_date(text) {
                Some(date) => {
                    closed_dates.insert(date);
                }
                None => problem(
                    &mut problems,
                    format!("closed_dates[{index}] \"{text}\""),
                    "is not a date: write YYYY-MM-DD, e.g. 2026-12-25",
                ),
            }
        }
        let after_hours = if draft.after_hours.trim().is_empty() {
            AfterHours::default()
        } else {
            AfterHours::parse(&draft.after_hours).unwrap_or_else(|| {
                let field = format!("after_hours \"{}\"", draft.after_hours);
                problem(&mut problems, field, format!("use {}", AfterHours::ALLOWED));
                AfterHours::default()
            })
        };
        match zone {
            Some(zone) if problems.is_empty() => Ok(BusinessHours { zone, week, closed_dates, after_hours }),
            _ => Err(problems),
        }
    }

    /// The draft these hours read back from: `parse(&hours.to_draft()) == Ok(hours)`. Ranges are
    /// written "HH:MM-HH:MM" in order of start, days without ranges are left out, dates are
    /// "YYYY-MM-DD" in order, and the after-hours choice is written even when it is the default.
    pub fn to_draft(&self) -> BusinessHoursDraft {
        let days = DAY_NAMES
            .iter()
            .zip(&self.week)
            .filter(|(_, openings)| !openings.is_empty())
            .map(|(name, openings)| ((*name).to_owned(), openings.iter().map(|o| o.text()).collect()))
            .collect();
        BusinessHoursDraft {
            time_zone: self.zone.name().to_owned(),
            days,
            closed_dates: self.closed_dates.iter().map(|date| date.format("%Y-%m-%d").to_string()).collect(),
            after_hours: self.after_hours.as_str().to_owned(),
        }
    }

    /// Whether the queue is open at `now`: some range has opened and not yet closed (start included,
    /// end excluded). False for an instant beyond chrono's calendar (hundreds of millennia away).
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.next_open(now) == Some(now)
    }

    /// The first moment at or after `now` when the queue is open: `now` itself when it is open, else
    /// the next range's opening. `None` when it does not open within 366 days (no ranges at all, or
    /// closed dates covering a year of them), or when `now` is beyond chrono's calendar.
    pub fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        let at = DateTime::<Utc>::from_timestamp_millis(now.0)?;
        let horizon = at.checked_add_signed(HORIZON).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let today = local_time(at, self.zone)?.date();
        // From the day before (its overnight ranges may still be open) to a day past the horizon. The
        // instant the clock first reaches a local time only grows with that time, so every range of a
        // later day opens after every range of an earlier one: the first day with a range not yet
        // over holds the answer.
        let first_day = today.checked_sub_days(Days::new(1)).unwrap_or(today);
        for day in first_day.iter_days().take(369) {
            let first = self
                .ranges_on(day)
                .filter(|(start, end)| start < end && at < *end)
                .map(|(start, _)| start.max(at))
                .min();
            if let Some(first) = first {
                return (first <= horizon).then(|| Timestamp(first.timestamp_millis()));
            }
        }
        None
    }

    /// The zone's name, for messages ("America/New_York").
    pub fn time_zone(&self) -> &str {
        self.zone.name()
    }

    /// The local time `at` in the queue's zone as a consumer message shows it: weekday abbreviation and
    /// 24-hour time, "Mon 09:00". Empty for an instant beyond chrono's calendar.
    pub fn local_label(&self, at: Timestamp) -> String {
        DateTime::<Utc>::from_timestamp_millis(at.0)
            .and_then(|instant| local_time(instant, self.zone))
            .map(|local| local.format("%a %H:%M").to_string())
            .unwrap_or_default()
    }

    /// The instants `[open, close)` of the ranges that start on the local date `day`; none on a closed
    /// date. A range may be empty (open == close) when it lies wholly in a clock's jump forward.
    fn ranges_on(&self, day: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let openings: &[Opening] = if self.closed_dates.contains(&day) {
            &[]
        } else {
            &self.week[day.weekday().num_days_from_monday() as usize]
        };
        let midnight = day.and_hms_opt(0, 0, 0);
        openings.iter().filter_map(move |opening| {
            let local = |minutes: u32| midnight?.checked_add_signed(TimeDelta::minutes(i64::from(minutes)));
            let open = first_reaching(self.zone, local(opening.start)?)?;
            let close = first_reaching(self.zone, local(opening.end)?)?;
            Some((open, close))
        })
    }
}

fn problem(out: &mut Vec<FieldProblem>, field: impl Into<String>, reason: impl Into<String>) {
    out.push(FieldProblem { field: field.into(), reason: reason.into() });
}

/// The zone named in `text`, or a problem.
fn parse_zone(text: &str, problems: &mut Vec<FieldProblem>) -> Option<Tz> {
    let name = text.trim();
    if name.is_empty() {
        problem(
            problems,
            "time_zone",
            "is required: write an IANA time zone, e.g. America/New_York, Europe/Berlin or UTC",
        );
        return None;
    }
    let zone = name.parse::<Tz>().ok();
    if zone.is_none() {
        problem(
            problems,
            format!("time_zone \"{text}\""),
            "is not an IANA time zone: write one such as America/New_York, Europe/Berlin or UTC (the case matters)",
        );
    }
    zone
}

/// The weekly schedule, indexed Monday first; problems for unknown days, bad ranges and overlaps.
fn parse_week(days: &BTreeMap<String, Vec<String>>, problems: &mut Vec<FieldProblem>) -> [Vec<Opening>; 7] {
    // Each range with the field that names it, so that an overlap can name both ranges.
    let mut named: [Vec<(String, Opening)>; 7] = Default::default();
    for (name, ranges) in days {
        let Some(index) = DAY_NAMES.iter().position(|day| *day == name.trim()) else {
            let reason = format!("is not a day: use {}", DAY_NAMES.join(", "));
            problem(problems, format!("days.{name}"), reason);
            continue;
        };
        for (position, text) in ranges.iter().enumerate() {
            let field = format!("days.{name}[{position}] \"{text}\"");
            match parse_range(text) {
                Ok(opening) => named[index].push((field, opening)),
                Err(reason) => problem(problems, field, reason),
            }
        }
    }
    for (index, ranges) in named.iter().enumerate() {
        let (before, day) = (&named[(index + 6) % 7], DAY_NAMES[index]);
        for (position, (field, opening)) in ranges.iter().enumerate() {
            for (other_field, other) in &ranges[..position] {
                if opening.overlaps(*other, 0) {
                    let reason = format!("overlaps {other_field}: merge the two into one range, or move one");
                    problem(problems, field.clone(), reason);
                }
            }
            for (other_field, other) in before {
                if other.overlaps(*opening, MINUTES_PER_DAY) {
                    let reason = format!(
                        "overlaps {other_field}, which runs past midnight into {day}: end that range earlier, \
                         or start this one later"
                    );
                    problem(problems, field.clone(), reason);
                }
            }
        }
    }
    named.map(|ranges| {
        let mut openings: Vec<Opening> = ranges.into_iter().map(|(_, opening)| opening).collect();
        openings.sort_unstable();
        openings
    })
}

/// Reads "HH:MM-HH:MM"; the reason it is not a range otherwise.
fn parse_range(text: &str) -> Result<Opening, String> {
    let form = || RANGE_FORM.to_owned();
    let (start, end) = text.split_once('-').ok_or_else(form)?;
    let (start, end) = (minutes(start).ok_or_else(form)?, minutes(end).ok_or_else(form)?);
    if start == MINUTES_PER_DAY {
        return Err(
            "starts at 24:00, which only ends a range: write 00:00 and list the range under the next day".to_owned()
        );
    }
    if start == end {
        return Err(format!(
            "opens and closes at {}, which is no time at all: give two different times, e.g. 09:00-17:00 \
             (00:00-24:00 for the whole day)",
            hh_mm(start)
        ));
    }
    let end = if end < start { end + MINUTES_PER_DAY } else { end };
    Ok(Opening { start, end })
}

/// Reads "HH:MM" on a 24-hour clock, 00:00 to 24:00, as minutes after midnight.
fn minutes(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let two_digits = |part: &str| -> Option<u32> {
        if part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    match (two_digits(hours)?, two_digits(minutes)?) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (hours @ 0..=23, minutes @ 0..=59) => Some(hours * 60 + minutes),
        _ => None,
    }
}

/// Minutes after midnight, 0 to 1440, as "HH:MM" ("24:00" for 1440).
fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Reads "YYYY-MM-DD", a real calendar date.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if shaped { NaiveDate::parse_from_str(text, "%Y-%m-%d").ok() } else { None }
}

/// The wall-clock time in `zone` at `at`; `None` only at the ends of chrono's range, where
/// `with_timezone` would panic.
fn local_time(at: DateTime<Utc>, zone: Tz) -> Option<NaiveDateTime> {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset)
}

/// The first instant the clock of `zone` reads `local` or later: `local` itself when it occurs once,
/// its first occurrence when the clock falls back over it, the clock change when it jumps over it.
fn first_reaching(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => Some(instant.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => Some(first.min(second).with_timezone(&Utc)),
        LocalResult::None => end_of_gap(zone, local),
    }
}

/// The instant, to the second, the clock of `zone` jumps over the local time `local`.
fn end_of_gap(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Offsets a day either side are those before and after the jump (zones change at most twice a
    // year). Read at the later offset, `local` is an instant before the jump; at the earlier, one after.
    let offset_at = |naive: NaiveDateTime| zone.offset_from_utc_datetime(&naive).fix();
    let before = offset_at(local.checked_sub_signed(TimeDelta::days(1))?);
    let after = offset_at(local.checked_add_signed(TimeDelta::days(1))?);
    let read_at = |offset: chrono::FixedOffset| local.checked_sub_offset(offset).map(|utc| utc.and_utc().timestamp());
    let (early, late) = (read_at(after)?, read_at(before)?);
    let (mut low, mut high) = (early.min(late), early.max(late));
    // The clock reads before `local` at `low` and `local` or later at `high`: halve down to a second.
    let reaches = |second: i64| {
        DateTime::from_timestamp(second, 0).and_then(|instant| local_time(instant, zone)).is_some_and(|l| l >= local)
    };
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if reaches(middle) { high = middle } else { low = middle }
    }
    DateTime::from_timestamp(high, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instant written in RFC 3339, so that expectations say which UTC moment they mean.
    fn utc(text: &str) -> Timestamp {
        Timestamp(DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis())
    }

    fn draft(time_zone: &str, days: &[(&str, &[&str])]) -> BusinessHoursDraft {
        BusinessHoursDraft {
            time_zone: time_zone.to_owned(),
            days: days
                .iter()
                .map(|(day, ranges)| ((*day).to_owned(), ranges.iter().map(|r| (*r).to_owned()).collect()))
                .collect(),
            ..BusinessHoursDraft::default()
        }
    }

    fn new_york(days: &[(&str, &[&str])]) -> BusinessHours {
        BusinessHours::parse(&draft("America/New_York", days)).unwrap()
    }

    /// Weekdays 09:00 to 17:00 with a lunch break from 12:00 to 13:00, in New York.
    fn office_draft() -> BusinessHoursDraft {
        let day: &[&str] = &["09:00-12:00", "13:00-17:00"];
        draft("America/New_York", &[("mon", day), ("tue", day), ("wed", day), ("thu", day), ("fri", day)])
    }

    fn office() -> BusinessHours {
        BusinessHours::parse(&office_draft()).unwrap()
    }

    fn fields(problems: &[FieldProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn open_and_closed_on_a_weekday_in_new_york() {
        let hours = office();
        // Monday 2026-06-15 is in summer time, UTC-4: 09:00 EDT is 13:00Z, 17:00 EDT is 21:00Z.
        assert!(!hours.is_open(utc("2026-06-15T12:59:59Z")));
        assert!(hours.is_open(utc("2026-06-15T13:00:00Z")));
        assert!(hours.is_open(utc("2026-06-15T20:59:59Z")));
        assert!(!hours.is_open(utc("2026-06-15T21:00:00Z")));
        // Thursday 2026-01-15 is in standard time, UTC-5: 13:30Z is 08:30 EST, 14:00Z is 09:00 EST.
        assert!(!hours.is_open(utc("2026-01-15T13:30:00Z")));
        assert!(hours.is_open(utc("2026-01-15T14:00:00Z")));
        // An open moment is its own next opening, to the millisecond.
        let open = Timestamp(utc("2026-01-15T15:00:00Z").0 + 123);
        assert_eq!(hours.next_open(open), Some(open));
        assert_eq!(hours.time_zone(), "America/New_York");
    }

    #[test]
    fn lunch_break_between_two_ranges() {
        let hours = office();
        // 12:00 EDT (16:00Z) to 13:00 EDT (17:00Z) is closed.
        assert!(hours.is_open(utc("2026-06-15T15:59:59Z")));
        assert!(!hours.is_open(utc("2026-06-15T16:00:00Z")));
        assert!(!hours.is_open(utc("2026-06-15T16:59:59Z")));
        assert!(hours.is_open(utc("2026-06-15T17:00:00Z")));
        assert_eq!(hours.next_open(utc("2026-06-15T16:10:00Z")), Some(utc("2026-06-15T17:00:00Z")));
    }

    #[test]
    fn overnight_range_runs_into_the_next_day() {
        let hours = new_york(&[("fri", &["22:00-02:00"]), ("sun", &["22:00-02:00"]), ("wed", &["18:00-24:00"])]);
        // Friday 2026-06-19 21:59 EDT closed, 22:00 open; Saturday 01:00 open, 02:00 closed.
        assert!(!hours.is_open(utc("2026-06-20T01:59:00Z")));
        assert!(hours.is_open(utc("2026-06-20T02:00:00Z")));
        assert!(hours.is_open(utc("2026-06-20T05:00:00Z")));
        assert!(!hours.is_open(utc("2026-06-20T06:00:00Z")));
        // Saturday has no range of its own: Saturday 22:30 EDT is closed.
        assert!(!hours.is_open(utc("2026-06-21T02:30:00Z")));
        // Sunday's range runs into Monday, across the end of the week: Monday 2026-06-22 01:00 EDT.
        assert!(hours.is_open(utc("2026-06-22T05:00:00Z")));
        // "24:00" ends at midnight: Wednesday 23:59 open, Thursday 00:00 closed.
        assert!(hours.is_open(utc("2026-06-18T03:59:00Z")));
        assert!(!hours.is_open(utc("2026-06-18T04:00:00Z")));
    }

    #[test]
    fn closed_date_cancels_the_ranges_that_start_on_it() {
        let mut closed = office_draft();
        closed.closed_dates = vec!["2026-06-15".to_owned()];
        let hours = BusinessHours::parse(&closed).unwrap();
        // Monday 2026-06-15 10:00 EDT: closed all day; next open Tuesday 09:00 EDT.
        assert!(!hours.is_open(utc("2026-06-15T14:00:00Z")));
        assert_eq!(hours.next_open(utc("2026-06-15T14:00:00Z")), Some(utc("2026-06-16T13:00:00Z")));
        assert!(hours.is_open(utc("2026-06-16T13:00:00Z")));

        // Thursday night's overnight range still runs into a closed Friday (2026-06-19), whose own range
        // does not open.
        let mut nights = draft("America/New_York", &[("thu", &["22:00-02:00"]), ("fri", &["22:00-02:00"])]);
        nights.closed_dates = vec!["2026-06-19".to_owned()];
        let hours = BusinessHours::parse(&nights).unwrap();
        // Friday 01:00 EDT open; Friday 22:30 EDT closed.
        assert!(hours.is_open(utc("2026-06-19T05:00:00Z")));
        assert!(!hours.is_open(utc("2026-06-20T02:30:00Z")));
        // From Friday 02:00 EDT, the next opening is Thursday 2026-06-25 22:00 EDT.
        assert_eq!(hours.next_open(utc("2026-06-19T06:00:00Z")), Some(utc("2026-06-26T02:00:00Z")));
    }

    #[test]
    fn next_open_over_a_weekend() {
        let hours = office();
        // Friday 2026-01-16 18:00 EST (23:00Z) to Monday 2026-01-19 09:00 EST (14:00Z).
        let friday_evening = utc("2026-01-16T23:00:00Z");
        assert!(!hours.is_open(friday_evening));
        assert_eq!(hours.next_open(friday_evening), Some(utc("2026-01-19T14:00:00Z")));
        // From Sunday 23:59 EST as well.
        assert_eq!(hours.next_open(utc("2026-01-19T04:59:00Z")), Some(utc("2026-01-19T14:00:00Z")));
    }

    #[test]
    fn spring_forward_opens_at_the_end_of_the_jump() {
        // 2026-03-08, a Sunday: 02:00 EST jumps to 03:00 EDT at 07:00Z; 02:30 does not exist.
        let hours = new_york(&[("sun", &["02:30-10:00"])]);
        let midnight = utc("2026-03-08T05:00:00Z");
        assert_eq!(hours.next_open(midnight), Some(utc("2026-03-08T07:00:00Z")));
        assert!(!hours.is_open(utc("2026-03-08T06:59:59Z")));
        assert!(hours.is_open(utc("2026-03-08T07:00:00Z")));
        // It closes at 10:00 EDT, 14:00Z.
        assert!(!hours.is_open(utc("2026-03-08T14:00:00Z")));
        // The Sunday before, 02:30 EST exists: 07:30Z.
        assert_eq!(hours.next_open(utc("2026-03-01T05:00:00Z")), Some(utc("2026-03-01T07:30:00Z")));
        // A range wholly in the skipped hour does not open that day: the next is 2026-03-15 02:10 EDT.
        let skipped = new_york(&[("sun", &["02:10-02:50"])]);
        assert_eq!(skipped.next_open(midnight), Some(utc("2026-03-15T06:10:00Z")));
        // A range ending in the skipped hour ends at the jump.
        let late = new_york(&[("sat", &["22:00-02:30"])]);
        assert!(late.is_open(utc("2026-03-08T06:59:59Z")));
        assert!(!late.is_open(utc("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn fall_back_reaches_a_repeated_time_the_first_time() {
        // 2026-11-01, a Sunday: 02:00 EDT goes back to 01:00 EST at 06:00Z; 01:00 to 01:59 happen twice.
        let opening = new_york(&[("sun", &["01:30-05:00"])]);
        // Opens at the first 01:30 (EDT, 05:30Z) and stays open through the repeated hour.
        assert_eq!(opening.next_open(utc("2026-11-01T04:00:00Z")), Some(utc("2026-11-01T05:30:00Z")));
        assert!(opening.is_open(utc("2026-11-01T06:15:00Z")));
        // 05:00 EST is 10:00Z.
        assert!(opening.is_open(utc("2026-11-01T09:59:59Z")));
        assert!(!opening.is_open(utc("2026-11-01T10:00:00Z")));

        let closing = new_york(&[("sat", &["22:00-01:30"])]);
        // Closes at the first 01:30 (EDT, 05:30Z) and stays closed when 01:15 comes round again (EST).
        assert!(closing.is_open(utc("2026-11-01T05:29:59Z")));
        assert!(!closing.is_open(utc("2026-11-01T05:30:00Z")));
        assert!(!closing.is_open(utc("2026-11-01T06:15:00Z")));
    }

    #[test]
    fn parse_reports_every_problem_by_field() {
        let mut bad = draft(
            "America/New_Yrok",
            &[
                ("fri", &["18:00-02:00"]),
                ("mon", &["09:00-12:00", "11:00-13:00", "25:00-26:00", "09:00-09:00", "24:00-02:00", "9-5"]),
                ("monday", &["09:00-17:00"]),
                ("sat", &["01:00-05:00"]),
            ],
        );
        bad.closed_dates = vec!["2026-12-25".to_owned(), "2026-02-30".to_owned(), "12/25/2026".to_owned()];
        bad.after_hours = "later".to_owned();
        let problems = BusinessHours::parse(&bad).unwrap_err();
        assert_eq!(
            fields(&problems),
            [
                "time_zone \"America/New_Yrok\"",
                "days.mon[2] \"25:00-26:00\"",
                "days.mon[3] \"09:00-09:00\"",
                "days.mon[4] \"24:00-02:00\"",
                "days.mon[5] \"9-5\"",
                "days.monday",
                "days.mon[1] \"11:00-13:00\"",
                "days.sat[0] \"01:00-05:00\"",
                "closed_dates[1] \"2026-02-30\"",
                "closed_dates[2] \"12/25/2026\"",
                "after_hours \"later\"",
            ]
        );
        let reason = |field: &str| problems.iter().find(|p| p.field == field).map(|p| p.reason.as_str()).unwrap();
        assert!(reason("time_zone \"America/New_Yrok\"").contains("IANA time zone"));
        assert_eq!(reason("days.mon[2] \"25:00-26:00\""), RANGE_FORM);
        assert!(reason("days.mon[3] \"09:00-09:00\"").contains("00:00-24:00 for the whole day"));
        assert_eq!(reason("days.monday"), "is not a day: use mon, tue, wed, thu, fri, sat, sun");
        assert_eq!(
            reason("days.mon[1] \"11:00-13:00\""),
            "overlaps days.mon[0] \"09:00-12:00\": merge the two into one range, or move one"
        );
        assert!(reason("days.sat[0] \"01:00-05:00\"").starts_with("overlaps days.fri[0] \"18:00-02:00\""));
        assert_eq!(reason("closed_dates[1] \"2026-02-30\""), "is not a date: write YYYY-MM-DD, e.g. 2026-12-25");
        assert_eq!(reason("after_hours \"later\""), "use keep_queued or close");

        // A missing zone is named without a value; ranges that only touch do not overlap.
        let touching = draft(
            "",
            &[("mon", &["09:00-12:00", "12:00-13:00"]), ("tue", &["22:00-09:00"]), ("wed", &["09:00-10:00"])],
        );
        let problems = BusinessHours::parse(&touching).unwrap_err();
        assert_eq!(fields(&problems), ["time_zone"]);
    }

    #[test]
    fn to_draft_round_trips_and_normalizes() {
        let mut written = draft(
            " Europe/Berlin ",
            &[("sun", &[]), ("tue", &[" 13:00 - 17:00", "08:00-12:00"]), ("sat", &["22:00-00:00", "00:00-04:00"])],
        );
        written.closed_dates = vec!["2026-12-26".to_owned(), "2026-12-25".to_owned(), "2026-12-26".to_owned()];
        let hours = BusinessHours::parse(&written).unwrap();
        assert_eq!(hours.after_hours, AfterHours::KeepQueued);
        let normal = hours.to_draft();
        assert_eq!(
            normal,
            BusinessHoursDraft {
                time_zone: "Europe/Berlin".to_owned(),
                days: [
                    ("sat".to_owned(), vec!["00:00-04:00".to_owned(), "22:00-24:00".to_owned()]),
                    ("tue".to_owned(), vec!["08:00-12:00".to_owned(), "13:00-17:00".to_owned()]),
                ]
                .into_iter()
                .collect(),
                closed_dates: vec!["2026-12-25".to_owned(), "2026-12-26".to_owned()],
                after_hours: "keep_queued".to_owned(),
            }
        );
        assert_eq!(BusinessHours::parse(&normal), Ok(hours));

        // An overnight range and the close choice survive the trip too.
        let mut overnight = office_draft();
        overnight.days.insert("sat".to_owned(), vec!["22:00-02:00".to_owned()]);
        overnight.after_hours = "close".to_owned();
        let hours = BusinessHours::parse(&overnight).unwrap();
        assert_eq!(hours.after_hours, AfterHours::Close);
        assert_eq!(hours.to_draft(), overnight);
        assert_eq!(BusinessHours::parse(&hours.to_draft()), Ok(hours));
    }

    #[test]
    fn after_hours_names_round_trip() {
        for choice in [AfterHours::KeepQueued, AfterHours::Close] {
            assert_eq!(AfterHours::parse(choice.as_str()), Some(choice));
        }
        assert_eq!(AfterHours::parse(""), None);
        assert_eq!(AfterHours::parse("Close"), None);
        assert_eq!(AfterHours::default(), AfterHours::KeepQueued);
    }

    #[test]
    fn never_open_is_none() {
        let hours = new_york(&[]);
        assert_eq!(hours.next_open(utc("2026-06-15T13:00:00Z")), None);
        assert!(!hours.is_open(utc("2026-06-15T13:00:00Z")));
        // Open only on Mondays, but the next 53 Mondays are closed: beyond the horizon.
        let mut mondays = draft("UTC", &[("mon", &["09:00-17:00"])]);
        let first = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        mondays.closed_dates =
            (0..53).map(|week| (first + Days::new(7 * week)).format("%Y-%m-%d").to_string()).collect();
        let hours = BusinessHours::parse(&mondays).unwrap();
        assert_eq!(hours.next_open(utc("2026-06-15T08:00:00Z")), None);
        // With one Monday fewer closed, the 53rd Monday (364 days on) is found.
        mondays.closed_dates.pop();
        let hours = BusinessHours::parse(&mondays).unwrap();
        assert_eq!(hours.next_open(utc("2026-06-15T08:00:00Z")), Some(utc("2027-06-14T09:00:00Z")));
    }

    #[test]
    fn local_label_shows_weekday_and_time_in_the_zone() {
        let hours = office();
        // 13:00Z on Monday 2026-06-15 is 09:00 EDT; 03:30Z on Saturday 2026-01-17 is Friday 22:30 EST.
        assert_eq!(hours.local_label(utc("2026-06-15T13:00:00Z")), "Mon 09:00");
        assert_eq!(hours.local_label(utc("2026-01-17T03:30:00Z")), "Fri 22:30");
    }

    #[test]
    fn the_ends_of_time_do_not_panic() {
        let hours = office();
        let ends = [DateTime::<Utc>::MIN_UTC.timestamp_millis(), DateTime::<Utc>::MAX_UTC.timestamp_millis()];
        for at in ends.into_iter().chain([i64::MIN, i64::MAX]).map(Timestamp) {
            let _ = hours.is_open(at);
            let _ = hours.next_open(at);
            let _ = hours.local_label(at);
        }
    }
}
