//! One step a plan takes on a host: every host-changing thing `apply` would
//! do, not only deletions. The purge's operations are the runtime's closed
//! set ([`Op`], carried out by `runtime.ps1` today); the other steps are
//! defined here, with what each compares before it acts:
//!
//! | step | phase | what it does |
//! |---|---|---|
//! | `contain` | contain | the engagement's SMB block rules and dead-man task (`crate::firewall`) |
//! | purge ops | purge | kill, compare-and-delete, queue for boot ([`Op`]) |
//! | `deny_writes` | purge | deny writes to a shutdown-writer's folder |
//! | `revert_defender_exclusion` | purge | remove a Defender exclusion a loader added |
//! | `reboot` | reboot | the host's reboot, in its wave |
//! | `remove_folder` | purge, or after reboot | remove a loader's emptied folder ([`Op::RemoveFolder`]) |
//!
//! [`Step::has_host_side`] says which steps have host-side code in this
//! version: containment, the purge ops (a `remove_folder` only in the
//! purge: the engine does not run after-reboot steps yet), the deny-write
//! and the Defender steps (`crate::runtime::purge_steps`). The others are
//! planned, recorded and reviewable; nothing may report them done before
//! their host side exists.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runtime::ops::Op;

pub use crate::runtime::ops::HeldFile;

/// One step of a host's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Put the engagement's block rules on the host (and its dead-man
    /// task), read them back and check they are in effect. The rules are
    /// the same on every contained host but for the operator's address,
    /// which is exempt as each host sees it.
    Contain,
    /// A purge operation of the runtime.
    Purge(Op),
    /// Deny writes to `folder` (create files, append data, write
    /// attributes, for Everyone, inherited by what it holds: one ACE,
    /// `crate::runtime::purge_steps`): a loader that writes its file there
    /// at shutdown (Qakbot) fails. Done only if `folder` is still a folder
    /// (not a link). The deny is lifted at release (exactly that ACE). The
    /// folder's owner is left as it is: an owner keeps the right to change
    /// the folder's permissions, so code running as that user could lift
    /// the deny (not done: making Administrators the owner).
    DenyWrites { folder: String },
    /// Remove the Defender exclusion `value` (a path, extension or process)
    /// listed under `hive\key` (`...\Exclusions\Paths` and its siblings),
    /// if it is still there: through Defender's own interface
    /// (`Remove-MpPreference`) where it exists, since its registry key
    /// refuses direct writes even to SYSTEM on many builds, else the
    /// registry; read back, and what stays (Tamper Protection) needs a
    /// person.
    RevertDefenderExclusion {
        hive: String,
        key: String,
        value: String,
    },
    /// Reboot the host in reboot wave `wave` (1 is the canary), within
    /// `window` when its group has one.
    Reboot { wave: u32, window: Option<String> },
}

/// When a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Contain,
    Purge,
    Reboot,
    AfterReboot,
}

/// The steps' own tags (purge ops keep the runtime's).
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Own {
    Contain,
    DenyWrites {
        folder: String,
    },
    RevertDefenderExclusion {
        hive: String,
        key: String,
        value: String,
    },
    Reboot {
        wave: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<String>,
    },
}

/// Tags of [`Own`].
const OWN_TAGS: &[&str] = &[
    "contain",
    "deny_writes",
    "revert_defender_exclusion",
    "reboot",
];

impl Step {
    fn own(&self) -> Option<Own> {
        Some(match self {
            Step::Contain => Own::Contain,
            Step::Purge(_) => return None,
            Step::DenyWrites { folder } => Own::DenyWrites {
                folder: folder.clone(),
            },
            Step::RevertDefenderExclusion { hive, key, value } => Own::RevertDefenderExclusion {
                hive: hive.clone(),
                key: key.clone(),
                value: value.clone(),
            },
            Step::Reboot { wave, window } => Own::Reboot {
                wave: *wave,
                window: window.clone(),
            },
        })
    }

    /// The step as JSON (`{"op": "...", ...}`): what the journal stores and
    /// the plan file shows.
    pub fn to_value(&self) -> Value {
        match (self, self.own()) {
            (Step::Purge(op), _) => serde_json::to_value(op),
            (_, Some(own)) => serde_json::to_value(own),
            (_, None) => Ok(Value::Null),
        }
        .unwrap_or(Value::Null)
    }

    /// Read a step back, strictly: every key must be one the step has.
    pub fn from_value(v: &Value) -> Result<Step, String> {
        let tag = v
            .get("op")
            .and_then(Value::as_str)
            .ok_or("an operation needs `op: <kind>`")?;
        let step = Step::read(tag, v)?;
        // Strict: every key given must be one the step has (serde ignores
        // extra keys on steps without fields).
        let canon = step.to_value();
        if let (Some(given), Some(known)) = (v.as_object(), canon.as_object())
            && let Some(k) = given.keys().find(|k| !known.contains_key(*k) && !(*k == "window" && given[*k].is_null()))
        {
            return Err(format!("unknown key `{k}` in a {tag} step"));
        }
        Ok(step)
    }

    fn read(tag: &str, v: &Value) -> Result<Step, String> {
        if OWN_TAGS.contains(&tag) {
            let own: Own = serde_json::from_value(v.clone()).map_err(|e| format!("not a valid `{tag}` step: {e}"))?;
            return Ok(match own {
                Own::Contain => Step::Contain,
                Own::DenyWrites { folder } => Step::DenyWrites { folder },
                Own::RevertDefenderExclusion { hive, key, value } => {
                    Step::RevertDefenderExclusion { hive, key, value }
                }
                Own::Reboot { wave, window } => Step::Reboot { wave, window },
            });
        }
        let op: Op = serde_json::from_value(v.clone()).map_err(|e| format!("not a valid operation: {e}"))?;
        Ok(Step::Purge(op))
    }

    /// The tag (`contain`, `kill_process`, `remove_folder`, ...).
    pub fn tag(&self) -> String {
        self.to_value()
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    pub fn phase(&self) -> Phase {
        match self {
            Step::Contain => Phase::Contain,
            Step::Reboot { .. } => Phase::Reboot,
            Step::Purge(Op::RemoveFolder { after_reboot: true, .. }) => Phase::AfterReboot,
            _ => Phase::Purge,
        }
    }

    /// Order within the purge: kills first (so no watchdog writes anything
    /// back), then writes denied to shutdown-writer folders, then registry
    /// values and keys, Defender exclusions, tasks, services, WMI subscriptions,
    /// files, files queued for boot, and the folders those files emptied.
    pub fn rank(&self) -> u8 {
        match self {
            Step::Contain => 0,
            Step::Purge(Op::KillProcess { .. }) => 1,
            Step::DenyWrites { .. } => 2,
            Step::Purge(Op::DeleteRegistryValue { .. } | Op::DeleteRegistryKey { .. }) => 3,
            Step::RevertDefenderExclusion { .. } => 4,
            Step::Purge(Op::DeleteTask { .. }) => 5,
            Step::Purge(Op::DeleteService { .. }) => 6,
            Step::Purge(Op::DeleteWmiSubscription { .. }) => 7,
            Step::Purge(Op::DeleteFile { .. }) => 8,
            Step::Purge(Op::QueueDeleteOnReboot { .. }) => 9,
            Step::Purge(Op::RemoveFolder { .. }) => 10,
            Step::Reboot { .. } => 11,
        }
    }

    /// Execution order: phase, then [`Step::rank`].
    pub fn order(&self) -> (Phase, u8) {
        (self.phase(), self.rank())
    }

    /// Does this version have the host-side code that carries the step
    /// out? Containment (the firewall rules and the dead-man task), the
    /// runtime's ops that run in the purge, the deny-write and Defender
    /// steps: reboot and after-reboot folder steps are planned and
    /// reviewable, and their host side is still to come.
    pub fn has_host_side(&self) -> bool {
        matches!(self, Step::Contain | Step::DenyWrites { .. } | Step::RevertDefenderExclusion { .. })
            || (matches!(self, Step::Purge(_)) && self.phase() == Phase::Purge)
    }

    /// The tag, with "after the reboot" for a runtime op that waits for it.
    pub fn kind_label(&self) -> String {
        match self.phase() {
            Phase::AfterReboot if matches!(self, Step::Purge(_)) => format!("{} after the reboot", self.tag()),
            _ => self.tag(),
        }
    }

    /// The tags of the kinds of step that have no host-side code in this
    /// version (see [`Step::has_host_side`]), for the plan's header.
    pub fn kinds_without_host_side() -> Vec<String> {
        let text = String::new;
        [
            Step::Contain,
            Step::DenyWrites { folder: text() },
            Step::RevertDefenderExclusion { hive: text(), key: text(), value: text() },
            Step::Reboot { wave: 1, window: None },
            Step::Purge(Op::RemoveFolder { path: Default::default(), may_hold: vec![], after_reboot: true }),
        ]
        .iter()
        .filter(|s| !s.has_host_side())
        .map(Step::kind_label)
        .collect()
    }

    /// The runtime op, for a purge op.
    pub fn op(&self) -> Option<&Op> {
        match self {
            Step::Purge(op) => Some(op),
            _ => None,
        }
    }

    /// What the step acts on, without what it expects (a changed hash is
    /// the same file): tells "changed" from "added" in an edited plan.
    pub fn identity(&self) -> String {
        let s = match self {
            Step::Contain => "contain".to_string(),
            Step::Purge(op) => match op {
                Op::KillProcess { pid, .. } => format!("kill_process pid {pid}"),
                Op::DeleteRegistryValue {
                    hive, key, value, ..
                } => format!("registry value {hive}\\{key}\\{value}"),
                Op::DeleteRegistryKey { hive, key, .. } => format!("registry key {hive}\\{key}"),
                Op::DeleteTask { path, .. } => format!("task {path}"),
                Op::DeleteService { name, .. } => format!("service {name}"),
                Op::DeleteWmiSubscription {
                    filter, consumer, ..
                } => format!("wmi {filter} {consumer}"),
                Op::DeleteFile { path, .. } | Op::QueueDeleteOnReboot { path, .. } => {
                    format!("file {path}")
                }
                Op::RemoveFolder { path, .. } => format!("folder {path}"),
            },
            Step::DenyWrites { folder } => format!("deny_writes {folder}"),
            Step::RevertDefenderExclusion { hive, key, value } => {
                format!("exclusion {hive}\\{key}\\{value}")
            }
            Step::Reboot { .. } => "reboot".into(),
        };
        s.to_lowercase()
    }
}

impl From<Op> for Step {
    fn from(op: Op) -> Step {
        Step::Purge(op)
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Step, D::Error> {
        let v = Value::deserialize(d)?;
        Step::from_value(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_step() -> Vec<Step> {
        vec![
            Step::Contain,
            Step::Purge(Op::KillProcess {
                pid: 7,
                expected_image: "x.exe".into(),
                expected_started: String::new(),
            }),
            Step::DenyWrites {
                folder: r"C:\Users\bob\AppData\Roaming\Microsoft\Xyzabc".into(),
            },
            Step::RevertDefenderExclusion {
                hive: "HKLM".into(),
                key: r"SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths".into(),
                value: r"C:\Users\bob\AppData\Roaming\Microsoft\Xyzabc".into(),
            },
            Step::Reboot {
                wave: 3,
                window: Some("22:00-05:00".into()),
            },
            Step::Reboot { wave: 1, window: None },
            Step::Purge(Op::RemoveFolder {
                path: r"C:\Users\bob\AppData\Local\Qzvx".into(),
                may_hold: vec![HeldFile {
                    name: "qzvx.dll".into(),
                    sha256: "a".repeat(64),
                }],
                after_reboot: true,
            }),
            Step::Purge(Op::RemoveFolder {
                path: r"C:\Users\bob\AppData\Local\Ebcd".into(),
                may_hold: vec![],
                after_reboot: false,
            }),
        ]
    }

    #[test]
    fn steps_round_trip_through_json_with_their_tags() {
        for s in every_step() {
            let v = s.to_value();
            assert_eq!(Step::from_value(&v).as_ref(), Ok(&s), "{v}");
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Step>(&text).unwrap(), s);
        }
        assert_eq!(every_step()[0].to_value(), serde_json::json!({"op": "contain"}));
        assert_eq!(every_step()[5].to_value(), serde_json::json!({"op": "reboot", "wave": 1}));
        assert_eq!(every_step()[1].tag(), "kill_process");
        assert_eq!(every_step()[6].tag(), "remove_folder");
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        for (v, says) in [
            (serde_json::json!({"op": "contain", "all": true}), "unknown key `all` in a contain step"),
            (serde_json::json!({"op": "deny_writes", "folder": "x", "sid": "S-1-1-0"}), "unknown field `sid`"),
            (serde_json::json!({"op": "reboot"}), "missing field `wave`"),
            (serde_json::json!({"op": "kill_process", "pid": 1, "expected_image": "x", "force": true}), "unknown key `force` in a kill_process step"),
            (serde_json::json!({"op": "format_disk"}), "not a valid operation"),
            (serde_json::json!({"pid": 1}), "needs `op:"),
        ] {
            let e = Step::from_value(&v).unwrap_err();
            assert!(e.contains(says), "{v}: {e}");
        }
    }

    #[test]
    fn phases_and_ranks_order_execution() {
        let mut steps = every_step();
        steps.reverse();
        steps.sort_by_key(Step::order);
        let tags: Vec<String> = steps.iter().map(Step::tag).collect();
        assert_eq!(
            tags,
            ["contain", "kill_process", "deny_writes", "revert_defender_exclusion", "remove_folder", "reboot", "reboot", "remove_folder"]
        );
        assert!(steps[4].has_host_side(), "a folder removed in the purge runs");
        assert!(!steps[7].has_host_side(), "after the reboot: not yet");
        assert_eq!(every_step()[7].to_value()["after_reboot"], serde_json::json!(null), "false stays out of the plan");
        assert!(steps.iter().filter(|s| s.has_host_side()).all(|s| matches!(s.phase(), Phase::Contain | Phase::Purge)));
        assert!(Step::Contain.has_host_side());
        assert_eq!(
            Step::kinds_without_host_side(),
            ["reboot", "remove_folder after the reboot"]
        );
        assert!(every_step()[2].has_host_side() && every_step()[3].has_host_side(), "deny-write and Defender steps run");
    }
}
