//! Console users (people who log in with a username and a password) and their sessions.
//!
//! The store keeps plain values: the password as the PHC string the server computed, the role as its
//! text, teams as ids. Whether a role fits its agent or teams is the server's rule, checked before a
//! row gets here; the schema only refuses an agent user without an agent. Usernames are written in
//! lower case and looked up ignoring case, so "Alice" and "alice" are one user.
//!
//! Ending a user's sessions goes with the change that calls for it (a new password, disabling) in one
//! transaction: there is no moment when the old password is gone but its sessions still work.
//!
//! Failed logins are rows too (`login_failures`), not a node's memory, so the login limits hold for
//! every node of a deployment and survive restarts.

use std::fmt;

use sqlx::Row as _;

use crate::{Result, Store, StoreError, dispatch, dispatch_write};

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Assigned by the database.
    pub id: i64,
    /// Lower case, unique.
    pub username: String,
    pub display_name: String,
    /// An argon2id PHC string (`$argon2id$v=19$...`). Never shown by `Debug`, never served.
    pub password_hash: String,
    /// "admin", "supervisor" or "agent".
    pub role: String,
    /// The agent id of the setup an agent user acts as; `None` for the other roles.
    pub agent: Option<String>,
    /// The teams whose queues a supervisor watches; empty for the other roles.
    pub teams: Vec<String>,
    pub disabled: bool,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("agent", &self.agent)
            .field("teams", &self.teams)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A user to create. `username` is stored in lower case.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub agent: Option<String>,
    pub teams: Vec<String>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("agent", &self.agent)
            .field("teams", &self.teams)
            .finish_non_exhaustive()
    }
}

/// A stored session. The token itself is never stored: `id_hash` is its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: i64,
    /// The token the session's state-changing requests must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// The last request seen (refreshed at most about once a minute); the idle expiry counts from it.
    pub last_seen_at: i64,
    /// The absolute end, however busy the session is.
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

impl fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRow")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Teams are stored as one comma-separated text (ids never contain commas).
fn join_teams(teams: &[String]) -> String {
    teams.join(",")
}

fn split_teams(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// The columns [`user_row!`] reads, for `concat!` into query texts.
macro_rules! user_columns {
    () => {
        "id, username, display_name, password_hash, role, agent, teams, disabled, created_at, updated_at"
    };
}

macro_rules! user_row {
    ($row:expr) => {
        UserRow {
            id: $row.try_get("id")?,
            username: $row.try_get("username")?,
            display_name: $row.try_get("display_name")?,
            password_hash: $row.try_get("password_hash")?,
            role: $row.try_get("role")?,
            agent: $row.try_get("agent")?,
            teams: split_teams(&$row.try_get::<String, _>("teams")?),
            disabled: $row.try_get::<i64, _>("disabled")? != 0,
            created_at: $row.try_get("created_at")?,
            updated_at: $row.try_get("updated_at")?,
        }
    };
}

impl Store {
    /// Creates a user; `Conflict` when the username is taken (in any case).
    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<UserRow> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let row = sqlx::query(concat!(
                "INSERT INTO users (username, display_name, password_hash, role, agent, teams, disabled, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) RETURNING ",
                user_columns!()
            ))
            .bind(user.username.to_lowercase())
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(&user.role)
            .bind(&user.agent)
            .bind(join_teams(&user.teams))
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("user \"{}\" already exists", user.username)),
                other => other,
            })?;
            let user = user_row!(row);
            tx.commit().await?;
            Ok(user)
        })
    }

    /// The user called `username` (ignoring case), if any.
    pub async fn user(&self, username: &str) -> Result<Option<UserRow>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE lower(username) = lower($1)"))
                .bind(username)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(user_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        dispatch!(self, |pool, DB, begin| {
            let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users ORDER BY username"))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(user_row!(row));
            }
            Ok(out)
        })
    }

    /// Rewrites a user: `change` gets the stored row and edits it (the id, username and created_at
    /// stay whatever it does). The user's sessions end when the password changes or the user is
    /// disabled, in the same transaction. `NotFound` for an unknown username.
    pub async fn update_user(
        &self,
        username: &str,
        now: i64,
        change: impl FnOnce(&mut UserRow) -> Result<()>,
    ) -> Result<UserRow> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE lower(username) = lower($1)"))
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let before = user_row!(row);
            let mut after = before.clone();
            change(&mut after)?;
            after.updated_at = now;
            sqlx::query(
                "UPDATE users SET display_name = $1, password_hash = $2, role = $3, agent = $4, teams = $5, \
                 disabled = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(&after.display_name)
            .bind(&after.password_hash)
            .bind(&after.role)
            .bind(&after.agent)
            .bind(join_teams(&after.teams))
            .bind(i64::from(after.disabled))
            .bind(now)
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
            // A new password, a disabled account or another role: whatever a session was opened with
            // no longer holds, so the user logs in again.
            let ends_sessions = after.password_hash != before.password_hash
                || (after.disabled && !before.disabled)
                || after.role != before.role
                || after.agent != before.agent;
            if ends_sessions {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(before.id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(UserRow { id: before.id, username: before.username, created_at: before.created_at, ..after })
        })
    }

    /// Stores a new session.
    pub async fn insert_session(&self, session: &SessionRow) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&session.id_hash)
            .bind(session.user_id)
            .bind(&session.csrf_token)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .bind(&session.user_agent)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The session with this token hash and its user, if both exist. Whether it is still alive is
    /// the caller's rule (idle and absolute expiry, a disabled user).
    pub async fn session(&self, id_hash: &str) -> Result<Option<(SessionRow, UserRow)>> {
        dispatch!(self, |pool, DB, begin| {
            let row = sqlx::query(
                "SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at AS s_created_at, s.last_seen_at, \
                 s.expires_at, s.user_agent, u.id, u.username, u.display_name, u.password_hash, u.role, u.agent, \
                 u.teams, u.disabled, u.created_at, u.updated_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let session = SessionRow {
                id_hash: row.try_get("id_hash")?,
                user_id: row.try_get("user_id")?,
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("s_created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
                user_agent: row.try_get("user_agent")?,
            };
            Ok(Some((session, user_row!(row))))
        })
    }

    /// Records that the session was used at `now`.
    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1")
                .bind(now)
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Ends one session (logging out); ending a session that is gone changes nothing.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes the sessions past their absolute end (`expires_at <= now`) or unused since
    /// `idle_before`; returns how many.
    pub async fn delete_dead_sessions(&self, now: i64, idle_before: i64) -> Result<u64> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(idle_before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }
}

/// Failed console logins, counted in the database so that every node sees the same counts: a guess
/// refused on one node counts on all of them, and a restart forgets nothing. One row per failure and
/// key ("user:NAME", "ip:ADDRESS"); what a count means (how many, for how long) is the server's rule.
impl Store {
    /// The failed logins of these keys after `after` (epoch ms, exclusive): `(key, failed_at)`, by key
    /// and newest first.
    pub async fn login_failures(&self, keys: &[String], after: i64) -> Result<Vec<(String, i64)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(self, |pool, DB, begin| {
            let mut q = sqlx::QueryBuilder::<DB>::new("SELECT key, failed_at FROM login_failures WHERE failed_at > ");
            q.push_bind(after);
            q.push(" AND key IN (");
            crate::push_list!(q, keys);
            q.push(" ORDER BY key, failed_at DESC");
            let mut out = Vec::new();
            for row in q.build().fetch_all(pool).await? {
                out.push((row.try_get("key")?, row.try_get("failed_at")?));
            }
            Ok(out)
        })
    }

    /// Records a failed login at `at` against every key, and deletes the failures of all keys at or
    /// before `forget_until` (they no longer count), in one transaction.
    pub async fn record_login_failure(&self, keys: &[String], at: i64, forget_until: i64) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
                .bind(forget_until)
                .execute(&mut *tx)
                .await?;
            if !keys.is_empty() {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO login_failures (key, failed_at) ");
                q.push_values(keys, |mut row, key| {
                    row.push_bind(key.clone()).push_bind(at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Forgets the failed logins of one key (a successful login forgets its username's).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        dispatch_write!(self, |pool, DB, begin| {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
