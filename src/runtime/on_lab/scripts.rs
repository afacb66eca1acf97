//! The scripts cauterize sends, as text, in the lab's engine: each parses,
//! and runtime.ps1's native helper (its C# for Add-Type) compiles and acts
//! on the lab's files as Windows would.

use std::sync::Arc;

use crate::lab::powershell::parser::parse_script;
use crate::lab::powershell::tests::{prints, run_with};
use crate::lab::world::HostState;
use crate::lab::world::LabTime;
use crate::lab::world::files::Content;

/// Every script cauterize sends parses in the lab's engine.
#[test]
fn every_script_cauterize_sends_parses() {
    for (name, text) in [
        ("bootstrap", crate::runtime::bootstrap::BOOTSTRAP),
        ("probe", crate::runtime::probe::PROBE),
        ("runtime", crate::runtime::job::RUNTIME),
    ] {
        if let Err(e) = parse_script(Arc::from(text)) {
            let line = text[..e.offset].matches('\n').count() + 1;
            panic!("{name} line {line}: {e:?}: {:?}", &text[e.offset..(e.offset + 60).min(text.len())]);
        }
    }
}

/// The runtime's own helper class (runtime.ps1's Initialize-CzNative)
/// compiles on 2.0 and 5.1, and its Verify / DeleteVerified act on the
/// lab's files as Windows would: a changed file is drift, a running image
/// is locked, a read-only file is made writable and deleted, a missing
/// one is absent.
#[test]
fn the_runtime_native_helper_runs() {
    let native = {
        let rt = crate::runtime::job::RUNTIME;
        let start = rt.find("$script:czNativeReady = $false").expect("Initialize-CzNative");
        let end = rt[start..].find("\n# Whether PendingFileRenameOperations").expect("end of the helper") + start;
        rt[start..end].to_string()
    };
    let prepare = |h: &mut HostState| {
        h.files.create_dir_all(r"C:\N", LabTime(0)).expect("dir");
        h.files.plant_file(r"C:\N\ro.dll", Content::text("ro"), None, LabTime(0)).expect("file");
        let mut a = h.files.get(r"C:\N\ro.dll").expect("planted").attrs;
        a.readonly = true;
        h.files.set_attrs(r"C:\N\ro.dll", a).expect("attrs");
        h.files.plant_file(r"C:\N\changed.dll", Content::text("new"), None, LabTime(0)).expect("file");
    };
    let sha = |t: &str| crate::lab::world::files::hex(&Content::text(t).sha256());
    let script = format!(
        "{native}\nInitialize-CzNative\n$d = ''\n[CauterizeNative]::Verify('C:\\N\\ro.dll', '{ro}', [ref]$d)\n[CauterizeNative]::DeleteVerified('C:\\N\\changed.dll', '{old}', [ref]$d); $d\n[CauterizeNative]::DeleteVerified('C:\\N\\ro.dll', '{ro}', [ref]$d)\n[CauterizeNative]::DeleteVerified('C:\\N\\gone.dll', '{ro}', [ref]$d)\n[IO.File]::Exists('C:\\N\\ro.dll')",
        ro = sha("ro"),
        old = sha("old")
    );
    for v in ["2.0", "5.1.19041.1"] {
        let (r, h) = run_with(v, prepare, &script);
        prints(&r, &["0", "2", &format!("sha256 {}", sha("new")), "0", "1", "False"]);
        assert!(!h.files.exists(r"C:\N\ro.dll"));
        assert!(h.files.exists(r"C:\N\changed.dll"));
    }
}
