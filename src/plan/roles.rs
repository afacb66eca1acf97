//! What a host is (domain controller, file or print server, server,
//! workstation), for containment (exempt roles) and the reboot order: from
//! the inventory's groups first (the playbook's `roles:` says which groups
//! mean what), else from what the host reports. Pure.
//!
//! What a host reports today is its scan: its Windows edition (a server
//! edition says `Server`) and its services (a domain controller runs
//! Active Directory's `NTDS`). [`RoleFacts`] also has room for what the
//! contain phase can read from a host that was not scanned, or read more
//! precisely (`Win32_ComputerSystem.DomainRole`, shared folders, shared
//! printers); collection does not gather those yet, so file and print
//! servers are known by inventory group only.

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
    /// Folders it shares other than the administrative ones (`C$`,
    /// `ADMIN$`, `IPC$`, `print$`, `NETLOGON`, `SYSVOL`), when read.
    pub shared_folders: Option<u32>,
    /// Printers it shares, when read.
    pub shared_printers: Option<u32>,
}

impl RoleFacts {
    /// What a scan's snapshot tells.
    pub fn from_snapshot(s: &Snapshot) -> RoleFacts {
        RoleFacts {
            os_caption: s.os_caption.clone(),
            services: s.services.iter().map(|x| x.name.clone()).collect(),
            ..RoleFacts::default()
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
                roles.push((Role::DomainController, format!("it reports domain role {dr} (a domain controller)")));
            } else if f.services.iter().any(|s| s.eq_ignore_ascii_case("NTDS")) {
                roles.push((Role::DomainController, "it runs the NTDS service (Active Directory Domain Services)".into()));
            }
        }
        if !has(Role::FileServer, &roles)
            && let Some(n) = f.shared_folders.filter(|n| *n > 0)
        {
            roles.push((Role::FileServer, format!("it shares {n} folder{}", if n == 1 { "" } else { "s" })));
        }
        if !has(Role::PrintServer, &roles)
            && let Some(n) = f.shared_printers.filter(|n| *n > 0)
        {
            roles.push((Role::PrintServer, format!("it shares {n} printer{}", if n == 1 { "" } else { "s" })));
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
            Some(f) if matches!(f.domain_role, Some(2 | 3)) => (Role::Server, format!("it reports domain role {} (a server)", f.domain_role.unwrap_or(0))),
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
            shared_folders: Some(4),
            shared_printers: Some(0),
            ..RoleFacts::default()
        };
        let k = classify(&[], &rg, Some(&f));
        assert_eq!(k.class, Role::Server);
        assert_eq!(k.has(Role::FileServer), Some("it shares 4 folders"));
        assert!(k.has(Role::PrintServer).is_none());
        let k = classify(&[], &rg, Some(&RoleFacts { domain_role: Some(5), ..RoleFacts::default() }));
        assert_eq!(k.class, Role::DomainController);
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
}
