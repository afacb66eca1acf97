//! Add-Type and the lab's C#: what Windows PowerShell does with the same
//! source, written beside each test.

use crate::lab::powershell::tests::{prints, run_with, v2, v5};
use crate::lab::world::files::Content;
use crate::lab::world::registry::RegData;
use crate::lab::world::{HostState, LabTime, paths};

/// C# arithmetic, strings, structs, out parameters through `[ref]`,
/// exceptions caught by type, foreach; PowerShell converts `$null` to ""
/// for a `string` parameter.
#[test]
fn compiled_csharp_runs() {
    let script = r#"
Add-Type -TypeDefinition @'
using System;
using System.Text;
public static class Calc {
    public const uint Top = 0x80000000, Low = 1;
    struct Pair { public uint A; public long B; }
    public static string Hex(byte[] d) {
        StringBuilder sb = new StringBuilder(8);
        foreach (byte b in d) { sb.Append(b.ToString("x2")); }
        return sb.ToString();
    }
    public static uint Mask(uint v) { return v & ~Low; }
    public static int Divide(int a, int b, out string detail) {
        detail = "";
        try { return a / b; }
        catch (DivideByZeroException x) { detail = "caught: " + x.Message; return -1; }
        finally { detail = detail + "|finally"; }
    }
    public static int Size() { Pair p = new Pair(); p.A = Top | 2; return (p.A == 0x80000002) ? System.Runtime.InteropServices.Marshal.SizeOf(typeof(Pair)) : 0; }
    public static bool IsNull(string s) { return s == null; }
}
'@
[Calc]::Hex([byte[]](1, 171, 255))
[Calc]::Mask(7)
[Calc]::Top
$d = 'x'; [Calc]::Divide(7, 2, [ref]$d); $d
[Calc]::Divide(1, 0, [ref]$d); $d
[Calc]::Size()
[Calc]::IsNull($null)
"#;
    let want = ["01abff", "6", "2147483648", "3", "|finally", "-1", "caught: Attempted to divide by zero.|finally", "16", "False"];
    prints(&v5(script), &want);
    prints(&v2(script), &want);
    // A method with an out parameter called without [ref].
    let r = v5("Add-Type -TypeDefinition 'public static class O { public static void F(out int x) { x = 1; } }'; $x = 0; [O]::F($x)");
    assert!(r.flat().contains("Argument: '1' should be a System.Management.Automation.PSReference. Use [ref]."), "{}", r.err);
}

/// A construct the lab's compiler does not know fails as a compile error
/// (Windows: "Cannot add type. Compilation errors occurred."); the same
/// source twice is a no-op; another definition of the name is refused.
#[test]
fn compile_errors_and_redefinition() {
    let r = v5("Add-Type -TypeDefinition 'public class G { public static void F() { var x = new System.Collections.Generic.List<int>(); } }'");
    assert!(r.flat().contains("Cannot add type. Compilation errors occurred."), "{}", r.err);
    assert!(r.flat().contains("COMPILER_ERRORS,Microsoft.PowerShell.Commands.AddTypeCommand"), "{}", r.err);
    prints(&v5("$s = 'public class T1 { public const int V = 1; }'; Add-Type $s; Add-Type $s; [T1]::V; ('T1' -as [type]).FullName"), &["1", "T1"]);
    let r = v5("Add-Type 'public class T2 { }'; Add-Type 'public class T2 { public const int V = 2; }'");
    assert!(r.flat().contains("Cannot add type. The type name 'T2' already exists."), "{}", r.err);
}

const MOVE_NATIVE: &str = r#"
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class Mv {
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "MoveFileExW")]
    static extern bool MoveFileExPtr(string existing, IntPtr replacement, int flags);
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
    public static extern bool MoveFileEx(string existing, string replacement, int flags);
    public static int QueueNull(string path) { if (MoveFileExPtr(path, IntPtr.Zero, 4)) { return 0; } return Marshal.GetLastWin32Error(); }
}
'@
"#;

fn session_manager(h: &HostState, name: &str) -> Option<Vec<String>> {
    match h.registry.get_value(&format!(r"HKLM\{}", paths::SESSION_MANAGER), name) {
        Ok(RegData::MultiSz(v)) => Some(v.clone()),
        _ => None,
    }
}

/// Issue 7 item 2 on the engine: PowerShell turns `$null` into "" for a
/// `string` parameter, so `MoveFileEx($p, $null, 4)` through a `string`
/// declaration gives kernel32 an empty name, which fails (error 3) and
/// queues nothing; declared `IntPtr` and passed `IntPtr.Zero`, the NULL
/// reaches kernel32 and the delete is queued as Windows writes it
/// (`\??\C:\...` then an empty string).
#[test]
fn move_file_ex_sees_null_and_empty_as_windows_does() {
    let prepare = |h: &mut HostState| {
        h.files.create_dir_all(r"C:\Q", LabTime(0)).expect("dir");
        h.files.plant_file(r"C:\Q\x.dll", Content::text("x"), None, LabTime(0)).expect("file");
    };
    let script = format!("{MOVE_NATIVE}\n[Mv]::MoveFileEx('C:\\Q\\x.dll', $null, 4); [Runtime.InteropServices.Marshal]::GetLastWin32Error(); [Mv]::QueueNull('C:\\Q\\x.dll')");
    let (r, h) = run_with("5.1.19041.1", prepare, &script);
    prints(&r, &["False", "3", "0"]);
    assert_eq!(session_manager(&h, "PendingFileRenameOperations"), Some(vec![r"\??\C:\Q\x.dll".to_string(), String::new()]));
    // With PendingFileRenameOperations2 present, kernel32 appends there.
    let prepare2 = |h: &mut HostState| {
        prepare(h);
        let k = format!(r"HKLM\{}", paths::SESSION_MANAGER);
        h.registry.put(&k, "PendingFileRenameOperations2", RegData::MultiSz(vec![r"\??\C:\old.tmp".into(), String::new()])).expect("put");
    };
    let (r, h) = run_with("5.1.19041.1", prepare2, &format!("{MOVE_NATIVE}\n[Mv]::QueueNull('C:\\Q\\x.dll')"));
    prints(&r, &["0"]);
    assert_eq!(session_manager(&h, "PendingFileRenameOperations"), None);
    assert_eq!(session_manager(&h, "PendingFileRenameOperations2").map(|v| v.len()), Some(4));
}

/// GetLongPathName through a StringBuilder buffer: 8.3 components
/// expanded, each spelled as stored; a junction on the way keeps its own
/// name (never its target's); too small a buffer gets the size needed
/// (with the NUL).
#[test]
fn get_long_path_name_expands_short_names() {
    let prepare = |h: &mut HostState| {
        h.files.create_dir_all(r"C:\ProgramData\Long Folder Name", LabTime(0)).expect("dir");
        h.files.plant_file(r"C:\ProgramData\Long Folder Name\long.exe", Content::text("x"), None, LabTime(0)).expect("file");
        h.files.plant_link(r"C:\ProgramData\Jn", r"C:\ProgramData\Long Folder Name", true, true, LabTime(0)).expect("junction");
    };
    let script = r#"
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class Lp {
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "GetLongPathNameW")]
    public static extern uint GetLongPathName(string shortPath, System.Text.StringBuilder longPath, uint size);
}
'@
$sb = New-Object System.Text.StringBuilder 260
[Lp]::GetLongPathName('C:\ProgramData\LONGFO~1\long.exe', $sb, [uint32]$sb.Capacity); $sb.ToString()
$small = New-Object System.Text.StringBuilder 4
[Lp]::GetLongPathName('C:\ProgramData\LONGFO~1\long.exe', $small, 4)
[Lp]::GetLongPathName('C:\nope\x', $sb, 260); [Runtime.InteropServices.Marshal]::GetLastWin32Error()
$j = New-Object System.Text.StringBuilder 260; [Lp]::GetLongPathName('C:\PROGRAMDATA\jn\LONG.EXE', $j, 260); $j.ToString()
"#;
    let (r, _) = run_with("5.1.19041.1", prepare, script);
    let long = r"C:\ProgramData\Long Folder Name\long.exe";
    prints(&r, &["40", long, "41", "0", "3", "26", r"C:\ProgramData\Jn\long.exe"]);
}

