//! Server-drawn SVG charts of a report table: grouped bars, drawn with presentation attributes only
//! (no style element or attribute, no script), so the console can put them inline under its CSP. Each
//! chart carries its text alternative (`<title>`, `<desc>` and `aria-label`); the table is beside it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use parley_core::report::kinds::Kind;
use parley_core::report::range::Period;
use parley_core::report::table::{Cell, Table};

/// Colors of the series, in order (readable on white, told apart without color by the legend order).
const COLORS: [&str; 6] = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2"];

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 64.0;
const TOP: f64 = 40.0;

/// What a chart shows: categories along the bottom, one bar per series in each.
#[derive(Debug, Default)]
pub(super) struct Chart {
    pub(super) title: String,
    pub(super) unit: String,
    pub(super) categories: Vec<String>,
    pub(super) series: Vec<(String, Vec<f64>)>,
}

pub(super) fn response(kind: Kind, period: &Period, table: &Table) -> Response {
    let chart = of_table(kind, period, table);
    let mut response = svg(&chart).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml; charset=utf-8"));
    response
}

fn number(cell: Option<&Cell>) -> f64 {
    match cell {
        Some(Cell::Int(n)) => *n as f64,
        Some(Cell::Seconds(Some(ms))) => Cell::seconds(*ms),
        Some(Cell::Ratio(Some(r))) => Cell::ratio(*r) * 100.0,
        _ => 0.0,
    }
}

fn text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

/// Sums `value` by (category, series) over the rows, in first-seen order.
fn pivot(table: &Table, category: &str, series: Option<&str>, value: &str) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let mut categories: Vec<String> = vec![];
    let mut names: Vec<String> = vec![];
    let mut sums: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for row in 0..table.rows.len() {
        let c = text(table.cell(row, category));
        let s = series.map_or_else(|| words(value), |s| text(table.cell(row, s)));
        let ci = categories.iter().position(|x| *x == c).unwrap_or_else(|| {
            categories.push(c);
            categories.len() - 1
        });
        let si = names.iter().position(|x| *x == s).unwrap_or_else(|| {
            names.push(s);
            names.len() - 1
        });
        *sums.entry((ci, si)).or_default() += number(table.cell(row, value));
    }
    let series = names
        .into_iter()
        .enumerate()
        .map(|(si, name)| (name, (0..categories.len()).map(|ci| sums.get(&(ci, si)).copied().unwrap_or(0.0)).collect()))
        .collect();
    (categories, series)
}

/// The chart a table is drawn as.
pub(super) fn of_table(kind: Kind, period: &Period, table: &Table) -> Chart {
    let grouped = period.group_by.is_some();
    let (title, unit, category, series, value) = match (kind, table.name) {
        (Kind::Queues, _) if grouped => {
            ("Average wait over time, by queue", "seconds", "period", Some("queue"), "average_wait_seconds")
        }
        (Kind::Queues, _) => {
            ("Service level by queue", "% answered within the threshold", "queue_name", None, "service_level")
        }
        (Kind::UsersTeams, _) => {
            let mut agents = table.clone();
            agents.rows.retain(|r| matches!(r.get(1), Some(Cell::Text(level)) if level == "agent"));
            let (categories, series) = pivot(&agents, "name", None, "answered");
            return Chart { title: "Answered chats by agent".to_owned(), unit: "chats".to_owned(), categories, series };
        }
        (Kind::Performance, "start_types") => ("Chats by start type", "chats", "period", Some("start_type"), "chats"),
        (Kind::Performance, "delivery") => {
            ("Delivery success by number", "% delivered", "number", Some("carrier"), "success_rate")
        }
        (Kind::Performance, _) => {
            let mut by_type = table.clone();
            by_type.rows.retain(|r| !matches!(r.get(1), Some(Cell::Text(t)) if t == "total"));
            let (categories, series) = pivot(&by_type, "period", Some("type"), "messages");
            return Chart {
                title: "Message volume over time, by type".to_owned(),
                unit: "messages".to_owned(),
                categories,
                series,
            };
        }
        (Kind::CallsChats | Kind::ChatHistory, _) => ("Chats and calls by type", "rows", "type", None, "id"),
    };
    let (categories, series) = if value == "id" {
        let mut counts: BTreeMap<String, f64> = BTreeMap::new();
        for row in 0..table.rows.len() {
            *counts.entry(text(table.cell(row, category))).or_default() += 1.0;
        }
        (counts.keys().cloned().collect(), vec![("Rows".to_owned(), counts.values().copied().collect())])
    } else {
        pivot(table, category, series, value)
    };
    Chart { title: title.to_owned(), unit: unit.to_owned(), categories, series }
}

/// A column's name as words: `service_level` is "Service level".
fn words(column: &str) -> String {
    let spaced = column.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A round top for the axis: 1, 2 or 5 times a power of ten.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|v| *v >= max).unwrap_or(max)
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// The SVG of a chart, with its text alternative listing every value.
pub(super) fn svg(chart: &Chart) -> String {
    let mut alt = format!("{} ({}).", chart.title, chart.unit);
    for (i, category) in chart.categories.iter().enumerate() {
        let values: Vec<String> =
            chart.series.iter().map(|(name, values)| format!("{name} {}", format_value(values[i]))).collect();
        let _ = write!(alt, " {category}: {}.", values.join(", "));
    }
    if chart.categories.is_empty() {
        alt.push_str(" No data in this period.");
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">",
        escape(&alt)
    );
    let _ = write!(out, "<title>{}</title><desc>{}</desc>", escape(&chart.title), escape(&alt));
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"16\" font-size=\"14\" font-weight=\"bold\" fill=\"#111827\">{}</text>",
        escape(&chart.title)
    );
    let max = chart.series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    // A share is drawn against the whole.
    let top = if chart.unit.starts_with('%') { 100.0 } else { nice_top(max) };
    let plot_w = WIDTH - LEFT - 16.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    for step in 0..=4 {
        let value = top * f64::from(step) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(step) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#374151\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            format_value(value)
        );
    }
    let _ = write!(out, "<text x=\"{LEFT}\" y=\"{:.1}\" fill=\"#6b7280\">{}</text>", TOP - 8.0, escape(&chart.unit));
    let groups = chart.categories.len().max(1) as f64;
    let group_w = plot_w / groups;
    let bars = chart.series.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / bars).max(1.0);
    for (ci, category) in chart.categories.iter().enumerate() {
        let x0 = LEFT + group_w * ci as f64 + group_w * 0.1;
        for (si, (name, values)) in chart.series.iter().enumerate() {
            let h = plot_h * values[ci] / top;
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                x0 + bar_w * si as f64,
                TOP + plot_h - h,
                bar_w,
                COLORS[si % COLORS.len()],
                escape(category),
                escape(name),
                format_value(values[ci])
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">{}</text>",
            x0 + group_w * 0.4,
            TOP + plot_h + 16.0,
            escape(category)
        );
    }
    for (si, (name, _)) in chart.series.iter().enumerate() {
        let x = LEFT + 150.0 * si as f64;
        let y = HEIGHT - 18.0;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{y:.1}\" fill=\"#111827\">{}</text>",
            y - 9.0,
            COLORS[si % COLORS.len()],
            x + 14.0,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_every_value_in_its_text_alternative_and_escapes_names() {
        let chart = Chart {
            title: "Service level by queue".to_owned(),
            unit: "%".to_owned(),
            categories: vec!["sales".to_owned(), "<b>".to_owned()],
            series: vec![("service_level".to_owned(), vec![75.0, 12.5])],
        };
        let svg = svg(&chart);
        assert!(svg.contains(
            "<desc>Service level by queue (%). sales: service_level 75. &lt;b&gt;: service_level 12.5.</desc>"
        ));
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("style") && !svg.contains("<script"));
        assert_eq!(svg.matches("<rect").count(), 2 + 1);
    }
}
