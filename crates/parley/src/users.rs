//! `parley users`: console users straight in the database (add, list, disable, enable, set-password),
//! for the first admin before anyone can log in, and for scripts. The same rules as the HTTP API's
//! (`parley_server::users`); a password is read from standard input or `PARLEY_USER_PASSWORD`, never
//! from the command line, where other users of the machine could read it.

use std::io::BufRead as _;

use anyhow::Context as _;
use parley_server::users::{Account, check_password, hash_password_async, parse_display_name, parse_username};
use parley_store::users::NewUser;
use parley_store::{Store, StoreError};

use crate::cli::{PasswordArgs, ServerArgs, UsersAction};

/// The environment variable a password may come from, for scripts that cannot pipe it.
pub(crate) const PASSWORD_ENV: &str = "PARLEY_USER_PASSWORD";

pub(crate) async fn run(action: UsersAction) -> anyhow::Result<()> {
    match action {
        UsersAction::Add { username, role, agent, teams, name, password, server } => {
            let username = parse_username(&username)?;
            let account = Account::new(&role, agent.as_deref(), &teams)?;
            let name = name.as_deref().map(parse_display_name).transpose()?;
            let password = read_password(&password)?;
            let (store, setup) = open(&server).await?;
            let missing = account.missing_in(&setup);
            if !missing.is_empty() {
                eprintln!(
                    "note: not in the setup yet: {}; the user can log in once an admin adds it",
                    missing.join(", ")
                );
            }
            let display_name = name
                .or_else(|| account.agent.as_ref().and_then(|a| setup.agent(a)).map(|a| a.name.clone()))
                .unwrap_or_else(|| username.clone());
            let user = NewUser {
                username: username.clone(),
                display_name,
                password_hash: hash_password_async(password).await?,
                role: account.role.as_str().to_owned(),
                agent: account.agent.as_ref().map(ToString::to_string),
                teams: account.teams.iter().map(ToString::to_string).collect(),
            };
            let row = store.insert_user(&user, now()).await.map_err(|e| match e {
                StoreError::Conflict(_) => anyhow::anyhow!(
                    "user \"{username}\" already exists (`parley users set-password {username}` changes its password)"
                ),
                other => anyhow::Error::new(other).context("creating the user"),
            })?;
            println!("created {} \"{}\" ({}){}", row.role, row.username, row.display_name, scope(&row));
            store.close().await;
            Ok(())
        }
        UsersAction::List { server } => {
            let (store, _) = open(&server).await?;
            let users = store.users().await?;
            store.close().await;
            if users.is_empty() {
                println!("no users yet: `parley users add USERNAME --role admin --password-stdin` creates one");
                return Ok(());
            }
            println!("{:<24} {:<11} {:<24} {:<9} NAME", "USERNAME", "ROLE", "AGENT / TEAMS", "STATE");
            for u in users {
                let what = match (&u.agent, u.teams.is_empty()) {
                    (Some(agent), _) => format!("agent {agent}"),
                    (None, false) => format!("teams {}", u.teams.join(",")),
                    (None, true) => "-".to_owned(),
                };
                let state = if u.disabled { "disabled" } else { "active" };
                println!("{:<24} {:<11} {:<24} {:<9} {}", u.username, u.role, what, state, u.display_name);
            }
            Ok(())
        }
        UsersAction::Disable { username, server } => {
            let (store, _) = open(&server).await?;
            change(&store, &username, |row| row.disabled = true).await?;
            println!("disabled \"{username}\": they can no longer log in, and their sessions have ended");
            Ok(())
        }
        UsersAction::Enable { username, server } => {
            let (store, _) = open(&server).await?;
            change(&store, &username, |row| row.disabled = false).await?;
            println!("enabled \"{username}\": they can log in again");
            Ok(())
        }
        UsersAction::SetPassword { username, password, server } => {
            let password = read_password(&password)?;
            let (store, _) = open(&server).await?;
            let hash = hash_password_async(password).await?;
            change(&store, &username, |row| row.password_hash = hash).await?;
            println!("set a new password for \"{username}\"; their sessions have ended");
            Ok(())
        }
    }
}

/// Applies `edit` to the stored user; an unknown username is an error that says so.
async fn change(
    store: &Store,
    username: &str,
    edit: impl FnOnce(&mut parley_store::users::UserRow),
) -> anyhow::Result<()> {
    let result = store
        .update_user(username, now(), |row| {
            edit(row);
            Ok(())
        })
        .await;
    store.close().await;
    match result {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => anyhow::bail!("there is no user \"{username}\" (`parley users list` shows them)"),
        Err(other) => Err(anyhow::Error::new(other).context(format!("changing user \"{username}\""))),
    }
}

/// The password: the first line of standard input with `--password-stdin`, else `PARLEY_USER_PASSWORD`.
fn read_password(args: &PasswordArgs) -> anyhow::Result<String> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned()
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(password) if !password.is_empty() => password,
            _ => anyhow::bail!(
                "no password given: pipe it in with --password-stdin (echo '...' | parley users ...), or set \
                 {PASSWORD_ENV}"
            ),
        }
    };
    check_password(&password)?;
    Ok(password)
}

/// The migrated database and the setup stored in it (empty when none was applied yet).
async fn open(server: &ServerArgs) -> anyhow::Result<(Store, parley_core::setup::Setup)> {
    let config = server.resolve(false)?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let mut carriers = config.carrier_names();
    carriers.push("sim".to_owned());
    let carriers: Vec<&str> = carriers.iter().map(String::as_str).collect();
    let (_, setup) = parley_server::load_setup(&store, &carriers).await?;
    Ok((store, setup))
}

/// What a user's role reaches, for messages.
fn scope(row: &parley_store::users::UserRow) -> String {
    match (&row.agent, row.teams.is_empty()) {
        (Some(agent), _) => format!(", acting as agent {agent}"),
        (None, false) => format!(", watching teams {}", row.teams.join(", ")),
        (None, true) => String::new(),
    }
}

fn now() -> i64 {
    parley_server::clock::Clock::System.now().0
}
