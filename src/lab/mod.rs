//! The lab: a simulated Windows network inside one process, for tests,
//! benchmarks, demos and rehearsal.
//!
//! Each host listens on its own loopback address (all of 127.0.0.0/8 reaches
//! the loopback device on Linux) and speaks WinRM as Windows does: SOAP over
//! HTTP, NTLMv2 authentication verified against the host's accounts, NTLM
//! message sealing, and Windows' faults. It is a peer, not a mock: pywinrm,
//! which nobody here wrote, talks to it. Ground truth reaches tests through
//! this library API, never through WinRM.
//!
//! Each host runs the PowerShell it receives in the lab's PowerShell
//! engine ([`powershell`]) with its own version's semantics, over facades of
//! its simulated Windows state ([`world`]); [`emulate`] decides how a WinRM
//! command starts (PowerShell, cmd.exe, a program). cauterize's runtime
//! (`runtime.ps1`) runs there like any other script: the lab implements
//! Windows, never cauterize, and shares no code with it. [`contract_host`]
//! is the host the runtime's contract is tested on. [`judge`] reads what
//! an operation did to every host from ground truth alone.

pub mod cases;
pub mod contract_host;
pub mod emulate;
pub mod fixtures;
pub mod inventory_out;
pub mod judge;
pub mod malware;
pub mod network;
pub mod ntlm;
pub mod outbreak;
pub mod powershell;
pub mod running;
pub mod scenario;
pub mod spec;
pub mod tls;
pub mod world;
pub mod wsman;

pub use network::{HostTruth, LabClock, Network};
pub use spec::{Account, HostFault, HostSpec, HostWorld, LabSettings, LabSpec, OsInfo, WorldSpec};
pub use running::{Lab, LabStats};
