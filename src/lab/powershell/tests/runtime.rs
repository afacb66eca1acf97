//! cauterize's host-side runtime (`runtime.ps1`) executing in the engine:
//! its job reader on real job text from the Rust encoder. (Carrying out
//! the jobs needs the phase-2 Windows facades; until then the lab routes
//! runtime payloads to `lab::runtime_host`.)

use super::{prints, v2, v5};
use crate::runtime::job::{self, JobItem, RUNTIME};
use crate::runtime::ops::{Bounds, Op, Query, SweepRoot};

/// The runtime, then `Read-CzJob` on the job data of `items`, printing
/// each item's kind and its fields (`name=value|value`), names sorted.
fn read_job(items: &[JobItem]) -> String {
    format!(
        "{RUNTIME}\n$czJobData = @'\n{}'@\n{}",
        job::encode(items),
        concat!(
            "$items = Read-CzJob $czJobData\n",
            "'items ' + $items.Count\n",
            "foreach ($op in $items) {\n",
            "    $op.Kind\n",
            "    foreach ($k in @($op.Fields.Keys | Sort-Object)) { $k + '=' + ((Get-CzFields $op $k) -join '|') }\n",
            "}\n"
        )
    )
}

/// The runtime's top-level statements and its job reader run on every
/// version: a job without empty fields reads back field for field.
#[test]
fn read_czjob_reads_a_job_from_the_encoder() {
    let items = vec![
        JobItem::Query(Query::FileFacts {
            paths: vec![r"C:\Users\bob\AppData\Roaming\x.dll".into(), "Пётр 🦀".into()],
            list_dirs: vec![],
            bounds: Bounds::default(),
        }),
        JobItem::Query(Query::ReadFile { path: r"C:\x.bin".into(), offset: 5, max_bytes: 10 }),
    ];
    let b = Bounds::default();
    let bounds = [
        format!("max_binary_bytes={}", b.max_binary_bytes),
        format!("max_field_bytes={}", b.max_field_bytes),
        format!("max_hash_bytes={}", b.max_hash_bytes),
        format!("max_items={}", b.max_items),
        format!("max_listing={}", b.max_listing),
        format!("max_output_bytes={}", b.max_output_bytes),
        format!("max_values_per_key={}", b.max_values_per_key),
    ];
    let mut expected: Vec<String> = vec!["items 2".into(), "FileFacts".into()];
    expected.extend(bounds.iter().cloned());
    expected.push(r"path=C:\Users\bob\AppData\Roaming\x.dll|Пётр 🦀".into());
    expected.push(format!("time_limit_secs={}", b.time_limit_secs));
    expected.extend(["ReadFile".into(), "max_bytes=10".into(), "offset=5".into(), r"path=C:\x.bin".into()]);
    let script = read_job(&items);
    for run in [v5(&script), v2(&script)] {
        let want: Vec<&str> = expected.iter().map(String::as_str).collect();
        prints(&run, &want);
    }
}

/// Regression test of issue 7 item 1 (a field with an empty value): the
/// encoder writes `f root_extensions ` with nothing after the space, and
/// Read-CzJob trims the line, splits it in two, and throws "job data: a
/// line is neither an op nor a field" - so every sweep without an extension
/// filter, every task action without arguments and the registry default
/// value fail on real hosts. Fixed by giving empty values a token of
/// their own; this test fails on the old text.
#[test]
fn read_czjob_reads_empty_fields() {
    let items = vec![
        JobItem::Query(Query::Sweep {
            roots: vec![SweepRoot { path: r"C:\ProgramData".into(), depth: 1, extensions: vec![], recent_days: 0 }],
            skip: vec![],
            hash_extensions: vec!["dll".into()],
            max_entries: 100,
            max_hash_bytes: 1000,
            bounds: Bounds::default(),
        }),
        JobItem::Op(Op::DeleteRegistryValue {
            hive: "HKLM".into(),
            key: r"SOFTWARE\x".into(),
            value: "".into(),
            expected_type: "REG_SZ".into(),
            expected_data_sha256: "00".repeat(32),
            data: "loader.exe".into(),
            data_cut: false,
        }),
    ];
    let r = v5(&read_job(&items));
    assert!(r.err.is_empty(), "{}", r.err);
    let lines = r.lines();
    assert_eq!(lines.first().copied(), Some("items 2"), "{}", r.out);
    assert!(lines.contains(&"root_extensions="), "{}", r.out);
    assert!(lines.contains(&"value="), "{}", r.out);
}
