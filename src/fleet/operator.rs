//! The operator's address as a host sees it, read from the host's own
//! record of cauterize's WinRM connection (pure logic). Windows writes a
//! Security 4624 network logon for every authenticated WinRM connection,
//! with the client's address as the host saw it: behind NAT or a SOCKS
//! jump host that is the NAT's or the jump host's address, never what this
//! side's socket says. A scan's own logon is the network logon the host
//! recorded between the start of that scan and the start of its
//! collection; the collection reads the Security log after it, so it is
//! among the events the snapshot holds.
//!
//! Only an address that is certain is taken: when the logons of that span
//! come from more than one address (someone else logged on in the same
//! seconds), none is, and the host's logons stay candidate sources.
//!
//! Containment keeps SMB open to the operator's address as each host
//! sees it ([`operator_exemption`]): the host's view is read again when
//! its rules are made, so an operation resumed from another address (or a
//! verifying scan that records a new one) exempts the new address before
//! anything else is done on that host.

use crate::detect::facts::parse_time;
use crate::runtime::snapshot::{EventKind, LoggedEvent};

/// Seconds allowed before the span for the host's one-second resolution
/// and a connection opened just before the scan's clock started.
const MARGIN_SECS: f64 = 10.0;

/// What a host's records say of the operator's address over a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Every network logon of the span came from this address: cauterize's.
    One(String),
    /// Network logons from several addresses in the same seconds: which is
    /// cauterize's cannot be told (sorted).
    Several(Vec<String>),
    /// No network logon with an address in the span (the connection was
    /// authenticated before it began: a reused connection).
    Nothing,
}

/// Seconds allowed before a containment step's own span: the step opens
/// its connection after it starts, so only the host's timer resolution
/// and the answer's trip back are allowed for (the logons of a run that
/// ended just before stay out).
const STEP_MARGIN_SECS: f64 = 0.25;

/// The network logons the host recorded in the span of a scan ending at
/// `now` (its clock) that began `took_secs` earlier (the operator's
/// clock): the connection cauterize opened in it logged on then.
pub fn seen_by_host(events: &[LoggedEvent], now: &str, took_secs: f64) -> Seen {
    seen_in(events, now, took_secs, MARGIN_SECS)
}

/// [`seen_by_host`] over the span of one step that opened its own
/// connection and read the log at `now` (the containment step's read).
pub fn seen_by_step(events: &[LoggedEvent], now: &str, took_secs: f64) -> Seen {
    seen_in(events, now, took_secs, STEP_MARGIN_SECS)
}

fn seen_in(events: &[LoggedEvent], now: &str, took_secs: f64, margin: f64) -> Seen {
    let Some(end) = parse_time(now) else { return Seen::Nothing };
    let start = end - took_secs.max(0.0) - margin;
    let mut found: Vec<String> = Vec::new();
    for e in events {
        let EventKind::NetworkLogon { source_address, logon_type: 3, .. } = &e.kind else { continue };
        let Some(t) = parse_time(&e.at) else { continue };
        if t < start || t > end + 1.0 {
            continue;
        }
        // As the log writes it, IPv4-mapped IPv6 as IPv4; loopback kept
        // (linking never takes it for a source anyway).
        let address = source_address.trim().trim_start_matches("::ffff:").to_ascii_lowercase();
        if address.is_empty() || address == "-" || found.contains(&address) {
            continue;
        }
        found.push(address);
    }
    found.sort();
    match found.len() {
        0 => Seen::Nothing,
        1 => Seen::One(found.remove(0)),
        _ => Seen::Several(found),
    }
}

/// The address of the scan's own network logon: `collected_at` is when the
/// collection started on the host's clock, `took_secs` how long the scan
/// took on the operator's clock (its logon came within that span before
/// the collection began). `None` when the span holds no network logon
/// with an address, or logons from more than one address.
pub fn own_address(events: &[LoggedEvent], collected_at: &str, took_secs: f64) -> Option<String> {
    match seen_by_host(events, collected_at, took_secs) {
        Seen::One(a) => Some(a),
        _ => None,
    }
}

/// The operator's addresses a host's containment keeps SMB open to, and
/// what the operator should know of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorExemption {
    /// Every address the host is known to see cauterize from.
    pub addresses: Vec<String>,
    /// Said when the host's view now could not be told (the earlier
    /// addresses stand).
    pub note: Option<String>,
}

/// Which of the operator's addresses `host`'s containment exempts: those
/// it saw cauterize from before (`known`: its scans, earlier containment),
/// the one its records show for this very connection (`seen`), and, over
/// a direct connection, the address this side's socket shows (`socket`).
///
/// Only an address the host's own records or this side's socket vouch for
/// is exempt. When none is certain (network logons from two addresses in
/// the same seconds, or none recorded, and no earlier one known), the host
/// is refused, never contained with a guess: exempting an address nobody
/// vouches for could leave SMB open to an infected host (a worm's SMB
/// session is a network logon too), and containing it without the
/// operator's address cuts the SMB the evidence comes over. The refusal
/// says what to do; the host holds the release until contained.
pub fn operator_exemption(known: &[String], seen: &Seen, socket: Option<&str>) -> Result<OperatorExemption, String> {
    let mut addresses: Vec<String> = Vec::new();
    let mut add = |a: &str| {
        let a = a.trim().trim_start_matches("::ffff:").to_ascii_lowercase();
        if !a.is_empty() && !addresses.contains(&a) {
            addresses.push(a);
        }
    };
    known.iter().for_each(|a| add(a));
    if let Seen::One(a) = seen {
        add(a);
    }
    if let Some(a) = socket {
        add(a);
    }
    let unsure = match seen {
        Seen::Several(v) => Some(format!("network logons from {} in the same seconds", v.join(" and "))),
        Seen::Nothing => Some("no network logon of this connection in its Security log".to_string()),
        Seen::One(_) => None,
    };
    match unsure {
        Some(why) if addresses.is_empty() => Err(format!(
            "which address it sees cauterize from is not certain ({why}), and no scan of it recorded one: it is not contained rather than exempt an address nobody vouches for (that could leave SMB open to an infected host); run `cauterize contain` again, or add the address the hosts see (the jump host's or NAT's) to the playbook's contain.exempt.addresses"
        )),
        Some(why) if matches!(seen, Seen::Several(_)) && socket.is_none() => Ok(OperatorExemption {
            note: Some(format!(
                "the address it sees cauterize from now is not certain ({why}): only {} (seen before) keep SMB",
                addresses.join(", ")
            )),
            addresses,
        }),
        _ => Ok(OperatorExemption { addresses, note: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logon(at: &str, address: &str, logon_type: u32) -> LoggedEvent {
        LoggedEvent {
            log: "Security".into(),
            event_id: 4624,
            record_id: 1,
            at: at.into(),
            kind: EventKind::NetworkLogon { source_address: address.into(), account: r"CORP\ir".into(), logon_type },
        }
    }

    #[test]
    fn the_scans_own_logon_gives_the_address_the_host_saw() {
        let events = vec![
            // A source's logon an hour before: not the scan's.
            logon("2024-03-01T09:00:00Z", "10.0.0.1", 3),
            // The scan's connections (two), through a NAT.
            logon("2024-03-01T10:00:01Z", "::ffff:192.0.2.7", 3),
            logon("2024-03-01T10:00:03Z", "192.0.2.7", 3),
            // An RDP logon in the span is not a WinRM one.
            logon("2024-03-01T10:00:02Z", "10.0.0.9", 10),
        ];
        assert_eq!(own_address(&events, "2024-03-01T10:00:04Z", 5.0), Some("192.0.2.7".to_string()));
        // The source's logon lies outside the span, however long the scan.
        assert_eq!(own_address(&events[..1], "2024-03-01T10:00:04Z", 60.0), None);
    }

    #[test]
    fn two_addresses_in_the_span_or_none_give_no_address() {
        let events = vec![logon("2024-03-01T10:00:01Z", "192.0.2.7", 3), logon("2024-03-01T10:00:02Z", "10.0.0.1", 3)];
        assert_eq!(own_address(&events, "2024-03-01T10:00:04Z", 5.0), None, "someone else logged on in the same seconds");
        let none = vec![logon("2024-03-01T10:00:01Z", "-", 3)];
        assert_eq!(own_address(&none, "2024-03-01T10:00:04Z", 5.0), None, "no address logged");
        let loopback = vec![logon("2024-03-01T10:00:01Z", "127.0.0.1", 3)];
        assert_eq!(own_address(&loopback, "2024-03-01T10:00:04Z", 5.0), Some("127.0.0.1".to_string()), "recorded as the host logs it");
        assert_eq!(own_address(&events, "not a time", 5.0), None);
    }

    #[test]
    fn containment_exempts_only_addresses_a_record_or_the_socket_vouches_for() {
        let known = vec!["127.122.48.1".to_string()];
        let several = Seen::Several(vec!["10.0.0.9".into(), "127.122.48.2".into()]);
        // Resumed through a second jump host: the new address joins.
        let e = operator_exemption(&known, &Seen::One("127.122.48.2".into()), None).unwrap();
        assert_eq!((e.addresses, e.note), (vec!["127.122.48.1".to_string(), "127.122.48.2".to_string()], None));
        // A reused connection shows nothing new: the known address stands.
        let e = operator_exemption(&known, &Seen::Nothing, None).unwrap();
        assert_eq!(e.addresses, ["127.122.48.1"]);
        // Two addresses in the same seconds: the unknown one is never
        // exempt; the earlier one stands, and the operator is told.
        let e = operator_exemption(&known, &several, None).unwrap();
        assert_eq!(e.addresses, ["127.122.48.1"]);
        assert!(e.note.unwrap().contains("10.0.0.9 and 127.122.48.2"));
        // Nothing certain at all: refused, with what to do.
        let why = operator_exemption(&[], &several, None).unwrap_err();
        assert!(why.contains("not certain (network logons from 10.0.0.9 and 127.122.48.2") && why.contains("contain.exempt.addresses"), "{why}");
        assert!(operator_exemption(&[], &Seen::Nothing, None).is_err());
        // A direct connection: the socket's address vouches for itself.
        let e = operator_exemption(&[], &several, Some("10.0.0.9")).unwrap();
        assert_eq!((e.addresses, e.note), (vec!["10.0.0.9".to_string()], None));
        // As logged: IPv4-mapped IPv6 is the IPv4 address, once.
        let e = operator_exemption(&["::ffff:192.0.2.7".into()], &Seen::One("192.0.2.7".into()), None).unwrap();
        assert_eq!(e.addresses, ["192.0.2.7"]);
    }

    #[test]
    fn the_span_tells_one_several_or_nothing() {
        let events = vec![logon("2024-03-01T10:00:01Z", "192.0.2.7", 3), logon("2024-03-01T10:00:02Z", "10.0.0.1", 3)];
        assert_eq!(seen_by_host(&events, "2024-03-01T10:00:04Z", 1.0), Seen::Several(vec!["10.0.0.1".into(), "192.0.2.7".into()]));
        assert_eq!(seen_by_host(&events[..1], "2024-03-01T10:00:04Z", 1.0), Seen::One("192.0.2.7".into()));
        assert_eq!(seen_by_host(&events, "2024-03-01T11:00:04Z", 1.0), Seen::Nothing, "an hour later: a reused connection");
        // A containment step's own span: its logon, not those of a run
        // that ended seconds before it began.
        assert_eq!(seen_by_step(&events, "2024-03-01T10:00:03Z", 1.5), Seen::One("10.0.0.1".into()));
        assert_eq!(seen_by_step(&events, "2024-03-01T10:00:03Z", 3.0), Seen::Several(vec!["10.0.0.1".into(), "192.0.2.7".into()]));
    }
}
