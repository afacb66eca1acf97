//! A benchmark, not a test (`cargo bench --bench operation_outbreak [-- 60]`,
//! which bench/operation-outbreak.sh runs): the acceptance run of the whole
//! operation (tests/common/outbreak_run.rs, which CI runs on 60 hosts with
//! its negative control in tests/operation/operation_outbreak.rs) on the 500 hosts of
//! examples/lab/outbreak.yml, lab time 60 times wall time (or, given `60`,
//! on CI's 60-host outbreak at 120 times): `cauterize run
//! --yes`, `release --accept-unreached` for the hosts it could not reach,
//! two lab hours more; prints the outcome figures from the lab's ground
//! truth, then asserts what CI asserts (a failed assertion ends the run
//! with its message and a non-zero exit). Several minutes on 2 cores.
//! Loopback range: 127.152.4.1 onwards for the 500 hosts, 127.152.0.x for
//! the 60 (tests/operation/operation_outbreak.rs).

#[path = "../tests/common/harness.rs"]
mod harness;
#[path = "../tests/common/outbreak_run.rs"]
mod outbreak_run;
#[path = "../tests/common/playbooks.rs"]
mod playbooks;

use outbreak_run::{Size, assert_accepted, operate};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    harness::raise_fd_limit();
    // `60`: CI's 60-host outbreak (tests/data/outbreak-60.yml), the run CI
    // makes in tests/operation/operation_outbreak.rs, on its own with its
    // figures.
    let (size, base) = if std::env::args().any(|a| a == "60") { (Size::Ci, "127.152.0.1") } else { (Size::Full, "127.152.4.1") };
    let op = operate(size, base, false).await;
    // Prints the figures first, then asserts.
    assert_accepted(&op);
    op.run.lab.stop().await;
    println!("accepted: every assertion of the CI run holds on the full outbreak");
}
