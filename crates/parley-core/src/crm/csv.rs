//! The contacts CSV (docs/crm.md "Import and export (CSV)"): one definition of the columns, read by
//! the import and written by the export, so that an export imports back as the same contacts.
//!
//! Columns: `id,name,phones,email,company,owner,tags,notes`, then one per declared custom field (its
//! key, in the setup's order), then `created_at,updated_at`. `phones` and `tags` hold several values
//! separated by `;`, the primary phone first. An import reads a header naming any of these columns in
//! any order; `id`, `created_at` and `updated_at` are accepted and ignored, because an import always
//! creates new contacts. An empty cell is an absent value.
//!
//! Spreadsheets run a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a
//! formula, so a file exported from a contact center must not carry them at the start of a cell
//! (formula injection). The export puts a `'` before such a cell, and before a cell that begins with
//! `'` followed by one of them, so the rule can be undone exactly: the import removes one leading `'`
//! when what follows would have been guarded. Every phone begins with `+`, so a phones cell is always
//! guarded; the import also drops a `'` in front of each phone of a list, the way people write phones
//! by hand in a spreadsheet.
//!
//! Nothing here does I/O: the reader works on bytes the caller read, the writer fills a buffer the
//! caller drains after each page.

use std::collections::BTreeSet;

use super::contact::{ContactData, ContactDraft, ContactProblem, PhoneDraft, pointer_token};
use super::fields::{FieldDef, FieldInput};

/// The columns before the custom fields, in the order the export writes them.
pub const LEADING_COLUMNS: [&str; 8] = ["id", "name", "phones", "email", "company", "owner", "tags", "notes"];

/// The columns after the custom fields (written by the export, ignored by the import).
pub const TRAILING_COLUMNS: [&str; 2] = ["created_at", "updated_at"];

/// What separates the values of a `phones` or `tags` cell.
pub const LIST_SEPARATOR: char = ';';

/// The characters a spreadsheet takes as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// What a column of the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// `id`, `created_at`, `updated_at`: written by the export, not read back.
    Ignored,
    Name,
    Phones,
    Email,
    Company,
    Owner,
    Tags,
    Notes,
    /// A declared custom field, by key.
    Field(String),
}

/// Why a file's header cannot be read: the import stops before any row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the file is empty: the first line must name the columns")]
    Empty,
    #[error("the header (line 1) is not UTF-8")]
    NotUtf8,
    #[error("unknown columns: {}; the known columns are: {}", unknown.join(", "), known.join(", "))]
    Unknown { unknown: Vec<String>, known: Vec<String> },
    #[error("column {0} is named twice")]
    Duplicate(String),
    #[error("the header needs at least one of the columns name, phones and email")]
    NoIdentity,
    #[error("the header cannot be read: {0}")]
    Malformed(String),
}

/// Every column name this deployment's files may have, in the export's order.
pub fn columns(declared: &[FieldDef]) -> Vec<String> {
    LEADING_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(declared.iter().map(|d| d.key.clone()))
        .chain(TRAILING_COLUMNS.iter().map(|c| (*c).to_owned()))
        .collect()
}

/// A cell as a spreadsheet may show it: guarded with a leading `'` when it would start a formula.
pub fn neutralize(cell: &str) -> String {
    if needs_guard(cell) { format!("'{cell}") } else { cell.to_owned() }
}

/// A cell as it was before [`neutralize`]: one leading `'` removed when what follows needed it.
pub fn unneutralize(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Whether a cell starts a formula, or is already a guarded one (so that the guard can be undone
/// exactly: `'=x` is written `''=x`).
fn needs_guard(cell: &str) -> bool {
    let mut rest = cell;
    while let Some(after) = rest.strip_prefix('\'') {
        rest = after;
    }
    rest.starts_with(FORMULA_STARTS)
}

/// One data row of an import: its line in the file (the header is line 1; a quoted cell with line
/// breaks counts every physical line) and its draft, or what is wrong with the row as CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// 1-based line of the row's first physical line.
    pub line: u64,
    pub draft: Result<ContactDraft, Vec<ContactProblem>>,
}

impl CsvRow {
    /// The row checked against the declared fields: the valid contact, or every problem of the row.
    pub fn validate(&self, declared: &[FieldDef]) -> Result<ContactData, Vec<ContactProblem>> {
        match &self.draft {
            Ok(draft) => draft.validate(declared),
            Err(problems) => Err(problems.clone()),
        }
    }
}

/// The rows of an import file, in order, after a valid header.
pub struct ContactsReader<'a> {
    reader: ::csv::Reader<&'a [u8]>,
    columns: Vec<Column>,
    record: ::csv::ByteRecord,
}

impl std::fmt::Debug for ContactsReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactsReader").field("columns", &self.columns).finish_non_exhaustive()
    }
}

impl<'a> ContactsReader<'a> {
    /// Reads and checks the header of `input` (a UTF-8 byte order mark is skipped) against the
    /// declared custom fields.
    pub fn new(input: &'a [u8], declared: &[FieldDef]) -> Result<ContactsReader<'a>, HeaderError> {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        let mut header = ::csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(HeaderError::Empty),
            Err(e) => return Err(HeaderError::Malformed(e.to_string())),
        }
        let mut columns = Vec::with_capacity(header.len());
        let mut seen = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in &header {
            let name = std::str::from_utf8(name).map_err(|_| HeaderError::NotUtf8)?.trim().to_lowercase();
            if !seen.insert(name.clone()) {
                return Err(HeaderError::Duplicate(name));
            }
            let column = match name.as_str() {
                "id" | "created_at" | "updated_at" => Column::Ignored,
                "name" => Column::Name,
                "phones" => Column::Phones,
                "email" => Column::Email,
                "company" => Column::Company,
                "owner" => Column::Owner,
                "tags" => Column::Tags,
                "notes" => Column::Notes,
                key if declared.iter().any(|d| d.key == key) => Column::Field(key.to_owned()),
                _ => {
                    unknown.push(if name.is_empty() { "\"\" (an empty name)".to_owned() } else { name });
                    continue;
                }
            };
            columns.push(column);
        }
        if !unknown.is_empty() {
            return Err(HeaderError::Unknown { unknown, known: self::columns(declared) });
        }
        if !columns.iter().any(|c| matches!(c, Column::Name | Column::Phones | Column::Email)) {
            return Err(HeaderError::NoIdentity);
        }
        Ok(ContactsReader { reader, columns, record: ::csv::ByteRecord::new() })
    }

    /// The row of the current record.
    fn row(&self) -> CsvRow {
        let line = self.record.position().map_or(0, ::csv::Position::line);
        let mut problems = Vec::new();
        if self.record.len() != self.columns.len() {
            problems.push(ContactProblem {
                pointer: String::new(),
                reason: format!("has {} cells; the header has {} columns", self.record.len(), self.columns.len()),
            });
            return CsvRow { line, draft: Err(problems) };
        }
        let mut draft = ContactDraft::default();
        for (column, bytes) in self.columns.iter().zip(&self.record) {
            let pointer = match column {
                Column::Ignored => continue,
                Column::Name => "/name".to_owned(),
                Column::Phones => "/phones".to_owned(),
                Column::Email => "/email".to_owned(),
                Column::Company => "/company".to_owned(),
                Column::Owner => "/owner".to_owned(),
                Column::Tags => "/tags".to_owned(),
                Column::Notes => "/notes".to_owned(),
                Column::Field(key) => format!("/fields/{}", pointer_token(key)),
            };
            let Ok(cell) = std::str::from_utf8(bytes) else {
                problems.push(ContactProblem { pointer, reason: "is not UTF-8".to_owned() });
                continue;
            };
            let cell = unneutralize(cell);
            if cell.trim().is_empty() {
                continue;
            }
            let text = Some(cell.to_owned());
            match column {
                Column::Ignored => {}
                Column::Name => draft.name = text,
                Column::Email => draft.email = text,
                Column::Company => draft.company = text,
                Column::Owner => draft.owner = text,
                Column::Notes => draft.notes = cell.to_owned(),
                Column::Phones => {
                    draft.phones = list(cell)
                        .enumerate()
                        .map(|(i, number)| PhoneDraft {
                            number: number.strip_prefix('\'').unwrap_or(number).trim().to_owned(),
                            primary: i == 0,
                        })
                        .collect();
                }
                Column::Tags => draft.tags = list(cell).map(str::to_owned).collect(),
                Column::Field(key) => {
                    draft.fields.insert(key.clone(), FieldInput::Text(cell.to_owned()));
                }
            }
        }
        CsvRow { line, draft: if problems.is_empty() { Ok(draft) } else { Err(problems) } }
    }
}

/// The values of a `;` list, trimmed, without empty ones.
fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(LIST_SEPARATOR).map(str::trim).filter(|v| !v.is_empty())
}

impl Iterator for ContactsReader<'_> {
    type Item = CsvRow;

    fn next(&mut self) -> Option<CsvRow> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => Some(self.row()),
            Ok(false) => None,
            // Reading bytes from memory, flexibly, the csv crate has no error left to give; should a
            // future version find one, the row is refused rather than the file.
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                Some(CsvRow {
                    line,
                    draft: Err(vec![ContactProblem { pointer: String::new(), reason: e.to_string() }]),
                })
            }
        }
    }
}

/// A contact as exported: its id and times beside its data.
#[derive(Debug, Clone, Copy)]
pub struct ExportRow<'a> {
    pub id: &'a str,
    pub data: &'a ContactData,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// Writes an export into a buffer: the header first, then rows; [`ContactsWriter::take`] drains what
/// was written so far.
pub struct ContactsWriter {
    writer: ::csv::Writer<Vec<u8>>,
    fields: Vec<String>,
}

impl std::fmt::Debug for ContactsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactsWriter").field("fields", &self.fields).finish_non_exhaustive()
    }
}

impl ContactsWriter {
    /// A writer with the header for the declared custom fields already written.
    pub fn new(declared: &[FieldDef]) -> ContactsWriter {
        let mut writer =
            ContactsWriter { writer: new_writer(), fields: declared.iter().map(|d| d.key.clone()).collect() };
        writer.record(columns(declared));
        writer
    }

    /// Appends one contact. Values of custom fields no longer declared are left out.
    pub fn write(&mut self, row: &ExportRow<'_>) {
        let d = row.data;
        let primary = d.phones.iter().filter(|p| p.primary);
        let others = d.phones.iter().filter(|p| !p.primary);
        let phones: Vec<&str> = primary.chain(others).map(|p| p.number.as_str()).collect();
        let tags: Vec<&str> = d.tags.iter().map(String::as_str).collect();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut cells = vec![
            row.id.to_owned(),
            text(&d.name),
            phones.join(";"),
            text(&d.email),
            text(&d.company),
            text(&d.owner),
            tags.join(";"),
            d.notes.clone(),
        ];
        cells.extend(self.fields.iter().map(|key| d.fields.get(key).cloned().unwrap_or_default()));
        cells.push(timestamp(row.created_at));
        cells.push(timestamp(row.updated_at));
        self.record(cells);
    }

    fn record(&mut self, cells: Vec<String>) {
        let cells: Vec<String> = cells.iter().map(|c| neutralize(c)).collect();
        // Writing to a Vec cannot fail: the csv crate's only errors are those of the writer below it.
        let _ = self.writer.write_record(&cells);
    }

    /// The bytes written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        let full = std::mem::replace(&mut self.writer, new_writer());
        full.into_inner().unwrap_or_else(|e| e.into_inner().get_ref().clone())
    }
}

/// RFC 4180: CRLF between records, quotes only where needed (a comma, a quote or a line break).
fn new_writer() -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new())
}

/// Epoch milliseconds as RFC 3339 in UTC (`2026-12-02T18:32:05.723Z`), as the API writes times.
fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::fields::FieldKind;

    fn declared() -> Vec<FieldDef> {
        vec![
            FieldDef {
                key: "plan".to_owned(),
                label: "Plan".to_owned(),
                kind: FieldKind::Choice,
                choices: vec!["gold".to_owned(), "silver".to_owned()],
            },
            FieldDef { key: "since".to_owned(), label: "Since".to_owned(), kind: FieldKind::Date, choices: vec![] },
        ]
    }

    fn rows(input: &str) -> Vec<CsvRow> {
        ContactsReader::new(input.as_bytes(), &declared()).unwrap().collect()
    }

    fn export(contacts: &[(&str, &ContactData)]) -> String {
        let mut w = ContactsWriter::new(&declared());
        for (id, data) in contacts {
            w.write(&ExportRow { id, data, created_at: 1_764_700_000_000, updated_at: 1_764_700_000_000 });
        }
        String::from_utf8(w.take()).unwrap()
    }

    #[test]
    fn contacts_csv_round_trips_with_custom_fields() {
        let input = "name,phones,email,tags,notes,plan,since\n\
                     Ada Lovelace,+14155550100;+442071838750,ada@example.com,VIP;b2b,\"first, \"\"best\"\"\nline two\",gold,2026-1-2\n\
                     Bob,+4930123456,,,,,\n";
        let valid: Vec<ContactData> = rows(input).iter().map(|r| r.validate(&declared()).unwrap()).collect();
        assert_eq!(valid[0].phones.len(), 2);
        assert_eq!(valid[0].fields["since"], "2026-01-02");
        assert_eq!(valid[0].notes, "first, \"best\"\nline two");
        let text = export(&[("CT1", &valid[0]), ("CT2", &valid[1])]);
        assert_eq!(
            text.lines().next().unwrap(),
            "id,name,phones,email,company,owner,tags,notes,plan,since,created_at,updated_at"
        );
        let back: Vec<ContactData> = rows(&text).iter().map(|r| r.validate(&declared()).unwrap()).collect();
        assert_eq!(back, valid);
    }

    #[test]
    fn contacts_csv_quotes_commas_quotes_and_newlines() {
        let data = ContactDraft {
            name: Some("Smith, \"Jo\"".to_owned()),
            notes: "a\nb".to_owned(),
            ..ContactDraft::default()
        }
        .validate(&[])
        .unwrap();
        let text = export(&[("CT1", &data)]);
        let row = text.split("\r\n").nth(1).unwrap();
        assert!(row.starts_with("CT1,\"Smith, \"\"Jo\"\"\",,,,,,\"a\nb\",,,2025-12-02T18:26:40.000Z,"), "{row}");
    }

    #[test]
    fn contacts_csv_neutralizes_every_formula_start_and_imports_it_back() {
        for start in ["=", "+", "-", "@", "\t", "\r", "'=", "''+"] {
            let cell = format!("{start}SUM(A1)");
            let guarded = neutralize(&cell);
            assert_eq!(guarded, format!("'{cell}"), "{start:?}");
            assert_eq!(unneutralize(&guarded), cell);
        }
        for plain in ["ada", "'quoted'", "", "'", "a=b"] {
            assert_eq!(neutralize(plain), plain);
            assert_eq!(unneutralize(plain), plain);
        }
        let data = ContactDraft {
            name: Some("=HYPERLINK(\"x\")".to_owned()),
            phones: vec![PhoneDraft { number: "+14155550100".to_owned(), primary: true }],
            notes: "-1 owes us".to_owned(),
            company: Some("@home".to_owned()),
            ..ContactDraft::default()
        }
        .validate(&[])
        .unwrap();
        let text = export(&[("CT1", &data)]);
        let row = text.split("\r\n").nth(1).unwrap();
        assert!(row.starts_with("CT1,\"'=HYPERLINK(\"\"x\"\")\",'+14155550100,,'@home,,,'-1 owes us,"), "{row}");
        let back = rows(&text)[0].validate(&declared()).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn contacts_csv_phones_may_each_carry_a_quote() {
        let row = &rows("name,phones\nAda,'+14155550100; '+14155550101\n")[0];
        let data = row.validate(&[]).unwrap();
        assert_eq!(data.phones[1].number.as_str(), "+14155550101");
        assert!(data.phones[0].primary);
    }

    #[test]
    fn contacts_csv_bad_rows_carry_their_physical_line() {
        let input = "\u{feff}name,phones,notes,plan\n\
                     Ada,+14155550100,\"three\nline\nnote\",gold\n\
                     Bob,4155550101,,\n\
                     Cy,+14155550102,,bronze\n\
                     Dee,+14155550103\n";
        let report: Vec<(u64, Vec<String>)> = rows(input)
            .iter()
            .map(|r| {
                (r.line, r.validate(&declared()).err().unwrap_or_default().iter().map(|p| p.to_string()).collect())
            })
            .collect();
        assert_eq!(report[0], (2, vec![]));
        assert_eq!(report[1].0, 5);
        assert!(report[1].1[0].starts_with("/phones/0/number: "), "{:?}", report[1]);
        assert_eq!(report[2], (6, vec!["/fields/plan: \"bronze\" is not one of the choices: gold, silver".to_owned()]));
        assert_eq!(report[3], (7, vec![": has 2 cells; the header has 4 columns".to_owned()]));
    }

    #[test]
    fn contacts_csv_unknown_columns_are_named_with_the_known_ones() {
        let e = ContactsReader::new(b"name,Phone,plan,colour\n", &declared()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown columns: phone, colour; the known columns are: id, name, phones, email, company, owner, tags, \
             notes, plan, since, created_at, updated_at"
        );
        assert_eq!(ContactsReader::new(b"company,tags\n", &[]).unwrap_err(), HeaderError::NoIdentity);
        assert_eq!(ContactsReader::new(b"", &[]).unwrap_err(), HeaderError::Empty);
        assert_eq!(ContactsReader::new(b"name,Name\n", &[]).unwrap_err(), HeaderError::Duplicate("name".to_owned()));
        // The export's own columns are accepted, and ignored.
        let rows: Vec<CsvRow> =
            ContactsReader::new(b"id,email,created_at\nCT9,a@example.com,x\n", &[]).unwrap().collect();
        assert_eq!(rows[0].draft.as_ref().unwrap().email.as_deref(), Some("a@example.com"));
    }
}
