//! The acceptance run of the whole operation on the outbreak
//! (tests/common/outbreak_run.rs): `cauterize run --yes` on a spreading
//! outbreak of the shape of examples/lab/outbreak.yml at 60 hosts
//! (tests/data/outbreak-60.yml), judged by the lab's ground truth; and its
//! negative control, the same outbreak purged and rebooted with a playbook
//! that contains no host, where cleaned hosts are infected again.
//! bench/operation-outbreak.sh runs the same on the 500 hosts of
//! examples/lab/outbreak.yml (benches/operation_outbreak.rs).
//! Loopback range: 127.152.0.0/16 (127.152.0.x the operation, 127.152.1.x
//! its negative control; the bench's 500 hosts from 127.152.4.1).

use crate::common;

use cauterize::lab::judge;
use common::outbreak_run::{Size, assert_accepted, operate, print_figures, reboots, reinfected_after_cleaning};

/// Not met yet, so not run by `cargo test` (run it with `cargo test
/// --release --ignore-rust-version --test operation -- --ignored
/// operation_outbreak`): hosts the spread reached between the scan and
/// containment keep the copy it dropped directly in C:\Windows, which the
/// purge never deletes (it is found, tied to the reach by its 7045 record,
/// and the host is left for a person).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "acceptance not met: copies the spread dropped in C:\\Windows are left for a person (README, Status)"]
async fn the_operation_cleans_the_outbreak_and_nothing_comes_back() {
    let op = operate(Size::Ci, "127.152.0.1", false).await;
    assert_accepted(&op);
    op.run.lab.stop().await;
}

/// The negative control: the same outbreak, purged and rebooted with a
/// playbook that contains no host. Cleaned hosts are infected again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_containment_cleaned_hosts_are_infected_again() {
    let op = operate(Size::Ci, "127.152.1.1", true).await;
    let lab = &op.run.lab;
    let after = judge::after(lab, &op.before);
    print_figures(&op, &after);
    assert_eq!(op.journal.contained, 0, "the playbook contains no host");
    assert!(op.contained_after_run.is_empty(), "no host's SMB was blocked: {:?}", op.contained_after_run);
    let (counts, _) = reboots(&op);
    assert!(counts.len() >= op.before.infected_hosts().len() / 2, "the purge and the reboots ran: {counts:?}");
    let again = reinfected_after_cleaning(&op, &after);
    assert!(!again.is_empty(), "without containment, some host cleaned and rebooted is infected again (lab: {})", lab.outbreak());
    op.run.lab.stop().await;
}
