//! Payloads stored in the registry: an autostart whose code reads a
//! registry value and runs it (DFIR Report Qbot cases: a task running
//! PowerShell that decodes a value under `HKCU\SOFTWARE\<random>`), and
//! long base64 or script text kept in a value under a user's
//! `Software\<key>` (Sigma "Potential Qakbot Registry Activity" names one
//! campaign's key). The value is a finding of its own, removed with a
//! compare-and-delete of its data; the autostart is the launch's finding.
//!
//! Collection brings the values an autostart names (its second pass:
//! `runtime::registry_targets` says which) and the long text values
//! directly under each user's `Software\<key>` (its first pass); a value
//! named but not in the snapshot (absent on the host, or beyond a bound)
//! is named on the autostart's finding.

use super::facts::{Facts, Launch};
use super::names;
use super::registry_refs::{self, RegRef};
use super::evidence::{Evidence as E, Grounds};
use super::{ArtifactRef, Family, Finding};
use crate::runtime::snapshot::RegistryValue;

/// Shortest base64 run taken for a stored payload.
const MIN_BASE64: usize = 512;
/// Shortest text taken for a stored script.
pub const MIN_SCRIPT: usize = 200;

/// Does this data look like a stored payload: long base64, or script text?
pub fn payload_words(data: &str) -> Option<String> {
    let t = data.trim();
    let b64 = t
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    if t.len() >= MIN_BASE64 && b64 * 100 >= t.len() * 98 {
        return Some(format!("{} characters of base64", t.len()));
    }
    let l = t.to_ascii_lowercase();
    let markers = [
        "frombase64string",
        "invoke-expression",
        "iex(",
        "iex ",
        "wscript.shell",
        "activexobject",
        "createobject(",
        "powershell",
        "[system.reflection.assembly]",
        "downloadstring",
    ];
    let hits: Vec<&str> = markers.iter().copied().filter(|m| l.contains(m)).collect();
    (t.len() >= MIN_SCRIPT && !hits.is_empty()).then(|| {
        format!(
            "{} characters of script ({})",
            t.len(),
            hits.iter()
                .map(|m| m.trim_end_matches(['(', ' ']))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The hive a reference names for the account a launch runs as.
fn hive_of(l: &Launch, r: &RegRef) -> Option<String> {
    match r.hive {
        "HKLM" => Some("HKLM".to_string()),
        _ => l.user.as_ref().map(|u| u.sid.clone()),
    }
}

fn find<'a>(f: &Facts<'a>, hive: &str, r: &RegRef) -> Option<&'a RegistryValue> {
    let key = r.key.trim_matches('\\');
    f.snap.registry.iter().find(|v| {
        v.hive.eq_ignore_ascii_case(hive)
            && v.key.trim_matches('\\').eq_ignore_ascii_case(key)
            && (v.value.eq_ignore_ascii_case(&r.value)
                || v.value.is_empty() && r.value.eq_ignore_ascii_case("(default)"))
    })
}

fn value_ref(v: &RegistryValue) -> ArtifactRef {
    ArtifactRef::RegistryValue {
        hive: v.hive.clone(),
        key: v.key.clone(),
        value: v.value.clone(),
    }
}

/// Is `key` a user's `Software\<X>` or `Software\Wow6432Node\<X>` with a
/// made-up `<X>`?
fn made_up_software_key(key: &str) -> Option<String> {
    let c: Vec<&str> = key.split('\\').filter(|c| !c.is_empty()).collect();
    let x = match c.as_slice() {
        [s, x] if s.eq_ignore_ascii_case("software") => *x,
        [s, w, x]
            if s.eq_ignore_ascii_case("software") && w.eq_ignore_ascii_case("wow6432node") =>
        {
            *x
        }
        _ => return None,
    };
    (names::looks_random(x) && !names::known_product(x)).then(|| x.to_string())
}

pub(crate) fn check(f: &Facts, out: &mut Vec<Finding>) {
    let mut read: Vec<ArtifactRef> = Vec::new();
    for l in f.launches.iter().filter(|l| l.autostart) {
        let text = format!("{}\n{}", l.parsed.code, l.parsed.expanded);
        let refs = registry_refs::references(&text);
        if refs.is_empty() {
            continue;
        }
        let runs = registry_refs::runs_what_it_reads(&text);
        // The family of a finding already on this launch, so these reasons
        // join it instead of being dropped as a generic duplicate.
        let family = out
            .iter()
            .filter(|x| x.artifact == l.artifact && x.family != Family::UnknownLoaderLike)
            .map(|x| x.family)
            .next()
            .unwrap_or(Family::UnknownLoaderLike);
        let mut launch_reasons = Vec::new();
        for r in &refs {
            let Some(hive) = hive_of(l, r) else { continue };
            let shown = format!("{}\\{}\\{}", r.hive, r.key, super::value_name(&r.value));
            match find(f, &hive, r) {
                Some(v) => {
                    let what = payload_words(&v.data)
                        .unwrap_or_else(|| format!("{} characters", v.data.trim().len()));
                    launch_reasons.push(format!(
                        "{} reads {shown} ({what}){}",
                        l.what(),
                        if runs { " and runs what it reads" } else { "" }
                    ));
                    read.push(value_ref(v));
                    out.push(Finding::new(
                        &f.host,
                        value_ref(v),
                        family,
                        "GEN-REGISTRY-PAYLOAD",
                        Grounds::of(&[E::RegistryArtifact]).with_if(runs, E::LoaderCommand),
                        vec![format!(
                            "{shown} holds {what} that {} reads{}: a payload kept in the registry",
                            l.what(),
                            if runs { " and runs" } else { "" }
                        )],
                        vec![],
                    ));
                }
                None => launch_reasons.push(format!(
                    "{} reads {shown}{} (the value itself was not collected: it was not on the host when scanned, or a collection bound cut it; check it by hand)",
                    l.what(),
                    if runs { " and runs what it reads" } else { "" }
                )),
            }
        }
        if !launch_reasons.is_empty() {
            out.push(Finding::new(
                &f.host,
                l.artifact.clone(),
                family,
                "GEN-REGISTRY-PAYLOAD",
                Grounds::of(&[E::RegistryArtifact]).with_if(runs, E::LoaderCommand),
                launch_reasons,
                vec![],
            ));
        }
    }
    // Stored payloads nothing collected reads (yet): Medium.
    for v in &f.snap.registry {
        if v.hive.eq_ignore_ascii_case("HKLM") || read.contains(&value_ref(v)) {
            continue;
        }
        let (Some(x), Some(what)) = (made_up_software_key(&v.key), payload_words(&v.data)) else {
            continue;
        };
        out.push(Finding::new(
            &f.host,
            value_ref(v),
            Family::UnknownLoaderLike,
            "GEN-REGISTRY-PAYLOAD",
            Grounds::of(&[E::RegistryArtifact]),
            vec![format!(
                "{}\\{}\\{} holds {what} under a made-up key ({x}): how loaders keep a stage in the registry",
                v.hive,
                v.key,
                super::value_name(&v.value)
            )],
            vec![],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Confidence;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    const TASK_ARGS: &str = r#"/c start /min "" powershell.exe -Command "IEX ([Text.Encoding]::ASCII.GetString([Convert]::FromBase64String((gp 'HKCU:\SOFTWARE\Wow6432Node\Qxvbnt').rfklgq)))""#;

    fn host(with_value: bool) -> crate::runtime::snapshot::Snapshot {
        let b = SnapshotBuilder::new("WS1").user("bob").task(
            r"\{C2A7F1D0-1B3E-4F5A-8C6D-7E8F9A0B1C2D}",
            "cmd.exe",
            TASK_ARGS,
            "bob",
            &["repeat PT5H"],
        );
        if with_value {
            b.reg(
                "bob",
                r"SOFTWARE\Wow6432Node\Qxvbnt",
                "rfklgq",
                "REG_SZ",
                &"QUJD".repeat(300),
            )
        } else {
            b
        }
        .build()
    }

    #[test]
    fn a_task_that_runs_a_registry_value_and_the_value() {
        let out = detect(&host(true), &DetectContext::default());
        let v = out
            .iter()
            .find(|x| matches!(&x.artifact, ArtifactRef::RegistryValue { value, .. } if value == "rfklgq"))
            .unwrap_or_else(|| panic!("{out:#?}"));
        assert_eq!(v.confidence, Confidence::High);
        assert!(
            v.reasons[0].contains("1200 characters of base64"),
            "{:?}",
            v.reasons
        );
        let task = out
            .iter()
            .find(|x| matches!(x.artifact, ArtifactRef::Task { .. }))
            .unwrap();
        assert!(
            task.reasons
                .join(" ")
                .contains(r"reads HKCU\SOFTWARE\Wow6432Node\Qxvbnt\rfklgq"),
            "{task:?}"
        );
        // Not collected: the task's finding names the value.
        let out = detect(&host(false), &DetectContext::default());
        let task = out
            .iter()
            .find(|x| matches!(x.artifact, ArtifactRef::Task { .. }))
            .unwrap();
        assert!(
            task.reasons.join(" ").contains("was not collected"),
            "{task:?}"
        );
        assert!(
            !out.iter()
                .any(|x| matches!(x.artifact, ArtifactRef::RegistryValue { .. }))
        );
    }

    #[test]
    fn stored_scripts_under_made_up_keys_and_product_settings() {
        let script = format!(
            "$a='{}';powershell -nop -w hidden -c IEX($a)",
            "x".repeat(300)
        );
        let s = SnapshotBuilder::new("WS1")
            .user("bob")
            .reg("bob", r"Software\Zqxvbkt", "cfg", "REG_SZ", &script)
            // A product's settings, long but no code.
            .reg(
                "bob",
                r"Software\Google",
                "State",
                "REG_SZ",
                &"a b c ".repeat(200),
            )
            // A made-up-looking key with short data.
            .reg("bob", r"Software\Qwrtzk", "x", "REG_SZ", "hello")
            .build();
        let out = detect(&s, &DetectContext::default());
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(
            (out[0].rule_id, out[0].confidence),
            ("GEN-REGISTRY-PAYLOAD", Confidence::Medium)
        );
        assert!(
            payload_words(&"QUJD".repeat(100)).is_none(),
            "short base64 is not a payload"
        );
    }
}
