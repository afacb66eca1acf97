//! Lab hosts for the tests of the WinRM endpoint and of the transport: a
//! Windows Server 2019 host with a local administrator (`Administrator`),
//! a domain administrator (`CORP\alice`) and a local non-administrator
//! (`guest`), one password for all, Windows' WinRM defaults; callers change
//! what their test is about (fault, quota, latency).

use std::net::Ipv4Addr;
use std::time::Duration;

use super::spec::{Account, HostFault, HostSpec, OsInfo};

/// The host described above, named `name`, at `address` port 5985.
pub fn server(name: &str, address: Ipv4Addr, password: &str) -> HostSpec {
    let account = |domain: &str, user: &str, admin| Account {
        domain: domain.into(),
        user: user.into(),
        password: password.into(),
        admin,
    };
    HostSpec {
        name: name.into(),
        address,
        port: 5985,
        domain: "CORP".into(),
        os: OsInfo {
            caption: "Microsoft Windows Server 2019 Standard".into(),
            build: "17763".into(),
            ps_version: "5.1.17763.1".into(),
        },
        accounts: vec![
            account("", "Administrator", true),
            account("CORP", "alice", true),
            account("", "guest", false),
        ],
        allow_unencrypted: false,
        allow_basic: false,
        https: false,
        max_shells_per_user: 30,
        latency: Duration::ZERO,
        clock_skew_secs: 0,
        fault: HostFault::None,
    }
}

/// [`server`] with `fault`.
pub fn faulty(name: &str, address: Ipv4Addr, password: &str, fault: HostFault) -> HostSpec {
    HostSpec {
        fault,
        ..server(name, address, password)
    }
}
