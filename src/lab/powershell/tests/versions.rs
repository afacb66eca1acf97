//! What differs between PowerShell 2.0, Windows PowerShell 5.1 and
//! PowerShell 7, for the constructs scripts actually use.

use super::{prints, v2, v5, v7};

/// PowerShell 2.0 enters a `foreach` body once for `$null`; 3.0 and later
/// do not (Windows PowerShell 3.0 language change; about_Foreach).
#[test]
fn foreach_over_null_runs_once_on_2_only() {
    prints(&v2("foreach ($x in $null) { 'ran' }"), &["ran"]);
    prints(&v5("foreach ($x in $null) { 'ran' }"), &[]);
    prints(&v7("foreach ($x in $null) { 'ran' }"), &[]);
    // A command that writes nothing gives no iteration on either.
    prints(&v2("function f {}; foreach ($x in (f)) { 'ran' }"), &[]);
}

/// 3.0 added `.Count` and `.Length` to every object: 1 for a scalar, 0 for
/// `$null` (about_Properties: "Starting in Windows PowerShell 3.0 ...");
/// on 2.0 they are not there, so nothing prints.
#[test]
fn count_and_length_of_a_scalar_exist_from_3_0() {
    prints(&v2("(1).Count; (1).Length; $null.Count"), &[]);
    prints(&v5("(1).Count; (1).Length; $null.Count"), &["1", "1", "0"]);
    // Real properties are there on every version.
    prints(&v2("'abc'.Length; @(1,2).Count"), &["3", "2"]);
}

/// Member enumeration (`$list.Prop`, `$list.Method()` applied to each
/// element) is 3.0 and later (about_Member-Access_Enumeration).
#[test]
fn member_enumeration_is_3_0_and_later() {
    prints(&v5("@(@{n=1}, @{n=2}).n"), &["1", "2"]);
    prints(&v2("@(@{n=1}, @{n=2}).n"), &[]);
    prints(&v5("@('a','b').ToUpper()"), &["A", "B"]);
    let r = v2("@('a','b').ToUpper()");
    assert!(
        r.flat().contains("Method invocation failed because [System.Object[]] doesn't contain a method named 'ToUpper'."),
        "{}",
        r.err
    );
}

/// `$PSItem` is 3.0's alias of `$_` (about_PSItem).
#[test]
fn psitem_is_3_0_and_later() {
    prints(&v5("1,2 | ForEach-Object { $PSItem }"), &["1", "2"]);
    prints(&v2("1,2 | ForEach-Object { $PSItem }"), &[]);
}

/// `-in` arrived in 3.0.
#[test]
fn in_operator_is_3_0_and_later() {
    prints(&v5("2 -in 1,2; 3 -notin 1,2"), &["True", "True"]);
    let r = v2("2 -in 1,2");
    assert_eq!(r.code, 1);
    assert!(r.flat().contains("-in"), "{}", r.err);
}

/// .NET Framework prints a double with 15 significant digits; .NET Core
/// (PowerShell 7) with the shortest text that reads back the same.
#[test]
fn doubles_print_as_their_dotnet_prints_them() {
    prints(&v5("0.1 + 0.2; 1/3"), &["0.3", "0.333333333333333"]);
    prints(&v7("0.1 + 0.2"), &["0.30000000000000004"]);
}

/// A string argument to `String.Split` binds `Split(params char[])` on
/// .NET Framework (each character separates) and `Split(string)` on .NET
/// Core (the whole string separates) (PowerShell/PowerShell#11720).
#[test]
fn split_with_a_string_argument_differs_on_7() {
    prints(&v5("'a, b'.Split(', ').Count"), &["3"]);
    prints(&v7("'a, b'.Split(', ').Count"), &["2"]);
}

/// PowerShell 2.0 stops at a call depth of 100 (the "call depth overflow"
/// ScriptCallDepthException); 5.1 goes far deeper.
#[test]
fn call_depth_limit_of_2_0() {
    let script = "function f($n) { if ($n -gt 0) { f ($n - 1) } }; f 150; 'done'";
    let r = v2(script);
    assert!(r.flat().contains("call depth overflow"), "{}", r.err);
    prints(&v5(script), &["done"]);
}

/// Get-WmiObject is not in PowerShell 6 and later.
#[test]
fn get_wmiobject_is_windows_powershell_only() {
    prints(&v5("(Get-WmiObject Win32_OperatingSystem).__CLASS"), &["Win32_OperatingSystem"]);
    let r = v7("Get-WmiObject Win32_OperatingSystem");
    assert!(r.flat().contains("The term 'Get-WmiObject' is not recognized"), "{}", r.err);
}

/// `$PSVersionTable` is the host's.
#[test]
fn version_table_by_version() {
    prints(&v2("$PSVersionTable.PSVersion.Major; $PSVersionTable.PSEdition -eq $null"), &["2", "True"]);
    prints(&v5("$PSVersionTable.PSVersion.ToString(); $PSVersionTable.PSEdition"), &["5.1.19041.1", "Desktop"]);
    prints(&v7("$PSVersionTable.PSEdition"), &["Core"]);
}

/// A stopped error caught on 2.0 is an ActionPreferenceStopException whose
/// message names the preference; on 3.0 and later `catch` gets the original
/// error.
#[test]
fn stop_preference_message_by_version() {
    let script = "try { Write-Error 'disk full' -ErrorAction Stop } catch { $_.Exception.Message }";
    prints(&v5(script), &["disk full"]);
    let r = v2(script);
    assert_eq!(
        r.lines(),
        ["Command execution stopped because the preference variable \"ErrorActionPreference\" or common parameter is set to Stop: disk full"]
    );
}
