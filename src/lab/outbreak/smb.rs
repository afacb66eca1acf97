//! SMB firewall set-ups for scenarios and tests: open File and Printer
//! Sharing as a domain GPO commonly does on workstations, and the
//! containment rules the operator's tool writes (block TCP 445/139 in and
//! out, with exempt addresses left out of the block rule's remote-address
//! list, since a Windows block rule beats any allow rule).

use crate::lab::world::firewall::{Direction, FirewallRule, Protocol, Verdict};
use crate::lab::world::host::HostState;
use crate::lab::world::netaddr::{AddressList, Ipv4Range, PortList, complement};

/// Enable the stock "File and Printer Sharing" inbound rules.
pub fn open_smb(state: &mut HostState) {
    state
        .firewall
        .set_group_enabled("File and Printer Sharing", true);
}

/// Block rules for SMB in and out, for every remote address except
/// `exempt`. Empty when everything is exempt (no rule must be written).
pub fn smb_block_rules(name: &str, exempt: &[Ipv4Range]) -> Vec<FirewallRule> {
    let remote = complement(exempt);
    if remote.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (dir, suffix) in [(Direction::In, "In"), (Direction::Out, "Out")] {
        let mut r = FirewallRule::new(
            &format!("{name} (SMB-{suffix})"),
            dir,
            Verdict::Block,
            Protocol::Tcp,
        );
        match dir {
            Direction::In => r.local_ports = PortList::ports(&[445, 139]),
            Direction::Out => r.remote_ports = PortList::ports(&[445, 139]),
        }
        r.remote_addresses = AddressList::v4(remote.clone());
        out.push(r);
    }
    out
}

/// Add `smb_block_rules` to a host.
pub fn block_smb(state: &mut HostState, name: &str, exempt: &[Ipv4Range]) {
    for r in smb_block_rules(name, exempt) {
        state.firewall.add_rule(r).expect("valid SMB block rule");
    }
}
