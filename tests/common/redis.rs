//! A Redis key prefix of its own per test, from `TEST_REDIS_URL`: the instances a test starts
//! use it for every key and channel, so tests never see each other; its keys are deleted when
//! the test ends (even when it fails).
//!
//! Without `TEST_REDIS_URL` a test that needs Redis says so loudly and passes.

use std::io::Write;

/// What a Redis test prints when there is no server to run against.
pub const SKIPPED: &str = "SKIPPED: TEST_REDIS_URL not set";

pub struct TestRedis {
    pub url: String,
    /// `warroom_test_<random>`: what `REDIS_PREFIX` would be.
    pub prefix: String,
}

impl TestRedis {
    /// A fresh prefix; `None` (after saying so) when `TEST_REDIS_URL` is not set.
    pub fn create(test: &str) -> Option<TestRedis> {
        match std::env::var("TEST_REDIS_URL") {
            Ok(url) if !url.trim().is_empty() => Some(TestRedis {
                url: url.trim().to_owned(),
                prefix: format!("warroom_test_{:016x}", rand::random::<u64>()),
            }),
            _ => {
                // Straight to stderr: the test runner shows captured output only for failures.
                let _ = writeln!(std::io::stderr(), "{SKIPPED} ({test})");
                None
            }
        }
    }

    /// Every key under the prefix, as the test left them.
    pub fn keys(&self) -> Vec<String> {
        let (url, pattern) = (self.url.clone(), format!("{}:*", self.prefix));
        std::thread::spawn(move || -> redis::RedisResult<Vec<String>> {
            let mut c = redis::Client::open(url)?.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query(&mut c)?;
            Ok(keys)
        })
        .join()
        .expect("the keys thread")
        .expect("listing the test's Redis keys")
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}:*", self.prefix));
        // A thread of its own (this may run on an async thread), with the synchronous client.
        let deleted = std::thread::spawn(move || -> redis::RedisResult<()> {
            let mut c = redis::Client::open(url)?.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query(&mut c)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).query::<()>(&mut c)?;
            }
            Ok(())
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete the test's Redis keys under {}: {deleted:?}", self.prefix);
        }
    }
}
