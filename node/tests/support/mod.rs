//! Running the built `lvyue-node` binary from the node's integration tests.
// Each test file uses a different part of this module.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_lvyue-node");

/// What a finished command left.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Standard output as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// The binary with no `LVYUE_*` variable from the test's environment.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LVYUE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Runs the binary to its end, killing it (and failing) after 30 s, so that
/// a `serve` that wrongly accepts its settings cannot hang the test.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = command(args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lvyue-node");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lvyue-node {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A `lvyue-node serve` child on a free port, killed on drop.
pub struct Node {
    pub child: std::process::Child,
    pub url: String,
    pub data: std::path::PathBuf,
}

impl Node {
    /// Starts a node on `data` (created with its keys on first run) and
    /// waits until it answers.
    pub fn start(data: &Path) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = command(&["serve", "--data", s(data), "--listen", &listen], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn node");
        let url = format!("http://{listen}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{url}/v1/log")).call().is_err() {
            assert!(Instant::now() < deadline, "node did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Node {
            child,
            url,
            data: data.to_path_buf(),
        }
    }

    /// Runs a client command against this node (`LVYUE_NODE`).
    pub fn run(&self, args: &[&str]) -> Run {
        run(args, &[("LVYUE_NODE", &self.url)])
    }

    /// The path of the first credit-office key, written at the first start.
    pub fn office_key(&self) -> String {
        s(&self.data.join("keys/office.key")).to_string()
    }

    /// The log's size, from `status --json`.
    pub fn size(&self) -> u64 {
        let r = self.run(&["status", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["log"]["size"].as_u64().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
