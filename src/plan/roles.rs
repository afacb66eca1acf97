//! What a host is (domain controller, file or print server, server,
//! workstation), for containment (exempt roles) and the reboot order: from
//! the inventory's groups first (the playbook's `roles:` says which groups
//! mean what), else from what the host reports. Pure.
//!
//! What a host reports is its scan: its domain role
//! (`Win32_ComputerSystem.DomainRole`, 4 and 5 a domain controller, 2 and
//! 3 a server), the folders it shares (other than those Windows makes
//! itself: the administrative `C$`, `ADMIN$`, `IPC$`, a domain
//! controller's `NETLOGON` and `SYSVOL`, a print server's `print$`), the
//! printers it shares, its services (a domain controller runs Active
//! Directory's `NTDS`; read where the domain role was not) and its Windows
//! edition (a server edition says `Server`).

use crate::playbook::{Role, RoleGroups};
use crate::runtime::snapshot::Snapshot;

/// What a host reported about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleFacts {
    /// `Win32_OperatingSystem.Caption`.
    pub os_caption: String,
    /// Service names (any case).
    pub services: Vec<String>,
    /// `Win32_ComputerSystem.DomainRole` (0-1 workstation, 2-3 server,
    /// 4-5 domain controller), when read.
    pub domain_role: Option<u32>,
    /// Folders it shares other than those Windows makes itself
    /// ([`WINDOWS_SHARES`]), when read.
    pub shared_folders: Option<Vec<String>>,
    /// Printers it shares (share names), when read.
    pub shared_printers: Option<Vec<String>>,
}

/// Shares Windows makes itself: a host that offers only these is no file
/// server (the administrative shares, a domain controller's logon-script
/// and policy shares, a print server's driver share).
pub const WINDOWS_SHARES: [&str; 6] = ["ADMIN$", "IPC$", "NETLOGON", "SYSVOL", "print$", "C$"];

/// Whether `share` is one Windows makes itself (a drive's `X$` too).
fn windows_share(share: &str) -> bool {
    let drive = share.len() == 2 && share.ends_with('$') && share.as_bytes()[0].is_ascii_alphabetic();
    drive || WINDOWS_SHARES.iter().any(|w| w.eq_ignore_ascii_case(share))
}

impl RoleFacts {
    /// What a scan's snapshot tells.
    pub fn from_snapshot(s: &Snapshot) -> RoleFacts {
        RoleFacts {
            os_caption: s.os_caption.clone(),
            services: s.services.iter().map(|x| x.name.clone()).collect(),
            domain_role: s.serves.as_ref().and_then(|v| v.domain_role),
            shared_folders: s
                .serves
                .as_ref()
                .map(|v| v.shares.iter().filter(|x| !windows_share(x)).cloned().collect()),
            shared_printers: s.serves.as_ref().map(|v| v.printers.clone()),
        }
    }
}

/// A host's kind and roles, each with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKind {
    /// Workstation, Server or DomainController: the reboot order's kinds.
    pub class: Role,
    pub class_why: String,
    /// Domain controller, file server, print server (any of them), each
    /// with why.
    pub roles: Vec<(Role, String)>,
}

impl HostKind {
    /// Why the host has `role`, if it does (its class counts too).
    pub fn has(&self, role: Role) -> Option<&str> {
        if self.class == role {
            return Some(&self.class_why);
        }
        if role == Role::Server && self.class == Role::DomainController {
            return Some(&self.class_why);
        }
        self.roles
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, w)| w.as_str())
    }
}

const SPECIFIC: [Role; 3] = [Role::DomainController, Role::FileServer, Role::PrintServer];

/// Classify a host from its inventory groups and, where they do not say,
/// what it reported.
pub fn classify(groups: &[String], rg: &RoleGroups, facts: Option<&RoleFacts>) -> HostKind {
    let mut roles: Vec<(Role, String)> = Vec::new();
    for role in SPECIFIC {
        if let Some(g) = rg.group_saying(role, groups) {
            roles.push((role, format!("inventory group {g}")));
        }
    }
    if let Some(f) = facts {
        let has = |r: Role, roles: &[(Role, String)]| roles.iter().any(|(x, _)| *x == r);
        if !has(Role::DomainController, &roles) {
            if let Some(dr @ (4 | 5)) = f.domain_role {
                roles.push((Role::DomainController, format!("DomainRole {dr}")));
            } else if f.services.iter().any(|s| s.eq_ignore_ascii_case("NTDS")) {
                roles.push((Role::DomainController, "it runs the NTDS service (Active Directory Domain Services)".into()));
            }
        }
        if !has(Role::FileServer, &roles)
            && let Some(shares) = f.shared_folders.as_ref().filter(|v| !v.is_empty())
        {
            roles.push((Role::FileServer, format!("{}: {}", plural(shares.len(), "share"), listed(shares))));
        }
        if !has(Role::PrintServer, &roles)
            && let Some(printers) = f.shared_printers.as_ref().filter(|v| !v.is_empty())
        {
            roles.push((Role::PrintServer, format!("{}: {}", plural(printers.len(), "shared printer"), listed(printers))));
        }
    }
    let (class, class_why) = if let Some((_, why)) = roles.iter().find(|(r, _)| *r == Role::DomainController) {
        (Role::DomainController, why.clone())
    } else if let Some((r, why)) = roles.first() {
        (Role::Server, format!("{} ({why})", r.words()))
    } else if let Some(g) = rg.group_saying(Role::Server, groups) {
        (Role::Server, format!("inventory group {g}"))
    } else if let Some(g) = rg.group_saying(Role::Workstation, groups) {
        (Role::Workstation, format!("inventory group {g}"))
    } else {
        match facts {
            Some(f) if matches!(f.domain_role, Some(2 | 3)) => (Role::Server, format!("DomainRole {} (a server)", f.domain_role.unwrap_or(0))),
            Some(f) if f.os_caption.to_ascii_lowercase().contains("server") => {
                (Role::Server, format!("its Windows is a server edition ({})", f.os_caption))
            }
            Some(f) if !f.os_caption.is_empty() => (Role::Workstation, format!("its Windows is a client edition ({})", f.os_caption)),
            _ => (Role::Workstation, "no inventory group or report says it is a server".into()),
        }
    };
    HostKind {
        class,
        class_why,
        roles,
    }
}

/// `shares` or `share`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// The first few names, then how many more: `A, B, C and 4 more`.
fn listed(names: &[String]) -> String {
    const SHOWN: usize = 4;
    let head = names.iter().take(SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN { format!("{head} and {} more", names.len() - SHOWN) } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| s.to_string()).collect()
    }

    fn facts(caption: &str, services: &[&str]) -> RoleFacts {
        RoleFacts {
            os_caption: caption.into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            ..RoleFacts::default()
        }
    }

    #[test]
    fn inventory_groups_decide_first() {
        let rg = RoleGroups::default();
        let k = classify(&groups(&["Domain_Controllers"]), &rg, Some(&facts("Microsoft Windows 10 Pro", &[])));
        assert_eq!(k.class, Role::DomainController);
        assert_eq!(k.has(Role::DomainController), Some("inventory group Domain_Controllers"));
        assert!(k.has(Role::Server).is_some());
        let k = classify(&groups(&["file_servers", "print_servers"]), &rg, None);
        assert_eq!(k.class, Role::Server);
        assert!(k.has(Role::FileServer).is_some() && k.has(Role::PrintServer).is_some());
        assert!(k.has(Role::DomainController).is_none());
        // A server-edition host the inventory calls a workstation is one.
        let k = classify(&groups(&["workstations"]), &rg, Some(&facts("Microsoft Windows Server 2019 Standard", &[])));
        assert_eq!((k.class, k.class_why.as_str()), (Role::Workstation, "inventory group workstations"));
    }

    #[test]
    fn where_the_inventory_is_silent_the_host_report_decides() {
        let rg = RoleGroups::default();
        let dc = classify(&[], &rg, Some(&facts("Microsoft Windows Server 2019 Standard", &["Netlogon", "ntds", "DNS"])));
        assert_eq!(dc.class, Role::DomainController);
        assert!(dc.class_why.contains("NTDS"), "{}", dc.class_why);
        let srv = classify(&[], &rg, Some(&facts("Microsoft Windows Server 2016 Datacenter", &["Spooler", "LanmanServer"])));
        assert_eq!(srv.class, Role::Server);
        assert!(srv.roles.is_empty(), "spooler and server services are on every host: {srv:?}");
        let ws = classify(&[], &rg, Some(&facts("Microsoft Windows 11 Enterprise", &["Spooler"])));
        assert_eq!(ws.class, Role::Workstation);
        let unknown = classify(&[], &rg, None);
        assert_eq!(unknown.class, Role::Workstation);
        assert!(unknown.class_why.contains("no inventory group"));
        // Reported domain role, shares and printers, when read.
        let f = RoleFacts {
            domain_role: Some(3),
            shared_folders: Some(groups(&["Finance", "Public"])),
            shared_printers: Some(vec![]),
            ..RoleFacts::default()
        };
        let k = classify(&[], &rg, Some(&f));
        assert_eq!(k.class, Role::Server);
        assert_eq!(k.has(Role::FileServer), Some("shares: Finance, Public"));
        assert!(k.has(Role::PrintServer).is_none());
        let k = classify(&[], &rg, Some(&RoleFacts { domain_role: Some(5), ..RoleFacts::default() }));
        assert_eq!((k.class, k.class_why.as_str()), (Role::DomainController, "DomainRole 5"));
        let k = classify(&[], &rg, Some(&RoleFacts { domain_role: Some(1), ..RoleFacts::default() }));
        assert_eq!(k.class, Role::Workstation, "a member workstation");
    }

    #[test]
    fn playbook_role_groups_are_used() {
        let rg = RoleGroups {
            domain_controller: vec!["tier0".into()],
            ..RoleGroups::default()
        };
        assert_eq!(classify(&groups(&["TIER0"]), &rg, None).class, Role::DomainController);
        assert_eq!(classify(&groups(&["domain_controllers"]), &rg, None).class, Role::Workstation);
    }

    #[test]
    fn what_a_snapshot_says_it_serves() {
        use crate::runtime::snapshot::{Serves, Snapshot};
        let rg = RoleGroups::default();
        let snap = |serves: Serves| Snapshot {
            os_caption: "Microsoft Windows Server 2019 Standard".into(),
            serves: Some(serves),
            ..Snapshot::default()
        };
        // A domain controller's own shares make it no file server; its
        // domain role makes it a domain controller without NTDS read.
        let dc = snap(Serves { domain_role: Some(5), shares: groups(&["NETLOGON", "SYSVOL"]), printers: vec![] });
        let f = RoleFacts::from_snapshot(&dc);
        assert_eq!(f.shared_folders, Some(vec![]));
        let k = classify(&[], &rg, Some(&f));
        assert_eq!((k.class, k.has(Role::DomainController)), (Role::DomainController, Some("DomainRole 5")));
        assert!(k.has(Role::FileServer).is_none());
        // Drive and admin shares are Windows'; a hidden share a person made
        // is a file share.
        let fs = snap(Serves { domain_role: Some(3), shares: groups(&["D$", "ADMIN$", "Finance$", "Public"]), printers: vec![] });
        let k = classify(&[], &rg, Some(&RoleFacts::from_snapshot(&fs)));
        assert_eq!(k.has(Role::FileServer), Some("shares: Finance$, Public"));
        // A print server shares print$ and its queues.
        let prn = snap(Serves { domain_role: Some(3), shares: groups(&["print$"]), printers: groups(&["HP-Floor2"]) });
        let k = classify(&[], &rg, Some(&RoleFacts::from_snapshot(&prn)));
        assert_eq!(k.has(Role::PrintServer), Some("shared printer: HP-Floor2"));
        assert!(k.has(Role::FileServer).is_none());
        // Not read (an older scan): nothing is concluded from silence.
        let old = Snapshot { os_caption: "Microsoft Windows Server 2019 Standard".into(), ..Snapshot::default() };
        let f = RoleFacts::from_snapshot(&old);
        assert_eq!((f.domain_role, f.shared_folders.clone(), f.shared_printers.clone()), (None, None, None));
        assert_eq!(listed(&groups(&["a", "b", "c", "d", "e", "f"])), "a, b, c, d and 2 more");
    }
}
