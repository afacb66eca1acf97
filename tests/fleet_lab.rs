//! The fleet's judgement through the real binary against the lab (issue
//! 13): an Emotet build whose persistence no rule knows (a SYSTEM task in a
//! made-up folder starting a DLL under ProgramData) planted on every host
//! beside the lab's documented Emotet, and real products (OneDrive, Google
//! Update, Logitech's download assistant) on the same hosts. The known
//! loader is found by its rule; the variant by hash propagation where it
//! carries the known DLL's bytes, by cluster lift where it was rebuilt
//! (another hash, the same shape); the products stay untouched. Ground
//! truth (what the loader and the products put where) comes from the
//! lab's library API. Loopback range: 127.94.0.0/16.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use cauterize::journal::Journal;
use cauterize::lab::cases::place;
use cauterize::lab::malware::{Family, FamilyProfile};
use cauterize::lab::world::benign::{self, BenignProduct, Placed};
use cauterize::lab::{self, Lab, LabSettings, WorldSpec};
use common::harness::LabRun;
use common::variant::{Variant, folder, hex};
use serde_json::Value;

/// Hosts in the lab; the first half carry the known DLL's bytes under the
/// variant's persistence, the second half a rebuilt DLL.
const HOSTS: usize = 8;

/// Does host `i`'s variant carry host 0's known DLL bytes? Hosts 1 to
/// HOSTS/2 do (hash propagation across hosts); host 0 itself does not:
/// there the host's own rules tie a copy of its loader by its hash, and
/// the fleet would have nothing to show.
fn carries_known_bytes(i: usize) -> bool {
    (1..=HOSTS / 2).contains(&i)
}

/// What the lab put where on one host.
struct Truth {
    host: String,
    /// The documented Emotet's payload.
    known: String,
    variant_dll: String,
    variant_task: String,
    /// What the products installed.
    products: Vec<Placed>,
}

async fn outbreak() -> (LabRun, Vec<Truth>) {
    common::harness::raise_fd_limit();
    let spec = lab::scenario::simple(HOSTS as u32, Ipv4Addr::new(127, 94, 0, 1), 5985);
    let mut world = WorldSpec::derived(&spec, LabSettings::default());
    for w in &mut world.hosts {
        w.infections.push(FamilyProfile::documented(Family::Emotet).without_spread());
    }
    let lab = Lab::start_world(spec.clone(), world).await.expect("lab starts");
    let now = lab.now();
    let names: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
    // The documented Emotet of the first host: its DLL's bytes and size.
    let known_of = |lab: &Lab, host: &str| -> (String, String, u64) {
        let truth = lab.truth(host);
        let path = truth
            .files
            .iter()
            .find(|(f, _)| *f == Family::Emotet)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("{host}: no Emotet payload in the lab's truth: {:?}", truth.files));
        let (sha, size) = lab.with_host(host, |h| {
            let e = h.files.get(&path).expect("the payload is on disk");
            (hex(e.sha256().expect("a file")), e.size())
        });
        (path, sha, size)
    };
    let (_, first_sha, size) = known_of(&lab, &names[0]);
    let mut truths = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (known, _, _) = known_of(&lab, name);
        let sha = if carries_known_bytes(i) {
            first_sha.clone()
        } else {
            cauterize::journal::sha256_hex(format!("rebuilt {i}").as_bytes())
        };
        if i == 0 {
            // An in-house tool on one host: unsigned, rare, and nothing
            // explains it. For a person to look at, never to remove.
            let tool = cauterize::lab::cases::spec::parse(
                "cases:\n- id: TOOL\n  family: benign\n  kind: task\n  source: test\n  host:\n    tasks: [{path: '\\Contoso\\Inventory', exe: 'C:\\ProgramData\\Contoso\\agent.exe', principal: 'NT AUTHORITY\\SYSTEM', triggers: [boot]}]\n    files: [{path: 'C:\\ProgramData\\Contoso\\agent.exe', size: 120000}]\n",
            )
            .expect("tool case")
            .cases
            .remove(0);
            lab.with_host(name, |h| place::place(&tool, h, now)).expect("the tool is placed");
        }
        let variant = Variant::new(&folder(i));
        let case = variant.case(&sha, size);
        lab.with_host(name, |h| place::place(&case, h, now)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let products = lab.with_host(name, |h| {
            let sids: Vec<String> = h.profiles.iter().filter(|p| p.logged_on).map(|p| p.sid.clone()).collect();
            let mut placed = Vec::new();
            for sid in &sids {
                placed.push(benign::place(h, BenignProduct::OneDrive, Some(sid), now).expect("OneDrive"));
            }
            for p in [BenignProduct::GoogleUpdate, BenignProduct::LogitechDownloadAssistant] {
                placed.push(benign::place(h, p, None, now).expect("product"));
            }
            placed
        });
        truths.push(Truth { host: name.clone(), known, variant_dll: variant.dll, variant_task: variant.task, products });
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = dir.path().join("inventory.yml");
    std::fs::write(&inventory, lab::inventory_out::inventory_yaml(&spec)).expect("inventory");
    (LabRun { lab, dir, inventory }, truths)
}

fn same_path(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Does this finding (JSON) name `path` as its artifact or a target?
fn touches_path(f: &Value, path: &str) -> bool {
    f["target_files"].as_array().unwrap().iter().any(|t| same_path(t.as_str().unwrap(), path))
        || f["artifact"]["path"].as_str().is_some_and(|p| same_path(p, path))
}

/// Does this finding (JSON) name something a product installed?
fn touches_product(f: &Value, placed: &[Placed]) -> bool {
    placed.iter().any(|p| {
        p.files.iter().any(|path| touches_path(f, path))
            || p.tasks.iter().any(|t| f["artifact"]["path"].as_str().is_some_and(|a| a.trim_start_matches('\\').eq_ignore_ascii_case(t.trim_start_matches('\\'))))
            || p.services.iter().any(|s| f["artifact"]["name"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(s)))
            || p.run_values.iter().any(|(_, v, _)| f["artifact"]["kind"] == "registry_autorun" && f["artifact"]["value"] == v.as_str())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variant_no_rule_knows_is_found_by_the_fleet_and_products_are_untouched() {
    let (run, truths) = outbreak().await;
    let eng = run.dir.path().join("case").display().to_string();
    let out = run.cauterize("scan", &["--engagement", &eng, "--json", "--forks", "8"]).await;
    assert_eq!(out.code, cauterize::exit::OK, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    let lines = out.json_lines();
    let fleet_of = |host: &str| -> Vec<Value> {
        lines
            .iter()
            .filter(|l| l["record"] == "fleet" && l["host"] == host)
            .flat_map(|l| l["findings"].as_array().unwrap().clone())
            .collect()
    };
    for (i, t) in truths.iter().enumerate() {
        let rules: Vec<Value> = out.host(&t.host)["findings"].as_array().unwrap().clone();
        // The known loader: found by its rule, high.
        assert!(
            rules.iter().any(|f| f["family"] == "Emotet"
                && f["source"] == "rule"
                && f["confidence"] == "high"
                && f["rule_id"].as_str().unwrap().starts_with("EMO-")
                && touches_path(f, &t.known)),
            "{}: the documented Emotet {} is not found by its rule: {rules:#?}",
            t.host,
            t.known
        );
        // The variant: no rule gives it a family (that is the point).
        assert!(
            !rules.iter().any(|f| touches_path(f, &t.variant_dll) && f["family"] != "unknown loader-like"),
            "{}: a rule already knows the variant, the test proves nothing: {rules:#?}",
            t.host
        );
        // The fleet does, by hash where it carries the known bytes, by
        // shape where it was rebuilt.
        let fleet = fleet_of(&t.host);
        let (rule, source) = if carries_known_bytes(i) {
            ("FLEET-HASH-PROPAGATION", "hash_propagation")
        } else {
            ("FLEET-CLUSTER-LIFT", "cluster_lift")
        };
        let lifted = fleet
            .iter()
            .find(|f| f["artifact"]["kind"] == "task" && f["artifact"]["path"] == t.variant_task.as_str())
            .unwrap_or_else(|| panic!("{}: the variant's task is not lifted: {fleet:#?}", t.host));
        assert_eq!((lifted["rule_id"].as_str(), lifted["source"].as_str()), (Some(rule), Some(source)), "{lifted}");
        assert_eq!(lifted["family"], "Emotet", "{lifted}");
        assert_eq!(lifted["confidence"], "high", "{lifted}");
        assert!(touches_path(lifted, &t.variant_dll), "{lifted}");
        // Nothing a product installed, by rule or fleet.
        for f in rules.iter().chain(&fleet).filter(|f| f["allowlisted"].is_null()) {
            assert!(!touches_product(f, &t.products), "{}: a product is flagged: {f:#}", t.host);
        }
    }

    // The plan acts on the variant everywhere, and on no product.
    let plan_file = run.dir.path().join("plan.yml").display().to_string();
    let plan = run.cauterize("plan", &["--engagement", &eng, "-o", &plan_file]).await;
    assert_eq!(plan.code, cauterize::exit::OK, "{}\n{}", plan.stdout, plan.stderr);
    // The rare unexplained tool is listed for review, and only that.
    let text = std::fs::read_to_string(&plan_file).unwrap();
    let review_at = text.find("    review:\n").unwrap_or_else(|| panic!("no review section:\n{text}"));
    assert!(text[review_at..].contains(r"scheduled task \Contoso\Inventory runs C:\ProgramData\Contoso\agent.exe"), "{text}");
    assert!(!text.contains("agent.exe', expected"), "the tool is no operation:\n{text}");
    assert!(plan.stdout.contains("For review (not acted on): "), "{}", plan.stdout);
    let j = Journal::open(std::path::Path::new(&eng)).unwrap();
    let stored = j.plan(1).unwrap().expect("plan 1");
    for t in &truths {
        let host = stored.hosts.iter().find(|h| h.host.eq_ignore_ascii_case(&t.host)).expect("host planned");
        let active: Vec<&str> = host.ops.iter().filter(|o| o.active).map(|o| o.op.as_str()).collect();
        let mentions = |path: &str| active.iter().any(|op| op.to_lowercase().contains(&path.replace('\\', "\\\\").to_lowercase()));
        assert!(mentions(&t.variant_dll), "{}: the variant's DLL is not deleted: {active:#?}", t.host);
        assert!(mentions(&t.variant_task), "{}: the variant's task is not deleted: {active:#?}", t.host);
        for p in &t.products {
            for file in &p.files {
                assert!(!mentions(file), "{}: the plan touches {file}: {active:#?}", t.host);
            }
        }
    }

    // Stacking by hash: the known DLL's bytes on five hosts (host 0's
    // loader and four variants), explained.
    let stack = common::harness::run(&["stack", "--engagement", &eng, "--by", "hash", "--json"]).await;
    assert_eq!(stack.code, 0, "{}", stack.stderr);
    let groups = stack.json_lines();
    let shared = groups
        .iter()
        .find(|g| g["host_count"] == HOSTS / 2 + 1 && g["explained"].as_array().unwrap().iter().any(|e| e == "Emotet (hash propagation)"))
        .unwrap_or_else(|| panic!("no group of the shared hash: {}", stack.stdout));
    let hosts: BTreeSet<&str> = shared["hosts"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    assert_eq!(hosts, truths[..=HOSTS / 2].iter().map(|t| t.host.as_str()).collect());
}
