//! The pure .NET types, with .NET's semantics.

use super::{prints, v2, v5};

/// Strings are UTF-16: lengths and indexes count units; an unpaired
/// surrogate is one unit and survives.
#[test]
fn strings_are_utf16() {
    prints(&v5("'🦀'.Length; $s = 'a' + [char]0xD800 + 'b'; $s.Length; $s.Substring(1,1).Length; $s.IndexOf('b'); [char]::IsSurrogate($s[1]); [int]$s[1]"), &["2", "3", "1", "2", "True", "55296"]);
    prints(&v5("'é🦀x'.Substring(3); 'é🦀x'.IndexOf('x')"), &["x", "3"]);
}

#[test]
fn string_methods() {
    prints(&v5("'  x  '.Trim() + '|'; 'xxhixx'.Trim('x'); 'a,b'.Split(',').Count; 'a b  c'.Split(' ').Count; 'a,,b'.Split(',', [StringSplitOptions]::RemoveEmptyEntries).Count"), &["x|", "hi", "2", "4", "2"]);
    prints(&v5("'Hello'.ToUpper(); 'Hello'.Replace('l', 'L'); 'Hello'.StartsWith('he'); 'Hello'.StartsWith('he', [StringComparison]::OrdinalIgnoreCase); 'abc'.Contains('B'); 'x'.PadLeft(3, '0')"), &["HELLO", "HeLLo", "False", "True", "False", "00x"]);
    prints(&v5("[string]::Join(',', @('a','b')); [string]::IsNullOrEmpty($null); [string]::Format('{0}/{1}', 1, 2); 'a-b-c'.LastIndexOf('-')"), &["a,b", "True", "1/2", "3"]);
    let r = v5("'abc'.Substring(5)");
    assert!(r.flat().contains("Exception calling \"Substring\" with \"1\" argument(s): \"startIndex cannot be larger than length of string."), "{}", r.err);
}

#[test]
fn base64_and_encodings() {
    prints(&v5("[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('hé')); [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('aMOp'))"), &["aMOp", "hé"]);
    prints(&v5("(New-Object System.Text.UTF8Encoding $false).GetPreamble().Length; [Text.Encoding]::UTF8.GetPreamble().Length; [Text.Encoding]::Unicode.GetBytes('A').Length"), &["0", "3", "2"]);
    let r = v5("[Convert]::FromBase64String('not base64!')");
    assert!(r.flat().contains("The input is not a valid Base-64 string"), "{}", r.err);
    // Encoding.Unicode replaces an unpaired surrogate, as .NET's encoder does.
    prints(&v5("$b = [Text.Encoding]::Unicode.GetBytes([string][char]0xDC00); '{0:x2}{1:x2}' -f $b[0], $b[1]"), &["fdff"]);
}

/// `new UTF8Encoding($false, $true)` throws on an unpaired surrogate,
/// where `UTF8Encoding($false)` writes EF BF BD (U+FFFD); the runtime
/// relies on the throw to send such a name as UTF-16 instead.
#[test]
fn strict_utf8_throws_on_an_unpaired_surrogate() {
    let script = "$s = 'a' + [char]0xD800; (New-Object System.Text.UTF8Encoding $false).GetBytes($s).Length; try { (New-Object System.Text.UTF8Encoding $false, $true).GetBytes($s) } catch { $_.Exception.InnerException.GetType().FullName; $_.Exception.InnerException.Message }";
    prints(&v5(script), &["4", "System.Text.EncoderFallbackException", "Unable to translate Unicode character \\uD800 at index 1 to specified code page."]);
}

/// SHA-256 as .NET computes it (FIPS 180-4 test vector "abc"); on
/// Windows PowerShell `Create()` gives a SHA256Managed.
#[test]
fn sha256_computes_the_digest() {
    let script = "$sha = [System.Security.Cryptography.SHA256]::Create(); $sha.GetType().FullName; $h = $sha.ComputeHash([Text.Encoding]::ASCII.GetBytes('xabcx'), 1, 3); ($h | ForEach-Object { $_.ToString('x2') }) -join ''; $sha.HashSize";
    let want = ["System.Security.Cryptography.SHA256Managed", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "256"];
    prints(&v5(script), &want);
    prints(&v2(script), &want);
    let r = v5("$sha = New-Object System.Security.Cryptography.SHA256Managed; $sha.Dispose(); $sha.ComputeHash([byte[]]@(1))");
    assert!(r.flat().contains("Cannot access a disposed object."), "{}", r.err);
}

#[test]
fn string_builder_and_collections() {
    prints(&v5("$sb = New-Object System.Text.StringBuilder; [void]$sb.Append('a').Append(1).Append($true); $sb.ToString(); $sb.Length"), &["a1True", "6"]);
    prints(&v5("$l = New-Object System.Collections.ArrayList; $l.Add('x'); [void]$l.Add('y'); $l.Count; $l -contains 'Y'; $l[1]; $l.ToArray().GetType().Name"), &["0", "2", "True", "y", "Object[]"]);
    prints(&v5("$a = @('b','A','c'); [Array]::Sort($a, [StringComparer]::Ordinal); $a -join ','; $b = @('a','B'); [Array]::Sort($b, [StringComparer]::Ordinal); $b -join ','; [Array]::Sort($b, [StringComparer]::OrdinalIgnoreCase); $b -join ','"), &["A,b,c", "B,a", "a,B"]);
    prints(&v5("$k = @('b','a'); $v = @(2,1); [Array]::Sort($k, $v); $v -join ','; $h = @{}; $h.Add('k', 1); $h.Keys; $h.GetEnumerator() | ForEach-Object { $_.Key + '=' + $_.Value }"), &["1,2", "k", "k=1"]);
    let r = v5("$h = @{a=1}; $h.Add('A', 2)");
    assert!(r.flat().contains("Item has already been added. Key in dictionary: 'a'  Key being added: 'A'"), "{}", r.err);
}

#[test]
fn math_bitconverter_guid() {
    prints(&v5("[Math]::Round(2.5); [Math]::Round(3.5); [Math]::Max(3,7); [Math]::Min(1.5, 2); [Math]::Abs(-4)"), &["2", "4", "7", "1.5", "4"]);
    prints(&v5("[BitConverter]::ToUInt32([BitConverter]::GetBytes([int]-1), 0); [BitConverter]::ToString([byte[]](1,171))"), &["4294967295", "01-AB"]);
    prints(&v5("[Guid]::NewGuid().ToString('N').Length; [Convert]::ToUInt32('ff', 16); [Convert]::ToString(255, 2)"), &["32", "255", "11111111"]);
}

#[test]
fn dates_and_spans() {
    prints(&v5("$d = [DateTime]'2024-03-04T09:00:00.5Z'; $d.ToString('o'); $d.AddDays(1).DayOfWeek; $d.Kind; ($d.AddHours(2) - $d).TotalMinutes; $d.ToString('yyyy-MM-dd HH:mm')"), &["2024-03-04T09:00:00.5000000Z", "Tuesday", "Utc", "120", "2024-03-04 09:00"]);
    prints(&v5("[TimeSpan]::FromSeconds(90).ToString(); ([DateTime]::UtcNow - [DateTime]::UtcNow).TotalDays -lt 1"), &["00:01:30", "True"]);
}

#[test]
fn environment_console_and_identity() {
    prints(&v5("[Environment]::MachineName; [Environment]::ExpandEnvironmentVariables('%SystemRoot%\\x'); [Environment]::GetFolderPath('System'); $env:COMPUTERNAME; $env:Nope -eq $null"), &["WS-001", r"C:\Windows\x", r"C:\Windows\system32", "WS-001", "True"]);
    prints(&v5("[Console]::Out.Write('a'); [Console]::Out.WriteLine('b'); 'c'"), &["ab", "c"]);
    let r = v5("[Console]::Error.WriteLine('raw')");
    assert_eq!(r.err, "raw\r\n");
    prints(&v5("$i = [Security.Principal.WindowsIdentity]::GetCurrent(); $i.Name; (New-Object Security.Principal.WindowsPrincipal($i)).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)"), &[r"LAB\cauterize", "True"]);
    prints(&v5("(New-Object Security.Principal.SecurityIdentifier('S-1-5-18')).Translate([Security.Principal.NTAccount]).Value"), &[r"NT AUTHORITY\SYSTEM"]);
}

/// Start-Sleep lets time pass for the command (its clocks move) without
/// holding the lab's thread.
#[test]
fn start_sleep_advances_the_commands_clock() {
    let started = std::time::Instant::now();
    prints(&v5("$a = [DateTime]::UtcNow; Start-Sleep -Seconds 30; Start-Sleep -Milliseconds 500; ([DateTime]::UtcNow - $a).TotalSeconds -ge 30.5"), &["True"]);
    assert!(started.elapsed().as_secs() < 5);
    let r = v5("Start-Sleep -Seconds soon");
    assert!(r.flat().contains("Cannot bind parameter 'Seconds'"), "{}", r.err);
}

#[test]
fn paths_and_wsman() {
    prints(&v5("Split-Path -Leaf 'C:\\Users\\bob\\NTUSER.DAT'; Split-Path 'C:\\Users\\bob\\NTUSER.DAT'; Join-Path 'C:\\Users\\bob' 'NTUSER.DAT'"), &["NTUSER.DAT", r"C:\Users\bob", r"C:\Users\bob\NTUSER.DAT"]);
    prints(&v5("(Get-Item 'WSMan:\\localhost\\Shell\\MaxShellsPerUser').Value"), &["30"]);
    prints(&v2("(Get-Item 'WSMan:\\localhost\\Shell\\MaxShellsPerUser').Value"), &["30"]);
}

#[test]
fn get_command_parameters() {
    prints(&v5("(Get-Command Split-Path).Parameters.ContainsKey('Leaf'); (Get-Command Write-Output).CommandType; (Get-Command gwmi).CommandType"), &["True", "Cmdlet", "Alias"]);
}

/// `System.Collections.Queue` (in .NET 2.0, so on PowerShell 2.0 too):
/// first in, first out; enumerating does not dequeue; Dequeue on an empty
/// queue throws InvalidOperationException "Queue empty." (docs.microsoft.com,
/// Queue.Dequeue).
#[test]
fn queue_is_first_in_first_out() {
    let script = concat!(
        "$q = New-Object System.Collections.Queue; $q.Enqueue(1); $q.Enqueue('b'); $q.Count\n",
        "@($q).Count; $q.Dequeue(); $q.Peek(); $q.Dequeue(); $q.Count\n",
        "try { [void]$q.Dequeue() } catch { $_.Exception.InnerException.GetType().FullName }\n",
    );
    for run in [v2(script), v5(script)] {
        prints(&run, &["2", "2", "1", "b", "b", "0", "System.InvalidOperationException"]);
    }
}
