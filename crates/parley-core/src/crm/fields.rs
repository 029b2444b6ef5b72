//! Custom contact fields: what the setup declares (`[[contact_fields]]`) and how a value is checked
//! against its declaration.
//!
//! A value is stored as text in its type's canonical form, so that the store, the CSV and the API never
//! disagree on how "3.50" or "2026-1-2" is written: a number as Rust's `f64` Display writes it (`3.5`),
//! a date as `YYYY-MM-DD`, a choice exactly as declared, a text trimmed.

use std::fmt;

/// The longest text value of a custom field.
pub const MAX_FIELD_TEXT_CHARS: usize = 500;

/// The type of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Choice,
}

impl FieldKind {
    pub const ALL: [FieldKind; 4] = [FieldKind::Text, FieldKind::Number, FieldKind::Date, FieldKind::Choice];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
        }
    }

    pub fn parse(text: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declared custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The key in a contact's `fields` and the CSV column name (a slug: a-z, 0-9, `_`).
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The allowed values of a choice field (empty for the other types).
    pub choices: Vec<String>,
}

/// A value as given: JSON gives numbers and strings, CSV only strings.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldInput {
    Text(String),
    Number(f64),
}

/// Why a custom field declaration is wrong (the caller adds where it is).
pub fn declaration_problem(def: &FieldDef) -> Option<String> {
    let key_ok = !def.key.is_empty()
        && def.key.len() <= 40
        && def.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !def.key.starts_with(|c: char| c.is_ascii_digit());
    if !key_ok {
        return Some(format!(
            "key \"{}\" must be 1 to 40 characters of a-z, 0-9 and _, not starting with a digit",
            def.key
        ));
    }
    if RESERVED_KEYS.contains(&def.key.as_str()) {
        return Some(format!("key \"{}\" is a built-in contact column", def.key));
    }
    if def.label.trim().is_empty() {
        return Some("label must not be empty".to_owned());
    }
    match def.kind {
        FieldKind::Choice if def.choices.is_empty() => Some("a choice field needs a list of choices".to_owned()),
        FieldKind::Choice => {
            let mut seen = std::collections::HashSet::new();
            def.choices
                .iter()
                .find(|c| c.trim().is_empty() || !seen.insert(c.as_str()))
                .map(|c| format!("choice \"{c}\" is empty or listed twice"))
        }
        _ if !def.choices.is_empty() => Some(format!("only a choice field has choices, not a {} field", def.kind)),
        _ => None,
    }
}

/// Names a custom field may not take: the CSV's own columns.
pub const RESERVED_KEYS: [&str; 8] = ["id", "name", "phones", "email", "company", "owner", "tags", "notes"];

/// The canonical text of `input` for `def`, or why it does not fit.
pub fn canonical_value(def: &FieldDef, input: &FieldInput) -> Result<String, String> {
    match (def.kind, input) {
        (FieldKind::Number, FieldInput::Number(n)) if n.is_finite() => Ok(n.to_string()),
        (FieldKind::Number, FieldInput::Text(t)) => match t.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n.to_string()),
            _ => Err(format!("\"{t}\" is not a number")),
        },
        (FieldKind::Number, FieldInput::Number(_)) => Err("must be a finite number".to_owned()),
        (_, FieldInput::Number(n)) => Err(format!("{n} is a number; this {} field takes a string", def.kind)),
        (FieldKind::Text, FieldInput::Text(t)) => {
            let t = t.trim();
            let chars = t.chars().count();
            if chars > MAX_FIELD_TEXT_CHARS {
                Err(format!("has {chars} characters; the limit is {MAX_FIELD_TEXT_CHARS}"))
            } else {
                Ok(t.to_owned())
            }
        }
        (FieldKind::Date, FieldInput::Text(t)) => chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| format!("\"{t}\" is not a date: write it as YYYY-MM-DD")),
        (FieldKind::Choice, FieldInput::Text(t)) => {
            if def.choices.iter().any(|c| c == t.trim()) {
                Ok(t.trim().to_owned())
            } else {
                Err(format!("\"{t}\" is not one of the choices: {}", def.choices.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: FieldKind, choices: &[&str]) -> FieldDef {
        FieldDef {
            key: "plan".to_owned(),
            label: "Plan".to_owned(),
            kind,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn contacts_values_are_canonical_or_refused() {
        let number = def(FieldKind::Number, &[]);
        assert_eq!(canonical_value(&number, &FieldInput::Text(" 3.50 ".into())).unwrap(), "3.5");
        assert_eq!(canonical_value(&number, &FieldInput::Number(2.0)).unwrap(), "2");
        assert!(canonical_value(&number, &FieldInput::Text("three".into())).is_err());
        let date = def(FieldKind::Date, &[]);
        assert_eq!(canonical_value(&date, &FieldInput::Text("2026-1-2".into())).unwrap(), "2026-01-02");
        assert!(canonical_value(&date, &FieldInput::Text("2026-02-30".into())).is_err());
        assert!(canonical_value(&date, &FieldInput::Number(1.0)).is_err());
        let choice = def(FieldKind::Choice, &["gold", "silver"]);
        assert_eq!(canonical_value(&choice, &FieldInput::Text("gold".into())).unwrap(), "gold");
        assert!(canonical_value(&choice, &FieldInput::Text("bronze".into())).is_err());
    }

    #[test]
    fn contacts_declarations_are_checked() {
        assert!(declaration_problem(&def(FieldKind::Choice, &["a"])).is_none());
        assert!(declaration_problem(&def(FieldKind::Choice, &[])).is_some());
        assert!(declaration_problem(&def(FieldKind::Choice, &["a", "a"])).is_some());
        assert!(declaration_problem(&def(FieldKind::Text, &["a"])).is_some());
        let mut bad = def(FieldKind::Text, &[]);
        bad.key = "Plan!".to_owned();
        assert!(declaration_problem(&bad).is_some());
        bad.key = "email".to_owned();
        assert!(declaration_problem(&bad).is_some());
    }
}
