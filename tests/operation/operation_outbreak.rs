//! The operation's acceptance run (tests/common/outbreak_run.rs): a
//! spreading outbreak of the shape of examples/lab/outbreak.yml at 60
//! hosts (tests/data/outbreak-60.yml, lab time 120 times wall time),
//! contained, purged, rebooted in waves, verified and released, judged by
//! the lab's ground truth; and its negative control, the same outbreak
//! purged and rebooted with a playbook that contains no host, whose
//! cleaned hosts are infected again. `bench/operation-outbreak.sh 60` runs
//! the run with containment on its own and prints its figures;
//! `bench/operation-outbreak.sh` runs it on the 500 hosts of
//! examples/lab/outbreak.yml (benches/operation_outbreak.rs).
//! Loopback range: 127.152.0.0/16 (127.152.1.x the negative control,
//! 127.152.2.x the run with containment; the bench's 60 hosts on
//! 127.152.0.x, its 500 from 127.152.4.1).

use crate::common;

use cauterize::lab::judge;
use common::outbreak_run::{Size, assert_accepted, operate, print_figures, reboots, reinfected_after_cleaning};

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

/// The acceptance run: every assertion of [`assert_accepted`] on the
/// lab's ground truth (no live loader, persistence or loader file on any
/// reached host, nothing infected again after its reboot or the release,
/// no benign file touched, containment gone where released, the unreached
/// hosts listed and holding the release, reboots as asked and within the
/// waves' limits).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_containment_every_reached_host_is_clean_and_stays_clean() {
    let op = operate(Size::Ci, "127.152.2.1", false).await;
    assert_accepted(&op);
    op.run.lab.stop().await;
}
