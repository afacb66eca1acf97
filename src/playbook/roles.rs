//! `roles:`: which inventory groups say what a host is. Containment exempts
//! hosts by role (domain controllers, file and print servers by default)
//! and the reboot waves order hosts by it (workstations, servers, domain
//! controllers last). Where the inventory places a host in none of these
//! groups, what the host reports decides (`crate::plan::roles`).

use serde::{Deserialize, Serialize};

use super::fields::Fields;
use super::located::LocatedError;
use super::raw::RawRoles;

/// What a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    DomainController,
    FileServer,
    PrintServer,
    Server,
    Workstation,
}

impl Role {
    /// Every role with its playbook word.
    pub const WORDS: &'static [(&'static str, Role)] = &[
        ("domain_controller", Role::DomainController),
        ("file_server", Role::FileServer),
        ("print_server", Role::PrintServer),
        ("server", Role::Server),
        ("workstation", Role::Workstation),
    ];

    pub fn word(self) -> &'static str {
        Role::WORDS
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(w, _)| *w)
            .unwrap_or("server")
    }

    /// `domain controller`, for sentences.
    pub fn words(self) -> String {
        self.word().replace('_', " ")
    }

    /// A domain controller, file or print server is a server.
    pub fn is_server(self) -> bool {
        !matches!(self, Role::Workstation)
    }
}

/// Inventory groups per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleGroups {
    pub domain_controller: Vec<String>,
    pub file_server: Vec<String>,
    pub print_server: Vec<String>,
    pub server: Vec<String>,
    pub workstation: Vec<String>,
}

impl Default for RoleGroups {
    fn default() -> Self {
        RoleGroups {
            domain_controller: vec!["domain_controllers".into()],
            file_server: vec!["file_servers".into()],
            print_server: vec!["print_servers".into()],
            server: vec!["servers".into()],
            workstation: vec!["workstations".into()],
        }
    }
}

impl RoleGroups {
    /// The inventory groups that say `role`.
    pub fn groups_of(&self, role: Role) -> &[String] {
        match role {
            Role::DomainController => &self.domain_controller,
            Role::FileServer => &self.file_server,
            Role::PrintServer => &self.print_server,
            Role::Server => &self.server,
            Role::Workstation => &self.workstation,
        }
    }

    /// The first of `host_groups` that says `role`, if any.
    pub fn group_saying<'g>(&self, role: Role, host_groups: &'g [String]) -> Option<&'g str> {
        host_groups
            .iter()
            .find(|g| self.groups_of(role).iter().any(|r| r.eq_ignore_ascii_case(g)))
            .map(String::as_str)
    }
}

pub(super) fn check(raw: Option<RawRoles>, f: Fields<'_>) -> Result<RoleGroups, LocatedError> {
    let raw = raw.unwrap_or_default();
    let d = RoleGroups::default();
    let pick = |v: &Option<super::raw::List>, field: &str, default: Vec<String>| {
        if v.is_none() {
            return Ok(default);
        }
        f.names(v, field)
    };
    Ok(RoleGroups {
        domain_controller: pick(&raw.domain_controller, "roles.domain_controller", d.domain_controller)?,
        file_server: pick(&raw.file_server, "roles.file_server", d.file_server)?,
        print_server: pick(&raw.print_server, "roles.print_server", d.print_server)?,
        server: pick(&raw.server, "roles.server", d.server)?,
        workstation: pick(&raw.workstation, "roles.workstation", d.workstation)?,
    })
}
