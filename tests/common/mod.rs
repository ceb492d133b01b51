//! Helpers shared by the CLI integration tests: run the built binary, read JSON, compare.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of a fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Run `keju` with arguments in `dir`.
pub fn keju_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keju"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the keju binary runs")
}

/// Run `keju`, expect success, parse stdout as JSON.
pub fn keju_json(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = keju_in(dir.path(), args);
    assert!(
        out.status.success(),
        "keju {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Run `keju`, expect failure; return (exit code, stderr).
pub fn keju_fails(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = keju_in(dir, args);
    assert!(!out.status.success(), "keju {args:?} should fail");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Relative difference, with an absolute floor for values near zero.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// Assert `got` is within `tol` (relative) of `want`.
#[track_caller]
pub fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        rel_diff(got, want) <= tol,
        "{what}: got {got:.15e}, want {want:.15e} (rel diff {:.3e} > {tol:.0e})",
        rel_diff(got, want)
    );
}

/// A coefficient row of a fit result by term.
pub fn coef<'a>(result: &'a serde_json::Value, term: &str) -> &'a serde_json::Value {
    result["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["term"] == term)
        .unwrap_or_else(|| panic!("term {term} not in {}", result["coefficients"]))
}

/// Write a CSV file in a temp dir and return (dir, path).
pub fn write_csv(name: &str, content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    (dir, p)
}
