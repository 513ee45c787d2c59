//! Webhook notifications: reminders, overdue warnings, defaults, demand
//! notices, list changes and decisions, delivered to the webhooks the
//! organisations registered, at least once, in log order.
//!
//! The outbox is the organisation's notification feed (`xw‖S‖index` rows,
//! written in the same durable batch as the records they announce — see
//! [`crate::index`]), so nothing acknowledged can be lost. Each webhook keeps
//! a cursor (`xK‖S` → last delivered index) that advances only after the
//! receiver answered 2xx; across restarts delivery resumes from the cursor.
//! A failing receiver is retried with exponential backoff (1 s doubling to
//! 5 min) without holding up the other organisations.
//!
//! Each delivery is `POST <url>` with the [`Notification`] JSON as body and
//! headers `Idempotency-Key: <origin>/<index>/<uscc>` (the same on every
//! retry) and `Lvyue-Signature: <key name>+<key id hex>+<base64 Ed25519
//! signature of the body by the node key>` so the receiver can authenticate
//! it with the log's verifier key.
//!
//! Registration (`POST /v1/webhooks`) is signed by a registered, unrevoked
//! key held by the organisation, over
//! `"lvyue/webhook/v1\n" ‖ origin ‖ "\n" ‖ uscc ‖ "\n" ‖ url ‖ "\n" ‖ seq ‖ "\n"`;
//! `seq` must grow with each registration of the organisation (replays of
//! an old registration are refused). An empty `url` removes the webhook.

use crate::index::{Notification, key};
use crate::query::feed_page;
use base64::Engine as _;
use lvyue_ledger::book;
use lvyue_ledger::keys::Signer;
use lvyue_ledger::record::KeyRef;
use lvyue_ledger::store::View;
use lvyue_ledger::types::Subject;
use lvyue_ledger::uscc::Uscc;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Context label of a webhook registration signature.
pub const WEBHOOK_LABEL: &str = "lvyue/webhook/v1\n";

/// A signed webhook registration, as posted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub org: Uscc,
    /// `http://` or `https://` URL; empty to remove the webhook.
    pub url: String,
    /// Must be larger than the organisation's previous registration's.
    pub seq: u64,
    pub signer: KeyRef,
    #[serde(with = "lvyue_ledger::serde_bytes::b64_64")]
    pub signature: [u8; 64],
}

/// The bytes a registration signs.
#[must_use]
pub fn registration_message(origin: &str, org: &Uscc, url: &str, seq: u64) -> Vec<u8> {
    format!("{WEBHOOK_LABEL}{origin}\n{}\n{url}\n{seq}\n", org.as_str()).into_bytes()
}

/// A stored webhook.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hook {
    pub org: Uscc,
    pub url: String,
    pub seq: u64,
    pub signer: String,
}

fn hook_key(org: &Uscc) -> Vec<u8> {
    key(&[b"xH", &book::subject_key(&Subject::Org(*org))])
}

fn cursor_key(org: &Uscc) -> Vec<u8> {
    key(&[b"xK", &book::subject_key(&Subject::Org(*org))])
}

/// Checks a URL is one we deliver to.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Ok(());
    }
    if url.len() > 2048 {
        return Err(format!("url of {} bytes; at most 2048", url.len()));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("url {url:?}: want http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(format!("url {url:?}: no host"));
    }
    Ok(())
}

/// Applies a verified registration: stores (or removes) the hook and, for
/// a new hook, starts its cursor at the current head so only notifications
/// from now on are delivered.
pub fn store_registration(view: &View, r: &Registration) -> Result<Option<Hook>, String> {
    let k = hook_key(&r.org);
    if let Some(old) = view.index_row(&k).map_err(|e| e.to_string())? {
        let old: Hook = serde_json::from_slice(&old).map_err(|e| e.to_string())?;
        if r.seq <= old.seq {
            return Err(format!(
                "seq {} is not above the organisation's last registration seq {}",
                r.seq, old.seq
            ));
        }
    }
    if r.url.is_empty() {
        // Keep the registration as a tombstone (empty URL): its seq still
        // refuses replays of older registrations.
        let tomb = Hook {
            org: r.org,
            url: String::new(),
            seq: r.seq,
            signer: r.signer.to_string(),
        };
        let tomb = serde_json::to_vec(&tomb).map_err(|e| e.to_string())?;
        view.put_aux_rows(vec![(k, Some(tomb)), (cursor_key(&r.org), None)], true)
            .map_err(|e| e.to_string())?;
        return Ok(None);
    }
    let hook = Hook {
        org: r.org,
        url: r.url.clone(),
        seq: r.seq,
        signer: r.signer.to_string(),
    };
    let mut rows = vec![(
        k,
        Some(serde_json::to_vec(&hook).map_err(|e| e.to_string())?),
    )];
    let ck = cursor_key(&r.org);
    if view.index_row(&ck).map_err(|e| e.to_string())?.is_none() {
        let start = view.head().size.saturating_sub(1);
        rows.push((ck, Some(start.to_be_bytes().to_vec())));
    }
    view.put_aux_rows(rows, true).map_err(|e| e.to_string())?;
    Ok(Some(hook))
}

/// Every registered hook with its cursor.
pub fn hooks(view: &View) -> Result<Vec<(Hook, u64)>, String> {
    let mut out = Vec::new();
    for (_, v) in view.index_prefix(b"xH").map_err(|e| e.to_string())? {
        let h: Hook = serde_json::from_slice(&v).map_err(|e| e.to_string())?;
        if h.url.is_empty() {
            continue;
        }
        let cursor = view
            .index_row(&cursor_key(&h.org))
            .map_err(|e| e.to_string())?
            .and_then(|c| c.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0);
        out.push((h, cursor));
    }
    Ok(out)
}

/// Backoff state of one receiver.
#[derive(Default)]
struct Backoff {
    failures: u32,
    next_try: Option<Instant>,
}

impl Backoff {
    fn delay(failures: u32) -> Duration {
        // 1, 2, 4, … 256, then 300 s.
        let secs = 1u64 << failures.saturating_sub(1).min(9);
        Duration::from_secs(secs.min(300))
    }
}

/// The delivery thread's handle: stop it with [`Dispatcher::stop`].
pub struct Dispatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts delivering. `view` gives the current durable view (`None`
    /// once the node stopped); `poll` is how often idle receivers are checked.
    pub fn start(
        view: impl Fn() -> Option<View> + Send + 'static,
        origin: String,
        signer: Signer,
        poll: Duration,
    ) -> Dispatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("lvyue-webhooks".into())
            .spawn(move || run(&view, &origin, &signer, poll, &flag))
            .expect("spawn webhook thread");
        Dispatcher {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the thread after its current delivery.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    view: &dyn Fn() -> Option<View>,
    origin: &str,
    signer: &Signer,
    poll: Duration,
    stop: &AtomicBool,
) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut backoff: HashMap<Uscc, Backoff> = HashMap::new();
    let m = crate::metrics::global();
    while !stop.load(Ordering::SeqCst) {
        let Some(v) = view() else { break };
        let hooks = match hooks(&v) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "reading webhooks");
                Vec::new()
            }
        };
        let mut backlog = 0u64;
        for (hook, cursor) in hooks {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let who = Subject::Org(hook.org);
            let Ok((items, _)) = feed_page(&v, &who, Some(cursor), 100) else {
                continue;
            };
            backlog += items.len() as u64;
            let b = backoff.entry(hook.org).or_default();
            if b.next_try.is_some_and(|t| Instant::now() < t) {
                continue;
            }
            for n in items {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                match deliver(&agent, origin, signer, &hook, &n) {
                    Ok(()) => {
                        m.webhook_deliveries
                            .get_or_create(&crate::metrics::Outcome {
                                result: "delivered",
                            })
                            .inc();
                        *b = Backoff::default();
                        backlog = backlog.saturating_sub(1);
                        if let Err(e) = v.put_aux_rows(
                            vec![(cursor_key(&hook.org), Some(n.index.to_be_bytes().to_vec()))],
                            false,
                        ) {
                            tracing::error!(error = %e, "saving webhook cursor");
                        }
                    }
                    Err(e) => {
                        m.webhook_deliveries
                            .get_or_create(&crate::metrics::Outcome { result: "failed" })
                            .inc();
                        b.failures += 1;
                        let wait = Backoff::delay(b.failures);
                        b.next_try = Some(Instant::now() + wait);
                        tracing::warn!(org = %hook.org, url = %hook.url, index = n.index, error = %e,
                            retry_in_ms = wait.as_millis() as u64, "webhook delivery failed");
                        break;
                    }
                }
            }
        }
        m.webhook_backlog.set(backlog);
        std::thread::sleep(poll);
    }
}

fn deliver(
    agent: &ureq::Agent,
    origin: &str,
    signer: &Signer,
    hook: &Hook,
    n: &Notification,
) -> Result<(), String> {
    let body = serde_json::to_vec(n).map_err(|e| e.to_string())?;
    let sig = base64::engine::general_purpose::STANDARD.encode(signer.sign(&body));
    let resp = agent
        .post(&hook.url)
        .header("content-type", "application/json")
        .header(
            "Idempotency-Key",
            &format!("{origin}/{}/{}", n.index, hook.org.as_str()),
        )
        .header(
            "Lvyue-Signature",
            &format!("{}+{:08x}+{sig}", signer.name(), signer.id()),
        )
        .send(&body[..])
        .map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("receiver answered {}", resp.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes() {
        let secs: Vec<u64> = (1..=12).map(|f| Backoff::delay(f).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(check_url("https://bank.example/hooks/lvyue").is_ok());
        assert!(check_url("").is_ok(), "empty removes");
        for bad in [
            "ftp://x",
            "https://",
            "http:///x",
            "https://a b",
            "bank.example",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
