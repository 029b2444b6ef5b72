//! A report's period: from and to in the viewer's time zone, and the buckets rows are grouped by.
//!
//! Days, weeks and months are the viewer's: a bucket starts at local midnight (a week on Monday), so
//! a day of a DST change lasts 23 or 25 hours. Instants stay UTC milliseconds everywhere else.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::time::Timestamp;

/// The longest period a report covers.
pub const MAX_DAYS: i64 = 400;

/// How rows are grouped over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupBy {
    Hour,
    Day,
    Week,
    Month,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Hour, GroupBy::Day, GroupBy::Week, GroupBy::Month];

    pub fn parse(text: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Hour => "hour",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
        }
    }
}

/// What is wrong with a period; each names the parameter to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodProblem {
    #[error("tz: {0:?} is not a time zone of the IANA database (for example Europe/Berlin or UTC)")]
    UnknownTimeZone(String),
    #[error("{param}: {value:?} is neither a date (2026-11-30) nor an RFC 3339 time (2026-11-30T08:00:00Z)")]
    BadTime { param: &'static str, value: String },
    #[error("from: {from} is not before to ({to})")]
    FromNotBeforeTo { from: String, to: String },
    #[error("to: the period is {days} days long; a report covers at most {MAX_DAYS} days")]
    TooLong { days: i64 },
    #[error("group_by: {0:?} is none of hour, day, week, month")]
    UnknownGroupBy(String),
}

impl PeriodProblem {
    /// The request parameter to change.
    pub fn param(&self) -> &'static str {
        match self {
            PeriodProblem::UnknownTimeZone(_) => "tz",
            PeriodProblem::BadTime { param, .. } => param,
            PeriodProblem::FromNotBeforeTo { .. } => "from",
            PeriodProblem::TooLong { .. } => "to",
            PeriodProblem::UnknownGroupBy(_) => "group_by",
        }
    }
}

/// A report's period, checked: `from` inclusive, `to` exclusive, both instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
    pub zone: Tz,
    pub group_by: Option<GroupBy>,
}

/// The zone `name` names.
pub fn zone(name: &str) -> Result<Tz, PeriodProblem> {
    name.parse::<Tz>().map_err(|_| PeriodProblem::UnknownTimeZone(name.to_owned()))
}

impl Period {
    /// A period from the request's words: `from` and `to` are dates (the viewer's midnight; `to`'s day
    /// is included, so `from=2026-11-23&to=2026-11-29` is that whole week) or RFC 3339 instants. Missing:
    /// today so far (`from` at the viewer's midnight, `to` now).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        zone: Tz,
        group_by: Option<&str>,
        now: Timestamp,
    ) -> Result<Period, PeriodProblem> {
        let group_by = match group_by {
            None | Some("") => None,
            Some(g) => Some(GroupBy::parse(g).ok_or_else(|| PeriodProblem::UnknownGroupBy(g.to_owned()))?),
        };
        let from = match from {
            Some(text) if !text.is_empty() => instant("from", text, zone, false)?,
            _ => bucket_start(now, zone, GroupBy::Day),
        };
        let to = match to {
            Some(text) if !text.is_empty() => instant("to", text, zone, true)?,
            _ => now.max(Timestamp(from.0 + 1)),
        };
        if from >= to {
            return Err(PeriodProblem::FromNotBeforeTo { from: rfc3339(from), to: rfc3339(to) });
        }
        let days = (to.0 - from.0 + 86_399_999) / 86_400_000;
        if days > MAX_DAYS {
            return Err(PeriodProblem::TooLong { days });
        }
        Ok(Period { from, to, zone, group_by })
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }

    /// The bucket `at` falls in: its start, or the period's `from` without grouping.
    pub fn bucket(&self, at: Timestamp) -> Timestamp {
        match self.group_by {
            None => self.from,
            Some(g) => bucket_start(at, self.zone, g),
        }
    }

    /// Whether every slot of `slot_ms` (counted from the epoch) lies in one bucket of the period, so
    /// sums by slot add up to sums by bucket: true for quarter hours in every zone in use today.
    pub fn slots_fit(&self, slot_ms: i64) -> bool {
        let Some(g) = self.group_by else { return true };
        let mut at = self.from.0 - self.from.0.rem_euclid(slot_ms);
        while at < self.to.0 {
            let first = Timestamp(at.max(self.from.0));
            let last = Timestamp((at + slot_ms - 1).min(self.to.0 - 1));
            if bucket_start(first, self.zone, g) != bucket_start(last, self.zone, g) {
                return false;
            }
            at += slot_ms;
        }
        true
    }

    /// How the bucket starting at `start` is named in rows: the local date (`2026-11-23`), the local
    /// hour (`2026-11-23T14:00`), the month (`2026-11`); the whole period without grouping.
    pub fn label(&self, start: Timestamp) -> String {
        let local = local(start, self.zone);
        match self.group_by {
            None => "all".to_owned(),
            Some(GroupBy::Hour) => local.format("%Y-%m-%dT%H:00%:z").to_string(),
            Some(GroupBy::Day | GroupBy::Week) => local.format("%Y-%m-%d").to_string(),
            Some(GroupBy::Month) => local.format("%Y-%m").to_string(),
        }
    }

    /// An instant as the viewer reads it, RFC 3339 with their offset.
    pub fn local_time(&self, at: Timestamp) -> String {
        local(at, self.zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

fn local(at: Timestamp, zone: Tz) -> DateTime<Tz> {
    Utc.timestamp_millis_opt(at.0).single().unwrap_or_default().with_timezone(&zone)
}

fn rfc3339(at: Timestamp) -> String {
    Utc.timestamp_millis_opt(at.0).single().unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The start of the bucket of `at`: its local hour, day, Monday or first of the month.
pub fn bucket_start(at: Timestamp, zone: Tz, group_by: GroupBy) -> Timestamp {
    let here = local(at, zone);
    let date = here.date_naive();
    let start: NaiveDateTime = match group_by {
        GroupBy::Hour => {
            // An hour is one of UTC's (an hour repeated by DST is two buckets, as it is two hours).
            let ms = at.0 - at.0.rem_euclid(3_600_000);
            // A zone offset that is not whole hours (India, Nepal) starts its hours off UTC's.
            let offset = (local(Timestamp(ms), zone).offset_ms()).rem_euclid(3_600_000);
            let shifted = ms + offset;
            return Timestamp(if shifted > at.0 { shifted - 3_600_000 } else { shifted });
        }
        GroupBy::Day => date.and_hms_opt(0, 0, 0).unwrap_or_default(),
        GroupBy::Week => {
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            monday.and_hms_opt(0, 0, 0).unwrap_or_default()
        }
        GroupBy::Month => NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
            .unwrap_or(date)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
    };
    local_midnight(zone, start)
}

/// The first instant at or after local `start` (a midnight the clocks skip starts at the gap's end).
fn local_midnight(zone: Tz, start: NaiveDateTime) -> Timestamp {
    let mut probe = start;
    for _ in 0..8 {
        if let Some(at) = zone.from_local_datetime(&probe).earliest() {
            return Timestamp(at.timestamp_millis());
        }
        probe += Duration::minutes(30);
    }
    Timestamp(Utc.from_utc_datetime(&start).timestamp_millis())
}

trait OffsetMs {
    fn offset_ms(&self) -> i64;
}

impl OffsetMs for DateTime<Tz> {
    fn offset_ms(&self) -> i64 {
        use chrono::Offset as _;
        i64::from(self.offset().fix().local_minus_utc()) * 1000
    }
}

/// `text` as an instant: a date is its local midnight (for `to`, the next day's: the day is included).
fn instant(param: &'static str, text: &str, zone: Tz, end: bool) -> Result<Timestamp, PeriodProblem> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Timestamp(at.timestamp_millis()));
    }
    let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
        return Err(PeriodProblem::BadTime { param, value: text.to_owned() });
    };
    let date = if end { date.succ_opt().unwrap_or(date) } else { date };
    Ok(local_midnight(zone, date.and_hms_opt(0, 0, 0).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp(DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis())
    }

    #[test]
    fn dates_are_the_viewers_days_and_to_includes_its_day() {
        let berlin = zone("Europe/Berlin").unwrap();
        let p = Period::parse(Some("2026-11-23"), Some("2026-11-29"), berlin, Some("day"), at("2026-12-01T00:00:00Z"))
            .unwrap();
        assert_eq!(p.from, at("2026-11-22T23:00:00Z"));
        assert_eq!(p.to, at("2026-11-29T23:00:00Z"));
        assert_eq!(p.label(p.bucket(at("2026-11-23T22:59:00Z"))), "2026-11-23");
        assert_eq!(p.label(p.bucket(at("2026-11-23T23:00:00Z"))), "2026-11-24");
    }

    #[test]
    fn a_dst_day_lasts_23_or_25_hours() {
        let berlin = zone("Europe/Berlin").unwrap();
        let spring = bucket_start(at("2026-03-29T12:00:00Z"), berlin, GroupBy::Day);
        let next = bucket_start(at("2026-03-30T12:00:00Z"), berlin, GroupBy::Day);
        assert_eq!((next.0 - spring.0) / 3_600_000, 23);
        let autumn = bucket_start(at("2026-10-25T12:00:00Z"), berlin, GroupBy::Day);
        let after = bucket_start(at("2026-10-26T12:00:00Z"), berlin, GroupBy::Day);
        assert_eq!((after.0 - autumn.0) / 3_600_000, 25);
    }

    #[test]
    fn weeks_start_on_monday_months_on_the_first_and_hours_follow_the_offset() {
        let ny = zone("America/New_York").unwrap();
        assert_eq!(bucket_start(at("2026-11-26T15:00:00Z"), ny, GroupBy::Week), at("2026-11-23T05:00:00Z"));
        assert_eq!(bucket_start(at("2026-11-01T03:00:00Z"), ny, GroupBy::Month), at("2026-10-01T04:00:00Z"));
        let kolkata = zone("Asia/Kolkata").unwrap();
        assert_eq!(bucket_start(at("2026-11-26T10:20:00Z"), kolkata, GroupBy::Hour), at("2026-11-26T09:30:00Z"));
        assert_eq!(bucket_start(at("2026-11-26T10:40:00Z"), kolkata, GroupBy::Hour), at("2026-11-26T10:30:00Z"));
    }

    #[test]
    fn bad_periods_name_their_parameter() {
        let utc = zone("UTC").unwrap();
        let now = at("2026-12-01T00:00:00Z");
        let problem = |from, to, g| Period::parse(from, to, utc, g, now).unwrap_err().to_string();
        assert!(problem(Some("2026-11-30"), Some("2026-11-01"), None).starts_with("from:"));
        assert!(problem(Some("2025-01-01"), Some("2026-11-01"), None).starts_with("to:"));
        assert!(problem(Some("yesterday"), None, None).starts_with("from:"));
        assert!(problem(None, None, Some("fortnight")).starts_with("group_by:"));
        assert!(zone("Mars/Olympus").unwrap_err().to_string().starts_with("tz:"));
        let today = Period::parse(None, None, utc, None, now.plus_minutes(90)).unwrap();
        assert_eq!((today.from, today.to), (now, now.plus_minutes(90)));
    }

    #[test]
    fn quarter_hours_fit_the_buckets_of_zones_with_odd_offsets_but_minutes_do_not_fit_hours_off_utc() {
        let now = at("2026-12-01T00:00:00Z");
        for (name, g) in [("Asia/Kathmandu", "hour"), ("Asia/Kolkata", "hour"), ("America/New_York", "day")] {
            let p = Period::parse(Some("2026-10-01"), Some("2026-11-30"), zone(name).unwrap(), Some(g), now).unwrap();
            assert!(p.slots_fit(900_000), "{name} by {g}");
        }
        let kathmandu = zone("Asia/Kathmandu").unwrap();
        let p = Period::parse(Some("2026-11-01"), Some("2026-11-02"), kathmandu, Some("hour"), now).unwrap();
        assert!(!p.slots_fit(3_600_000), "Kathmandu's hours start at a quarter past UTC's");
    }
}
