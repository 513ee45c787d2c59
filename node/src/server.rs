//! The HTTP API: a thin layer that caps bodies, parses, calls the library
//! and maps errors. 4xx answers say exactly what was wrong as JSON
//! `{error, detail}`; 5xx answers are generic and the detail goes to the log.

use crate::node::Node;
use crate::query;
use crate::sequencer::{Receipt, SubmitError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lvyue_ledger::admission::AdmissionError;
use lvyue_ledger::engine::RuleError;
use lvyue_ledger::event::{Event, Source};
use lvyue_ledger::record::{Entry, Signed};
use lvyue_ledger::store::View;
use lvyue_ledger::tlog::{self, HashReader, Tile};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest accepted request body, bytes (batch and import bodies may
    /// be up to `batch_body_limit`).
    pub body_limit: usize,
    /// Largest accepted body of `POST /v1/submit/batch` and `/v1/import`, bytes.
    pub batch_body_limit: usize,
    /// Sustained submissions per second allowed for one signing key
    /// (0 = no limit). Beyond it: `429` with `Retry-After`.
    pub rate_per_key: u32,
    /// Burst of submissions one key may send above its sustained rate.
    pub rate_burst: u32,
    /// How often the webhook dispatcher looks for new notifications, ms.
    pub webhook_poll_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 256 * 1024,
            batch_body_limit: 16 * 1024 * 1024,
            rate_per_key: 200,
            rate_burst: 1000,
            webhook_poll_ms: 500,
        }
    }
}

type KeyedLimiter = governor::DefaultKeyedRateLimiter<String>;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) node: Node,
    /// Per-signing-key submission rate limit; `None` when off.
    limiter: Option<Arc<KeyedLimiter>>,
    /// Where point reads run ([`crate::reads`]).
    pub(crate) reads: Arc<crate::reads::ReadRoute>,
}

/// A JSON error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: String,
    /// `Retry-After` seconds (429, 503).
    retry_after: Option<u64>,
    /// For an import row already imported: the index of its filing.
    existing: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
            retry_after: None,
            existing: None,
        }
    }

    /// The HTTP status of the answer.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` code of the answer (e.g. `not_found`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.error
    }

    fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the node log",
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    detail: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = axum::Json(ErrorBody {
            error: self.error,
            detail: &self.detail,
        });
        let mut r = (self.status, body).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        use AdmissionError as A;
        let (status, code) = match &e {
            SubmitError::Refused(A::UnknownKey(_)) => (StatusCode::UNAUTHORIZED, "unknown_key"),
            SubmitError::Refused(A::BadSignature(_)) => (StatusCode::UNAUTHORIZED, "bad_signature"),
            SubmitError::Refused(A::RevokedKey { .. }) => (StatusCode::FORBIDDEN, "revoked_key"),
            SubmitError::Refused(A::OutsideValidity { .. }) => {
                (StatusCode::FORBIDDEN, "key_not_valid")
            }
            SubmitError::Refused(A::WrongRole { .. }) => (StatusCode::FORBIDDEN, "wrong_role"),
            SubmitError::Refused(A::Duplicate(_)) => (StatusCode::CONFLICT, "duplicate"),
            SubmitError::Refused(A::KeyExists(_)) => (StatusCode::CONFLICT, "key_exists"),
            SubmitError::Refused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
            SubmitError::Rule(RuleError::Forbidden(_)) => (StatusCode::FORBIDDEN, "not_allowed"),
            SubmitError::Rule(RuleError::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            SubmitError::Rule(RuleError::NotFound(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_reference")
            }
            SubmitError::Rule(RuleError::Invalid(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event")
            }
            SubmitError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "entry_too_large"),
            SubmitError::Codec(_) => (StatusCode::BAD_REQUEST, "malformed"),
            SubmitError::AlreadyImported { .. } => (StatusCode::CONFLICT, "already_imported"),
            SubmitError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            SubmitError::Closed => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            SubmitError::Storage(_) => return ApiError::internal(e),
        };
        let existing = match &e {
            SubmitError::AlreadyImported { index, .. }
            | SubmitError::Refused(A::Duplicate(index)) => Some(*index),
            _ => None,
        };
        let retry = matches!(e, SubmitError::Busy).then_some(1);
        let mut err = ApiError::new(status, code, e.to_string());
        err.existing = existing;
        err.retry_after = retry;
        err
    }
}

/// The router over a running node.
pub fn app(node: Node, config: &ServerConfig) -> Router {
    let limiter = match (
        NonZeroU32::new(config.rate_per_key),
        NonZeroU32::new(config.rate_burst.max(config.rate_per_key)),
    ) {
        (Some(rate), Some(burst)) => Some(Arc::new(governor::RateLimiter::keyed(
            governor::Quota::per_second(rate).allow_burst(burst),
        ))),
        _ => None,
    };
    let big = DefaultBodyLimit::max(config.batch_body_limit);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/submit/batch", post(submit_batch).layer(big))
        .route("/v1/import", post(import).layer(big))
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/v1/log", get(log_info))
        .route("/v1/entries/{index}", get(entry))
        .route("/v1/proof/inclusion", get(inclusion))
        .route("/v1/proof/consistency", get(consistency))
        .route("/v1/submit", post(submit))
        .route("/v1/contracts/{id}", get(query::contract))
        .route("/v1/entities/{subject}", get(query::entity))
        .route("/v1/entities/{subject}/report", get(query::report))
        .route("/v1/lists/{which}", get(query::list))
        .route("/v1/notices", get(query::notices))
        .route("/v1/warnings", get(query::warnings))
        .route("/v1/feed/{subject}", get(query::feed))
        .route("/v1/reports/supervision", get(query::supervision))
        .route("/v1/stats", get(query::stats))
        .route("/v1/disclosure", get(query::disclosure))
        .route("/v1/webhooks", post(register_webhook))
        .route("/v1/webhooks/{org}", get(webhook_status))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn(time_request))
        .with_state(AppState {
            node,
            limiter,
            reads: Arc::default(),
        })
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops the
/// sequencer (finishing its batch and closing the store).
pub async fn run(
    listener: tokio::net::TcpListener,
    node: Node,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let seq = node.sequencer.clone();
    let for_hooks = node.sequencer.clone();
    let dispatcher = crate::webhook::Dispatcher::start(
        move || for_hooks.view(),
        node.origin.as_str().to_string(),
        node.signer.clone(),
        std::time::Duration::from_millis(config.webhook_poll_ms.max(10)),
    );
    axum::serve(listener, app(node, &config))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("HTTP server stopped; finishing the batch and closing the store");
    tokio::task::spawn_blocking(move || {
        dispatcher.stop();
        seq.stop();
    })
    .await
    .map_err(std::io::Error::other)?;
    Ok(())
}

fn text(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(crate) fn view(s: &AppState) -> Result<View, ApiError> {
    s.node.sequencer.view().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the node is shutting down",
        )
    })
}

async fn checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    let mut r = text(
        view(&s)?.head().checkpoint.clone(),
        "text/plain; charset=utf-8",
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Reads on the blocking pool: sled calls may touch disk.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

async fn tile(State(s): State<AppState>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let view = view(&s)?;
    let full = format!("tile/{path}");
    blocking(move || {
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{full} is beyond tree size {}", view.head().size),
            )
        };
        if full.starts_with("tile/entries/") {
            let t = Tile::parse_entries_path(&full)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", e.to_string()))?;
            if !tlog::tile_within(&t, view.head().size) {
                return Err(not_found());
            }
            return Ok(text(entry_bundle(&view, &t)?, "application/octet-stream"));
        }
        let t = Tile::parse_path(&full)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", e.to_string()))?;
        if !tlog::tile_within(&t, view.head().size) {
            return Err(not_found());
        }
        let data = tlog::read_tile_data(&t, &view.reader()).map_err(ApiError::internal)?;
        Ok(text(data, "application/octet-stream"))
    })
    .await
}

/// A C2SP entry bundle: each entry as a big-endian u16 length and its bytes.
pub(crate) fn entry_bundle(view: &View, t: &Tile) -> Result<Vec<u8>, ApiError> {
    let start = t.n * tlog::TILE_WIDTH;
    let mut out = Vec::new();
    for r in view.entries(start, start + u64::from(t.width)) {
        let (_, bytes) = r.map_err(ApiError::internal)?;
        let len = u16::try_from(bytes.len()).map_err(ApiError::internal)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

#[derive(Serialize, Deserialize)]
struct LogInfo {
    origin: String,
    vkey: String,
    size: u64,
}

async fn log_info(State(s): State<AppState>) -> Result<axum::Json<LogInfo>, ApiError> {
    Ok(axum::Json(LogInfo {
        origin: s.node.origin.as_str().to_string(),
        vkey: s.node.vkey.to_string(),
        size: view(&s)?.head().size,
    }))
}

/// `GET /v1/entries/<index>` answer.
#[derive(Serialize, Deserialize)]
pub struct EntryAnswer {
    pub index: u64,
    pub leaf_hash: lvyue_ledger::Hash,
    #[serde(with = "lvyue_ledger::serde_bytes::b64_vec")]
    pub canonical: Vec<u8>,
    pub entry: Entry,
}

async fn entry(
    State(s): State<AppState>,
    Path(index): Path<String>,
) -> Result<axum::Json<EntryAnswer>, ApiError> {
    let index: u64 = index.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_index",
            format!("index {index:?} is not a number"),
        )
    })?;
    let view = view(&s)?;
    blocking(move || {
        let size = view.head().size;
        let bytes = view
            .entry(index)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("index {index} is not below tree size {size}"),
                )
            })?;
        let entry = Entry::decode(&bytes).map_err(ApiError::internal)?;
        Ok(axum::Json(EntryAnswer {
            index,
            leaf_hash: lvyue_ledger::hash::leaf_hash(&bytes),
            canonical: bytes.to_vec(),
            entry,
        }))
    })
    .await
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

/// `GET /v1/proof/inclusion` answer.
#[derive(Serialize, Deserialize)]
pub struct InclusionAnswer {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: lvyue_ledger::Hash,
    pub proof: Vec<lvyue_ledger::Hash>,
}

fn bad_query(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.to_string())
}

async fn inclusion(
    State(s): State<AppState>,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<InclusionAnswer>, ApiError> {
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let view = view(&s)?;
    blocking(move || {
        let head = view.head().size;
        let size = q.size.unwrap_or(head);
        if size > head {
            return Err(bad_query(format!(
                "size {size} is beyond the tree size {head}"
            )));
        }
        if q.index >= size {
            return Err(bad_query(format!(
                "index {} is not below size {size}",
                q.index
            )));
        }
        let reader = view.reader();
        let proof = tlog::prove_record(size, q.index, &reader).map_err(ApiError::internal)?;
        let leaf = reader
            .read_hashes(&[tlog::stored_hash_index(0, q.index)])
            .map_err(ApiError::internal)?[0];
        Ok(axum::Json(InclusionAnswer {
            index: q.index,
            size,
            leaf_hash: leaf,
            proof,
        }))
    })
    .await
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// `GET /v1/proof/consistency` answer.
#[derive(Serialize, Deserialize)]
pub struct ConsistencyAnswer {
    pub old: u64,
    pub new: u64,
    pub proof: Vec<lvyue_ledger::Hash>,
}

async fn consistency(
    State(s): State<AppState>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<ConsistencyAnswer>, ApiError> {
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let view = view(&s)?;
    blocking(move || {
        let head = view.head().size;
        let new = q.new.unwrap_or(head);
        if new > head {
            return Err(bad_query(format!(
                "new size {new} is beyond the tree size {head}"
            )));
        }
        if q.old > new {
            return Err(bad_query(format!(
                "old size {} is larger than new size {new}",
                q.old
            )));
        }
        if q.old == 0 {
            return Err(bad_query(
                "old size 0: there is no consistency proof from the empty tree",
            ));
        }
        let proof = tlog::prove_tree(new, q.old, &view.reader()).map_err(ApiError::internal)?;
        Ok(axum::Json(ConsistencyAnswer {
            old: q.old,
            new,
            proof,
        }))
    })
    .await
}

/// Records each request's latency under its route pattern (not its path,
/// so ids do not multiply the series).
async fn time_request(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = std::time::Instant::now();
    let r = next.run(req).await;
    crate::metrics::global()
        .read_latency
        .get_or_create(&crate::metrics::Route { route, method })
        .observe(started.elapsed().as_secs_f64());
    r
}

/// The code of a refusal, as a metrics label.
fn outcome_label(r: &Result<Receipt, ApiError>) -> &'static str {
    match r {
        Ok(_) => "accepted",
        Err(e) => e.error,
    }
}

impl AppState {
    /// Applies the per-key rate limit to one submission.
    fn check_rate(&self, signed: &Signed) -> Result<(), ApiError> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        // Only registered keys have a bucket: names made up by a client
        // cannot grow the limiter's map (they are refused as unknown keys).
        if !self.node.sequencer.knows(&signed.payload.signer) {
            return Ok(());
        }
        match l.check_key(&signed.payload.signer.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                use governor::clock::Clock as _;
                let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                crate::metrics::global().rate_limited.inc();
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "key {} is over its limit of submissions per second; retry in {secs} s",
                        signed.payload.signer
                    ),
                )
                .retry_after(secs.max(1)))
            }
        }
    }

    /// Rate limit, then the sequencer; records the outcome and latency.
    async fn submit_one(&self, signed: Signed) -> Result<Receipt, ApiError> {
        let started = std::time::Instant::now();
        let r = match self.check_rate(&signed) {
            Ok(()) => self
                .node
                .sequencer
                .submit(signed)
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        let m = crate::metrics::global();
        m.submissions
            .get_or_create(&crate::metrics::Outcome {
                result: outcome_label(&r),
            })
            .inc();
        if r.is_ok() {
            m.submit_latency.observe(started.elapsed().as_secs_f64());
        }
        r
    }
}

async fn submit(State(s): State<AppState>, body: Bytes) -> Result<axum::Json<Receipt>, ApiError> {
    let signed: Signed = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
    Ok(axum::Json(s.submit_one(signed).await?))
}

/// Most submissions in one batch request.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// One item's outcome in a batch or import answer.
#[derive(Serialize, Deserialize, Debug)]
pub struct ItemResult {
    /// 1-based position in the request (the row of an import).
    pub row: usize,
    /// accepted | exists (import: already imported, with its index) | rejected
    pub status: String,
    /// HTTP status the item would have had alone.
    pub http_status: u16,
    pub index: Option<u64>,
    pub receipt: Option<Receipt>,
    pub error: Option<String>,
    pub detail: Option<String>,
}

/// `POST /v1/submit/batch` and `POST /v1/import` answers.
#[derive(Serialize, Deserialize, Debug)]
pub struct BatchAnswer {
    pub accepted: usize,
    pub exists: usize,
    pub rejected: usize,
    pub results: Vec<ItemResult>,
}

fn item(row: usize, r: Result<Receipt, ApiError>, import: bool) -> ItemResult {
    match r {
        Ok(receipt) => ItemResult {
            row,
            status: "accepted".into(),
            http_status: 200,
            index: Some(receipt.index),
            receipt: (!import).then_some(receipt),
            error: None,
            detail: None,
        },
        Err(e) => ItemResult {
            row,
            status: if import && e.existing.is_some() {
                "exists"
            } else {
                "rejected"
            }
            .into(),
            http_status: e.status.as_u16(),
            index: e.existing,
            receipt: None,
            error: Some(e.error.to_string()),
            detail: Some(e.detail),
        },
    }
}

fn tally(results: Vec<ItemResult>) -> BatchAnswer {
    let count = |o: &str| results.iter().filter(|r| r.status == o).count();
    BatchAnswer {
        accepted: count("accepted"),
        exists: count("exists"),
        rejected: count("rejected"),
        results,
    }
}

/// `POST /v1/submit/batch`: a JSON array of signed submissions, each
/// admitted or refused on its own (as if posted alone), answered in order.
async fn submit_batch(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<axum::Json<BatchAnswer>, ApiError> {
    // Each item is kept as its raw text and parsed once, straight into
    // `Signed` (not through a `serde_json::Value` tree first).
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("want a JSON array of signed submissions: {e}"),
        )
    })?;
    if items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!(
                "{} submissions; at most {MAX_BATCH_ITEMS} per batch",
                items.len()
            ),
        ));
    }
    let futures = items.into_iter().map(|v| {
        let s = s.clone();
        async move {
            match serde_json::from_str::<Signed>(v.get()) {
                Ok(signed) => s.submit_one(signed).await,
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    e.to_string(),
                )),
            }
        }
    });
    let results = futures_util::future::join_all(futures).await;
    Ok(axum::Json(tally(
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| item(i + 1, r, false))
            .collect(),
    )))
}

/// `POST /v1/import`: NDJSON, one signed `contract_filed` per line with
/// source `import` (a data feed's filing). Idempotent on (feed, external
/// reference): a row already imported answers `exists` with its index.
/// Each row is one entry: it is applied whole or not at all.
async fn import(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<axum::Json<BatchAnswer>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            format!("body is not UTF-8: {e}"),
        )
    })?;
    let rows: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    if rows.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!("{} rows; at most {MAX_BATCH_ITEMS} per request", rows.len()),
        ));
    }
    let futures = rows.into_iter().map(|(row, line)| {
        let s = s.clone();
        let parsed = serde_json::from_str::<Signed>(line);
        async move {
            let r = match parsed {
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    e.to_string(),
                )),
                Ok(signed) => match &signed.payload.event {
                    Event::ContractFiled { contract }
                        if matches!(contract.source, Source::Import { .. }) =>
                    {
                        s.submit_one(signed).await
                    }
                    other => Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "not_an_import",
                        format!(
                            "an import row is a contract_filed with source import, not {}",
                            other.kind()
                        ),
                    )),
                },
            };
            (row, r)
        }
    });
    let results = futures_util::future::join_all(futures).await;
    Ok(axum::Json(tally(
        results
            .into_iter()
            .map(|(row, r)| item(row, r, true))
            .collect(),
    )))
}

#[derive(Serialize, Deserialize)]
struct Health {
    status: &'static str,
    origin: String,
    size: u64,
    time_ms: i64,
}

/// `GET /healthz`: 200 while the sequencer runs, 503 once it stopped.
async fn healthz(State(s): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    let v = view(&s)?;
    Ok(axum::Json(Health {
        status: "ok",
        origin: s.node.origin.as_str().to_string(),
        size: v.head().size,
        time_ms: v.head().time_ms,
    }))
}

async fn metrics(State(s): State<AppState>) -> Response {
    let m = crate::metrics::global();
    if let Some(v) = s.node.sequencer.view() {
        m.tree_size.set(v.head().size);
    }
    let mut r = m.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    text(OPENAPI.as_bytes().to_vec(), "application/json")
}

/// `POST /v1/webhooks` answer.
#[derive(Serialize, Deserialize)]
pub struct WebhookAnswer {
    pub org: String,
    /// The registered URL; `null` after a removal.
    pub url: Option<String>,
    pub seq: u64,
    /// Last notification index delivered (or the head when registered).
    pub cursor: Option<u64>,
}

/// Registers (or, with an empty URL, removes) an organisation's webhook.
/// The signature is checked on the sequencer thread against the key
/// registry at the head: the key must be registered, unrevoked and held by
/// the organisation.
async fn register_webhook(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<axum::Json<WebhookAnswer>, ApiError> {
    use crate::webhook::{Registration, check_url, registration_message, store_registration};
    let r: Registration = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
    check_url(&r.url)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_url", e))?;
    let origin = s.node.origin.as_str().to_string();
    let answer = s
        .node
        .sequencer
        .read(move |w| -> Result<WebhookAnswer, ApiError> {
            let state = w.registry.get(&r.signer).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unknown_key",
                    format!("no key {} in the log", r.signer),
                )
            })?;
            if let Some(at) = state.revoked_at {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "revoked_key",
                    format!("key {} was revoked at index {at}", r.signer),
                ));
            }
            if state.registration.holder != lvyue_ledger::types::Subject::Org(r.org) {
                // A code with a wrong check character is named as such (a
                // legacy code the office admitted is its key's holder, and
                // passes above).
                if let Err(e) = lvyue_ledger::uscc::Uscc::parse(r.org.as_str()) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_uscc",
                        format!("org: {e}"),
                    ));
                }
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "not_holder",
                    format!("key {} is not held by {}", r.signer, r.org),
                ));
            }
            let vk = w
                .registry
                .verifier(&r.signer)
                .ok_or_else(|| ApiError::internal("key without verifier"))?;
            vk.verify_strict(
                &registration_message(&origin, &r.org, &r.url, r.seq),
                &r.signature,
            )
            .map_err(|_| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "bad_signature",
                    format!("signature by {} does not verify", r.signer),
                )
            })?;
            let hook = store_registration(w.store.view(), &r)
                .map_err(|e| ApiError::new(StatusCode::CONFLICT, "stale_registration", e))?;
            let cursor = crate::webhook::hooks(w.store.view())
                .map_err(ApiError::internal)?
                .into_iter()
                .find(|(h, _)| h.org == r.org)
                .map(|(_, c)| c);
            Ok(WebhookAnswer {
                org: r.org.to_string(),
                url: hook.map(|h| h.url),
                seq: r.seq,
                cursor,
            })
        })
        .await??;
    Ok(axum::Json(answer))
}

/// `GET /v1/webhooks/{org}`: the organisation's webhook and delivery cursor.
async fn webhook_status(
    State(s): State<AppState>,
    Path(org): Path<String>,
) -> Result<axum::Json<WebhookAnswer>, ApiError> {
    let who = lvyue_ledger::uscc::Uscc::parse(&org).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_uscc",
            format!("{org:?}: {e}"),
        )
    })?;
    let v = view(&s)?;
    blocking(move || {
        let (hook, cursor) = crate::webhook::hooks(&v)
            .map_err(ApiError::internal)?
            .into_iter()
            .find(|(h, _)| h.org == who)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{who} has no webhook"),
                )
            })?;
        Ok(axum::Json(WebhookAnswer {
            org: who.to_string(),
            url: Some(hook.url),
            seq: hook.seq,
            cursor: Some(cursor),
        }))
    })
    .await
}
