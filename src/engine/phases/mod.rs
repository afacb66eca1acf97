//! The phases of the operation, one file each, as methods of the running
//! operation ([`super::operation::Engine`]): contain, purge, reboot waves
//! (with each host's verification and re-purge rounds), verify (hosts that
//! needed no reboot), release.

mod contain;
mod purge;
mod purge_steps;
mod reboot;
mod release;

pub use release::ReleaseSelection;
pub(super) use purge_steps::purge_step_op;
mod verify;
