//! A report as tables of typed cells, and their CSV: a header row, RFC 4180 quoting, UTF-8, and text
//! cells guarded against formula injection the way the contacts export guards them.

use crate::crm::csv::neutralize;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A duration in milliseconds, shown as seconds with one decimal.
    Seconds(Option<i64>),
    /// A share between 0 and 1, shown with four decimals.
    Ratio(Option<f64>),
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    pub fn maybe(value: Option<impl Into<String>>) -> Cell {
        value.map_or(Cell::Empty, |v| Cell::Text(v.into()))
    }

    /// Seconds with one decimal, rounded half away from zero.
    pub fn seconds(ms: i64) -> f64 {
        (ms as f64 / 100.0).round() / 10.0
    }

    pub fn ratio(value: f64) -> f64 {
        (value * 10_000.0).round() / 10_000.0
    }

    /// The cell as CSV writes it (before quoting).
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(text) => neutralize(text),
            Cell::Int(n) => n.to_string(),
            Cell::Seconds(Some(ms)) => Cell::seconds(*ms).to_string(),
            Cell::Ratio(Some(r)) => Cell::ratio(*r).to_string(),
            Cell::Seconds(None) | Cell::Ratio(None) | Cell::Empty => String::new(),
        }
    }
}

/// One table of a report: its name, its columns, and rows of as many cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &'static str, columns: &[&'static str]) -> Table {
        Table { name, columns: columns.to_vec(), rows: vec![] }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a row of {} has as many cells as columns", self.name);
        self.rows.push(row);
    }

    /// The cell of `column` in `row`.
    pub fn cell(&self, row: usize, column: &str) -> Option<&Cell> {
        let index = self.columns.iter().position(|c| *c == column)?;
        self.rows.get(row)?.get(index)
    }
}

/// Writes a table's CSV a slice of rows at a time, so the caller can send each as it comes.
#[derive(Debug)]
pub struct CsvWriter {
    buffer: Vec<u8>,
}

impl CsvWriter {
    /// A writer that has written the header row.
    pub fn new(columns: &[&str]) -> CsvWriter {
        let mut writer = CsvWriter { buffer: Vec::new() };
        writer.record(columns.iter().map(|c| (*c).to_owned()));
        writer
    }

    pub fn write(&mut self, row: &[Cell]) {
        self.record(row.iter().map(Cell::csv));
    }

    /// What was written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buffer)
    }

    fn record(&mut self, cells: impl Iterator<Item = String>) {
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                self.buffer.push(b',');
            }
            if cell.contains([',', '"', '\n', '\r']) {
                self.buffer.push(b'"');
                self.buffer.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
                self.buffer.push(b'"');
            } else {
                self.buffer.extend_from_slice(cell.as_bytes());
            }
        }
        self.buffer.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_csv_quotes_per_rfc_4180_and_guards_formulas() {
        let mut w = CsvWriter::new(&["name", "n", "wait"]);
        w.write(&[Cell::text("Smith, \"Jo\""), Cell::Int(3), Cell::Seconds(Some(1_250))]);
        for evil in ["=1+1", "+1415", "-2", "@SUM(A1)", "\tx", "\rx"] {
            w.write(&[Cell::text(evil), Cell::Empty, Cell::Seconds(None)]);
        }
        w.write(&[Cell::text("Zoë ✓\nline"), Cell::Int(-1), Cell::Ratio(Some(2.0 / 3.0))]);
        let text = String::from_utf8(w.take()).unwrap();
        assert_eq!(
            text,
            "name,n,wait\r\n\"Smith, \"\"Jo\"\"\",3,1.3\r\n'=1+1,,\r\n'+1415,,\r\n'-2,,\r\n'@SUM(A1),,\r\n'\tx,,\r\n\"'\rx\",,\r\n\"Zoë ✓\nline\",-1,0.6667\r\n"
        );
        assert!(w.take().is_empty());
    }
}
