//! Rate limits: token buckets per socket and per REST credential (`RATE_LIMIT`, bursts of twice).
//! With several instances, REST credentials are counted in Redis instead, so a caller spread
//! over instances by the load balancer gets the same allowance as on one.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::cluster::Cluster;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct RateLimits {
    quota: Option<Quota>,
    /// REST callers, keyed by credential. Sockets each get their own bucket instead.
    rest: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// With several instances: a fixed window per credential and second in Redis, allowing
    /// the burst (twice the rate) in any one second.
    shared: Option<(Arc<Cluster>, u64)>,
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
        RateLimits { quota, rest: quota.map(|q| Arc::new(RateLimiter::keyed(q))), shared: None }
    }

    /// REST credentials counted across instances. Sockets keep their own buckets: a socket
    /// lives on one instance.
    pub fn shared(self, cluster: Option<Arc<Cluster>>, per_second: u32) -> RateLimits {
        let shared = cluster.filter(|_| per_second > 0).map(|c| (c, u64::from(per_second) * 2));
        RateLimits { shared, ..self }
    }

    pub fn socket_bucket(&self) -> Bucket {
        Bucket(self.quota.map(|q| Arc::new(RateLimiter::direct(q))))
    }

    pub async fn check_rest(&self, credential: &str) -> AppResult<()> {
        if let Some((cluster, burst)) = &self.shared {
            match cluster.count_request(credential, *burst).await {
                Ok(true) => return Ok(()),
                Ok(false) => return Err(AppError::RateLimited),
                // Redis away: this instance's own limiter still protects it.
                Err(e) => e.log("counting a request in Redis"),
            }
        }
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
