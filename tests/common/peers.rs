//! Locating real peer tools (a Python interpreter with the right packages,
//! helper scripts under tests/peers/) for cross-check tests. A missing
//! peer skips the test with a message, except under CI=true, where it fails.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// True when running in CI, where a missing peer is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Skip (return `None` after saying why on stderr) or, in CI, panic.
pub fn skip_or_fail<T>(test: &str, why: &str) -> Option<T> {
    if in_ci() {
        panic!("{test}: required peer missing under CI=true: {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
    None
}

/// The Python interpreter: `$CAUTERIZE_PYTHON`, else
/// `$CARGO_MANIFEST_DIR/.venv/bin/python`. It must exist and import every
/// module in `modules`; otherwise skip (or fail in CI).
pub fn python(test: &str, modules: &[&str]) -> Option<PathBuf> {
    let path = match std::env::var_os("CAUTERIZE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    };
    if !path.exists() {
        return skip_or_fail(
            test,
            &format!("no Python at {} (set CAUTERIZE_PYTHON)", path.display()),
        );
    }
    for module in modules {
        let ok = Command::new(&path)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return skip_or_fail(test, &format!("{} cannot import {module}", path.display()));
        }
    }
    Some(path)
}

/// A helper script in tests/peers/.
pub fn peer_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}
