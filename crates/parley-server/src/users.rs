//! Console users: what a username, a password and a role must be, and how passwords are kept.
//!
//! Passwords are hashed with argon2id at the crate's default cost (19 MiB, 2 passes) into a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that carries its own salt and parameters, so hashes
//! made with another cost keep verifying. Hashing and verifying take tens of milliseconds of CPU on
//! purpose: callers on the async runtime run them with `spawn_blocking` ([`hash_password_async`],
//! [`verify_password_async`]).
//!
//! The rules here are shared by the HTTP API (`/api/v1/users`), the `parley users` command and the
//! demo, so a user is valid the same way whichever way it was made.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use parley_core::ids::{AgentId, QueueId, TeamId};
use parley_core::setup::Setup;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (argon2 takes any length; this bounds the work one request causes).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Why a user cannot be made (or changed) as asked. The messages are meant for the person typing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("\"{0}\" is not a valid username: use 1 to 64 characters of a-z, 0-9, '.', '_', '-' or '@'")]
    BadUsername(String),
    #[error("the password is too short ({0} characters): use at least {MIN_PASSWORD_CHARS}")]
    PasswordTooShort(usize),
    #[error("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")]
    PasswordTooLong,
    #[error("unknown role \"{0}\": use admin, supervisor or agent")]
    BadRole(String),
    #[error("an agent user acts as an agent of the setup: name it (--agent ID, or \"agent\": \"ID\")")]
    AgentMissing,
    #[error("only agent users name an agent; a {0} does not")]
    AgentNotAllowed(&'static str),
    #[error("a supervisor watches the queues of at least one team: name it (--team ID, or \"teams\": [\"ID\"])")]
    TeamsMissing,
    #[error("only supervisors have teams; a {0} does not")]
    TeamsNotAllowed(&'static str),
    #[error("{0}")]
    BadId(String),
    #[error("the display name is empty or longer than 200 characters")]
    BadDisplayName,
}

/// What a user may do once logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything the admin token may do.
    Admin,
    /// Watches the chats of their teams' queues; takes no part in them.
    Supervisor,
    /// Acts as one agent of the setup.
    Agent,
}

impl Role {
    /// Parses "admin", "supervisor" or "agent".
    pub fn parse(text: &str) -> Result<Role, UserError> {
        match text {
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            "agent" => Ok(Role::Agent),
            other => Err(UserError::BadRole(other.to_owned())),
        }
    }

    /// The stored and served name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
}

/// A user's role with what it needs: the agent an agent user acts as, the teams a supervisor
/// watches. Built only through [`Account::new`], so an agent without an agent id cannot exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub role: Role,
    pub agent: Option<AgentId>,
    pub teams: Vec<TeamId>,
}

impl Account {
    /// Checks that the role has what it needs and nothing it does not.
    pub fn new(role: &str, agent: Option<&str>, teams: &[String]) -> Result<Account, UserError> {
        let role = Role::parse(role)?;
        let agent =
            agent.map(|a| AgentId::parse(a).map_err(|e| UserError::BadId(format!("agent: {e}")))).transpose()?;
        let mut parsed: Vec<TeamId> = Vec::new();
        for team in teams {
            let team = TeamId::parse(team).map_err(|e| UserError::BadId(format!("team: {e}")))?;
            if !parsed.contains(&team) {
                parsed.push(team);
            }
        }
        match role {
            Role::Agent if agent.is_none() => return Err(UserError::AgentMissing),
            Role::Supervisor if parsed.is_empty() => return Err(UserError::TeamsMissing),
            Role::Admin | Role::Supervisor if agent.is_some() => {
                return Err(UserError::AgentNotAllowed(role.as_str()));
            }
            Role::Admin | Role::Agent if !parsed.is_empty() => return Err(UserError::TeamsNotAllowed(role.as_str())),
            _ => {}
        }
        Ok(Account { role, agent, teams: parsed })
    }

    /// The names of what this account refers to that `setup` does not have: its agent, its teams.
    pub fn missing_in(&self, setup: &Setup) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(agent) = &self.agent
            && setup.agent(agent).is_none()
        {
            missing.push(format!("agent \"{agent}\""));
        }
        for team in &self.teams {
            if !setup.teams.iter().any(|t| &t.id == team) {
                missing.push(format!("team \"{team}\""));
            }
        }
        missing
    }
}

/// A username as stored: lower case, 1 to 64 characters of a-z, 0-9, `.`, `_`, `-` or `@`.
pub fn parse_username(text: &str) -> Result<String, UserError> {
    let name = text.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
    if ok { Ok(name) } else { Err(UserError::BadUsername(text.to_owned())) }
}

/// A display name: trimmed, not empty, at most 200 characters.
pub fn parse_display_name(text: &str) -> Result<String, UserError> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 200 { Err(UserError::BadDisplayName) } else { Ok(name.to_owned()) }
}

/// Refuses passwords shorter than [`MIN_PASSWORD_CHARS`] or longer than [`MAX_PASSWORD_CHARS`].
pub fn check_password(password: &str) -> Result<(), UserError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Err(UserError::PasswordTooShort(n))
    } else if n > MAX_PASSWORD_CHARS {
        Err(UserError::PasswordTooLong)
    } else {
        Ok(())
    }
}

/// The PHC string of `password` under a fresh random salt. CPU-heavy: see the module docs.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`. A hash that does not parse matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A hash no password is known to match, verified against when a username is unknown so that the
/// answer takes as long as for a known user with a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // Made with the same parameters as real hashes, so it costs the same to check. Should hashing
        // fail here it fails for real users too; the fixed string below still has the default cost.
        hash_password("parley-no-such-user-placeholder").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3W2Nfn1MbK8yb8tf1B0w0ay0cGMGvDXW0UcLSNFdrME"
                .to_owned()
        })
    })
}

/// [`hash_password`] off the async runtime's threads.
pub async fn hash_password_async(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("the hashing task failed: {e}"))?
}

/// [`verify_password`] off the async runtime's threads; `None` (no such user) checks against
/// [`dummy_hash`] and is always false.
pub async fn verify_password_async(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&hash, &password),
        None => {
            let _ = verify_password(dummy_hash(), &password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// The queues a supervisor of `teams` watches: each team's own queues and the queues of its
/// members, in the setup's order of teams, without repeats. Teams the setup no longer has add nothing.
pub fn supervised_queues(setup: &Setup, teams: &[String]) -> Vec<QueueId> {
    let mut queues: Vec<QueueId> = Vec::new();
    let mut add = |q: &QueueId| {
        if !queues.contains(q) {
            queues.push(q.clone());
        }
    };
    for team in setup.teams.iter().filter(|t| teams.iter().any(|name| name == t.id.as_str())) {
        team.queues.iter().for_each(&mut add);
        for member in &team.members {
            if let Some(agent) = setup.agent(member) {
                agent.queues.iter().for_each(&mut add);
            }
        }
    }
    queues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("correct horse"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password("not a phc string", "correct horse battery"));
        // Same password, another salt: another hash.
        assert_ne!(hash_password("correct horse battery").unwrap(), hash);
        assert!(!verify_password(dummy_hash(), "parley-no-such-user-placeholder-x"));
    }

    #[test]
    fn passwords_under_ten_characters_are_refused() {
        assert_eq!(check_password("123456789"), Err(UserError::PasswordTooShort(9)));
        assert!(check_password("1234567890").is_ok());
        assert_eq!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)), Err(UserError::PasswordTooLong));
        let message = UserError::PasswordTooShort(4).to_string();
        assert!(message.contains("at least 10"), "{message}");
    }

    #[test]
    fn usernames_are_lower_case_slugs() {
        assert_eq!(parse_username(" Alice.Smith@Example.com ").unwrap(), "alice.smith@example.com");
        assert!(parse_username("").is_err());
        assert!(parse_username("a b").is_err());
        assert!(parse_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn each_role_has_what_it_needs_and_nothing_else() {
        let teams = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(Account::new("agent", None, &[]), Err(UserError::AgentMissing));
        assert_eq!(Account::new("supervisor", None, &[]), Err(UserError::TeamsMissing));
        assert_eq!(Account::new("admin", Some("alice"), &[]), Err(UserError::AgentNotAllowed("admin")));
        assert_eq!(Account::new("agent", Some("alice"), &teams(&["blue"])), Err(UserError::TeamsNotAllowed("agent")));
        assert_eq!(Account::new("boss", None, &[]), Err(UserError::BadRole("boss".to_owned())));
        let sup = Account::new("supervisor", None, &teams(&["blue", "blue", "red"])).unwrap();
        assert_eq!(sup.teams.iter().map(TeamId::as_str).collect::<Vec<_>>(), ["blue", "red"]);
        assert_eq!(Account::new("agent", Some("alice"), &[]).unwrap().agent.unwrap().as_str(), "alice");
    }
}
