//! What a client can make the transport hold: connections that never finish a request, Socket.IO
//! sessions that never authenticate, oversized handshakes, and the per-credential limits that
//! must hold under concurrent handshakes and reconnect loops.

mod common;

use std::time::{Duration, Instant};

use common::{Database, TestApp};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use warroom::transport::{HEADER_TIMEOUT, PENDING_HANDSHAKES, UNAUTHENTICATED_SESSIONS};

/// Socket.IO's connect timeout as the server sets it, plus room for a loaded machine.
const CONNECT_DEADLINE: Duration = Duration::from_secs(5 + 10);

async fn tcp(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.url.trim_start_matches("http://")).await.expect("connecting")
}

/// Reads until the server closes the connection (EOF or reset); fails after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server did not close the connection in time");
    started.elapsed()
}

/// A WebSocket to the Socket.IO endpoint, upgraded and past engine.io's open packet, that has
/// not joined the namespace.
async fn keyless_websocket(app: &TestApp) -> TcpStream {
    let mut stream = tcp(app).await;
    let request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"sid\"") {
        let n = stream.read(&mut buf).await.expect("reading the upgrade");
        assert!(n > 0, "closed before the open packet: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&seen));
    stream
}

/// One masked WebSocket text frame, as a client sends it.
fn text_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [7u8, 1, 3, 9];
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_a_request_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn().await;
    let mut idle = tcp(&app).await;
    let mut slow = tcp(&app).await;
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    let (idle_after, slow_after) = tokio::join!(
        closed_within(&mut idle, HEADER_TIMEOUT + Duration::from_secs(5)),
        closed_within(&mut slow, HEADER_TIMEOUT + Duration::from_secs(5)),
    );

    assert!(idle_after >= HEADER_TIMEOUT - Duration::from_secs(1), "closed too early: {idle_after:?}");
    assert!(slow_after >= HEADER_TIMEOUT - Duration::from_secs(1), "closed too early: {slow_after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_idle_connections_fill_every_slot_health_still_answers() {
    let app = TestApp::spawn_with(Database::fresh(), |args| args.max_connections = Some(20)).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(tcp(&app).await);
    }

    for _ in 0..3 {
        let started = Instant::now();
        let health = app.anonymous(reqwest::Method::GET, "/api/health").send().await.expect("health answers");
        assert_eq!(health.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(2), "health took {:?}", started.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_that_never_joins_the_namespace_is_closed_after_the_connect_timeout() {
    let app = TestApp::spawn().await;
    let mut ws = keyless_websocket(&app).await;

    closed_within(&mut ws, CONNECT_DEADLINE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_client_sending_a_large_message_is_cut_off_before_it_is_read() {
    let app = TestApp::spawn().await;
    let mut ws = keyless_websocket(&app).await;
    let auth = format!("40{{\"apiKey\":\"wrong\",\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));

    // The write itself may fail once the server has closed its end.
    let _ = ws.write_all(&text_frame(auth.as_bytes())).await;

    closed_within(&mut ws, Duration::from_secs(5)).await;
    let socket = app.socket(Some("Alice")).await;
    socket.create_task("still serving").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_auth_over_16_kib_is_refused_with_payload_too_large() {
    let app = TestApp::spawn().await;

    let refused = app
        .connect(json!({ "apiKey": app.key, "subscribe": ["x".repeat(17 * 1024)] }))
        .await
        .err()
        .expect("refused");

    let message = refused.payload["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("PAYLOAD_TOO_LARGE"), "connect_error: {}", refused.payload);
}

/// `count` keyless polling handshakes, at most 256 in flight; their HTTP statuses.
async fn polling_handshakes(app: &TestApp, count: usize) -> Vec<u16> {
    let open = |_| async {
        app.anonymous(reqwest::Method::GET, "/socket.io/?EIO=4&transport=polling")
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    };
    let mut statuses = Vec::with_capacity(count);
    for start in (0..count).step_by(256) {
        statuses.extend(futures_util::future::join_all((start..count.min(start + 256)).map(open)).await);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_handshakes_past_the_places_take_the_oldest_ones_so_a_keyed_client_still_gets_in() {
    let app = TestApp::spawn().await;
    let mut held = keyless_websocket(&app).await;

    let statuses = polling_handshakes(&app, PENDING_HANDSHAKES + 100).await;

    assert!(statuses.iter().all(|s| *s == 200), "every handshake is served: {statuses:?}");
    // The WebSocket held the oldest place: the newcomers closed it.
    closed_within(&mut held, Duration::from_secs(5)).await;
    let socket = app.socket(Some("Alice")).await;
    socket.create_task("still serving").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_handshakes_beyond_the_session_limit_are_answered_503_and_health_still_answers() {
    let app = TestApp::spawn().await;

    // Sessions end 2 s after they open, so on a slow machine some expire while the rest are
    // opened: count how many were served before the first refusal, whenever it comes.
    let mut served = 0;
    let mut refused = false;
    for _ in 0..(3 * UNAUTHENTICATED_SESSIONS / 256) {
        let statuses = polling_handshakes(&app, 256).await;
        assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
        served += statuses.iter().take_while(|s| **s == 200).count();
        if statuses.contains(&503) {
            refused = true;
            break;
        }
    }

    assert!(refused, "no handshake refused after {served}");
    assert!(served >= UNAUTHENTICATED_SESSIONS, "refused after only {served}");
    let health = app.anonymous(reqwest::Method::GET, "/api/health").send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handshakes_admit_exactly_the_connection_limit() {
    let app = TestApp::spawn_with(Database::fresh(), |args| args.connection_limit = 5).await;

    let attempts =
        futures_util::future::join_all((0..40).map(|_| app.connect(json!({ "apiKey": app.key })))).await;

    let admitted = attempts.iter().filter(|a| a.is_ok()).count();
    assert_eq!(admitted, 5, "admitted {admitted} sockets with a limit of 5");
    for refused in attempts.iter().filter_map(|a| a.as_ref().err()) {
        let message = refused.payload["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("RATE_LIMITED"), "connect_error: {}", refused.payload);
    }
    let health: serde_json::Value = app.get("/api/health").await.body;
    assert_eq!(health["connections"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_in_a_loop_is_refused_with_rate_limited() {
    // 20 a minute: bursts of 10, then one every 3 s.
    let app = TestApp::spawn_with(Database::fresh(), |args| args.connect_rate = 20).await;

    let mut refusal = None;
    for attempt in 0..20 {
        match app.connect(json!({ "apiKey": app.key })).await {
            Ok(socket) => socket.close().await,
            Err(refused) => {
                refusal = Some((attempt, refused.payload));
                break;
            }
        }
    }

    let (attempt, payload) = refusal.expect("a reconnect loop is refused");
    assert!(attempt >= 10, "the burst of 10 is allowed, refused at attempt {attempt}");
    let message = payload["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("RATE_LIMITED"), "connect_error: {payload}");
}

/// A WebSocket joined to the namespace with the team key, past `sync:full`.
async fn keyed_websocket(app: &TestApp) -> TcpStream {
    let mut ws = keyless_websocket(app).await;
    ws.write_all(&text_frame(format!("40{{\"apiKey\":\"{}\"}}", app.key).as_bytes())).await.unwrap();
    read_until(&mut ws, "sync:full").await;
    ws
}

/// Reads frames until `needle` shows up in what the server sent; `false` if it closed first.
async fn read_until(ws: &mut TcpStream, needle: &str) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if String::from_utf8_lossy(&seen).contains(needle) {
                return true;
            }
            match ws.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("neither the expected packet nor a close arrived")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_with_the_largest_ack_id_is_acknowledged() {
    let app = TestApp::spawn().await;
    let mut ws = keyed_websocket(&app).await;

    let id = i64::MAX;
    ws.write_all(&text_frame(format!("42{id}[\"task:create\",{{\"title\":\"big id\"}}]").as_bytes()))
        .await
        .unwrap();

    assert!(read_until(&mut ws, &format!("43{id}[{{\"ok\":true")).await, "no ack for id {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_with_an_ack_id_beyond_two_to_the_63_is_refused_and_not_applied() {
    let app = TestApp::spawn().await;
    let mut ws = keyed_websocket(&app).await;

    let packet = "429223372036854775808[\"task:create\",{\"title\":\"unanswerable\"}]";
    ws.write_all(&text_frame(packet.as_bytes())).await.unwrap();

    assert!(!read_until(&mut ws, "unanswerable").await, "the command ran");
    assert!(app.tasks().await.is_empty(), "nothing written");
}

/// A long-polling Socket.IO session: its id, after engine.io's open packet.
async fn polling_session(app: &TestApp) -> String {
    let open =
        app.anonymous(reqwest::Method::GET, "/socket.io/?EIO=4&transport=polling").send().await.unwrap();
    let body = open.text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(body.trim_start_matches('0')).expect("an open packet");
    open["sid"].as_str().expect("a session id").to_owned()
}

async fn post_packet(app: &TestApp, sid: &str, packet: String) -> u16 {
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let reply = app.anonymous(reqwest::Method::POST, &path).body(packet).send().await;
    reply.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_session_posts_large_messages_only_once_authenticated() {
    let app = TestApp::spawn().await;
    let large =
        |n: usize| format!("42[\"task:create\",{{\"title\":\"t\",\"description\":\"{}\"}}]", "d".repeat(n));

    let keyless = polling_session(&app).await;
    assert_ne!(post_packet(&app, &keyless, large(200 * 1024)).await, 200, "read in full without a key");

    let keyed = polling_session(&app).await;
    assert_eq!(post_packet(&app, &keyed, format!("40{{\"apiKey\":\"{}\"}}", app.key)).await, 200);
    let poll = format!("/socket.io/?EIO=4&transport=polling&sid={keyed}");
    // The handshake reads the board from the store, so its answer may come after a first poll.
    let mut connected = String::new();
    for _ in 0..5 {
        connected += &app.anonymous(reqwest::Method::GET, &poll).send().await.unwrap().text().await.unwrap();
        if connected.contains("40{\"sid\"") {
            break;
        }
    }
    assert!(connected.contains("40{\"sid\""), "joined the namespace: {connected}");
    assert_eq!(
        post_packet(&app, &keyed, large(200 * 1024)).await,
        200,
        "an authenticated session's message is read"
    );
}
