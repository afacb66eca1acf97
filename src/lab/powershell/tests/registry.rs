//! The registry facade (`Microsoft.Win32.Registry`) over the host model,
//! with .NET's RegistryKey behaviour.

use super::{prints, run_with};
use crate::lab::world::utf16;
use crate::lab::world::{HostState, RegData};

const KEY: &str = r"HKLM\SOFTWARE\CzTest";

fn prepare(w: &mut HostState) {
    let r = &mut w.registry;
    r.put(KEY, "Name", RegData::sz("text")).expect("put");
    r.put(KEY, "Flags", RegData::Dword(0xFFFF_FFFF)).expect("put");
    r.put(KEY, "Big", RegData::Qword(1 << 40)).expect("put");
    r.put(KEY, "Path", RegData::expand_sz("%SystemRoot%\\x")).expect("put");
    r.put(KEY, "List", RegData::MultiSz(vec!["a".into(), "".into(), "b".into()])).expect("put");
    r.put(KEY, "Blob", RegData::Binary(vec![1, 2, 255])).expect("put");
    r.put(&format!(r"{KEY}\Sub"), "x", RegData::sz("y")).expect("put");
}

fn run(script: &str) -> (super::Run, HostState) {
    run_with("5.1.19041.1", prepare, &format!("$k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\\CzTest'); {script}"))
}

#[test]
fn values_read_with_dotnet_types() {
    let (r, _) = run(concat!(
        "$k.GetValue('Name'); $k.GetValue('Flags'); $k.GetValue('Flags').GetType().Name; $k.GetValue('Big').GetType().Name; ",
        "$k.GetValue('Path'); $k.GetValue('Path', $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames); ",
        "$k.GetValue('List').Count; $k.GetValue('Blob') -is [byte[]]; $k.GetValueKind('Flags'); $k.GetValueNames().Count; $k.GetSubKeyNames(); $k.Name"
    ));
    prints(&r, &["text", "-1", "Int32", "Int64", r"C:\Windows\x", r"%SystemRoot%\x", "3", "True", "DWord", "6", "Sub", r"HKEY_LOCAL_MACHINE\SOFTWARE\CzTest"]);
}

#[test]
fn missing_keys_and_values() {
    let (r, _) = run("$null -eq $k.GetValue('Nope'); $k.GetValue('Nope', 'dflt'); $null -eq [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\\NoSuchKey')");
    prints(&r, &["True", "dflt", "True"]);
    let (r, _) = run("$k.GetValueKind('Nope')");
    assert!(r.flat().contains("Exception calling \"GetValueKind\" with \"1\" argument(s): \"The system cannot find the file specified."), "{}", r.err);
}

#[test]
fn writes_need_a_writable_key() {
    let (r, w) = run("$k.DeleteValue('Name')");
    assert!(r.flat().contains("Cannot write to the registry key."), "{}", r.err);
    assert!(w.registry.get_value(KEY, "Name").is_ok());
    let (r, w) = run("$w = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\\CzTest', $true); $w.DeleteValue('Name'); $w.SetValue('New', 5); $w.Close(); 'ok'");
    prints(&r, &["ok"]);
    assert!(w.registry.get_value(KEY, "Name").is_err());
    assert_eq!(w.registry.get_value(KEY, "New").ok(), Some(&RegData::Dword(5)));
    let (r, _) = run("$w = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\\CzTest', $true); $w.DeleteValue('Nope')");
    assert!(r.flat().contains("No value exists with that name."), "{}", r.err);
}

#[test]
fn a_closed_key_throws() {
    let (r, _) = run("$k.Close(); $k.GetValueNames()");
    assert!(r.flat().contains("Cannot access a closed registry key."), "{}", r.err);
}

/// A value whose name holds an unpaired UTF-16 surrogate (the registry
/// accepts it) is found by enumeration and deleted by that name.
#[test]
fn a_name_with_an_unpaired_surrogate_round_trips() {
    let name = utf16::from_units(&[u16::from(b'r'), 0xD800, u16::from(b'n')]);
    let (r, w) = run_with(
        "5.1.19041.1",
        |w| {
            w.registry.put(KEY, &name, RegData::sz("loader")).expect("put");
        },
        concat!(
            "$w = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('SOFTWARE\\CzTest', $true); ",
            "$n = @($w.GetValueNames())[0]; $n.Length; [int]$n[1]; $w.GetValue($n); $w.DeleteValue($n); $w.GetValueNames().Count"
        ),
    );
    prints(&r, &["3", "55296", "loader", "0"]);
    assert!(w.registry.get_value(KEY, &name).is_err(), "the value is gone");
}
