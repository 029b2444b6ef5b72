//! Agents' e-mail addresses: the name by which an integration's own systems (a ticketing tool, a CRM)
//! know an agent, so the outbound API takes `agent_email` besides Parley's agent id.
//!
//! An address is checked only for plausibility (one `@`, something before it, a domain with a dot,
//! no spaces): Parley never mails it, it only looks it up, so the only harm a wrong address does is a
//! lookup that finds nobody, which the API reports. Addresses are unique ignoring case, because a
//! lookup compares them that way (mail systems treat the domain, and in practice the local part, so).

use std::collections::HashMap;

use crate::ids::AgentId;

use super::validate::SetupError;

/// The longest address SMTP carries (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why `address` is not a plausible e-mail address, or `None` when it is.
pub fn email_problem(address: &str) -> Option<String> {
    let chars = address.chars().count();
    if chars > MAX_EMAIL_CHARS {
        return Some(format!("has {chars} characters; the limit is {MAX_EMAIL_CHARS}"));
    }
    if address.chars().any(char::is_whitespace) {
        return Some("must not contain spaces".to_owned());
    }
    let plausible = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| !label.is_empty())
    });
    (!plausible).then(|| "is not an e-mail address: write it as name@example.com".to_owned())
}

/// Checks an agent's address and that no earlier agent has it; `seen` maps lower-case addresses to
/// the agent that has them. Returns the address to keep (none when absent or wrong).
pub(super) fn check_email(
    owner: &str,
    agent: &AgentId,
    email: Option<&str>,
    seen: &mut HashMap<String, AgentId>,
    errors: &mut Vec<SetupError>,
) -> Option<String> {
    let email = email?.trim();
    let invalid = |reason: String| SetupError::InvalidField {
        owner: owner.to_owned(),
        field: format!("email \"{email}\""),
        reason,
    };
    if let Some(reason) = email_problem(email) {
        errors.push(invalid(reason));
        return None;
    }
    if let Some(first) = seen.get(&email.to_lowercase()) {
        errors.push(invalid(format!("is also the e-mail of agent \"{first}\" (compared ignoring case)")));
        return None;
    }
    seen.insert(email.to_lowercase(), agent.clone());
    Some(email.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_pass_and_others_say_why() {
        assert_eq!(email_problem("alice@example.com"), None);
        assert_eq!(email_problem("a.b+tag@mail.example.co.uk"), None);
        for bad in ["alice", "@example.com", "alice@", "alice@localhost", "a@b@c.com", "al ice@example.com", "a@.com"] {
            assert!(email_problem(bad).is_some(), "{bad} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(email_problem(&long), Some("has 262 characters; the limit is 254".to_owned()));
    }
}
