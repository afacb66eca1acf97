//! The file facades through scripts, each with what Windows PowerShell 5.1
//! does written beside it.

use crate::lab::powershell::tests::{prints, run_with, v2, v5};
use crate::lab::world::files::{Attrs, Content};
use crate::lab::world::{HostState, LabTime};

const DIR: &str = r"C:\ProgramData\FsTest";

fn plant(h: &mut HostState) {
    let t = LabTime(133_500_000_000_000_000);
    h.files.create_dir_all(&format!(r"{DIR}\Sub Folder"), t).expect("dir");
    h.files.plant_file(&format!(r"{DIR}\b.txt"), Content::text("hello"), None, t).expect("file");
    h.files.plant_file(&format!(r"{DIR}\A.dll"), Content::synthetic("a-dll", 4096), None, t).expect("file");
    h.files.set_attrs(&format!(r"{DIR}\b.txt"), Attrs { hidden: true, system: false, readonly: true }).expect("attrs");
}

fn run(script: &str) -> crate::lab::powershell::tests::Run {
    run_with("5.1.19041.1", plant, script).0
}

/// Exists never throws; listings join the folder as written with each
/// name as stored, in name order; attributes read as flags.
#[test]
fn exists_listings_and_attributes() {
    let r = run(&format!(
        "[IO.File]::Exists('{DIR}\\b.txt'); [IO.File]::Exists('{DIR}'); [IO.Directory]::Exists('{DIR}'); [IO.File]::Exists($null); [IO.File]::Exists('C:\\a|b'); \
         [IO.Directory]::GetFileSystemEntries('{DIR}'); [IO.Directory]::GetFiles('c:\\programdata\\fstest\\', '*.dll'); [string][IO.File]::GetAttributes('{DIR}\\b.txt'); [int][IO.File]::GetAttributes('{DIR}\\A.dll')"
    ));
    prints(
        &r,
        &[
            "True",
            "False",
            "True",
            "False",
            "False",
            r"C:\ProgramData\FsTest\A.dll",
            r"C:\ProgramData\FsTest\b.txt",
            r"C:\ProgramData\FsTest\Sub Folder",
            r"c:\programdata\fstest\A.dll",
            "ReadOnly, Hidden, Archive",
            "32",
        ],
    );
    // Windows: DirectoryNotFoundException "Could not find a part of the path 'C:\nope'."
    let r = v5("[IO.Directory]::GetFiles('C:\\nope')");
    assert!(r.flat().contains("Could not find a part of the path 'C:\\nope'."), "{}", r.err);
}

/// FileInfo/DirectoryInfo: state read once; times on the host's clock
/// (written 2024-01-17 21:20 in lab time, 1,116 hours before the lab's
/// 2024-03-04 09:00 start: that long before the host's UtcNow); a missing
/// file has Exists False (times 1601) and Length throws; listings give infos whose ToString is the
/// name on Windows PowerShell (the full path on PowerShell 7).
#[test]
fn file_and_directory_info() {
    let r = run(&format!(
        "$f = New-Object IO.FileInfo('{DIR}\\b.txt'); $f.Length; $f.Exists; $f.Extension; $f.IsReadOnly; [Math]::Round(([DateTime]::UtcNow - $f.LastWriteTimeUtc).TotalHours); $f.DirectoryName; \
         $m = New-Object IO.FileInfo('{DIR}\\none.txt'); $m.Exists; [int]$m.Attributes; $m.LastWriteTimeUtc.Year; \
         $d = New-Object IO.DirectoryInfo('{DIR}'); $i = $d.GetFileSystemInfos(); $i.Count; [string]$i[2]; $i[2].GetType().Name; $i[0].Length"
    ));
    prints(
        &r,
        &["5", "True", ".txt", "True", "1116", DIR, "False", "-1", "1601", "3", "Sub Folder", "DirectoryInfo", "4096"],
    );
    let r = v5("(New-Object IO.FileInfo('C:\\nope.txt')).Length");
    assert!(r.flat().contains("Could not find file 'C:\\nope.txt'."), "{}", r.err);
}

/// FileStream reads a file's bytes; SHA256.ComputeHash(stream) hashes it
/// (a file the lab holds only as size and hash answers its hash);
/// reading such a file's bytes says the lab does not hold them; a folder
/// or a missing file fails as on Windows.
#[test]
fn file_streams_read_and_hash() {
    let mut h = crate::lab::powershell::tests::host().1.clone();
    plant(&mut h);
    let dll_sha = crate::lab::world::files::hex(&Content::synthetic("a-dll", 4096).sha256());
    let script = format!(
        "$s = New-Object IO.FileStream('{DIR}\\b.txt', [IO.FileMode]::Open, [IO.FileAccess]::Read, ([IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete)); \
         $s.Length; $b = New-Object byte[] 3; $s.Read($b, 0, 3); [Text.Encoding]::ASCII.GetString($b); $s.Close(); \
         $s = New-Object IO.FileStream('{DIR}\\A.dll', [IO.FileMode]::Open, [IO.FileAccess]::Read); $s.Length; \
         (([Security.Cryptography.SHA256]::Create().ComputeHash($s)) | ForEach-Object {{ $_.ToString('x2') }}) -join ''; $s.Close()"
    );
    let r = crate::lab::powershell::tests::run_on(&mut h, "5.1.19041.1", &script);
    prints(&r, &["5", "3", "hel", "4096", &dll_sha]);
    let r = run(&format!("$s = New-Object IO.FileStream('{DIR}\\A.dll', [IO.FileMode]::Open, [IO.FileAccess]::Read); $s.ReadByte()"));
    assert!(r.flat().contains("holds only the size and SHA-256"), "{}", r.err);
    let r = run(&format!("New-Object IO.FileStream('{DIR}', [IO.FileMode]::Open, [IO.FileAccess]::Read)"));
    assert!(r.flat().contains("Access to the path 'C:\\ProgramData\\FsTest' is denied."), "{}", r.err);
    let r = run("New-Object IO.FileStream('C:\\nope\\x.bin', [IO.FileMode]::Open, [IO.FileAccess]::Read)");
    assert!(r.flat().contains("Could not find a part of the path 'C:\\nope\\x.bin'."), "{}", r.err);
}

/// Path as .NET computes it; `\\?\` paths are refused by .NET 2.0
/// ("Illegal characters in path.") and taken as written by 5.1.
#[test]
fn path_methods() {
    prints(
        &v5("[IO.Path]::GetFullPath('C:\\a\\..\\b.'); [IO.Path]::Combine('C:\\x', 'y.txt'); [IO.Path]::GetDirectoryName('C:\\x\\y.txt'); [IO.Path]::GetExtension('y.TXT'); [IO.Path]::GetFileName('C:\\x\\y.txt')"),
        &[r"C:\b", r"C:\x\y.txt", r"C:\x", ".TXT", "y.txt"],
    );
    let r = v2("[IO.Path]::GetFullPath('\\\\?\\C:\\x')");
    assert!(r.flat().contains("Illegal characters in path."), "{}", r.err);
    prints(&v5("[IO.Path]::GetFullPath('\\\\?\\C:\\x\\..')"), &[r"\\?\C:\x\.."]);
}

/// Reparse points as Windows shows them: a junction lists its target's
/// files and reads as Directory, ReparsePoint; a file symlink reads as
/// Archive, ReparsePoint with its own (empty) length, while opening it
/// reads the target; deleting the link leaves the target.
#[test]
fn links_and_junctions() {
    let prepare = |h: &mut HostState| {
        plant(h);
        let t = LabTime(0);
        h.files.plant_link(r"C:\ProgramData\J", DIR, true, true, t).expect("junction");
        h.files.plant_link(r"C:\ProgramData\L.txt", &format!(r"{DIR}\b.txt"), false, false, t).expect("symlink");
    };
    let script = "[string][IO.File]::GetAttributes('C:\\ProgramData\\J'); [IO.Directory]::GetFiles('C:\\ProgramData\\J'); [IO.File]::Exists('C:\\ProgramData\\J\\b.txt'); \
         [string][IO.File]::GetAttributes('C:\\ProgramData\\L.txt'); (New-Object IO.FileInfo('C:\\ProgramData\\L.txt')).Length; [IO.File]::ReadAllText('C:\\ProgramData\\L.txt'); \
         [IO.File]::Delete('C:\\ProgramData\\L.txt'); [IO.File]::Exists('C:\\ProgramData\\L.txt'); [IO.File]::Exists('C:\\ProgramData\\FsTest\\b.txt')";
    let (r, _) = run_with("5.1.19041.1", prepare, script);
    prints(
        &r,
        &["Directory, ReparsePoint", r"C:\ProgramData\J\A.dll", r"C:\ProgramData\J\b.txt", "True", "Archive, ReparsePoint", "0", "hello", "False", "True"],
    );
}
