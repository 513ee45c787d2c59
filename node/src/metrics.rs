//! Prometheus metrics (`GET /metrics`, text exposition format): append
//! rate, batch sizes, latencies, queue depth, tree size, webhook backlog.
//!
//! One registry per process: a node is one process; tests that run several
//! nodes in one process share the counters, which only ever add up.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

/// Labels of a submission outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub result: &'static str,
}

/// Labels of a point read: where it ran (`worker` or `pool`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReadsOn {
    pub on: &'static str,
}

/// Labels of an HTTP request: the matched route pattern and the method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
    pub method: String,
}

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    /// Submissions answered, by outcome (accepted or the error code).
    pub submissions: Family<Outcome, Counter>,
    /// Entries appended (submitted and derived).
    pub entries_appended: Counter,
    /// Batches applied to the store (each durable at its flush).
    pub batches: Counter,
    /// Entries per batch.
    pub batch_size: Histogram,
    /// Seconds from a submission's arrival to its receipt.
    pub submit_latency: Histogram,
    /// Seconds per batch applied to the store, before its flush.
    pub commit_latency: Histogram,
    /// Seconds per flush of the store (fsync), each making one or more batches durable.
    pub flush_latency: Histogram,
    /// Batches made durable per flush.
    pub flush_batches: Histogram,
    /// Seconds per HTTP request, by route pattern and method.
    pub read_latency: Family<Route, Histogram>,
    /// Submissions waiting for the sequencer.
    pub queue_depth: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// Tree size at the durable head.
    pub tree_size: Gauge<u64, AtomicU64>,
    /// Notifications not yet delivered to registered webhooks.
    pub webhook_backlog: Gauge<u64, AtomicU64>,
    /// Webhook delivery attempts, by result.
    pub webhook_deliveries: Family<Outcome, Counter>,
    /// Requests refused by the per-key rate limit.
    pub rate_limited: Counter,
    /// Point reads (contract, default-length archive), by where they ran.
    pub point_reads: Family<ReadsOn, Counter>,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    // 100 µs … ~6.5 s
    exponential_buckets(0.0001, 2.0, 17)
}

impl Metrics {
    fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("lvyue"),
            submissions: Family::default(),
            entries_appended: Counter::default(),
            batches: Counter::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            submit_latency: Histogram::new(latency_buckets()),
            commit_latency: Histogram::new(latency_buckets()),
            flush_latency: Histogram::new(latency_buckets()),
            flush_batches: Histogram::new(exponential_buckets(1.0, 2.0, 5)),
            read_latency: Family::new_with_constructor(|| Histogram::new(latency_buckets())),
            queue_depth: Gauge::default(),
            tree_size: Gauge::default(),
            webhook_backlog: Gauge::default(),
            webhook_deliveries: Family::default(),
            rate_limited: Counter::default(),
            point_reads: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "submissions",
            "Submissions answered, by result",
            m.submissions.clone(),
        );
        r.register(
            "entries_appended",
            "Log entries appended",
            m.entries_appended.clone(),
        );
        r.register(
            "batches",
            "Batches applied to the store (each durable at its flush)",
            m.batches.clone(),
        );
        r.register("batch_size", "Entries per batch", m.batch_size.clone());
        r.register(
            "submit_latency_seconds",
            "Seconds from a submission's arrival to its receipt",
            m.submit_latency.clone(),
        );
        r.register(
            "commit_latency_seconds",
            "Seconds per batch applied to the store (hashes, checkpoint, sled batch), before its flush",
            m.commit_latency.clone(),
        );
        r.register(
            "flush_seconds",
            "Seconds per flush (fsync) of the store; one flush makes every batch applied meanwhile durable",
            m.flush_latency.clone(),
        );
        r.register(
            "flush_batches",
            "Batches made durable per flush",
            m.flush_batches.clone(),
        );
        r.register(
            "http_request_seconds",
            "Seconds per HTTP request, by route pattern and method",
            m.read_latency.clone(),
        );
        r.register(
            "queue_depth",
            "Submissions waiting for the sequencer",
            m.queue_depth.clone(),
        );
        r.register(
            "tree_size",
            "Tree size at the durable head",
            m.tree_size.clone(),
        );
        r.register(
            "webhook_backlog",
            "Notifications not yet delivered to registered webhooks",
            m.webhook_backlog.clone(),
        );
        r.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by result",
            m.webhook_deliveries.clone(),
        );
        r.register(
            "rate_limited",
            "Submissions refused by the per-key rate limit",
            m.rate_limited.clone(),
        );
        r.register(
            "point_reads",
            "Contract and archive reads, by where they ran (async worker or blocking pool)",
            m.point_reads.clone(),
        );
        m
    }

    /// The text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::new)
}
