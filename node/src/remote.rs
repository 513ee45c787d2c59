//! Talking to a node as a client: the log's origin (`GET /v1/log`),
//! submissions (`POST /v1/submit`), bulk imports (`POST /v1/import`),
//! reports and status; and printing what comes back, as one human line or,
//! with `--json`, as JSON on standard output.
//!
//! A node's refusal is its JSON `{error, detail}` with an HTTP status; it
//! becomes [`ClientError::Refused`] and the command fails (exit status 1).
//! An input refused before anything was sent is [`ClientError::Input`]
//! (exit status 2, as for a usage error).

use crate::sequencer::Receipt;
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyError, Signer};
use lvyue_ledger::record::{Entry, Signed};
use lvyue_ledger::types::Date;
use lvyue_ledger::uscc::Uscc;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest answer body read from a node.
const MAX_ANSWER: u64 = 64 << 20;

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Invalid input caught locally; nothing was sent.
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The node could not be reached or the transfer failed.
    #[error("{url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The node answered with an error.
    #[error("refused by the node ({status} {error}): {detail}")]
    Refused {
        status: u16,
        error: String,
        detail: String,
    },
    /// The node answered something this client does not understand.
    #[error("{url}: unexpected answer: {detail}")]
    BadAnswer { url: String, detail: String },
    /// Some rows of a bulk import were rejected (the results were printed).
    #[error("{rejected} of {rows} import rows rejected")]
    ImportRejected { rejected: usize, rows: usize },
}

impl ClientError {
    /// The `error` code of the JSON form of this error (`--json`).
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            ClientError::Input(_) => "invalid_input",
            ClientError::Key(_) => "key",
            ClientError::Io { .. } => "io",
            ClientError::Unreachable { .. } => "unreachable",
            ClientError::Refused { error, .. } => error,
            ClientError::BadAnswer { .. } => "bad_answer",
            ClientError::ImportRejected { .. } => "import_rejected",
        }
    }

    /// 2 for input refused locally (a malformed value or file, a key file
    /// that cannot be used or would be overwritten), else 1.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Input(_) | ClientError::Key(_) => 2,
            _ => 1,
        }
    }
}

/// What every client command shares: where the node is, the output form
/// and the USCCs the operator accepts despite a wrong check character.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub node: String,
    pub json: bool,
    pub legacy: Vec<Uscc>,
}

/// Options of every command that signs an event.
#[derive(clap::Args, Debug, Clone)]
pub struct SignOpts {
    /// Secret key file to sign with (as written by keygen)
    #[arg(long, env = "LVYUE_KEY")]
    pub key: PathBuf,
    /// Save the receipt JSON to FILE, and its proof (the c2sp.org/tlog-proof@v1 text) to FILE with extension .tlog-proof
    #[arg(long)]
    pub receipt: Option<PathBuf>,
    /// Sign for this log origin instead of asking the node for it
    #[arg(long)]
    pub origin: Option<String>,
    /// Print the signed submission JSON instead of sending it
    #[arg(long)]
    pub dry_run: bool,
    /// Nonce of the submission [default: random]
    #[arg(long)]
    pub nonce: Option<u64>,
}

/// Reads an input file (an event, a contract, milestones, a document, an
/// import): one that is missing, unreadable or not UTF-8 is input refused
/// before anything is sent (exit 2), named with its path.
pub fn read_input(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::Input(format!("{}: {e}", path.display())))
}

/// [`read_input`] of a UTF-8 text file.
pub fn read_input_text(path: &Path) -> Result<String, ClientError> {
    String::from_utf8(read_input(path)?)
        .map_err(|e| ClientError::Input(format!("{}: not UTF-8 text ({e})", path.display())))
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn out(text: &str) -> Result<(), ClientError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(ClientError::Io {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// An HTTP answer: status, content type and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// A node's HTTP API.
pub struct Remote {
    base: String,
    agent: ureq::Agent,
}

impl Remote {
    #[must_use]
    pub fn new(base: &str) -> Remote {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build();
        Remote {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn answer(
        url: &str,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Answer, ClientError> {
        let unreachable = |e: ureq::Error| ClientError::Unreachable {
            url: url.to_string(),
            detail: e.to_string(),
        };
        let resp = r.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .into_body()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(unreachable)?;
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }

    /// `GET path`, any status.
    pub fn get(&self, path: &str) -> Result<Answer, ClientError> {
        let url = self.url(path);
        Remote::answer(&url, self.agent.get(&url).call())
    }

    /// `POST path` with a body, any status.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer, ClientError> {
        let url = self.url(path);
        let r = self
            .agent
            .post(&url)
            .header("content-type", content_type)
            .send(body);
        Remote::answer(&url, r)
    }

    /// A 2xx answer's body, or the node's error.
    pub fn success(&self, path: &str, a: Answer) -> Result<String, ClientError> {
        if (200..300).contains(&a.status) {
            return Ok(a.body);
        }
        let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match (field("error"), field("detail")) {
            (Some(error), detail) => Err(ClientError::Refused {
                status: a.status,
                error,
                detail: detail.unwrap_or_default(),
            }),
            _ if a.status == 404 => Err(ClientError::BadAnswer {
                url: self.url(path),
                detail: "HTTP 404: this node does not serve that path (is it an older version?)"
                    .into(),
            }),
            _ => Err(ClientError::BadAnswer {
                url: self.url(path),
                detail: format!("HTTP {} with body {:?}", a.status, truncate(&a.body)),
            }),
        }
    }

    /// A 2xx JSON answer.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        a: Answer,
    ) -> Result<T, ClientError> {
        let body = self.success(path, a)?;
        serde_json::from_str(&body).map_err(|e| ClientError::BadAnswer {
            url: self.url(path),
            detail: e.to_string(),
        })
    }

    /// `GET /v1/log`: origin, vkey, size.
    pub fn log_info(&self) -> Result<Value, ClientError> {
        let v: Value = self.json("/v1/log", self.get("/v1/log")?)?;
        if v.get("origin").and_then(Value::as_str).is_none() {
            return Err(ClientError::BadAnswer {
                url: self.url("/v1/log"),
                detail: "no origin in the answer".into(),
            });
        }
        Ok(v)
    }

    /// The log's origin, from `GET /v1/log`.
    pub fn origin(&self) -> Result<String, ClientError> {
        Ok(self.log_info()?["origin"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// A fresh random nonce.
pub fn random_nonce() -> Result<u64, ClientError> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| ClientError::Input(format!("random nonce: {e}")))?;
    Ok(u64::from_be_bytes(nonce))
}

/// Signs `event` for `origin`, refusing an entry over the size limit.
pub fn sign(
    signer: &Signer,
    origin: &str,
    event: Event,
    nonce: u64,
) -> Result<Signed, ClientError> {
    let signed =
        crate::node::sign_event(signer, origin, event, nonce).map_err(ClientError::Input)?;
    let payload = lvyue_ledger::codec::encode(&signed.payload)
        .map_err(|e| ClientError::Input(e.to_string()))?;
    Entry::submitted_bytes(
        0,
        0,
        &lvyue_ledger::Hash::default(),
        &payload,
        &signed.signature,
    )
    .map_err(|e| ClientError::Input(format!("{} event: {e}", signed.payload.event.kind())))?;
    Ok(signed)
}

/// Checks `event` locally, signs it with the key file and submits it;
/// prints (and optionally saves) the receipt.
pub fn send(ctx: &Ctx, opts: &SignOpts, event: Event) -> Result<(), ClientError> {
    crate::input::check_event(&event, &ctx.legacy).map_err(ClientError::Input)?;
    let signer = Signer::read_file(&opts.key)?;
    let remote = Remote::new(&ctx.node);
    let origin = match &opts.origin {
        Some(o) => o.clone(),
        None => remote.origin()?,
    };
    let nonce = match opts.nonce {
        Some(n) => n,
        None => random_nonce()?,
    };
    let kind = event.kind();
    let signed = sign(&signer, &origin, event, nonce)?;
    if opts.dry_run {
        return out(&pretty(&signed));
    }
    let body = serde_json::to_vec(&signed).map_err(|e| ClientError::Input(e.to_string()))?;
    let answer = remote.post("/v1/submit", "application/json", &body)?;
    let text = remote.success("/v1/submit", answer)?;
    print_receipt(ctx, kind, &text, opts.receipt.as_deref())
}

/// Prints a receipt (one line, or the full JSON with `--json`) and saves it
/// to `save` and its proof to `save` with extension `.tlog-proof`.
pub fn print_receipt(
    ctx: &Ctx,
    kind: &str,
    text: &str,
    save: Option<&Path>,
) -> Result<(), ClientError> {
    let bad = |e: serde_json::Error| ClientError::BadAnswer {
        url: format!("{}/v1/submit", ctx.node),
        detail: format!("receipt: {e}"),
    };
    let receipt: Receipt = serde_json::from_str(text).map_err(bad)?;
    let full: Value = serde_json::from_str(text).map_err(bad)?;
    if let Some(path) = save {
        let write = |p: &Path, data: &[u8]| {
            std::fs::write(p, data).map_err(|source| ClientError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        write(path, pretty(&full).as_bytes())?;
        write(&path.with_extension("tlog-proof"), receipt.proof.as_bytes())?;
    }
    if ctx.json {
        return out(&pretty(&full));
    }
    let saved = save
        .map(|p| format!("; receipt saved to {}", p.display()))
        .unwrap_or_default();
    out(&format!(
        "accepted {kind} at index {} (leaf {}){saved}\n",
        receipt.index, receipt.leaf_hash
    ))
}

/// `status`: the log's origin, size and verifier key, and the node's health.
pub fn status(ctx: &Ctx) -> Result<(), ClientError> {
    let remote = Remote::new(&ctx.node);
    let log = remote.log_info()?;
    let health = remote.get("/healthz")?;
    let health_value = match serde_json::from_str::<Value>(&health.body) {
        Ok(v) => v,
        Err(_) => Value::String(health.body.trim().to_string()),
    };
    if ctx.json {
        let v = serde_json::json!({
            "node": ctx.node,
            "log": log,
            "health": {"status": health.status, "body": health_value},
        });
        return out(&pretty(&v));
    }
    let health_line = match (health.status, &health_value) {
        (200, Value::Object(m)) => m
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("ok")
            .to_string(),
        (200, Value::String(s)) if !s.is_empty() => s.clone(),
        (200, _) => "ok".into(),
        (404, _) => "unknown (the node has no /healthz)".into(),
        (s, _) => format!("not healthy (HTTP {s})"),
    };
    out(&format!(
        "node    {}\norigin  {}\nsize    {}\nvkey    {}\nhealth  {health_line}\n",
        ctx.node,
        log["origin"].as_str().unwrap_or("?"),
        log["size"],
        log["vkey"].as_str().unwrap_or("?"),
    ))
}

/// `report`: the supervision report of one unit over a date range, as
/// pretty JSON or as the node's CSV.
pub fn report(ctx: &Ctx, unit: &Uscc, from: Date, to: Date, csv: bool) -> Result<(), ClientError> {
    crate::input::check_uscc(unit, &ctx.legacy).map_err(ClientError::Input)?;
    let mut path = format!("/v1/reports/supervision?unit={unit}&from={from}&to={to}");
    if csv {
        path.push_str("&format=csv");
    }
    let remote = Remote::new(&ctx.node);
    let answer = remote.get(&path)?;
    let body = remote.success(&path, answer)?;
    if csv {
        return out(&body);
    }
    let v: Value = serde_json::from_str(&body).map_err(|e| ClientError::BadAnswer {
        url: remote.url(&path),
        detail: e.to_string(),
    })?;
    out(&pretty(&v))
}
