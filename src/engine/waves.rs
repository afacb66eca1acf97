//! The reboot waves, computed before the first host reboots (pure): over
//! the hosts that need a reboot, in group order (workstations, servers,
//! domain controllers), each wave the next size of the playbook's list
//! (`[1, 5, "10%", "100%"]`: a canary, then growing batches; the last size
//! repeats), a wave never mixing two groups, and the roles rebooted one at
//! a time (domain controllers) one host per wave.

use super::settings::{Role, WaveSize};

/// A host that needs a reboot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveHost {
    pub name: String,
    pub role: Role,
}

/// One wave: the hosts rebooted together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wave {
    /// 1 for the canary.
    pub number: u32,
    pub role: Role,
    pub hosts: Vec<String>,
}

/// The waves for `hosts`. Hosts of a role not in `group_order` come after
/// the listed ones, in role order; within a group, hosts keep name order
/// (case-insensitive, so the plan and the waves read the same way).
pub fn plan_waves(
    hosts: &[WaveHost],
    sizes: &[WaveSize],
    group_order: &[Role],
    one_at_a_time: &[Role],
) -> Vec<Wave> {
    let total = hosts.len();
    if total == 0 {
        return Vec::new();
    }
    let rank = |r: Role| {
        group_order
            .iter()
            .position(|&g| g == r)
            .unwrap_or(group_order.len() + r as usize)
    };
    let mut sorted: Vec<&WaveHost> = hosts.iter().collect();
    sorted.sort_by(|a, b| {
        rank(a.role)
            .cmp(&rank(b.role))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    let size_of = |index: usize| -> usize {
        match sizes.get(index).or(sizes.last()) {
            Some(s) => s.hosts(total),
            None => total,
        }
    };
    let mut waves = Vec::new();
    let mut next_size = 0;
    let mut at = 0;
    while at < sorted.len() {
        let role = sorted[at].role;
        let group_end = sorted[at..]
            .iter()
            .position(|h| h.role != role)
            .map_or(sorted.len(), |p| at + p);
        let want = if one_at_a_time.contains(&role) {
            1
        } else {
            size_of(next_size)
        };
        let end = (at + want).min(group_end);
        waves.push(Wave {
            number: waves.len() as u32 + 1,
            role,
            hosts: sorted[at..end].iter().map(|h| h.name.clone()).collect(),
        });
        next_size += 1;
        at = end;
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(spec: &[(&str, Role)]) -> Vec<WaveHost> {
        spec.iter()
            .map(|(n, r)| WaveHost {
                name: n.to_string(),
                role: *r,
            })
            .collect()
    }

    fn default_sizes() -> Vec<WaveSize> {
        vec![
            WaveSize::Count(1),
            WaveSize::Count(5),
            WaveSize::Percent(10),
            WaveSize::Percent(100),
        ]
    }

    const ORDER: [Role; 3] = [Role::Workstation, Role::Server, Role::DomainController];

    #[test]
    fn canary_then_growing_waves_over_percentages_of_the_hosts_to_reboot() {
        let many: Vec<WaveHost> = (1..=200)
            .map(|i| WaveHost {
                name: format!("WS-{i:03}"),
                role: Role::Workstation,
            })
            .collect();
        let waves = plan_waves(&many, &default_sizes(), &ORDER, &[Role::DomainController]);
        let sizes: Vec<usize> = waves.iter().map(|w| w.hosts.len()).collect();
        // 1, 5, 10% of 200 = 20, then 100%: the rest.
        assert_eq!(sizes, vec![1, 5, 20, 174]);
        assert_eq!(waves[0].hosts, vec!["WS-001"]);
        assert_eq!(waves[1].hosts[0], "WS-002");
        assert_eq!(
            waves.iter().map(|w| w.number).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        // Every host exactly once.
        let all: usize = sizes.iter().sum();
        assert_eq!(all, 200);
    }

    #[test]
    fn groups_in_order_never_mixed_and_domain_controllers_one_at_a_time() {
        let h = hosts(&[
            ("DC-02", Role::DomainController),
            ("FS-01", Role::Server),
            ("WS-003", Role::Workstation),
            ("DC-01", Role::DomainController),
            ("WS-001", Role::Workstation),
            ("ws-002", Role::Workstation),
            ("FS-02", Role::Server),
        ]);
        let waves = plan_waves(&h, &default_sizes(), &ORDER, &[Role::DomainController]);
        let shape: Vec<(Role, Vec<&str>)> = waves
            .iter()
            .map(|w| (w.role, w.hosts.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Role::Workstation, vec!["WS-001"]),
                // Wave two may hold five, but only two workstations are
                // left: the servers wait for the next wave.
                (Role::Workstation, vec!["ws-002", "WS-003"]),
                // 10% of 7 rounds up to 1.
                (Role::Server, vec!["FS-01"]),
                (Role::Server, vec!["FS-02"]),
                (Role::DomainController, vec!["DC-01"]),
                (Role::DomainController, vec!["DC-02"]),
            ]
        );
    }

    #[test]
    fn a_custom_order_and_a_single_size_repeat() {
        let h = hosts(&[
            ("A", Role::Workstation),
            ("B", Role::Workstation),
            ("C", Role::Workstation),
            ("S", Role::Server),
        ]);
        let waves = plan_waves(
            &h,
            &[WaveSize::Count(2)],
            &[Role::Server, Role::Workstation],
            &[],
        );
        let shape: Vec<Vec<&str>> = waves
            .iter()
            .map(|w| w.hosts.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(shape, vec![vec!["S"], vec!["A", "B"], vec!["C"]]);
    }

    #[test]
    fn nothing_to_reboot_is_no_wave() {
        assert!(plan_waves(&[], &default_sizes(), &ORDER, &[]).is_empty());
    }
}
