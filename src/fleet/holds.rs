//! Which sources of lateral movement hold the release of containment (pure
//! logic). A source address that reached a host but is not in the
//! inventory is a machine nobody listed, possibly infected: lifting
//! containment while it is there lets it re-infect the cleaned hosts. So
//! it holds the release until it is resolved, explicitly, one of two ways:
//!
//! - the machine is found, added to the inventory and scanned: its address
//!   is then an inventory host's, and a scan with nothing the purge acts on
//!   resolves it (an infected one still holds: clean it first);
//! - the operator accepts that address by name with a reason
//!   (`cauterize release --accept-source ADDR --reason TEXT`), which the
//!   journal keeps with who and when.
//!
//! Once held, a source holds until resolved: a later scan whose event
//! logs no longer show its logon (the logs roll over) does not free it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::lateral::Unlisted;

/// A source's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// It holds the release.
    Held,
    /// Its address is a scanned inventory host's with nothing to act on.
    Resolved,
    /// The operator accepted it, with a reason.
    Accepted,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Held => "held",
            Standing::Resolved => "resolved",
            Standing::Accepted => "accepted",
        }
    }

    /// The journal's word back; `None` for a word this build does not know.
    pub fn parse(word: &str) -> Option<Standing> {
        match word {
            "held" => Some(Standing::Held),
            "resolved" => Some(Standing::Resolved),
            "accepted" => Some(Standing::Accepted),
            _ => None,
        }
    }
}

/// One source and its standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHold {
    /// As the hosts' logs write it (see `lateral::normal_address`).
    pub address: String,
    /// The hosts it reached.
    pub hosts: Vec<String>,
    pub standing: Standing,
    /// Why it holds and what to do, how it was resolved, or the reason the
    /// operator gave.
    pub detail: String,
}

/// A host of the inventory at an address, as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedHost {
    pub host: String,
    /// It has a successful scan.
    pub scanned: bool,
    /// Its latest scan has a finding the purge acts on (high, not
    /// allow-listed).
    pub infected: bool,
}

/// The standing of every source: those the logs show now (`unlisted`) and
/// those recorded before (`known`, the journal's latest standing of each),
/// given the inventory's hosts by address (`listed`).
pub fn review(unlisted: &[Unlisted], known: &[SourceHold], listed: &HashMap<String, ListedHost>) -> Vec<SourceHold> {
    let mut by_address: BTreeMap<String, (Vec<String>, Option<&SourceHold>)> = BTreeMap::new();
    for k in known {
        let entry = by_address.entry(k.address.clone()).or_default();
        merge_hosts(&mut entry.0, &k.hosts);
        entry.1 = Some(k);
    }
    for u in unlisted {
        merge_hosts(&mut by_address.entry(u.address.clone()).or_default().0, &u.hosts);
    }
    by_address
        .into_iter()
        .map(|(address, (hosts, known))| {
            if let Some(k) = known.filter(|k| k.standing == Standing::Accepted) {
                return SourceHold { address, hosts, standing: Standing::Accepted, detail: k.detail.clone() };
            }
            let (standing, detail) = match listed.get(&address) {
                Some(l) if l.scanned && !l.infected => (
                    Standing::Resolved,
                    format!("{address} is {} of the inventory, scanned: nothing there the purge acts on", l.host),
                ),
                Some(l) if l.scanned => (
                    Standing::Held,
                    format!(
                        "{address} is {} of the inventory, which is infected: clean it (plan and apply for it) before the release, or accept the source with `cauterize release --accept-source {address} --reason TEXT`",
                        l.host
                    ),
                ),
                Some(l) => (
                    Standing::Held,
                    format!(
                        "{address} is {} of the inventory but has no scan: scan it (`cauterize scan -l {}`), or accept the source with `cauterize release --accept-source {address} --reason TEXT`",
                        l.host, l.host
                    ),
                ),
                None => (
                    Standing::Held,
                    format!(
                        "{address} is not in the inventory and reached {}: a machine nobody listed, possibly infected; find it, add it to the inventory and scan it, or accept it with `cauterize release --accept-source {address} --reason TEXT`",
                        hosts.join(", ")
                    ),
                ),
            };
            SourceHold { address, hosts, standing, detail }
        })
        .collect()
}

fn merge_hosts(into: &mut Vec<String>, more: &[String]) {
    for h in more {
        if !into.iter().any(|x| x.eq_ignore_ascii_case(h)) {
            into.push(h.clone());
        }
    }
}

/// The sources that hold the release.
pub fn holding(sources: &[SourceHold]) -> Vec<&SourceHold> {
    sources.iter().filter(|s| s.standing == Standing::Held).collect()
}

/// Check the addresses the operator accepts (`--accept-source`): each must
/// be a source that holds the release now (an address mistyped, or one
/// that holds nothing, is refused rather than recorded). Returns them as
/// the logs write them.
pub fn accepted_addresses(given: &[String], sources: &[SourceHold]) -> Result<Vec<String>, String> {
    let held: Vec<&str> = holding(sources).iter().map(|s| s.address.as_str()).collect();
    let mut out = Vec::new();
    for g in given {
        let Some(address) = super::lateral::normal_address(g) else {
            return Err(format!("--accept-source {g}: not a remote address"));
        };
        match sources.iter().find(|s| s.address == address) {
            Some(s) if s.standing == Standing::Held => out.push(address),
            Some(s) => return Err(format!("--accept-source {g}: that source is already {}: {}", s.standing.as_str(), s.detail)),
            None if held.is_empty() => return Err(format!("--accept-source {g}: no unlisted source holds the release of this operation")),
            None => {
                return Err(format!(
                    "--accept-source {g}: not a source that holds the release; those that do: {}",
                    held.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unlisted(address: &str, hosts: &[&str]) -> Unlisted {
        Unlisted { address: address.into(), first_at: 0.0, hosts: hosts.iter().map(|h| h.to_string()).collect() }
    }

    fn known(address: &str, standing: Standing, detail: &str) -> SourceHold {
        SourceHold { address: address.into(), hosts: vec!["WS-002".into()], standing, detail: detail.into() }
    }

    fn listed(host: &str, scanned: bool, infected: bool) -> ListedHost {
        ListedHost { host: host.into(), scanned, infected }
    }

    #[test]
    fn an_unlisted_source_holds_until_its_machine_is_scanned_clean_or_accepted() {
        let none = HashMap::new();
        let r = review(&[unlisted("10.9.9.9", &["WS-004"])], &[], &none);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].standing, Standing::Held);
        assert!(r[0].detail.contains("not in the inventory and reached WS-004"), "{}", r[0].detail);
        assert!(r[0].detail.contains("--accept-source 10.9.9.9 --reason"), "{}", r[0].detail);

        // Added to the inventory: held until scanned, then by what the scan says.
        for (l, standing, says) in [
            (listed("WS-099", false, false), Standing::Held, "has no scan: scan it (`cauterize scan -l WS-099`)"),
            (listed("WS-099", true, true), Standing::Held, "which is infected"),
            (listed("WS-099", true, false), Standing::Resolved, "is WS-099 of the inventory, scanned: nothing there"),
        ] {
            let map: HashMap<String, ListedHost> = [("10.9.9.9".to_string(), l)].into_iter().collect();
            // Once listed, the fresh link no longer calls it unlisted: it is
            // the journal's record that keeps it in view.
            let r = review(&[], &[known("10.9.9.9", Standing::Held, "x")], &map);
            assert_eq!((r[0].standing, r[0].detail.contains(says)), (standing, true), "{r:?}");
        }
    }

    #[test]
    fn a_held_source_stays_held_when_the_logs_no_longer_show_it_and_an_accepted_one_stays_accepted() {
        let none = HashMap::new();
        let r = review(&[], &[known("10.9.9.9", Standing::Held, "x")], &none);
        assert_eq!(r[0].standing, Standing::Held, "the logs rolled over; nothing resolved it");
        assert_eq!(r[0].hosts, ["WS-002"]);
        let r = review(&[unlisted("10.9.9.9", &["WS-003"])], &[known("10.9.9.9", Standing::Accepted, "the backup server")], &none);
        assert_eq!((r[0].standing, r[0].detail.as_str()), (Standing::Accepted, "the backup server"));
        assert_eq!(r[0].hosts, ["WS-002", "WS-003"]);
        // Resolved, then the host is found infected: held again.
        let map: HashMap<String, ListedHost> = [("10.9.9.9".to_string(), listed("WS-099", true, true))].into_iter().collect();
        let r = review(&[], &[known("10.9.9.9", Standing::Resolved, "x")], &map);
        assert_eq!(r[0].standing, Standing::Held);
        assert_eq!(holding(&r).len(), 1);
    }

    #[test]
    fn only_a_source_that_holds_can_be_accepted() {
        let sources = vec![known("10.9.9.9", Standing::Held, "x"), known("10.9.9.8", Standing::Accepted, "y")];
        assert_eq!(accepted_addresses(&["::ffff:10.9.9.9".into()], &sources), Ok(vec!["10.9.9.9".to_string()]));
        let typo = accepted_addresses(&["10.9.9.7".into()], &sources).unwrap_err();
        assert!(typo.contains("not a source that holds the release; those that do: 10.9.9.9"), "{typo}");
        let again = accepted_addresses(&["10.9.9.8".into()], &sources).unwrap_err();
        assert!(again.contains("already accepted"), "{again}");
        assert!(accepted_addresses(&["-".into()], &sources).is_err());
        assert!(accepted_addresses(&["10.1.1.1".into()], &[]).unwrap_err().contains("no unlisted source holds"));
    }
}
