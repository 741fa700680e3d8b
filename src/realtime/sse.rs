//! Server-Sent Events (`GET /api/events`): the board's persisted events for clients that cannot
//! speak Socket.IO — `curl -N`, proxies that refuse WebSocket and long-polling alike, and the
//! dashboard's fallback.
//!
//! A stream is fed by the same fan-out as the sockets (`Fanout::follow`), so it carries the
//! same events with the same `seq` as `id:`, and resumes from `Last-Event-ID` (or `?lastSeq=`)
//! exactly as a socket resumes from `auth.lastSeq`. A stream that falls `LIVE_BACKLOG` changes
//! behind is ended rather than buffered without bound: the client reconnects with its last id.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::fanout::{Fanout, Follow, Outgoing, Renumbering, Start};
use super::subscriptions::Patterns;
use crate::App;
use crate::auth::Credential;
use crate::domain::input;
use crate::error::{AppError, AppResult};
use crate::http::{Authenticated, Params};

/// SPEC: a comment line at least every 15 s, so proxies keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a quiet stream checks that its credential was not revoked meanwhile.
const CREDENTIAL_CHECK: Duration = Duration::from_secs(1);

pub fn router(fanout: Arc<Fanout>) -> Router<App> {
    Router::new().route("/api/events", axum::routing::get(events)).layer(Extension(fanout))
}

async fn events(
    State(app): State<App>,
    Extension(fanout): Extension<Arc<Fanout>>,
    Authenticated(credential): Authenticated,
    params: Params,
    headers: HeaderMap,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let scope = credential.boards.as_deref();
    let board = app.board.board_info(scope, params.board()).await?.id;
    let patterns = params
        .0
        .get("patterns")
        .map(|list| Patterns::parse(Value::Array(list.split(',').map(|p| Value::String(p.into())).collect())))
        .transpose()?;
    let renumbering = if params.flag("batchShifts")? { Renumbering::Batched } else { Renumbering::Each };
    let last_seq = match headers.get("last-event-id") {
        Some(id) => {
            let id = id.to_str().map_err(|_| AppError::validation("`Last-Event-ID` must be a seq"))?;
            Some(input::non_negative_int(Value::String(id.to_owned()), "Last-Event-ID")?)
        }
        None => params.number("lastSeq", input::non_negative_int)?,
    };
    let boards = app.board.boards_for(scope).await?;
    let unread = match &credential.person {
        Some(person) => app.board.unread_notifications(person).await?,
        None => 0,
    };
    let follow = fanout.follow(&board, last_seq, &boards, unread).await?;
    let stream = stream(app, credential, follow, Wanted { patterns, renumbering }, board);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The start, then every change after it, until the client goes, falls too far behind, or its
/// credential is revoked.
fn stream(
    app: App,
    credential: Credential,
    follow: Follow,
    wanted: Wanted,
    board: String,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let wanted = move |out: &Outgoing| out.is_for(wanted.renumbering, wanted.patterns.as_ref());
    let first: Vec<Event> = match follow.start {
        Start::Replay(missed) => missed.iter().filter(|out| wanted(out)).map(event).collect(),
        Start::Full { seq, json } => {
            vec![Event::default().id(seq.to_string()).event("sync:full").data(json.get())]
        }
    };
    let state = (follow.live, follow.after, tokio::time::interval(CREDENTIAL_CHECK));
    let live = futures_util::stream::unfold(state, move |(mut live, mut after, mut check)| {
        let (app, credential, board, wanted) =
            (app.clone(), credential.clone(), board.clone(), wanted.clone());
        async move {
            loop {
                tokio::select! {
                    published = live.recv() => match published {
                        Ok(change) if change.board == board && change.seq > after => {
                            after = change.seq;
                            let batch: Vec<Event> =
                                change.events.iter().filter(|out| wanted(out)).map(event).collect();
                            return Some((batch, (live, after, check)));
                        }
                        Ok(_) => {}
                        // Too far behind, or the server is stopping: end, and let the client
                        // come back with its last id.
                        Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                    },
                    _ = check.tick() => {
                        if !app.keys.is_live(&credential) {
                            return None;
                        }
                    }
                }
            }
        }
    });
    use futures_util::StreamExt;
    futures_util::stream::iter(first)
        .chain(live.flat_map(futures_util::stream::iter))
        .map(Ok::<Event, Infallible>)
}

/// Which events a stream sends: those of its renumbering (`?batchShifts=true`: `task:shifted`)
/// that match its `?patterns=`, if any.
struct Wanted {
    patterns: Option<Patterns>,
    renumbering: Renumbering,
}

fn event(out: &Outgoing) -> Event {
    Event::default().id(out.seq.to_string()).event(&out.name).data(out.payload.to_string())
}
