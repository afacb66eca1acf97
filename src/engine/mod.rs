//! The engine: the orchestration of everything cauterize does to many
//! hosts, as a library. Commands parse arguments, call the engine and
//! choose the sinks; the engine never prints.
//!
//! - [`event`]: the one [`Event`] type the engine emits and the [`Sink`]
//!   trait of what consumes it; [`emit`] fans events out (journal first,
//!   awaited, then the views); [`record`] is the journal sink.
//! - [`steps`]: the host steps behind one trait ([`HostSteps`]): what the
//!   host runtime does to one host. [`runtime_steps`] implements it over
//!   WinRM with the runtime's operations.
//! - [`operation`]: the operation (contain, purge, reboot waves, verify,
//!   release) with barriers between phases, concurrency limits, time-outs,
//!   retries with back-off, the failure budget and halting; the phases are
//!   in [`phases`].
//! - Pure parts: [`state`] (each host's state machine), [`settings`]
//!   (budget, retries, policies), [`resume`]
//!   (what a resumed run does from the journal), [`summary`] (per-phase
//!   results, exit codes), [`plan_input`] (the plan as the engine needs
//!   it, stale hosts refused), [`left_in_place`] (files a purge was to
//!   delete and did not, folders whose write deny was not placed: such a
//!   host is not verified clean).
//! - [`fan_out`]: one command over many hosts as a phase of progress
//!   events (`exec`, `check`, `scan`).
//! - [`scan`] and [`planning`]: the orchestration of `scan` and `plan`;
//!   [`replan`] makes a new plan from a verifying scan; [`apply`] builds
//!   and runs an operation from a reviewed plan or from the journal
//!   (resume); [`watch`] polls the hosts the operation never reached and
//!   carries each that answers through the same operation; [`sources`] reviews, over the journal, the unlisted sources
//!   of lateral movement that hold the release.

pub mod emit;
pub mod fan_out;
pub mod apply;
pub mod event;
pub mod left_in_place;
pub mod operation;
pub mod phases;
pub mod plan_input;
pub mod planning;
pub mod record;
pub mod replan;
pub mod resume;
pub mod runtime_steps;
pub mod scan;
pub mod settings;
pub mod sources;
pub mod state;
pub mod steps;
pub mod summary;
pub mod watch;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use emit::Emitter;
pub use event::{Event, Outcome, Phase, Sink};
pub use operation::{Approver, EngineError, Inputs, Replan};
pub use phases::ReleaseSelection;
pub use settings::OperationSettings;
pub use state::HostState;
pub use steps::{HostSteps, StepError};
pub use summary::OperationResult;
