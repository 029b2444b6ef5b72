//! `GET /api/v1/events`: Server-Sent Events for the caller's chats (a supervisor's: the chats of their
//! teams' queues). Each event carries its id from the
//! events table; a client that reconnects with `Last-Event-ID` (or `?after=`) first gets everything it
//! missed from the table, then live events, so a dropped connection loses nothing. Each frame's data is
//! the event's one JSON form ([`event_json::wire`]), whose schema is `docs/events.md`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use parley_core::ids::AgentId;
use parley_store::rows::EventRow;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::event_json;
use crate::http::extract::ApiQuery;

const PAGE: i64 = 500;

/// Where to resume.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Send events after this id (the `Last-Event-ID` header wins). Without either, only new events.
    pub after: Option<i64>,
}

/// The caller's live event stream.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, description = "text/event-stream; each event has id, event (its kind) and JSON data: the envelope and the kind's fields, as docs/events.md describes", content_type = "text/event-stream"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = ["chats:read"])))]
pub async fn events(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be an event id"))?,
        ),
        None => q.after,
    };
    // Subscribe before reading the table, so nothing committed in between is missed.
    let live = state.bus.subscribe();
    let last = match resume {
        Some(id) => id,
        None => state.store.last_event_id().await?,
    };
    // A stream opened with a session cookie (not a bearer token) lives only as long as its session.
    let session = if crate::http::auth::by_token(&headers) {
        None
    } else {
        crate::http::auth::cookie_token(&headers).map(crate::http::auth::hash_token)
    };
    // An agent's open stream keeps them present (on every node) until it closes.
    let presence = match &who {
        Principal::Agent(agent) => Some(state.streams.open(agent)),
        _ => None,
    };
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        pump(state, who, session, live, last, tx).await;
        drop(presence);
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// Feeds one client: catch up from the table, then follow the bus; any gap or lag goes back to the table.
async fn pump(
    state: AppState,
    who: Principal,
    session: Option<String>,
    mut live: broadcast::Receiver<Arc<EventRow>>,
    mut last: i64,
    tx: mpsc::Sender<Result<Event, Infallible>>,
) {
    let mut shutdown = state.shutdown.clone();
    let mut session_check = tokio::time::interval(SESSION_CHECK);
    session_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if catch_up(&state, &who, &mut last, &tx).await.is_err() {
        return;
    }
    loop {
        let received = tokio::select! {
            r = live.recv() => r,
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
            _ = session_check.tick(), if session.is_some() => {
                if !session_lives(&state, session.as_deref()).await {
                    return;
                }
                continue;
            }
        };
        let ok = match received {
            Ok(event) if event.id <= last => Ok(()),
            Ok(event) if event.id == last + 1 => {
                last = event.id;
                send(&state, &who, &event, &tx).await
            }
            // A gap (an id we have not seen yet) or a lagging subscription: the table has everything.
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => catch_up(&state, &who, &mut last, &tx).await,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if ok.is_err() {
            return;
        }
    }
}

/// How often a stream gets a comment when nothing else is sent. Writing is also how the server finds
/// out that a console closed: the first write after the browser closed the connection draws a reset,
/// the second fails. So a gone agent keeps their offers for at most about two of these (see
/// `workers::presence`).
pub const KEEP_ALIVE: Duration = Duration::from_secs(4);

/// How often a cookie stream checks that its session still lives: a logout, a disabled user or a new
/// password ends the stream within this time, on every node.
const SESSION_CHECK: Duration = Duration::from_secs(5);

/// Whether the session behind a stream still exists, its user is enabled and it has not reached its
/// end of life. (An open stream is the user's console at work, so idle time does not count here.)
async fn session_lives(state: &AppState, id_hash: Option<&str>) -> bool {
    let Some(id_hash) = id_hash else { return true };
    match state.store.session(id_hash).await {
        Ok(Some((session, user))) => !user.disabled && state.clock.now().0 < session.expires_at,
        Ok(None) => false,
        // A database hiccup does not end a user's stream; the next check decides.
        Err(e) => {
            tracing::warn!(error = %e, "checking an event stream's session failed");
            true
        }
    }
}

async fn catch_up(
    state: &AppState,
    who: &Principal,
    last: &mut i64,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) -> Result<(), ()> {
    loop {
        let page = match state.store.events_after(*last, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "reading events for a stream failed");
                return Err(());
            }
        };
        for event in &page {
            *last = event.id;
            send(state, who, event, tx).await?;
        }
        if (page.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

async fn send(
    state: &AppState,
    who: &Principal,
    event: &EventRow,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) -> Result<(), ()> {
    let mine = match who {
        Principal::Admin { .. } => true,
        Principal::Agent(agent) => {
            event.agent.as_deref() == Some(agent.as_str())
                || (event.queue.is_some() && who.sees(state, event.queue.as_deref()))
        }
        // Supervisors also follow the presence of the agents who serve their teams' queues.
        Principal::Supervisor { queues, .. } if event.kind == "agent.status" => event
            .agent
            .as_deref()
            .and_then(|a| AgentId::parse(a).ok())
            .is_some_and(|a| state.engine.setup().queues_of(&a).iter().any(|q| queues.contains(q))),
        Principal::Supervisor { .. } => event.queue.is_some() && who.sees(state, event.queue.as_deref()),
    };
    if !mine {
        return Ok(());
    }
    let sse = Event::default().id(event.id.to_string()).event(event.kind.clone()).data(event_json::wire(event));
    tx.send(Ok(sse)).await.map_err(|_| ())
}
