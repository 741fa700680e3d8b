//! Sends webhook deliveries from the outbox (`domain::webhooks` queues them in each change's
//! transaction): signed, one at a time per webhook so its receiver gets them in order, retried
//! with growing delays, and given up after `Retries::give_up`, which disables the webhook.
//!
//! A receiver cannot slow anything else down: deliveries run on their own tasks, bounded in
//! number; each has a 10 s deadline, follows no redirect, and its answer's body is never read
//! (only the status counts), so a slow, hanging or huge answer costs one task for 10 s at most.
//! With several instances each delivery is claimed by exactly one of them (`claim_delivery`).

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use crate::App;
use crate::domain::storage::{Attempt, DueDelivery};
use crate::domain::webhooks;

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    /// The wait before the first retry; each next one waits twice as long, up to `LONGEST_WAIT`.
    pub first: Duration,
    /// How long deliveries of a webhook may keep failing before it is disabled.
    pub give_up: Duration,
}

/// SPEC: a 2xx within 10 s is success.
const DEADLINE: Duration = Duration::from_secs(10);
/// Retries are at most this far apart.
const LONGEST_WAIT: Duration = Duration::from_secs(3_600);
/// A claim outlives the deadline, so a delivery still being sent is not sent twice; a sender
/// that died holding one lets it go after this.
const CLAIM: Duration = Duration::from_secs(30);
/// How often the outbox is read when nothing woke the sender.
const POLL: Duration = Duration::from_millis(250);
/// Deliveries in flight at once, over all webhooks.
const IN_FLIGHT: usize = 64;

/// Runs for as long as the server does.
pub async fn deliver(app: App) {
    let client = match reqwest::Client::builder()
        .timeout(DEADLINE)
        .connect_timeout(DEADLINE)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("warroom-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; deliveries stay queued");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // A finished delivery wakes the loop at once: its webhook's next one is due now.
    let finished = Arc::new(Notify::new());
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = finished.notified() => {}
        }
        let now = crate::clock::now();
        let limit = i64::try_from(slots.available_permits()).unwrap_or(0);
        if limit == 0 {
            continue;
        }
        let due = match app.board.due_deliveries(&now, limit).await {
            Ok(due) => due,
            Err(e) => {
                e.log("reading the webhook outbox");
                continue;
            }
        };
        for delivery in due {
            let Ok(slot) = slots.clone().try_acquire_owned() else { break };
            match app.board.claim_delivery(delivery.id, &now, &crate::clock::after(CLAIM)).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    e.log("claiming a webhook delivery");
                    continue;
                }
            }
            let (app, client, finished) = (app.clone(), client.clone(), finished.clone());
            tokio::spawn(async move {
                send(&app, &client, delivery).await;
                drop(slot);
                finished.notify_one();
            });
        }
    }
}

/// One attempt at one delivery, and what follows from it.
async fn send(app: &App, client: &reqwest::Client, delivery: DueDelivery) {
    let outcome = attempt(client, &delivery).await;
    let attempts = delivery.attempts + 1;
    let record = match outcome {
        Ok(code) if (200..300).contains(&code) => Attempt::Delivered { code },
        failed => {
            let (code, error) = match failed {
                Ok(code) => (Some(code), None),
                Err(error) => (None, Some(error)),
            };
            let retry_at = (!gave_up(&delivery, app.webhooks.give_up))
                .then(|| crate::clock::after(wait_before(attempts, app.webhooks.first)));
            Attempt::Failed { code, error, retry_at }
        }
    };
    let given_up = matches!(record, Attempt::Failed { retry_at: None, .. });
    if let Err(e) = app.board.finish_delivery(delivery.id, record).await {
        e.log("recording a webhook delivery");
        return;
    }
    if given_up {
        let hours = app.webhooks.give_up.as_secs_f64() / 3_600.0;
        let reason = format!("its deliveries failed for {hours:.3} hours");
        if let Err(e) = app.board.disable_webhook(&delivery.board, delivery.webhook_id, &reason).await {
            e.log("disabling a failing webhook");
        }
    }
}

/// Posts the delivery: the answer's status, or why none came.
async fn attempt(client: &reqwest::Client, delivery: &DueDelivery) -> Result<i64, String> {
    let body = webhooks::body(delivery.format, delivery.id, &delivery.payload).map_err(|e| e.to_string())?;
    let response = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Warroom-Event", &delivery.event)
        .header("X-Warroom-Delivery", delivery.id.to_string())
        .header("X-Warroom-Signature-256", format!("sha256={}", sign(&delivery.secret, &body)))
        .body(body)
        .send()
        .await
        .map_err(describe)?;
    // The body is dropped unread: only the status counts, whatever size the answer has.
    Ok(i64::from(response.status().as_u16()))
}

/// Hex HMAC-SHA256 of `body` keyed with the webhook's secret, as receivers check it.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within 10 s".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        // Without the URL, which may carry a token of the receiver's.
        e.without_url().to_string()
    }
}

/// Whether a delivery has failed for as long as it may.
fn gave_up(delivery: &DueDelivery, give_up: Duration) -> bool {
    let Ok(created) = chrono::DateTime::parse_from_rfc3339(&delivery.created_at) else { return true };
    let age = chrono::Utc::now().signed_duration_since(created);
    age.to_std().is_ok_and(|age| age >= give_up)
}

/// The wait before attempt `attempts + 1`: `first`, doubled each time up to an hour, ±20 %
/// so that many deliveries failing together do not retry together.
fn wait_before(attempts: i64, first: Duration) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let wait = first.saturating_mul(1 << doublings).min(LONGEST_WAIT);
    wait.mul_f64(rand::rng().random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let first = Duration::from_secs(10);
        let within = |attempts, secs: f64| {
            let w = wait_before(attempts, first).as_secs_f64();
            assert!(w >= secs * 0.8 && w <= secs * 1.2, "attempt {attempts}: {w} s, not about {secs} s");
        };
        within(1, 10.0);
        within(2, 20.0);
        within(5, 160.0);
        within(30, 3_600.0);
    }
}
