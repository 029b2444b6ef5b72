//! A contact as written by an admin, an agent, an integration or an import, and its validation.
//!
//! Validation lists every problem at once, each with the JSON Pointer of the value at fault relative to
//! the contact's JSON (`/phones/1/number`, `/fields/plan`), so a form or an import report shows all of
//! them in one pass. The rules: phones are E.164, at least one phone or an e-mail or a name (a contact
//! nobody can reach or recognize is of no use), no phone twice, exactly one primary (the first when none
//! is marked, since that is what a list of numbers means when nobody says otherwise); tags are folded to
//! lower case and trimmed, so `VIP` and `vip ` are one tag; custom values must be declared and fit
//! their type ([`super::fields`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::phone::E164;
use crate::setup::email_problem;

use super::fields::{FieldDef, FieldInput, canonical_value};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_COMPANY_CHARS: usize = 200;
pub const MAX_NOTES_CHARS: usize = 20_000;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_TAGS: usize = 50;
pub const MAX_PHONES: usize = 20;

/// A phone as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneDraft {
    pub number: String,
    pub primary: bool,
}

/// A contact as given, before validation. `fields` maps a custom field key to its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactDraft {
    pub name: Option<String>,
    pub phones: Vec<PhoneDraft>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub notes: String,
    pub fields: BTreeMap<String, FieldInput>,
    pub external_ids: BTreeMap<String, String>,
}

/// One of a contact's phones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPhone {
    pub number: E164,
    pub primary: bool,
}

/// A valid contact: what the store keeps (without its id and times).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactData {
    pub name: Option<String>,
    /// In the order given; exactly one primary when not empty.
    pub phones: Vec<ContactPhone>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub owner: Option<String>,
    pub tags: BTreeSet<String>,
    pub notes: String,
    /// Custom values, canonical.
    pub fields: BTreeMap<String, String>,
    pub external_ids: BTreeMap<String, String>,
}

/// One problem of a draft: the JSON Pointer of the value at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {reason}")]
pub struct ContactProblem {
    pub pointer: String,
    pub reason: String,
}

/// A key as one reference token of a JSON Pointer (RFC 6901).
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A text field trimmed, empty as absent, checked for length and control characters.
fn optional_text(
    value: &Option<String>,
    pointer: &str,
    max: usize,
    problems: &mut Vec<ContactProblem>,
) -> Option<String> {
    let text = value.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    let chars = text.chars().count();
    if chars > max {
        problems.push(problem(pointer, format!("has {chars} characters; the limit is {max}")));
    } else if text.chars().any(char::is_control) {
        problems.push(problem(pointer, "must not contain control characters".to_owned()));
    }
    Some(text.to_owned())
}

fn problem(pointer: &str, reason: String) -> ContactProblem {
    ContactProblem { pointer: pointer.to_owned(), reason }
}

impl ContactDraft {
    /// Checks the draft against the rules and the declared custom fields: the valid contact, or every
    /// problem found.
    pub fn validate(&self, declared: &[FieldDef]) -> Result<ContactData, Vec<ContactProblem>> {
        let mut problems = Vec::new();
        let name = optional_text(&self.name, "/name", MAX_NAME_CHARS, &mut problems);
        let company = optional_text(&self.company, "/company", MAX_COMPANY_CHARS, &mut problems);
        let owner = optional_text(&self.owner, "/owner", 64, &mut problems);
        let email = optional_text(&self.email, "/email", crate::setup::MAX_EMAIL_CHARS, &mut problems);
        if let Some(reason) = email.as_deref().and_then(email_problem) {
            problems.push(problem("/email", reason));
        }

        if self.phones.len() > MAX_PHONES {
            problems.push(problem("/phones", format!("has {} phones; the limit is {MAX_PHONES}", self.phones.len())));
        }
        let mut phones: Vec<ContactPhone> = Vec::new();
        let primaries = self.phones.iter().filter(|p| p.primary).count();
        if primaries > 1 {
            problems.push(problem("/phones", format!("{primaries} phones are marked primary: mark one")));
        }
        for (i, p) in self.phones.iter().enumerate() {
            match E164::parse(&p.number) {
                Ok(number) if phones.iter().any(|q| q.number == number) => {
                    problems.push(problem(&format!("/phones/{i}/number"), format!("{number} is listed twice")));
                }
                Ok(number) => phones.push(ContactPhone { number, primary: p.primary }),
                Err(e) => problems.push(problem(&format!("/phones/{i}/number"), e.to_string())),
            }
        }
        if primaries == 0
            && let Some(first) = phones.first_mut()
        {
            first.primary = true;
        }

        let notes = self.notes.trim_end().to_owned();
        let notes_chars = notes.chars().count();
        if notes_chars > MAX_NOTES_CHARS {
            problems.push(problem("/notes", format!("has {notes_chars} characters; the limit is {MAX_NOTES_CHARS}")));
        }

        let mut tags = BTreeSet::new();
        for (i, tag) in self.tags.iter().enumerate() {
            let folded = tag.trim().to_lowercase();
            let chars = folded.chars().count();
            if folded.is_empty() {
                problems.push(problem(&format!("/tags/{i}"), "must not be empty".to_owned()));
            } else if chars > MAX_TAG_CHARS || folded.chars().any(char::is_control) || folded.contains(';') {
                let reason = format!("must be at most {MAX_TAG_CHARS} characters, without control characters or ;");
                problems.push(problem(&format!("/tags/{i}"), reason));
            } else {
                tags.insert(folded);
            }
        }
        if tags.len() > MAX_TAGS {
            problems.push(problem("/tags", format!("has {} tags; the limit is {MAX_TAGS}", tags.len())));
        }

        let mut fields = BTreeMap::new();
        for (key, input) in &self.fields {
            let pointer = format!("/fields/{}", pointer_token(key));
            let Some(def) = declared.iter().find(|d| &d.key == key) else {
                let known: Vec<&str> = declared.iter().map(|d| d.key.as_str()).collect();
                let known = if known.is_empty() { "none are declared".to_owned() } else { known.join(", ") };
                problems.push(problem(&pointer, format!("is not a declared contact field (known: {known})")));
                continue;
            };
            match canonical_value(def, input) {
                // An empty text is "no value", like an empty CSV cell.
                Ok(value) if value.is_empty() => {}
                Ok(value) => {
                    fields.insert(key.clone(), value);
                }
                Err(reason) => problems.push(problem(&pointer, reason)),
            }
        }

        let mut external_ids = BTreeMap::new();
        for (connector, id) in &self.external_ids {
            let pointer = format!("/external_ids/{}", pointer_token(connector));
            if crate::ids::QueueId::parse(connector).is_err() || id.trim().is_empty() || id.len() > 200 {
                problems
                    .push(problem(&pointer, "needs a connector name (a-z, 0-9, -_.) and a non-empty id".to_owned()));
            } else {
                external_ids.insert(connector.clone(), id.trim().to_owned());
            }
        }

        if name.is_none() && phones.is_empty() && email.is_none() && problems.is_empty() {
            problems.push(problem("", "a contact needs at least a name, a phone or an e-mail".to_owned()));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ContactData { name, phones, email, company, owner, tags, notes, fields, external_ids })
    }
}

impl ContactData {
    /// The draft that validates back to this contact (for a patch: change some fields, validate again).
    pub fn to_draft(&self) -> ContactDraft {
        ContactDraft {
            name: self.name.clone(),
            phones: self
                .phones
                .iter()
                .map(|p| PhoneDraft { number: p.number.as_str().to_owned(), primary: p.primary })
                .collect(),
            email: self.email.clone(),
            company: self.company.clone(),
            owner: self.owner.clone(),
            tags: self.tags.iter().cloned().collect(),
            notes: self.notes.clone(),
            fields: self.fields.iter().map(|(k, v)| (k.clone(), FieldInput::Text(v.clone()))).collect(),
            external_ids: self.external_ids.clone(),
        }
    }

    /// The primary phone, if any.
    pub fn primary_phone(&self) -> Option<&E164> {
        self.phones.iter().find(|p| p.primary).map(|p| &p.number)
    }
}

/// The folded form of a searchable text (the `*_key` columns): lower case, trimmed. Searching folds the
/// query the same way, so a prefix of the key is a prefix of what the user typed.
pub fn search_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// What a search query is, for the store: the phone digits when it is a phone prefix (`+1415`, `1415`,
/// `(415) 55`), else the folded text for names and e-mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// Digits, without `+`.
    Phone(String),
    Text(String),
}

impl SearchQuery {
    /// `None` for an empty query.
    pub fn parse(q: &str) -> Option<SearchQuery> {
        let q = q.trim();
        if q.is_empty() {
            return None;
        }
        let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        if phone_like && !digits.is_empty() {
            Some(SearchQuery::Phone(digits))
        } else {
            Some(SearchQuery::Text(search_key(q)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::fields::FieldKind;

    fn phone(n: &str, primary: bool) -> PhoneDraft {
        PhoneDraft { number: n.to_owned(), primary }
    }

    fn declared() -> Vec<FieldDef> {
        vec![FieldDef {
            key: "plan".to_owned(),
            label: "Plan".to_owned(),
            kind: FieldKind::Choice,
            choices: vec!["gold".to_owned()],
        }]
    }

    #[test]
    fn contacts_first_phone_is_primary_when_none_is_marked() {
        let draft = ContactDraft {
            phones: vec![phone("+14155550100", false), phone("+14155550101", false)],
            tags: vec![" VIP ".to_owned(), "vip".to_owned()],
            ..ContactDraft::default()
        };
        let c = draft.validate(&[]).unwrap();
        assert!(c.phones[0].primary && !c.phones[1].primary);
        assert_eq!(c.tags.iter().collect::<Vec<_>>(), vec!["vip"]);
    }

    #[test]
    fn contacts_every_problem_is_listed_with_its_pointer() {
        let mut fields = BTreeMap::new();
        fields.insert("plan".to_owned(), FieldInput::Text("bronze".to_owned()));
        fields.insert("size".to_owned(), FieldInput::Number(3.0));
        let draft = ContactDraft {
            phones: vec![phone("+14155550100", true), phone("4155550101", true), phone("+14155550100", false)],
            email: Some("not-an-email".to_owned()),
            fields,
            ..ContactDraft::default()
        };
        let problems = draft.validate(&declared()).unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec!["/email", "/phones", "/phones/1/number", "/phones/2/number", "/fields/plan", "/fields/size"]
        );
    }

    #[test]
    fn contacts_empty_contact_is_refused() {
        assert_eq!(ContactDraft::default().validate(&[]).unwrap_err()[0].pointer, "");
    }

    #[test]
    fn contacts_search_query_tells_phones_from_text() {
        assert_eq!(SearchQuery::parse("+1 415"), Some(SearchQuery::Phone("1415".to_owned())));
        assert_eq!(SearchQuery::parse(" Bob "), Some(SearchQuery::Text("bob".to_owned())));
        assert_eq!(SearchQuery::parse("  "), None);
    }
}
