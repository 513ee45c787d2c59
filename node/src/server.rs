//! The HTTP API: a thin layer that caps bodies, parses, calls the library
//! and maps errors. 4xx answers say exactly what was wrong as JSON
//! `{error, detail}`; 5xx answers are generic and the detail goes to the log.

use crate::node::Node;
use crate::sequencer::{Receipt, SubmitError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lvyue_ledger::admission::AdmissionError;
use lvyue_ledger::engine::RuleError;
use lvyue_ledger::record::{Entry, Signed};
use lvyue_ledger::store::View;
use lvyue_ledger::tlog::{self, HashReader, Tile};
use serde::{Deserialize, Serialize};

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 256 * 1024,
            batch_body_limit: 16 * 1024 * 1024,
            rate_per_key: 200,
            rate_burst: 1000,
        }
    }
}

#[derive(Clone)]
struct AppState {
    node: Node,
}

/// A JSON error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            detail: detail.into(),
        }
    }
    fn internal(e: impl std::fmt::Display) -> ApiError {
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
        (self.status, body).into_response()
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
            SubmitError::Refused(A::Duplicate(_) | A::DuplicateInBatch) => {
                (StatusCode::CONFLICT, "duplicate")
            }
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
            SubmitError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            SubmitError::Closed => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            SubmitError::Storage(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// The router over a running node.
pub fn app(node: Node, config: &ServerConfig) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/v1/log", get(log_info))
        .route("/v1/entries/{index}", get(entry))
        .route("/v1/proof/inclusion", get(inclusion))
        .route("/v1/proof/consistency", get(consistency))
        .route("/v1/submit", post(submit))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .with_state(AppState { node })
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
    axum::serve(listener, app(node, &config))
        .with_graceful_shutdown(shutdown)
        .await?;
    tokio::task::spawn_blocking(move || seq.stop())
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

fn view(s: &AppState) -> Result<View, ApiError> {
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
async fn blocking<T: Send + 'static>(
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
fn entry_bundle(view: &View, t: &Tile) -> Result<Vec<u8>, ApiError> {
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

async fn submit(State(s): State<AppState>, body: Bytes) -> Result<axum::Json<Receipt>, ApiError> {
    let signed: Signed = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
    Ok(axum::Json(s.node.sequencer.submit(signed).await?))
}
