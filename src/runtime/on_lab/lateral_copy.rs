//! runtime.ps1's one exception to "nothing directly in C:\Windows is
//! deleted", on the engine: a PsExec-style copy (written through ADMIN$,
//! run by a temporary service whose System 7045 record the host keeps) is
//! deleted when the plan's step names that service
//! (`lateral_service`) and the host itself finds the record running
//! exactly that path, the file not validly signed, not named like a file
//! Windows keeps there or in System32, and newer than Windows' install.
//! Everything else in C:\Windows is refused with the host's reason and
//! stays (the lab's ground truth).

use crate::lab::world::HostState;
use crate::lab::world::files::{Content, Signer, Times, hex};
use crate::lab::world::services::{Service, StartType};
use crate::lab::world::LabTime;
use crate::runtime::job::{self, JobItem};
use crate::runtime::ops::Op;

use super::jobs::outcomes;

/// A copy a spreader wrote and ran through service `service`: the file
/// (unsigned unless `signer`), and the 7045 record of the service, which
/// is deleted again once it ran (as the lab's spreaders do).
fn spread_copy(h: &mut HostState, path: &str, service: &str, image_path: &str, signer: Option<Signer>, now: LabTime) -> String {
    let content = Content::text(&format!("copy at {path}"));
    h.files.plant_file(path, content.clone(), signer, now).expect("copy");
    h.install_service(Service::new(service, service, image_path, StartType::Demand), now).expect("service");
    let _ = h.services.delete(service, &mut h.registry);
    hex(&content.sha256())
}

fn delete(path: &str, sha: &str, service: &str) -> JobItem {
    JobItem::Op(Op::DeleteFile { path: path.into(), expected_sha256: sha.into(), queue_if_locked: true, lateral_service: service.into() })
}

fn queue(path: &str, sha: &str, service: &str) -> JobItem {
    JobItem::Op(Op::QueueDeleteOnReboot { path: path.into(), expected_sha256: sha.into(), lateral_service: service.into() })
}

#[test]
fn the_copy_a_recorded_install_ran_is_deleted_and_nothing_else_in_the_windows_folder() {
    let now = crate::lab::spec::LabSettings::default().start;
    for version in ["2.0", "5.1.19041.1"] {
        let mut h = crate::lab::powershell::tests::host().1.clone();
        // Tied: an EXE the service ran as its image path, a DLL it ran
        // through regsvr32, written as %SystemRoot%.
        let exe = r"C:\Windows\qzkwtrb.exe";
        let exe_sha = spread_copy(&mut h, exe, "qzkwtrbs", exe, None, now);
        let dll = r"C:\Windows\mfobzk.dll";
        let dll_sha = spread_copy(&mut h, dll, "mfobzks", r#"regsvr32.exe /s "%SystemRoot%\mfobzk.dll""#, None, now);
        // A copy whose service record runs another file.
        let other = r"C:\Windows\plnxqv.exe";
        let other_sha = spread_copy(&mut h, other, "plnxqvs", r"C:\Windows\plnxqv2.exe", None, now);
        // Signed, though its service ran it (a vendor's file).
        let signed = r"C:\Windows\vendorup.exe";
        let signed_sha = spread_copy(&mut h, signed, "vendorup", signed, Some(Signer::valid("Contoso Ltd")), now);
        // A name System32 holds.
        let sys_name = r"C:\Windows\cmd.exe";
        let sys_sha = spread_copy(&mut h, sys_name, "cmdcopy", sys_name, None, now);
        // As old as the install.
        let old = r"C:\Windows\oldtool.exe";
        let old_sha = spread_copy(&mut h, old, "oldtool", old, None, now);
        h.files.set_times(old, Times::all(now.plus_days(-365))).expect("times");
        // Windows' own explorer.exe, named with a service whose record runs it.
        let explorer = r"C:\Windows\explorer.exe";
        h.install_service(Service::new("exsvc", "exsvc", explorer, StartType::Demand), now).expect("service");
        let explorer_sha = hex(&h.files.get(explorer).and_then(|e| e.sha256()).expect("explorer.exe"));
        // In System32, whatever the step says.
        let in_sys32 = r"C:\Windows\System32\qzsys.exe";
        let in_sys32_sha = spread_copy(&mut h, in_sys32, "qzsys", in_sys32, None, now);

        let payload = job::payload(&[
            delete(exe, &exe_sha, "qzkwtrbs"),
            queue(dll, &dll_sha, "mfobzks"),
            delete(dll, &dll_sha, ""),
            delete(dll, &dll_sha, "mfobzks"),
            delete(other, &other_sha, "plnxqvs"),
            delete(signed, &signed_sha, "vendorup"),
            delete(sys_name, &sys_sha, "cmdcopy"),
            delete(old, &old_sha, "oldtool"),
            delete(explorer, &explorer_sha, "exsvc"),
            delete(in_sys32, &in_sys32_sha, "qzsys"),
        ]);
        let r = crate::lab::powershell::tests::run_on(&mut h, version, &payload);
        let mut got = outcomes(&r.out);
        // The old file's reason names its creation time.
        if let Some(o) = got.get_mut(7)
            && o.1.starts_with("oldtool.exe was created ")
            && o.1.contains(", within a day of Windows' install (")
            && o.1.ends_with(") or before it: Windows' own, never deleted")
        {
            o.1 = "OLD".into();
        }
        let refused = |d: &str| ("failed".to_string(), d.to_string());
        let want = vec![
            ("done".to_string(), String::new()),
            ("queued_for_reboot".to_string(), String::new()),
            refused(r"a file directly in C:\Windows is never deleted by a plan, but as the copy a recorded lateral install ran"),
            ("done".to_string(), String::new()),
            refused(r"no System 7045 record on this host shows service plnxqvs running C:\Windows\plnxqv.exe: a file in the Windows folder is deleted only as the copy a recorded lateral install ran"),
            refused(r"vendorup.exe's signature reads 'valid': only a copy not validly signed is deleted from C:\Windows"),
            refused(r"C:\Windows\System32 holds a file named cmd.exe: a name of Windows' own, never deleted from C:\Windows"),
            refused("OLD"),
            refused(r"explorer.exe is a file Windows keeps in C:\Windows: never deleted"),
            refused(r"a file directly in C:\Windows\System32 is never deleted by a plan"),
        ];
        assert_eq!(got, want, "{version}: {}{}", r.out, r.err);
        assert!(!h.files.exists(exe), "{version}: the tied copy is gone");
        assert!(!h.files.exists(dll), "{version}: the tied DLL is gone");
        for kept in [other, signed, sys_name, old, explorer, in_sys32] {
            assert!(h.files.exists(kept), "{version}: {kept} stays");
        }
    }
}

