//! A throwaway PostgreSQL database per test: created from `TEST_DATABASE_URL` with a unique
//! name, dropped when the test ends (even when it fails).
//!
//! Without `TEST_DATABASE_URL` a test that needs PostgreSQL says so loudly and passes: the
//! default build and test need nothing but Rust.

use std::io::Write;

use ::postgres::{Client, NoTls};

/// What a PostgreSQL test prints when there is no server to run against.
pub const SKIPPED: &str = "SKIPPED: TEST_DATABASE_URL not set";

pub struct TestDatabase {
    /// `postgres://…/warroom_test_<random>`: what `DATABASE_URL` would be.
    pub url: String,
    /// The database the new one was created from, which also drops it.
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A new, empty database; `None` (after saying so) when `TEST_DATABASE_URL` is not set.
    pub async fn create(test: &str) -> Option<TestDatabase> {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => {
                // Straight to stderr, not `eprintln!`, which the test runner captures and
                // shows only for failures: a skip must be seen in every run.
                let _ = writeln!(std::io::stderr(), "{SKIPPED} ({test})");
                return None;
            }
        };
        let name = format!("warroom_test_{:016x}", rand::random::<u64>());
        let (url, statement) = (admin_url.clone(), format!("CREATE DATABASE {name}"));
        // The synchronous client runs its own runtime: it may not run on the test's threads.
        tokio::task::spawn_blocking(move || Client::connect(&url, NoTls)?.batch_execute(&statement))
            .await
            .expect("the create task")
            .unwrap_or_else(|e| panic!("creating {name} from TEST_DATABASE_URL: {e}"));
        Some(TestDatabase { url: with_database(&admin_url, &name), admin_url, name })
    }
}

impl TestDatabase {
    /// Ends every connection to the database, as a restart or a failover of the server would.
    /// Returns how many there were.
    pub async fn terminate_connections(&self) -> usize {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        tokio::task::spawn_blocking(move || -> Result<usize, ::postgres::Error> {
            let rows = Client::connect(&url, NoTls)?.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )?;
            Ok(rows.len())
        })
        .await
        .expect("the terminate task")
        .expect("terminating connections")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // A thread of its own, since this may run on an async thread; FORCE ends connections a
        // failed test left open.
        let dropped = std::thread::spawn(move || {
            Client::connect(&url, NoTls)?
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}

/// The same URL naming another database: `postgres://u@h:5432/test?x=y` → `…/name?x=y`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
