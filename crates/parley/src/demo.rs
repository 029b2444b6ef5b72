//! `parley demo`: a ready-to-try deployment with the simulator, two numbers, a menu and known logins.

use anyhow::Context as _;
use parley_core::routing::Presence;
use parley_server::config::{Config, Secret};
use parley_server::http::auth::hash_token;
use parley_server::setup_doc::SetupDocument;
use parley_store::Store;
use parley_store::batch::Batch;
use parley_store::keys::NewKey;
use parley_store::rows::AgentStateRow;
use parley_store::users::NewUser;

/// The demo's setup document.
pub(crate) const DEMO_SETUP: &str = include_str!("../demo-setup.toml");

/// Demo logins: these tokens only ever exist in a demo database.
const ADMIN_TOKEN: &str = "demo-admin";

/// A console login of the demo: username, password, role, agent, teams.
struct DemoUser {
    username: String,
    password: String,
    role: &'static str,
    agent: Option<String>,
    teams: Vec<String>,
    name: String,
}

/// The demo's console users: an admin, a supervisor of team blue, and one agent user per agent of the
/// setup (username = agent id). The passwords are public: they only ever exist in a demo database.
fn demo_users(setup: &parley_core::setup::Setup) -> Vec<DemoUser> {
    let mut users = vec![
        DemoUser {
            username: "admin".to_owned(),
            password: "demo-admin-pass".to_owned(),
            role: "admin",
            agent: None,
            teams: vec![],
            name: "Demo Admin".to_owned(),
        },
        DemoUser {
            username: "sam".to_owned(),
            password: "demo-sam-pass".to_owned(),
            role: "supervisor",
            agent: None,
            teams: vec!["blue".to_owned()],
            name: "Sam Supervisor".to_owned(),
        },
    ];
    for agent in &setup.agents {
        users.push(DemoUser {
            username: agent.id.to_string(),
            password: format!("demo-{}-pass", agent.id),
            role: "agent",
            agent: Some(agent.id.to_string()),
            teams: vec![],
            name: agent.name.clone(),
        });
    }
    users
}

pub(crate) async fn run(listen: &str, database_url: &str) -> anyhow::Result<()> {
    let store = Store::connect(database_url).await?;
    store.migrate().await?;
    let doc = SetupDocument::from_toml(DEMO_SETUP).context("the built-in demo setup")?;
    let setup = parley_core::setup::Setup::validate(&doc.to_draft(), &["sim"])
        .map_err(|p| anyhow::anyhow!("the built-in demo setup is invalid: {}", p[0]))?;
    let now = parley_server::clock::Clock::System.now().0;
    if store.setup_document().await?.is_none() {
        store.save_setup_document(&serde_json::to_string(&SetupDocument::from_setup(&setup))?, now).await?;
        // Demo agents start offline, as anyone not logged in is; logging in to the console makes them
        // available (and connected while the console is open).
        let states = setup
            .agents
            .iter()
            .map(|a| AgentStateRow {
                agent: a.id.to_string(),
                status: Presence::Offline,
                connected: false,
                last_assigned: 0,
                updated_at: now,
                status_since: now,
            })
            .collect();
        store.commit_batch(&Batch { agent_states: states, ..Batch::default() }).await?;
    }
    let mut logins = Vec::new();
    for agent in &setup.agents {
        let token = format!("demo-{}", agent.id);
        if store.key_by_hash(&hash_token(&token)).await?.is_none() {
            let key = NewKey {
                id: parley_server::http::api::tokens::new_key_id(),
                hash: hash_token(&token),
                name: format!("demo agent {}", agent.id),
                role: "agent".to_owned(),
                agent: Some(agent.id.to_string()),
                scopes: None,
                expires_at: None,
                rate_per_second: None,
            };
            store.insert_key(&key, now).await?;
        }
        logins.push((agent.id.to_string(), agent.name.clone(), token));
    }
    let users = demo_users(&setup);
    for user in &users {
        if store.user(&user.username).await?.is_none() {
            let row = NewUser {
                username: user.username.clone(),
                display_name: user.name.clone(),
                password_hash: parley_server::users::hash_password_async(user.password.clone()).await?,
                role: user.role.to_owned(),
                agent: user.agent.clone(),
                teams: user.teams.clone(),
            };
            store.insert_user(&row, now).await.with_context(|| format!("creating demo user {}", user.username))?;
        }
    }
    store.close().await;

    let admin =
        std::env::var("PARLEY_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()).unwrap_or_else(|| ADMIN_TOKEN.to_owned());
    let config = Config {
        listen: listen.to_owned(),
        admin_token: Some(Secret::new(admin.clone())),
        ..Config::with_database(database_url)
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);

    println!("Parley demo is running (data in {database_url}; Ctrl-C stops it).\n");
    println!("  Console:          {base}/console   (log in with a console login below)");
    println!("  Phone simulator:  {base}/sim/phone");
    println!("  API:              {base}/api/v1   (its reference; the OpenAPI document: {base}/api/v1/openapi.json)\n");
    println!("  Support numbers:");
    for n in &setup.numbers {
        let queues: Vec<String> = n.queues.iter().map(ToString::to_string).collect();
        println!("    {}  {}  (menu: {})", n.number, n.label, queues.join(", "));
    }
    println!("\n  Console logins (username / password):");
    for user in &users {
        let what = match (&user.agent, user.teams.is_empty()) {
            (Some(_), _) => format!("agent ({})", user.name),
            (None, false) => format!("{}, team {}", user.role, user.teams.join(", ")),
            (None, true) => user.role.to_owned(),
        };
        println!("    {:<10} {:<18} {what}", user.username, user.password);
    }
    println!("\n  API logins (bearer tokens):");
    println!("    admin                  {admin}");
    for (id, name, token) in &logins {
        println!("    {:<22} {token}", format!("{id} ({name})"));
    }
    println!("\n  Try it: open the phone page, text +15550001000, answer the menu with 1, then as alice:");
    println!("    curl -H 'Authorization: Bearer demo-alice' {base}/api/v1/chats?status=ongoing");
    println!("    curl -X POST -H 'Authorization: Bearer demo-alice' {base}/api/v1/chats/CHAT_ID/accept");
    println!("    curl -X POST -H 'Authorization: Bearer demo-alice' -H 'Content-Type: application/json' \\");
    println!("         -d '{{\"body\": \"Hi, how can I help?\"}}' {base}/api/v1/chats/CHAT_ID/messages\n");
    parley_server::serve(config, listener, crate::cli::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_setup_is_valid() {
        let doc = SetupDocument::from_toml(DEMO_SETUP).unwrap();
        let setup = parley_core::setup::Setup::validate(&doc.to_draft(), &["sim"]).unwrap();
        assert_eq!(setup.settings.language_tags(), ["en", "es"]);
    }

    /// Spanish words the demo's texts once wrote without their accents ("no recibir mas").
    #[test]
    fn the_demo_spanish_texts_keep_their_accents() {
        for line in DEMO_SETUP.lines() {
            let words: Vec<&str> = line.split(|c: char| !c.is_alphanumeric()).collect();
            assert!(!words.contains(&"mas"), "write \"más\": {line}");
        }
        assert!(DEMO_SETUP.contains("ALTO para no recibir más."));
    }

    #[test]
    fn the_demo_logins_are_valid_users_of_the_demo_setup() {
        let doc = SetupDocument::from_toml(DEMO_SETUP).unwrap();
        let setup = parley_core::setup::Setup::validate(&doc.to_draft(), &["sim"]).unwrap();
        let users = demo_users(&setup);
        let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["admin", "sam", "alice", "bob", "carol"]);
        for user in &users {
            parley_server::users::check_password(&user.password).unwrap();
            let account = parley_server::users::Account::new(user.role, user.agent.as_deref(), &user.teams).unwrap();
            assert!(account.missing_in(&setup).is_empty(), "{} refers to something not in the setup", user.username);
        }
        // The supervisor watches team blue's queues: alice's and bob's.
        let queues = parley_server::users::supervised_queues(&setup, &["blue".to_owned()]);
        assert_eq!(queues.iter().map(ToString::to_string).collect::<Vec<_>>(), ["billing", "tech"]);
    }
}
