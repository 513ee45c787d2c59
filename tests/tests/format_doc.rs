//! docs/FORMAT.md is sufficient to write an independent verifier: the Python
//! checker `tests/format_check.py`, written from that document with the
//! standard library only, must accept the golden vectors
//! (`tests/vectors/golden-v1.json`) byte for byte.

use std::path::Path;
use std::process::Command;

#[test]
fn python_checker_written_from_format_md_accepts_the_golden_vectors() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest
        .parent()
        .expect("tests crate is inside the workspace");
    let out = Command::new("python3")
        .arg("tests/format_check.py")
        .current_dir(workspace)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 tests/format_check.py: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    if !stderr.is_empty() {
        eprintln!("{stderr}");
    }
    assert!(
        out.status.success(),
        "python3 tests/format_check.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("format_check: all") && stdout.contains("checks passed"),
        "unexpected checker output:\n{stdout}"
    );
}
