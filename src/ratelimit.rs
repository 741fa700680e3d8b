//! Rate limits: token buckets per socket and per REST credential (`RATE_LIMIT`, bursts of twice).

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct RateLimits {
    quota: Option<Quota>,
    /// REST callers, keyed by credential. Sockets each get their own bucket instead.
    rest: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

/// One socket's bucket; `None` when limits are off.
#[derive(Clone)]
pub struct Bucket(Option<Arc<DefaultDirectRateLimiter>>);

impl RateLimits {
    /// `per_second` 0 turns limits off.
    pub fn new(per_second: u32) -> RateLimits {
        let quota = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
            Quota::per_second(rate).allow_burst(burst)
        });
        RateLimits { quota, rest: quota.map(|q| Arc::new(RateLimiter::keyed(q))) }
    }

    pub fn socket_bucket(&self) -> Bucket {
        Bucket(self.quota.map(|q| Arc::new(RateLimiter::direct(q))))
    }

    pub fn check_rest(&self, credential: &str) -> AppResult<()> {
        match &self.rest {
            Some(limiter) if limiter.check_key(&credential.to_owned()).is_err() => Err(AppError::RateLimited),
            _ => Ok(()),
        }
    }
}

impl Bucket {
    pub fn check(&self) -> AppResult<()> {
        match &self.0 {
            Some(limiter) if limiter.check().is_err() => Err(AppError::RateLimited),
            _ => Ok(()),
        }
    }
}
