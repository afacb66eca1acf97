//! The job data's test vectors (`tests/data/job-vectors.txt`) against the
//! Rust reader and writer (`cauterize::runtime::job`): every vector reads
//! as its items or is refused at its line, and a `typed` vector is a real
//! operation that the encoder writes back byte for byte. `Read-CzJob` is
//! held to the same file through the lab's PowerShell engine.

mod common;

use cauterize::runtime::{host_text, job};
use common::job_vectors::{self, Expect, Item};

#[test]
fn the_rust_reader_gives_every_vectors_answer() {
    let vectors = job_vectors::load();
    assert!(vectors.len() >= 20, "the file has its vectors");
    for v in &vectors {
        let got = job::parse_fields(&v.job).map(|items| {
            items
                .into_iter()
                .map(|r| Item {
                    kind: r.kind,
                    fields: r
                        .fields
                        .into_iter()
                        .map(|(n, t)| (n, host_text::units(&t)))
                        .collect(),
                })
                .collect::<Vec<_>>()
        });
        match (&v.expect, got) {
            (Expect::Items(want), Ok(items)) => assert_eq!(&items, want, "vector {}", v.name),
            (Expect::Refused(line), Err(e)) => {
                assert_eq!(e.line, *line, "vector {}: {e}", v.name)
            }
            (want, got) => panic!("vector {}: want {want:?}, got {got:?}", v.name),
        }
    }
}

#[test]
fn typed_vectors_decode_as_operations_and_encode_back_exactly() {
    let typed: Vec<_> = job_vectors::load().into_iter().filter(|v| v.typed).collect();
    // The empty values issue 7 lists: a sweep root without extensions,
    // task actions without arguments or working directory, a kill without
    // a start time, the registry's default value. A whole-key delete
    // (issue 11) with its value names.
    // And names with unpaired surrogates (item 4), which go out as u16:.
    for name in [
        "unpaired-surrogates-kept-exactly",
        "sweep-root-without-extension-filter",
        "delete-task-with-empty-arguments-and-working-directory",
        "kill-without-start-time",
        "registry-default-value",
        "delete-registry-key",
        "remove-folder",
    ] {
        assert!(typed.iter().any(|v| v.name == name), "vector {name}");
    }
    for v in typed {
        let items = job::decode(&v.job).unwrap_or_else(|e| panic!("vector {}: {e}", v.name));
        assert_eq!(job::encode(&items), format!("{}\n", v.job), "vector {}", v.name);
        // No line carries an empty token.
        assert!(
            !job::encode(&items).lines().any(|l| l.ends_with(' ')),
            "vector {}",
            v.name
        );
    }
}
