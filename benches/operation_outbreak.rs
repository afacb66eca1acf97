//! A benchmark, not a test (`cargo bench --bench operation_outbreak`, which
//! bench/operation-outbreak.sh runs): the acceptance run of the whole
//! operation (tests/common/outbreak_run.rs, which CI runs on 60 hosts in
//! tests/operation/operation_outbreak.rs) on the 500 hosts of
//! examples/lab/outbreak.yml, lab time 60 times wall time: `cauterize run
//! --yes`, `release --accept-unreached` for the hosts it could not reach,
//! two lab hours more; prints the outcome figures from the lab's ground
//! truth, then asserts what CI asserts (a failed assertion ends the run
//! with its message and a non-zero exit). Several minutes on 2 cores.
//! Loopback range: 127.152.4.0 onwards (tests/operation/operation_outbreak.rs).

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
    let op = operate(Size::Full, "127.152.4.1", false).await;
    // Prints the figures first, then asserts.
    assert_accepted(&op);
    op.run.lab.stop().await;
    println!("accepted: every assertion of the CI run holds on the full outbreak");
}
