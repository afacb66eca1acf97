//! One lateral-movement attempt over SMB (TCP 445) from an infected host to
//! a peer. It gets through only if the source's firewall lets the
//! connection out to that peer AND the peer's firewall lets it in from
//! that source (each decided by the host's own rules, block beating
//! allow, remote-address lists included). Then it needs a way in: the same
//! local Administrator password, a domain credential harvested on the
//! source (same domain), or EternalBlue against a peer without the
//! MS17-010 fix. Then the loader is put on the peer and run as SYSTEM
//! (`malware::lateral`: a logon and a copy through an admin share run by a
//! temporary service or task, which the peer's event logs record, or the
//! exploit), and the peer's infection records source, vector and
//! delivery.

use std::net::Ipv4Addr;

use rand::Rng;

use crate::lab::malware::{self, Vector};
use crate::lab::world::firewall::{Direction, Protocol, Reason, Verdict};
use crate::lab::world::time::LabTime;

use super::event::{EventKind, Side};
use super::host::NetHost;

/// The source port the lab uses for outgoing SMB.
pub use crate::lab::malware::lateral::SMB_SOURCE_PORT;
pub const SMB_PORT: u16 = 445;

/// Whether TCP 445 gets from `src` to `dst`: Ok, or which side blocked
/// and by which rule.
pub fn smb_path(
    src: &NetHost,
    dst_addr: Ipv4Addr,
    dst: &NetHost,
    src_addr: Ipv4Addr,
) -> Result<(), (Side, Option<String>)> {
    let rule = |r: Reason| match r {
        Reason::BlockRule(n) => Some(n),
        _ => None,
    };
    let out = src.state.firewall.decide_explained(
        Direction::Out,
        Protocol::Tcp,
        SMB_SOURCE_PORT,
        dst_addr,
        SMB_PORT,
    );
    if out.verdict == Verdict::Block {
        return Err((Side::Source, rule(out.reason)));
    }
    let inn = dst.state.firewall.decide_explained(
        Direction::In,
        Protocol::Tcp,
        SMB_PORT,
        src_addr,
        SMB_SOURCE_PORT,
    );
    if inn.verdict == Verdict::Block {
        return Err((Side::Target, rule(inn.reason)));
    }
    Ok(())
}

/// How the source gets in, if it can.
pub fn way_in(src: &NetHost, dst: &NetHost, ms17_010: bool) -> Option<Vector> {
    if !src.state.local_admin_password.is_empty()
        && src.state.local_admin_password == dst.state.local_admin_password
    {
        return Some(Vector::SharedLocalAdmin);
    }
    let domain = |h: &NetHost| h.state.domain.to_ascii_uppercase();
    if src.harvested_domain_creds && domain(src) == domain(dst) && domain(dst) != "WORKGROUP" {
        return Some(Vector::HarvestedDomainCred);
    }
    if ms17_010 && !dst.state.ms17_010_patched {
        return Some(Vector::Ms17010);
    }
    None
}

/// Attempt to move `infection` of `hosts[from]` to `hosts[to]`. Returns
/// what happened (None: nothing to report, e.g. the peer already runs
/// that family, or the source has no such live loader).
pub(crate) fn attempt(
    hosts: &mut [NetHost],
    from: usize,
    to: usize,
    infection: usize,
    ms17_010: bool,
    now: LabTime,
    rng: &mut impl Rng,
) -> Option<EventKind> {
    if from == to {
        return None;
    }
    let (src, dst) = if from < to {
        let (a, b) = hosts.split_at_mut(to);
        (&mut a[from], &mut b[0])
    } else {
        let (a, b) = hosts.split_at_mut(from);
        (&mut b[0], &mut a[to])
    };
    let profile = src.infections.get(infection)?.profile.clone();
    let family = profile.family;
    if !dst.power.is_running() {
        return Some(EventKind::SpreadUnreachable { from, to, family });
    }
    if let Err((by, rule)) = smb_path(src, dst.address, dst, src.address) {
        return Some(EventKind::SpreadBlocked {
            from,
            to,
            family,
            by,
            rule,
        });
    }
    let Some(vector) = way_in(src, dst, ms17_010) else {
        return Some(EventKind::SpreadDenied { from, to, family });
    };
    if dst.live_families().contains(&family) {
        return None;
    }
    let source = malware::lateral::Source::of(&src.state, src.address, &src.infections[infection]);
    let Some(inf) = malware::lateral::deliver(&mut dst.state, &profile, &source, vector, rng, now)
    else {
        return Some(EventKind::SpreadDenied { from, to, family });
    };
    dst.infections.push(inf);
    Some(EventKind::Spread {
        from,
        to,
        family,
        vector,
    })
}
