//! `/api/v1/users`: admins list, create and change console users. Logging in as one is
//! [`crate::http::session`]; like every other resource this one only takes the caller's `Principal`
//! from [`crate::http::auth`].
//!
//! A user is shown without its password hash, always; a password goes in (at least 10 characters)
//! and never comes out. A new password, disabling a user or changing its role or agent ends the
//! user's sessions at once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_store::StoreError;
use parley_store::users::{NewUser, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath};
use crate::users::{Account, Role, UserError, check_password, hash_password_async, parse_display_name, parse_username};

/// The users API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(UsersDoc::openapi())
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
}

/// The OpenAPI tag of the users API.
#[derive(OpenApi)]
#[openapi(tags((name = "users")))]
struct UsersDoc;

/// A console user. The password hash is never part of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    /// "admin", "supervisor" or "agent".
    pub role: String,
    /// The agent of the setup an agent user acts as.
    pub agent: Option<String>,
    /// The teams whose queues a supervisor watches.
    pub teams: Vec<String>,
    /// A disabled user cannot log in.
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> UserView {
        UserView {
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            agent: u.agent,
            teams: u.teams,
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// Every user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// A user to create. No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 1 to 64 characters of a-z, 0-9, `.`, `_`, `-`, `@`; stored in lower case, unique ignoring case.
    pub username: String,
    /// Default: the agent's name in the setup for agent users, else the username.
    pub display_name: Option<String>,
    /// "admin", "supervisor" or "agent".
    pub role: String,
    /// Agent users: the agent of the setup they act as (required).
    pub agent: Option<String>,
    /// Supervisors: the teams whose queues they watch (at least one).
    #[serde(default)]
    pub teams: Vec<String>,
    /// At least 10 characters. Stored only as an argon2id hash.
    pub password: String,
}

/// Changes to a user; every field is optional. No `Debug`: it may hold a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    /// A new role. Leaving the agent role drops the agent, leaving the supervisor role the teams.
    pub role: Option<String>,
    pub agent: Option<String>,
    pub teams: Option<Vec<String>>,
    /// A new password (at least 10 characters); the user's sessions end.
    pub password: Option<String>,
    /// true: the user cannot log in and their sessions end; false: they can log in again.
    pub disabled: Option<bool>,
}

fn invalid(e: UserError) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// Refuses an account whose agent or teams the setup does not have.
fn check_against_setup(state: &AppState, account: &Account) -> Result<(), ApiError> {
    let missing = account.missing_in(&state.engine.setup());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("not in the setup: {}", missing.join(", "))))
    }
}

/// Every console user, by username.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_users(State(state): State<AppState>, who: Principal) -> Result<Json<UserList>, ApiError> {
    who.require_admin()?;
    let users = state.store.users().await?;
    Ok(Json(UserList { users: users.into_iter().map(UserView::from).collect() }))
}

/// Creates a console user who logs in at `/login`.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "the username is taken (in any case)", body = ErrorBody),
              (status = 422, description = "a bad username, a short password, a role without its agent or teams, or an agent or team not in the setup", body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    who.require_admin()?;
    let username = parse_username(&req.username).map_err(invalid)?;
    check_password(&req.password).map_err(invalid)?;
    let account = Account::new(&req.role, req.agent.as_deref(), &req.teams).map_err(invalid)?;
    check_against_setup(&state, &account)?;
    let display_name = match req.display_name.as_deref() {
        Some(name) => parse_display_name(name).map_err(invalid)?,
        None => account
            .agent
            .as_ref()
            .and_then(|a| state.engine.setup().agent(a).map(|a| a.name.clone()))
            .unwrap_or_else(|| username.clone()),
    };
    let password_hash = hash_password_async(req.password).await.map_err(ApiError::internal)?;
    let user = NewUser {
        username,
        display_name,
        password_hash,
        role: account.role.as_str().to_owned(),
        agent: account.agent.map(|a| a.to_string()),
        teams: account.teams.iter().map(ToString::to_string).collect(),
    };
    let row = state.store.insert_user(&user, state.clock.now().0).await.map_err(store_error)?;
    tracing::info!(user = %row.username, role = %row.role, by = %who.actor(), "user created");
    Ok((StatusCode::CREATED, Json(UserView::from(row))))
}

/// Changes a user: name, role, agent, teams, password, disabled.
#[utoipa::path(put, path = "/api/v1/users/{username}", tag = "users", params(("username" = String, Path)),
    request_body = UserUpdate,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "changed by someone else meanwhile", body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<UserUpdate>,
) -> Result<Json<UserView>, ApiError> {
    who.require_admin()?;
    let not_found = || ApiError::not_found(format!("there is no user \"{username}\""));
    let seen = state.store.user(&username).await?.ok_or_else(not_found)?;
    let role = req.role.clone().unwrap_or_else(|| seen.role.clone());
    let keeps = |r: Role| role == r.as_str() && seen.role == r.as_str();
    let agent = req.agent.clone().or_else(|| seen.agent.clone().filter(|_| keeps(Role::Agent)));
    let teams = req.teams.clone().unwrap_or_else(|| if keeps(Role::Supervisor) { seen.teams.clone() } else { vec![] });
    let account = Account::new(&role, agent.as_deref(), &teams).map_err(invalid)?;
    // Only what changes must be in the setup: an agent that left it does not block renaming its user.
    if account.agent.as_ref().map(ToString::to_string) != seen.agent || req.teams.is_some() {
        check_against_setup(&state, &account)?;
    }
    let display_name = req.display_name.as_deref().map(parse_display_name).transpose().map_err(invalid)?;
    let password_hash = match req.password {
        Some(password) => {
            check_password(&password).map_err(invalid)?;
            Some(hash_password_async(password).await.map_err(ApiError::internal)?)
        }
        None => None,
    };
    let row = state
        .store
        .update_user(&username, state.clock.now().0, |row| {
            if row.updated_at != seen.updated_at || row.id != seen.id {
                return Err(StoreError::Conflict(format!(
                    "user \"{username}\" was changed by someone else meanwhile; read it again and retry"
                )));
            }
            row.role = account.role.as_str().to_owned();
            row.agent = account.agent.as_ref().map(ToString::to_string);
            row.teams = account.teams.iter().map(ToString::to_string).collect();
            if let Some(name) = display_name {
                row.display_name = name;
            }
            if let Some(hash) = password_hash {
                row.password_hash = hash;
            }
            if let Some(disabled) = req.disabled {
                row.disabled = disabled;
            }
            Ok(())
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => store_error(other),
        })?;
    tracing::info!(user = %row.username, role = %row.role, disabled = row.disabled, by = %who.actor(), "user changed");
    Ok(Json(UserView::from(row)))
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message),
        other => other.into(),
    }
}
