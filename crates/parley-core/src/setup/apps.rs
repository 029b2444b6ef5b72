//! The business's mobile apps (`[[apps]]`, docs/ivr.md "SMS to launch the app"): per app a download
//! link per platform and a launch (deep) link template. A predefined reply of kind `app_launch` names
//! one; sending it fills `{app_link}` with the launch link carrying a signed, expiring token (so the
//! app can report that it opened, and for which conversation), `{ios_link}` and `{android_link}` with
//! the download links.

use std::collections::HashSet;

use super::validate::SetupError;

/// The token placeholder a launch link must hold.
pub const TOKEN_PLACEHOLDER: &str = "{token}";
/// How long a launch link works by default, and at most (a week).
pub const DEFAULT_TOKEN_MINUTES: u32 = 60;
pub const MAX_TOKEN_MINUTES: u32 = 10_080;

/// An app as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppDraft {
    pub id: String,
    pub name: String,
    /// Where iPhone users download it (App Store), and Android users (Google Play).
    pub ios: String,
    pub android: String,
    /// The launch link, with `{token}` where the token goes: `https://app.example.com/open?t={token}`
    /// (a universal / app link) or `example://support/{token}`.
    pub launch: String,
    pub token_minutes: Option<u32>,
}

/// A validated app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    pub ios: String,
    pub android: String,
    pub launch: String,
    pub token_minutes: u32,
}

impl App {
    pub fn to_draft(&self) -> AppDraft {
        AppDraft {
            id: self.id.clone(),
            name: self.name.clone(),
            ios: self.ios.clone(),
            android: self.android.clone(),
            launch: self.launch.clone(),
            token_minutes: (self.token_minutes != DEFAULT_TOKEN_MINUTES).then_some(self.token_minutes),
        }
    }

    /// The launch link carrying `token`.
    pub fn launch_link(&self, token: &str) -> String {
        self.launch.replace(TOKEN_PLACEHOLDER, token)
    }
}

fn is_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether `link` is an absolute link without spaces: `https://…` or an app's own `scheme://…`.
fn is_link(link: &str) -> bool {
    let Some((scheme, rest)) = link.split_once("://") else { return false };
    !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && !link.chars().any(char::is_whitespace)
        && link.len() <= 500
}

/// Checks the apps, pushing every problem into `errors`.
pub(super) fn validate_apps(drafts: &[AppDraft], errors: &mut Vec<SetupError>) -> Vec<App> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for d in drafts {
        if !is_id(&d.id) {
            errors.push(SetupError::InvalidId {
                what: "app".to_owned(),
                reason: format!("\"{}\": 1 to 40 of a-z, 0-9, '-' and '_'", d.id),
            });
            continue;
        }
        if !seen.insert(d.id.clone()) {
            errors.push(SetupError::DuplicateId { kind: "app", id: d.id.clone() });
            continue;
        }
        let owner = format!("app \"{}\"", d.id);
        let invalid = |field: &str, reason: &str| SetupError::InvalidField {
            owner: owner.clone(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        for (field, link) in [("ios", &d.ios), ("android", &d.android)] {
            if !link.starts_with("https://") || !is_link(link) {
                errors.push(invalid(field, "must be the https:// download link of the app's store page"));
            }
        }
        if !is_link(&d.launch) || !d.launch.contains(TOKEN_PLACEHOLDER) {
            errors.push(invalid(
                "launch",
                "must be a link (https://… or the app's scheme://…) with {token} where the token goes",
            ));
        }
        let token_minutes = d.token_minutes.unwrap_or(DEFAULT_TOKEN_MINUTES);
        if !(1..=MAX_TOKEN_MINUTES).contains(&token_minutes) {
            errors.push(invalid("token_minutes", "must be 1 to 10080 (a week)"));
        }
        let name = if d.name.trim().is_empty() { d.id.clone() } else { d.name.trim().to_owned() };
        out.push(App {
            id: d.id.clone(),
            name,
            ios: d.ios.clone(),
            android: d.android.clone(),
            launch: d.launch.clone(),
            token_minutes,
        });
    }
    out
}
