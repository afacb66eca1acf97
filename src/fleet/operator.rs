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

use crate::detect::facts::parse_time;
use crate::runtime::snapshot::{EventKind, LoggedEvent};

/// Seconds allowed before the span for the host's one-second resolution
/// and a connection opened just before the scan's clock started.
const MARGIN_SECS: f64 = 10.0;

/// The address of the scan's own network logon: `collected_at` is when the
/// collection started on the host's clock, `took_secs` how long the scan
/// took on the operator's clock (its logon came within that span before
/// the collection began). `None` when the span holds no network logon
/// with an address, or logons from more than one address.
pub fn own_address(events: &[LoggedEvent], collected_at: &str, took_secs: f64) -> Option<String> {
    let end = parse_time(collected_at)?;
    let start = end - took_secs.max(0.0) - MARGIN_SECS;
    let mut found: Option<String> = None;
    for e in events {
        let EventKind::NetworkLogon { source_address, logon_type: 3, .. } = &e.kind else { continue };
        let Some(t) = parse_time(&e.at) else { continue };
        if t < start || t > end + 1.0 {
            continue;
        }
        // As the log writes it, IPv4-mapped IPv6 as IPv4; loopback kept
        // (linking never takes it for a source anyway).
        let address = source_address.trim().trim_start_matches("::ffff:").to_ascii_lowercase();
        if address.is_empty() || address == "-" {
            continue;
        }
        match &found {
            Some(a) if *a != address => return None,
            _ => found = Some(address),
        }
    }
    found
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
}
