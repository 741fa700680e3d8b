//! A minimal Socket.IO v5 client over WebSocket (engine.io v4): just enough protocol to load
//! the server the way the official client does, with no per-frame work beyond what is needed.
//!
//! Framing: the server opens with `0{"sid",…}`; the client connects the default namespace with
//! `40{auth}` and is answered `40{"sid"}` (or `44{"message"}` when refused). Events are
//! `42["name",arg…]`, an event with an acknowledgement `42<id>["name",arg]` answered by
//! `43<id>[reply]`. The server pings with `2`; the client answers `3`.
//!
//! The official client library was rejected for the generator: its per-event dispatch and
//! JSON decoding would cost more than the server's side of a delivery, so the generator, not
//! the server, would be measured.

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::common::{Server, now_ns};

pub type Ws = WebSocketStream<TcpStream>;

/// An engine.io text packet, as far as the scenarios need to tell them apart.
pub enum Packet<'a> {
    /// `42…`: an event; the text is everything after `42`.
    Event(&'a str),
    /// `43<id>[…]`: an acknowledgement of one of our commands.
    Ack { id: u64, body: &'a str },
    /// `2`: the server's ping, answered by `pong`.
    Ping,
    /// Anything else (noop, namespace packets, a close).
    Other,
}

pub fn classify(text: &str) -> Packet<'_> {
    let bytes = text.as_bytes();
    match bytes {
        [b'2'] => Packet::Ping,
        [b'4', b'2', ..] => Packet::Event(&text[2..]),
        [b'4', b'3', ..] => {
            let rest = &text[2..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest[..digits].parse() {
                Ok(id) => Packet::Ack { id, body: &rest[digits..] },
                Err(_) => Packet::Other,
            }
        }
        _ => Packet::Other,
    }
}

pub fn pong() -> Message {
    Message::text("3")
}

/// `42<id>["name",payload]`: a command with an acknowledgement.
pub fn command(ack_id: u64, name: &str, payload: &str) -> Message {
    Message::text(format!("42{ack_id}[\"{name}\",{payload}]"))
}

/// A connected socket, in its room and past `sync:full`.
pub struct Socket {
    pub ws: Ws,
    /// From sending `40{auth}` to `sync:full` arriving in full, in nanoseconds.
    pub auth_to_sync_ns: u64,
    /// From the TCP connect to `sync:full`, in nanoseconds.
    pub connect_to_sync_ns: u64,
    pub sync_bytes: usize,
}

/// Small buffers: the connections scenario holds ten thousand of these in the generator.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(0)
}

/// Connects, authenticates with `auth` (which must carry `apiKey`), and waits for `sync:full`.
/// `sync:full` is sent just before the server puts the socket in its room, so once it is here
/// every later broadcast reaches this socket.
pub async fn connect(server: &Server, auth: &Value) -> anyhow::Result<Socket> {
    let started = now_ns();
    let tcp = TcpStream::connect(&server.authority)
        .await
        .with_context(|| format!("connecting to {}", server.authority))?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.authority);
    let (mut ws, _) =
        client_async_with_config(url, tcp, Some(ws_config())).await.context("WebSocket handshake")?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        bail!("expected the engine.io open packet, got {open:.80}");
    }
    let auth_sent = now_ns();
    ws.send(Message::text(format!("40{auth}"))).await?;
    loop {
        let text = next_text(&mut ws).await?;
        if text.starts_with("44") {
            bail!("connection refused: {text:.200}");
        }
        if text.starts_with("42[\"sync:full\"") {
            let done = now_ns();
            return Ok(Socket {
                ws,
                auth_to_sync_ns: done - auth_sent,
                connect_to_sync_ns: done - started,
                sync_bytes: text.len(),
            });
        }
        // `40{"sid"}` and anything before the sync: keep reading.
    }
}

/// The next text frame, answering pings on the way.
async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        let msg = ws.next().await.ok_or_else(|| anyhow!("the server closed the connection"))??;
        match msg {
            Message::Text(t) if t.as_str() == "2" => ws.send(pong()).await?,
            Message::Text(t) => return Ok(t.as_str().to_owned()),
            Message::Close(frame) => bail!("the server closed the connection: {frame:?}"),
            _ => {}
        }
    }
}

/// Sends one command and waits for its acknowledgement (setup only, never on a measured path).
pub async fn call(ws: &mut Ws, ack_id: u64, name: &str, payload: &Value) -> anyhow::Result<Value> {
    ws.send(command(ack_id, name, &payload.to_string())).await?;
    loop {
        let text = next_text(ws).await?;
        if let Packet::Ack { id, body } = classify(&text)
            && id == ack_id
        {
            let reply: Value = serde_json::from_str(body).context("parsing an ack")?;
            return Ok(reply.get(0).cloned().unwrap_or(Value::Null));
        }
    }
}

/// Holds a socket open, answering pings, until the server closes it. Returns why it ended.
pub async fn hold(mut ws: Ws) -> String {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                if let Err(e) = ws.send(pong()).await {
                    return format!("pong failed: {e}");
                }
            }
            Some(Ok(Message::Close(frame))) => return format!("closed by the server: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return format!("read failed: {e}"),
            None => return "closed".into(),
        }
    }
}
