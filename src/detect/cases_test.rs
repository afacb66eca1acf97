//! The documented cases (tests/data/artifacts.yaml) as host snapshots:
//! every malicious case must be found with its family and a target that is
//! the DLL/script (never a launcher); no benign case may produce a finding
//! that would be planned for removal. Prints recall and false positives.

use super::builder::{RUN_KEY, SnapshotBuilder};
use super::{DetectContext, Finding, detect};
use crate::lab::cases::check::{check_malicious, show};
use crate::lab::cases::spec::{Case, family_of, parse};
use crate::runtime::snapshot::{FileFacts, Task, TaskAction};

const DATA: &str = include_str!("../../tests/data/artifacts.yaml");

fn build(c: &Case) -> crate::runtime::snapshot::Snapshot {
    let h = &c.host;
    let mut b = SnapshotBuilder::new(&format!("WS-{}", c.id));
    for u in &c.users() {
        b = b.user(u);
    }
    if let Some(s) = h.serial {
        b = b.volume_serial(s);
    }
    for r in &h.run {
        b = b.autorun(
            &r.hive,
            r.key.as_deref().unwrap_or(RUN_KEY),
            &r.value,
            &r.command,
        );
    }
    for s in &h.startup {
        b = b.startup(&s.path, &s.command);
    }
    for t in &h.tasks {
        b = b.task_full(Task {
            path: t.path.clone(),
            actions: vec![TaskAction {
                path: t.exe.clone().into(),
                arguments: t.args.clone().into(),
                working_directory: t.workdir.clone().into(),
            }],
            triggers: t.triggers.clone(),
            author: t.author.clone(),
            principal: t.principal.clone(),
            enabled: true,
            hidden: t.hidden,
        });
    }
    for s in &h.services {
        b = b.service(&s.name, &s.display, &s.image, &s.account);
    }
    for p in &h.processes {
        b = b.process(p.pid, p.ppid, &p.image, &p.cmd, &p.user);
    }
    for d in &h.dirs {
        let listing: Vec<&str> = d.listing.iter().map(String::as_str).collect();
        b = b.dir(&d.path, &listing);
        if let Some(m) = &d.modified {
            b = b.with_file(&d.path, |x| x.modified = m.clone());
        }
    }
    for f in &h.files {
        b = b.file_full(FileFacts {
            path: f.path.clone(),
            exists: true,
            size: f.size.unwrap_or(300_000),
            sha256: f.sha256.clone().unwrap_or_default(),
            created: "2024-01-01T00:00:00Z".into(),
            modified: f
                .modified
                .clone()
                .unwrap_or_else(|| "2024-01-01T00:00:00Z".into()),
            signature: if f.signer.is_some() {
                "valid".into()
            } else {
                "unsigned".into()
            },
            signer: f.signer.clone().unwrap_or_default(),
            ..FileFacts::default()
        });
    }
    for r in &h.registry {
        b = b.reg(&r.hive, &r.key, &r.value, &r.ty, &r.data);
    }
    b.build()
}

#[test]
fn documented_cases() {
    let file = parse(DATA).expect("tests/data/artifacts.yaml parses");
    assert!(file.cases.len() >= 77, "cases: {}", file.cases.len());
    let ctx = DetectContext::default();
    let (mut mal, mut mal_found, mut doc_mal, mut doc_found, mut ben, mut ben_fp, mut undetectable) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for c in &file.cases {
        assert!(!c.source.is_empty(), "{} has no source", c.id);
        let snap = build(c);
        let found = detect(&snap, &ctx);
        if std::env::var_os("DETECT_DUMP").is_some() {
            eprintln!("== {} ({})\n{}", c.id, c.family, show(&found));
        }
        if c.family == "benign" {
            ben += 1;
            let bad: Vec<Finding> = found.iter().filter(|f| f.actionable()).cloned().collect();
            if !bad.is_empty() {
                ben_fp += 1;
                failures.push(format!(
                    "{} (benign) would be removed:\n{}",
                    c.id,
                    show(&bad)
                ));
            }
            continue;
        }
        if !c.expect.detectable {
            undetectable += 1;
            continue;
        }
        let fam =
            family_of(&c.family).unwrap_or_else(|| panic!("{}: unknown family {}", c.id, c.family));
        mal += 1;
        if c.documented {
            doc_mal += 1;
        }
        match check_malicious(c, fam, &found) {
            Ok(()) => {
                mal_found += 1;
                if c.documented {
                    doc_found += 1;
                }
            }
            Err(e) => failures.push(format!("{} ({fam:?}): {e}\n{}", c.id, show(&found))),
        }
    }
    eprintln!(
        "detect cases: documented malicious recall {doc_found}/{doc_mal}; all malicious recall {mal_found}/{mal}; \
         benign planned for removal {ben_fp}/{ben}; not detectable by design {undetectable}"
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert_eq!(doc_found, doc_mal);
    assert_eq!(ben_fp, 0);
}
