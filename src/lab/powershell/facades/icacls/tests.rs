//! `icacls.exe` run through the engine on a lab host: the folder's ACEs
//! change as icacls changes them, and it prints and exits as icacls does.

use crate::lab::powershell::tests::run_with;
use crate::lab::world::acl::{ADD_FILE, Ace, EVERYONE, Token};
use crate::lab::world::{HostState, LabTime};

const DIR: &str = r"C:\CzAcl";

fn plant(h: &mut HostState) {
    h.files.create_dir_all(r"C:\CzAcl\Sub", LabTime(0)).unwrap();
    let allow = Ace { sid: "S-1-5-32-545".into(), deny: false, rights: 0x1301BF, inheritance: 3, propagation: 0 };
    h.files.set_acl(DIR, vec![allow]).unwrap();
}

/// `/deny *S-1-1-0:(OI)(CI)(W)` adds a deny for Everyone that icacls
/// stores with SYNCHRONIZE and lists before the allow; a subfolder shows it
/// inherited; writes into the folder are then refused by the model;
/// `/remove:d` takes it away again.
#[test]
fn deny_shows_and_removes() {
    let script = r#"
$o = icacls C:\CzAcl /deny '*S-1-1-0:(OI)(CI)(W)'; $LASTEXITCODE; $o
$o = icacls C:\CzAcl; $LASTEXITCODE; $o
$o = icacls C:\CzAcl\Sub; $o[0]
"#;
    let (r, world) = run_with("5.1.19041.1", plant, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            "0",
            r"processed file: C:\CzAcl",
            "Successfully processed 1 files; Failed processing 0 files",
            "0",
            r"C:\CzAcl Everyone:(OI)(CI)(DENY)(W)",
            r"         BUILTIN\Users:(OI)(CI)(M)",
            "",
            "Successfully processed 1 files; Failed processing 0 files",
            r"C:\CzAcl\Sub Everyone:(I)(OI)(CI)(DENY)(W)",
        ]
    );
    let acl = world.files.acl(DIR).unwrap();
    assert_eq!(acl[0], Ace { sid: EVERYONE.into(), deny: true, rights: 0x100116, inheritance: 3, propagation: 0 });
    assert!(crate::lab::world::acl::denied([acl], true, &Token::user("S-1-5-21-1-2-3-1001"), ADD_FILE));

    let (r, world) = run_with("5.1.19041.1", plant, "icacls C:\\CzAcl /deny 'Everyone:(OI)(CI)(WD,AD)' /q | Out-Null\nicacls C:\\CzAcl /remove:d Everyone; $LASTEXITCODE");
    assert_eq!(r.lines(), ["processed file: C:\\CzAcl", "Successfully processed 1 files; Failed processing 0 files", "0"], "{}", r.err);
    assert_eq!(world.files.acl(DIR).unwrap().len(), 1);
    assert!(!world.files.acl(DIR).unwrap()[0].deny);
}

/// `/grant` merges into the account's allow, `/grant:r` replaces it,
/// `/deny` strips the denied rights out of the account's allow, `/remove:g`
/// removes allows only.
#[test]
fn grant_replace_and_remove() {
    let script = r#"
icacls C:\CzAcl /grant 'Everyone:(OI)(CI)(RD)' | Out-Null
icacls C:\CzAcl /grant 'Everyone:(OI)(CI)(WD)' | Out-Null
(icacls C:\CzAcl)[1].Trim()
icacls C:\CzAcl /grant:r 'Everyone:(OI)(CI)RX' | Out-Null
(icacls C:\CzAcl)[1].Trim()
icacls C:\CzAcl /deny 'Users:(OI)(CI)(WD,AD)' | Out-Null
(icacls C:\CzAcl)[0..2] | ForEach-Object { $_.Trim() }
icacls C:\CzAcl /remove:g Users | Out-Null
(icacls C:\CzAcl)[0..1] | ForEach-Object { $_.Trim() }
"#;
    let (r, world) = run_with("5.1.19041.1", plant, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            r"Everyone:(OI)(CI)(RD,WD)",
            r"Everyone:(OI)(CI)(RX)",
            r"C:\CzAcl BUILTIN\Users:(OI)(CI)(DENY)(WD,AD)",
            r"BUILTIN\Users:(OI)(CI)(D,RC,RD,REA,WEA,X,RA,WA)",
            r"Everyone:(OI)(CI)(RX)",
            r"C:\CzAcl BUILTIN\Users:(OI)(CI)(DENY)(WD,AD)",
            r"Everyone:(OI)(CI)(RX)",
        ]
    );
    assert_eq!(world.files.acl(DIR).unwrap().len(), 2);
}

/// A missing folder, an account that does not translate and a malformed
/// permission fail with icacls' text and exit codes, changing nothing;
/// what the lab does not keep is refused saying so.
#[test]
fn failures_exit_as_icacls_does() {
    let script = r#"
$e = icacls C:\Nope 2>&1; "$LASTEXITCODE $($e -join '|')"
$e = icacls C:\CzAcl /grant 'nobody:(F)' 2>&1; "$LASTEXITCODE $($e -join '|')"
$e = icacls C:\CzAcl /grant 'Everyone:(ZZ)' 2>&1; "$LASTEXITCODE $e"
$e = icacls C:\CzAcl /setowner Administrators 2>&1; "$LASTEXITCODE $e"
$e = icacls C:\CzAcl /grant 'Everyone:F' /t 2>&1; "$LASTEXITCODE $e"
"#;
    let (r, world) = run_with("5.1.19041.1", plant, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            "2 Successfully processed 0 files; Failed processing 1 files|C:\\Nope: The system cannot find the file specified.",
            "1332 Successfully processed 0 files; Failed processing 1 files|nobody: No mapping between account names and security IDs was done.",
            "87 Invalid parameter \"Everyone:(ZZ)\"",
            "1 The cauterize lab's icacls.exe does not support '/setowner'.",
            "1 The cauterize lab's icacls.exe does not support '/t'.",
        ]
    );
    assert_eq!(world.files.acl(DIR).unwrap().len(), 1);
}
