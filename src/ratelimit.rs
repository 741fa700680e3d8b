//! Rate limits: token buckets per socket and per REST credential (`RATE_LIMIT`, bursts of twice),
//! and one per credential and address over all its sockets (`AGGREGATE_FACTOR` times that).
//! With several instances, REST credentials are counted in Redis instead, so a caller spread
//! over instances by the load balancer gets the same allowance as on one; the aggregate of
//! sockets stays per instance.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::cluster::Cluster;
use crate::error::{AppError, AppResult};

/// The sockets of one credential from one address share `AGGREGATE_FACTOR` times a socket's
/// allowance. Without it a client multiplies its rate by opening sockets (measured before: 20
/// sockets of one key, 3,330 commands/s). Ten is far above a team on the team key behind one
/// address (each person sends a few commands a second while working), and still a bound.
pub const AGGREGATE_FACTOR: u32 = 10;

/// Whose sockets share an aggregate bucket: a credential id and the client's address (none
/// when the server does not know it).
type Origin = (String, Option<IpAddr>);

#[derive(Clone)]
pub struct RateLimits {
    quota: Option<Quota>,
    /// All sockets of one credential from one address, together.
    aggregate: Option<Arc<DefaultKeyedRateLimiter<Origin>>>,
    /// REST callers, keyed by credential. Sockets each get their own bucket instead.
    rest: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// With several instances: a fixed window per credential and second in Redis, allowing
    /// the burst (twice the rate) in any one second.
    shared: Option<(Arc<Cluster>, u64)>,
}

/// One socket's buckets: its own and its origin's; `None` when limits are off.
#[derive(Clone)]
pub struct Bucket(Option<(Arc<DefaultDirectRateLimiter>, Arc<DefaultKeyedRateLimiter<Origin>>, Origin)>);

impl RateLimits {
    /// `per_second` 0 turns limits off.
    pub fn new(per_second: u32) -> RateLimits {
        let quota = self::quota(per_second);
        let aggregate = self::quota(per_second.saturating_mul(AGGREGATE_FACTOR));
        RateLimits {
            quota,
            aggregate: aggregate.map(|q| Arc::new(RateLimiter::keyed(q))),
            rest: quota.map(|q| Arc::new(RateLimiter::keyed(q))),
            shared: None,
        }
    }

    /// REST credentials counted across instances. Sockets keep their own buckets: a socket
    /// lives on one instance.
    pub fn shared(self, cluster: Option<Arc<Cluster>>, per_second: u32) -> RateLimits {
        let shared = cluster.filter(|_| per_second > 0).map(|c| (c, u64::from(per_second) * 2));
        RateLimits { shared, ..self }
    }

    /// The buckets of a new socket opened with `credential` from `address`.
    pub fn socket_bucket(&self, credential: &str, address: Option<IpAddr>) -> Bucket {
        Bucket(self.quota.zip(self.aggregate.clone()).map(|(q, aggregate)| {
            (Arc::new(RateLimiter::direct(q)), aggregate, (credential.to_owned(), address))
        }))
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

/// `per_second` commands a second, bursts of twice that; `None` for 0 (no limit).
fn quota(per_second: u32) -> Option<Quota> {
    NonZeroU32::new(per_second).map(|rate| {
        let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
        Quota::per_second(rate).allow_burst(burst)
    })
}

impl Bucket {
    /// The socket's own bucket first: a socket over its own limit does not spend its siblings'.
    pub fn check(&self) -> AppResult<()> {
        match &self.0 {
            Some((own, aggregate, origin))
                if own.check().is_err() || aggregate.check_key(origin).is_err() =>
            {
                Err(AppError::RateLimited)
            }
            _ => Ok(()),
        }
    }
}
