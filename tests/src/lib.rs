//! Helpers for end-to-end tests: a real node on `127.0.0.1:0` over a
//! temporary data folder, with a fixed clock, plus key and event builders.

use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::Signed;
use lvyue_ledger::tlog;
use lvyue_ledger::types::{Name, Role, SignerName, Subject};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::clock::FixedClock;
use lvyue_node::node::{self, InitOptions, Node};
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::{self, ServerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;

/// A running test node.
pub struct TestNode {
    /// The temporary data folder (`None` for a reopened node, whose folder
    /// the first node owns).
    pub dir: Option<tempfile::TempDir>,
    /// The data folder.
    pub path: std::path::PathBuf,
    pub url: String,
    pub node: Node,
    pub clock: Arc<FixedClock>,
    pub office: Signer,
    pub origin: String,
    nonce: AtomicU64,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestNode {
    /// Starts a node with default settings.
    pub fn start() -> TestNode {
        TestNode::start_with(ServerConfig::default(), SequencerConfig::default())
    }

    /// Starts a node with the given settings on its own runtime thread.
    pub fn start_with(server_config: ServerConfig, seq: SequencerConfig) -> TestNode {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        TestNode::serve(Some(dir), &path, server_config, seq, T0)
    }

    /// Opens the data folder of a stopped node again (the caller keeps the
    /// first node, which owns the temporary folder, alive), clock at `now_ms`.
    pub fn reopen(
        path: &std::path::Path,
        server_config: ServerConfig,
        seq: SequencerConfig,
        now_ms: i64,
    ) -> TestNode {
        TestNode::serve(None, path, server_config, seq, now_ms)
    }

    fn serve(
        owned: Option<tempfile::TempDir>,
        path: &std::path::Path,
        server_config: ServerConfig,
        seq: SequencerConfig,
        now_ms: i64,
    ) -> TestNode {
        let clock = Arc::new(FixedClock::new(now_ms));
        let opts = InitOptions::default();
        let node = node::open(path, &opts, clock.clone(), seq).expect("open node");
        let office = Signer::read_file(&path.join("keys/office.key")).expect("office key");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let n2 = node.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                server::run(listener, n2, server_config, async {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let addr = addr_rx.recv().expect("server address");
        TestNode {
            url: format!("http://{addr}"),
            origin: node.origin.as_str().to_string(),
            dir: owned,
            path: path.to_path_buf(),
            node,
            clock,
            office,
            nonce: AtomicU64::new(1),
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Signs `event` with `signer` for this log with a fresh nonce.
    pub fn sign(&self, signer: &Signer, event: Event) -> Signed {
        let nonce = self.nonce.fetch_add(1, Ordering::SeqCst);
        node::sign_event(signer, &self.origin, event, nonce).expect("sign")
    }

    /// POSTs a JSON body to `path`, returning status and parsed JSON body.
    pub fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let resp = ureq::post(&format!("{}{path}", self.url))
            .config()
            .http_status_as_error(false)
            .build()
            .header("content-type", "application/json")
            .send(&body[..])
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// Submits a signed event.
    pub fn submit(&self, signed: &Signed) -> (u16, serde_json::Value) {
        self.post_raw("/v1/submit", serde_json::to_vec(signed).expect("json"))
    }

    /// GETs `path`, returning status and body text.
    pub fn get(&self, path: &str) -> (u16, String) {
        let resp = ureq::get(&format!("{}{path}", self.url))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("request");
        let status = resp.status().as_u16();
        (
            status,
            resp.into_body()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .unwrap_or_default(),
        )
    }

    /// POSTs `body` with `content_type`, returning the whole answer with
    /// its headers (for `Retry-After`, `Content-Type`).
    pub fn post_answer(&self, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let resp = ureq::post(&format!("{}{path}", self.url))
            .config()
            .http_status_as_error(false)
            .build()
            .header("content-type", content_type)
            .send(&body[..])
            .expect("request");
        Answer::read(resp)
    }

    /// GETs `path`, returning the whole answer with its headers.
    pub fn get_answer(&self, path: &str) -> Answer {
        let resp = ureq::get(&format!("{}{path}", self.url))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("request");
        Answer::read(resp)
    }

    /// Current tree size as the API reports it.
    pub fn size(&self) -> u64 {
        let (_, body) = self.get("/v1/log");
        serde_json::from_str::<serde_json::Value>(&body).expect("log json")["size"]
            .as_u64()
            .expect("size")
    }

    /// Registers a new key of `role` (signed by the office) and returns its signer.
    pub fn register(&self, name: &str, role: Role, holder: &str) -> Signer {
        let signer = Signer::generate(KeyName::new(name).expect("name")).expect("keygen");
        let event = Event::KeyRegistered {
            key: registration(&signer, role, holder),
        };
        let (status, body) = self.submit(&self.sign(&self.office, event));
        assert_eq!(status, 200, "register {name}: {body}");
        signer
    }

    /// Audits the whole store through the ledger's audit (chain, signatures,
    /// stored hashes, root against the head checkpoint).
    pub fn audit(&self) -> lvyue_ledger::audit::Summary {
        let view = self.node.sequencer.view().expect("running");
        view.audit(&self.node.origin, &self.node.vkey)
            .expect("log audits clean")
    }

    /// GETs `path` as bytes; panics unless the answer is 200.
    pub fn get_bytes(&self, path: &str) -> Vec<u8> {
        ureq::get(&format!("{}{path}", self.url))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .into_body()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .expect("body")
    }

    /// Writes an offline export of the log into `dir`, fetched over HTTP
    /// with the node's tile API (independent of `lvyue-node export`):
    /// `checkpoint`, every full hash tile and entry bundle, and the partial
    /// ones of the checkpoint's size. Returns the exported size.
    pub fn export_dir(&self, dir: &std::path::Path) -> u64 {
        let note = self.get_bytes("/checkpoint");
        let text = String::from_utf8(note.clone()).expect("utf-8 checkpoint");
        let size: u64 = text
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .expect("checkpoint size line");
        let write = |path: &str, data: &[u8]| {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(&file, data).expect("write");
        };
        write("checkpoint", &note);
        for t in tlog::tiles_for_size(0, size) {
            write(
                &t.entries_path(),
                &self.get_bytes(&format!("/{}", t.entries_path())),
            );
        }
        for level in 0..8u8 {
            for t in tlog::tiles_for_size(level, size) {
                write(&t.path(), &self.get_bytes(&format!("/{}", t.path())));
            }
        }
        size
    }

    /// Stops the server and the sequencer (closing the store).
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP answer: status, headers and body text.
pub struct Answer {
    pub status: u16,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    fn read(resp: ureq::http::Response<ureq::Body>) -> Answer {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .into_body()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The value of header `name` (any case), if present.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (a JSON string holding the text if it is not JSON).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::Value::String(self.body.clone()))
    }
}

/// A key registration for `signer`.
pub fn registration(signer: &Signer, role: Role, holder: &str) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new(signer.name().as_str()).expect("name"),
        public_key: signer.verifier_key().key().to_bytes(),
        holder: Subject::Org(Uscc::parse(holder).expect("valid uscc")),
        holder_name: Name::new("测试单位").expect("name"),
        role,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

/// A valid USCC built from a number (distinct numbers give distinct codes).
pub fn uscc(n: u32) -> String {
    Uscc::with_check(&format!("9161030{n:010}"))
        .expect("valid")
        .to_string()
}
