//! TLS to PostgreSQL (`sslmode`, `sslrootcert`, `DATABASE_CA_CERT`) and to Redis (`rediss://`), against real servers:
//! the PostgreSQL of `TEST_DATABASE_URL` (which must have `ssl = on`, as Debian's has with its
//! snakeoil certificate), and a `redis-server` with TLS that each Redis test starts on a free port
//! with a throwaway CA and certificate made by the `openssl` command. Without `TEST_DATABASE_URL`
//! (and `TEST_REDIS_URL` for the Redis tests) each test prints `SKIPPED: …` and passes.
//!
//! That TLS is really used is read from the server's side: `pg_stat_ssl` for every connection
//! the instance opened to its database, the reconnections after a restart of the server included.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use common::postgres::TestDatabase;
use common::redis::TestRedis;
use common::{DEADLINE, Database, TestApp, id_of, serve_args};
use serde_json::json;
use tempfile::TempDir;

/// Debian's self-signed certificate for `localhost`, which its PostgreSQL serves by default.
const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

// ---- PostgreSQL ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_sslmode_require_encrypts_every_connection_and_every_reconnection() {
    let Some(db) = TestDatabase::create(
        "a_server_with_sslmode_require_encrypts_every_connection_and_every_reconnection",
    )
    .await
    else {
        return;
    };
    let app = spawn_on(&with_params(&db.url, "sslmode=require")).await;
    let first = app.create_task("Over TLS").await;
    assert_eq!(app.tasks().await, vec![first.clone()], "the writer wrote, a reader read");
    let before = connections_tls(&db.url).await;
    assert!(before.len() >= 2, "the writer and a reader: {before:?}");
    assert!(before.iter().all(|ssl| *ssl), "every connection is encrypted: {before:?}");

    // A restart of the server ends every connection: the writer and the readers open new ones.
    assert!(db.terminate_connections().await >= 2);
    let second = app.create_task("After the restart").await;
    assert_eq!(app.tasks().await.len(), 2, "{:?}", app.tasks().await);
    let after = connections_tls(&db.url).await;
    assert!(after.len() >= 2, "the new writer and reader: {after:?}");
    assert!(after.iter().all(|ssl| *ssl), "reconnections are encrypted too: {after:?}");
    assert_eq!(app.task(id_of(&second)).await, second);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_sslmode_disable_talks_to_postgres_in_plain_text() {
    let Some(db) =
        TestDatabase::create("a_server_with_sslmode_disable_talks_to_postgres_in_plain_text").await
    else {
        return;
    };
    let app = spawn_on(&with_params(&db.url, "sslmode=disable")).await;
    app.create_task("In the clear").await;
    assert_eq!(app.tasks().await.len(), 1);
    let connections = connections_tls(&db.url).await;
    assert!(!connections.is_empty() && connections.iter().all(|ssl| !ssl), "{connections:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_against_an_unrelated_ca_is_refused_with_a_clear_error() {
    let Some(db) =
        TestDatabase::create("verify_full_against_an_unrelated_ca_is_refused_with_a_clear_error").await
    else {
        return;
    };
    let certs = Certificates::generate();
    let url = with_params(&db.url, &format!("sslmode=verify-full&sslrootcert={}", certs.ca.display()));

    let error = open_fails(&url).await;

    assert!(error.contains("connecting to PostgreSQL at"), "{error}");
    assert!(
        error.contains(&format!("checked against {} (sslmode=verify-full)", certs.ca.display())),
        "{error}"
    );
    assert!(error.contains("invalid peer certificate") && error.contains("UnknownIssuer"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_trusts_the_servers_own_certificate_for_its_name_only() {
    let test = "verify_full_trusts_the_servers_own_certificate_for_its_name_only";
    let Some(db) = snakeoil_database(test).await else {
        return;
    };
    // The snakeoil certificate names `localhost` only: connect by that name (to 127.0.0.1).
    let by_name = with_params(
        &with_host(&db.url, "localhost"),
        &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    let app = spawn_on(&by_name).await;
    app.create_task("Verified").await;
    let connections = connections_tls(&db.url).await;
    assert!(!connections.is_empty() && connections.iter().all(|ssl| *ssl), "{connections:?}");
    app.stop().await;

    // By its address, the same certificate names another host: verify-full refuses it…
    let by_address = with_host(&db.url, "127.0.0.1");
    let error =
        open_fails(&with_params(&by_address, &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"))).await;
    assert!(
        error.contains("invalid peer certificate: certificate not valid for name \"127.0.0.1\""),
        "{error}"
    );
    // …and verify-ca, which checks the chain and not the name, accepts it.
    let app = spawn_on(&with_params(&by_address, &format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}"))).await;
    assert_eq!(app.tasks().await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_cert_as_text_is_trusted_as_a_sslrootcert_file_holding_it() {
    let test = "the_ca_cert_as_text_is_trusted_as_a_sslrootcert_file_holding_it";
    let Some(db) = snakeoil_database(test).await else {
        return;
    };
    let snakeoil = std::fs::read_to_string(SNAKEOIL).expect("reading the snakeoil certificate");
    let by_name = with_params(&with_host(&db.url, "localhost"), "hostaddr=127.0.0.1&sslmode=verify-full");
    let app = spawn_trusting(&by_name, &snakeoil).await;
    app.create_task("Verified by the CA's text").await;
    let connections = connections_tls(&db.url).await;
    assert!(!connections.is_empty() && connections.iter().all(|ssl| *ssl), "{connections:?}");
    app.stop().await;

    // The administrative commands read it from the environment as the server does.
    let env = [("DATABASE_URL", by_name.as_str()), ("DATABASE_CA_CERT", snakeoil.as_str())];
    let created = warroom(&["token", "create", "--name", "Deploy"], &env).await;
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(created.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("for Deploy (editor)"), "{created:?}");

    // The same text cannot vouch for a name its certificate does not carry (verify-full)…
    let by_address = with_params(&with_host(&db.url, "127.0.0.1"), "sslmode=verify-full");
    let error = open_fails_trusting(&by_address, Some(&snakeoil)).await;
    assert!(
        error.contains("checked against DATABASE_CA_CERT (sslmode=verify-full)")
            && error.contains("certificate not valid for name \"127.0.0.1\""),
        "{error}"
    );
    // …and with it `require` checks the chain, as libpq does with a root certificate.
    let required = with_params(&with_host(&db.url, "127.0.0.1"), "sslmode=require");
    let app = spawn_trusting(&required, &snakeoil).await;
    assert_eq!(app.tasks().await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_of_an_unrelated_ca_is_refused_with_a_clear_error() {
    let Some(db) = TestDatabase::create("the_text_of_an_unrelated_ca_is_refused_with_a_clear_error").await
    else {
        return;
    };
    let other = std::fs::read_to_string(Certificates::generate().ca).expect("reading the test CA");
    let by_name = with_params(&with_host(&db.url, "localhost"), "hostaddr=127.0.0.1&sslmode=verify-full");

    let error = open_fails_trusting(&by_name, Some(&other)).await;

    assert!(error.contains("connecting to PostgreSQL at"), "{error}");
    assert!(error.contains("checked against DATABASE_CA_CERT (sslmode=verify-full)"), "{error}");
    assert!(error.contains("invalid peer certificate") && error.contains("UnknownIssuer"), "{error}");
    // `require` with a CA checks the chain too: refused the same way, not merely encrypted.
    let required = with_params(&db.url, "sslmode=require");
    let error = open_fails_trusting(&required, Some(&other)).await;
    assert!(error.contains("UnknownIssuer"), "{error}");
}

#[tokio::test]
async fn a_ca_cert_that_is_not_pem_or_comes_with_sslrootcert_stops_the_start_naming_it() {
    // Refused before any connection: no PostgreSQL needed. The binary, from its environment.
    let url = "postgres://warroom@127.0.0.1:1/warroom?sslmode=verify-full";
    let garbage =
        warroom(&["serve"], &[("DATABASE_URL", url), ("DATABASE_CA_CERT", "/etc/ssl/ca.pem")]).await;
    let stderr = String::from_utf8_lossy(&garbage.stderr);
    assert!(!garbage.status.success(), "{garbage:?}");
    assert!(stderr.contains("DATABASE_CA_CERT holds no PEM certificate"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let ca = Certificates::generate();
    let pem = std::fs::read_to_string(&ca.ca).expect("reading the test CA");
    let both = format!("{url}&sslrootcert={}", ca.ca.display());
    let error = open_fails_trusting(&both, Some(&pem)).await;
    assert!(error.contains("DATABASE_CA_CERT and the sslrootcert of DATABASE_URL are both set"), "{error}");
}

/// A server on `url` (a `DATABASE_URL`).
async fn spawn_on(url: &str) -> TestApp {
    let url = url.to_owned();
    TestApp::spawn_with(Database::fresh(), move |args| args.database_url = Some(url)).await
}

/// A server on `url` with `DATABASE_CA_CERT` = `pem`.
async fn spawn_trusting(url: &str, pem: &str) -> TestApp {
    let (url, pem) = (url.to_owned(), pem.to_owned());
    TestApp::spawn_with(Database::fresh(), move |args| {
        args.database_url = Some(url);
        args.database_ca_cert = Some(pem);
    })
    .await
}

/// The error with which a server on `url` fails to start, with its causes.
async fn open_fails(url: &str) -> String {
    open_fails_trusting(url, None).await
}

/// The same with `DATABASE_CA_CERT` = `pem`.
async fn open_fails_trusting(url: &str, pem: Option<&str>) -> String {
    let db = Database::fresh();
    let mut args = serve_args(&db.path);
    args.database_url = Some(url.to_owned());
    args.database_ca_cert = pem.map(str::to_owned);
    match warroom::App::open(&args).await {
        Ok(_) => panic!("the server started on {url}"),
        Err(e) => format!("{e:#}"),
    }
}

/// Runs the binary with `env` and none of the other settings' variables from the test's own.
async fn warroom(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_warroom"));
    command.args(args).stdin(Stdio::null());
    for name in ["WAAAH_API_KEY", "DATABASE_PATH", "DATABASE_URL", "DATABASE_CA_CERT", "REDIS_URL", "PORT"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    tokio::time::timeout(DEADLINE, command.output())
        .await
        .expect("warroom took too long")
        .expect("running warroom")
}

/// Whether each connection warroom holds to the database of `db_url` is encrypted, as the
/// server sees it (asked over a connection of the test's own, to the `TEST_DATABASE_URL` database).
async fn connections_tls(db_url: &str) -> Vec<bool> {
    let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let name = database_of(db_url);
    tokio::task::spawn_blocking(move || -> Result<Vec<bool>, postgres::Error> {
        let rows = postgres::Client::connect(&admin, postgres::NoTls)?.query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
             WHERE a.datname = $1 AND a.application_name = 'warroom'",
            &[&name],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    })
    .await
    .expect("the query task")
    .expect("reading pg_stat_ssl")
}

/// Whether the server of `TEST_DATABASE_URL` serves Debian's snakeoil certificate, which this
/// test can then trust (and read).
/// A new database on a server that serves Debian's snakeoil certificate, or `None` (and a loud
/// skip) when there is no TEST_DATABASE_URL or its server has another certificate.
async fn snakeoil_database(test: &str) -> Option<TestDatabase> {
    let db = TestDatabase::create(test).await?;
    if !serves_snakeoil().await {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the PostgreSQL of TEST_DATABASE_URL does not serve {SNAKEOIL} ({test})"
        );
        return None;
    }
    Some(db)
}

async fn serves_snakeoil() -> bool {
    let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let file = tokio::task::spawn_blocking(move || -> Result<String, postgres::Error> {
        Ok(postgres::Client::connect(&admin, postgres::NoTls)?.query_one("SHOW ssl_cert_file", &[])?.get(0))
    })
    .await
    .expect("the query task");
    matches!(file, Ok(file) if file == SNAKEOIL) && std::fs::read(SNAKEOIL).is_ok()
}

/// `postgres://u@h:5432/name?x` → `name`.
fn database_of(url: &str) -> String {
    let base = url.split('?').next().unwrap();
    base.rsplit('/').next().unwrap().to_owned()
}

/// The URL with `params` added to its query.
fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// The URL with another host name, its user, port, database and parameters kept.
fn with_host(url: &str, host: &str) -> String {
    let start = url.find("://").expect("a URL") + 3;
    let end = url[start..].find(['/', '?']).map_or(url.len(), |i| start + i);
    let authority = &url[start..end];
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, rest)) => (format!("{user}@"), rest),
        None => (String::new(), authority),
    };
    let port = host_port.rsplit_once(':').map(|(_, port)| format!(":{port}")).unwrap_or_default();
    format!("{}{user}{host}{port}{}", &url[..start], &url[end..])
}

// ---- Redis ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_tls_redis_share_changes_and_report_redis_ok() {
    let test = "two_instances_on_a_tls_redis_share_changes_and_report_redis_ok";
    let Some(redis) = TestRedis::create(test) else {
        return;
    };
    let Some(db) = TestDatabase::create(test).await else {
        return;
    };
    let server = TlsRedis::start();
    // A encrypts without checking the certificate (the redis crate's `#insecure`); B checks it
    // against the CA that signed it.
    let a = instance(&db, &redis, &format!("rediss://127.0.0.1:{}/#insecure", server.port), None).await;
    let b =
        instance(&db, &redis, &format!("rediss://127.0.0.1:{}", server.port), Some(&server.certs.ca)).await;
    for app in [&a, &b] {
        let health = app.get("/api/health").await;
        assert_eq!(health.body["redis"], "ok", "{health:?}");
    }
    let bob = b.socket(Some("Bob")).await;
    let alice = a.socket(Some("Alice")).await;

    let task = alice.create_task("Across a TLS Redis").await;
    let id = id_of(&task);
    let on_b = bob.wait_event(&format!("task:{id}:created")).await;
    assert_eq!(on_b.payload, task);
    bob.ack_ok("task:move", json!({ "taskId": id, "status": "DONE" })).await;
    alice.wait_for("task:moved", |m| m["taskId"] == id && m["movedBy"] == "Bob").await;

    drop((alice, bob));
    a.stop().await;
    b.stop().await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_redis_whose_certificate_is_not_trusted_is_refused_at_start() {
    if TestRedis::create("a_tls_redis_whose_certificate_is_not_trusted_is_refused_at_start").is_none() {
        return;
    }
    let server = TlsRedis::start();
    let url = format!("rediss://127.0.0.1:{}", server.port);

    // The system's CA bundle does not know the test's CA.
    let untrusted = warroom::cluster::Cluster::connect(&url, "warroom_tls_test", None).await;
    let error = format!("{:#}", untrusted.err().expect("refused"));
    assert!(error.contains(&format!("connecting to Redis at 127.0.0.1:{} over TLS", server.port)), "{error}");
    assert!(error.contains("UnknownIssuer"), "{error}");

    // A CA file that did not sign it is refused the same way; the right one is accepted.
    let other = Certificates::generate();
    let wrong = warroom::cluster::Cluster::connect(&url, "warroom_tls_test", Some(&other.ca)).await;
    let error = format!("{:#}", wrong.err().expect("refused"));
    assert!(error.contains("UnknownIssuer"), "{error}");
    let trusted = warroom::cluster::Cluster::connect(&url, "warroom_tls_test", Some(&server.certs.ca)).await;
    assert!(trusted.is_ok(), "{:#}", trusted.err().unwrap());
}

async fn instance(db: &TestDatabase, redis: &TestRedis, url: &str, ca: Option<&Path>) -> TestApp {
    let (db_url, redis_url, prefix) = (db.url.clone(), url.to_owned(), redis.prefix.clone());
    let ca = ca.map(Path::to_owned);
    TestApp::spawn_with(Database::fresh(), move |args| {
        args.database_url = Some(db_url);
        args.redis_url = Some(redis_url);
        args.redis_ca_file = ca;
        args.redis_prefix = prefix;
    })
    .await
}

/// A `redis-server` that speaks TLS only, on a free port, with a certificate for `127.0.0.1`
/// signed by a throwaway CA; killed when dropped.
struct TlsRedis {
    port: u16,
    certs: Certificates,
    child: Child,
}

impl TlsRedis {
    fn start() -> TlsRedis {
        let certs = Certificates::generate();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&certs.server)
            .arg("--tls-key-file")
            .arg(&certs.server_key)
            .arg("--tls-ca-cert-file")
            .arg(&certs.ca)
            .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(certs.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server (TEST_REDIS_URL is set, so it should be installed)");
        // Its log goes to stdout: read until it is ready, then keep draining it so that the
        // server never blocks on a full pipe.
        let (ready, readiness) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut log = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Ready to accept connections") {
                    let _ = ready.send(Ok(()));
                }
                log.push(line);
            }
            let _ = ready.send(Err(log.join("\n")));
        });
        match readiness.recv_timeout(DEADLINE) {
            Ok(Ok(())) => TlsRedis { port, certs, child },
            Ok(Err(log)) => panic!("redis-server stopped while starting:\n{log}"),
            Err(_) => {
                let _ = child.kill();
                panic!("redis-server was not ready within {DEADLINE:?}")
            }
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway CA and a server certificate it signed, for `localhost` and `127.0.0.1`, made with
/// the `openssl` command in a temp dir.
struct Certificates {
    dir: TempDir,
    ca: PathBuf,
    server: PathBuf,
    server_key: PathBuf,
}

impl Certificates {
    fn generate() -> Certificates {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = |name: &str| dir.path().join(name);
        // A name of its own: another test CA is another issuer, not a forger of this one.
        let subject = format!("/CN=warroom test CA {:08x}", rand::random::<u32>());
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let ca = ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", &subject];
        openssl(dir.path(), &[&["req"], &key[..], &ca].concat());
        let csr = ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"];
        openssl(dir.path(), &[&["req"], &key[..], &csr].concat());
        std::fs::write(
            path("server.ext"),
            "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
             extendedKeyUsage = serverAuth\n",
        )
        .unwrap();
        let sign =
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1"];
        openssl(
            dir.path(),
            &[&sign[..], &["-days", "2", "-extfile", "server.ext", "-out", "server.pem"]].concat(),
        );
        Certificates { ca: path("ca.pem"), server: path("server.pem"), server_key: path("server.key"), dir }
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let made = Command::new("openssl").current_dir(dir).args(args).output().expect("running openssl");
    assert!(made.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&made.stderr));
}
