//! `netsh advfirewall` run through the engine on a lab host: the firewall
//! model changes as Windows' would, and the exit codes and English text
//! are netsh's.

use crate::lab::powershell::tests::{host, run_as, run_with};
use crate::lab::world::firewall::{Direction, Protocol, Reason, Verdict};
use crate::lab::world::netaddr::PortList;

/// A block rule added by netsh is in the model with every field given; a
/// second rule of the same name is added too; `delete rule` narrowed by
/// `dir=` removes only the inbound ones and counts them; deleting again
/// matches nothing (exit 1).
#[test]
fn add_and_delete_rules_change_the_firewall() {
    let script = r#"
$o = netsh advfirewall firewall add rule name="cz smb" dir=in action=block protocol=TCP localport=445,139; "$LASTEXITCODE [$($o -join '|')]"
$o = netsh advfirewall firewall add rule name="cz smb" dir=in action=block protocol=TCP localport='445,139' remoteip='10.0.0.5,10.0.0.7-10.0.0.9' profile='domain,private' enable=no description=contain
"$LASTEXITCODE [$($o -join '|')]"
netsh advfirewall firewall add rule name="cz smb" dir=out action=block protocol=tcp remoteport=445 | Out-Null; $LASTEXITCODE
netsh advfirewall firewall add rule name="CZ SMB" dir=in action=block | Out-Null; $LASTEXITCODE
$o = netsh advfirewall firewall delete rule name="cz smb" dir=in
"$LASTEXITCODE [$($o -join '|')]"
$o = netsh advfirewall firewall delete rule name="cz smb" dir=in
"$LASTEXITCODE [$($o -join '|')]"
"#;
    let before = host().1.firewall.rules().len();
    let (r, world) = run_with("5.1.19041.1", |_| {}, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            // Unquoted, PowerShell passes `445,139` as two arguments, as on
            // Windows, and netsh refuses the second.
            "1 ['139' is not a valid argument for this command.|]",
            "0 [Ok.|]",
            "0",
            "0",
            "0 [|Deleted 2 rule(s).|Ok.|]",
            "1 [|No rules match the specified criteria.|]",
        ]
    );
    let fw = &world.firewall;
    assert_eq!(fw.rules().len(), before + 1);
    let left: Vec<_> = fw.rules_named("cz smb").collect();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].direction, left[0].action, left[0].protocol), (Direction::Out, Verdict::Block, Protocol::Tcp));
    assert_eq!(left[0].remote_ports, PortList::ports(&[445]));
}

/// The rule netsh added reads back through `show rule` in netsh's layout
/// (and through the COM API, the same rule); the inbound block decides
/// traffic from the listed addresses only.
#[test]
fn show_rule_prints_what_was_added() {
    let script = r#"
netsh advfirewall firewall add rule name=cz-in dir=in action=block protocol=tcp localport=445 remoteip='10.0.0.5,10.0.0.7-10.0.0.9' | Out-Null
$o = netsh advfirewall firewall show rule name=cz-in; $LASTEXITCODE
$o
$o = netsh advfirewall firewall show rule name=cz-in verbose
($o | Where-Object { $_ -like 'Rule source:*' -or $_ -like 'Description:*' }) -join '|'
(New-Object -ComObject HNetCfg.FwPolicy2).Rules.Item('cz-in').RemoteAddresses
"#;
    let (r, world) = run_with("2.0", |_| {}, script);
    assert!(r.err.is_empty(), "{}", r.err);
    let pad = |label: &str, v: &str| format!("{label:<38}{v}");
    let mut want = vec![
        "0".to_string(),
        String::new(),
        pad("Rule Name:", "cz-in"),
        "-".repeat(70),
        pad("Enabled:", "Yes"),
        pad("Direction:", "In"),
        pad("Profiles:", "Domain,Private,Public"),
        pad("Grouping:", ""),
        pad("LocalIP:", "Any"),
        pad("RemoteIP:", "10.0.0.5/32,10.0.0.7-10.0.0.9"),
        pad("Protocol:", "TCP"),
        pad("LocalPort:", "445"),
        pad("RemotePort:", "Any"),
        pad("Edge traversal:", "No"),
        pad("Action:", "Block"),
        String::new(),
        "Ok.".into(),
        String::new(),
    ];
    want.push(format!("{}|{}", pad("Description:", ""), pad("Rule source:", "Local Setting")));
    want.push("10.0.0.5/255.255.255.255,10.0.0.7-10.0.0.9".into());
    assert_eq!(r.lines(), want);
    let fw = &world.firewall;
    let why = |ip: &str| fw.decide_explained(Direction::In, Protocol::Tcp, 445, ip.parse().unwrap(), 50000).reason;
    let ours = Reason::BlockRule("cz-in".into());
    assert_eq!(why("10.0.0.8"), ours);
    assert_ne!(why("10.0.0.6"), ours);
}

/// `show rule name=all dir=in` lists only inbound rules; a name nobody has
/// is "No rules match" with exit 1.
#[test]
fn show_rule_all_filters_by_direction() {
    let script = r#"
netsh advfirewall firewall add rule name=cz-out dir=out action=block protocol=tcp remoteport=445 | Out-Null
$o = netsh advfirewall firewall show rule name=all dir=in; $LASTEXITCODE
@($o | Where-Object { $_ -like 'Rule Name:*' }).Count
@($o | Where-Object { $_ -like 'Direction:*Out' }).Count
$o = netsh advfirewall firewall show rule name=all dir=out; @($o | Where-Object { $_ -like 'Rule Name:*cz-out' }).Count
$o = netsh advfirewall firewall show rule name=nobody; $LASTEXITCODE; $o[1]
"#;
    let inbound = host().1.firewall.rules().iter().filter(|r| r.direction == Direction::In).count();
    let (r, _) = run_with("5.1.19041.1", |_| {}, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(r.lines(), ["0", &inbound.to_string(), "0", "1", "1", "No rules match the specified criteria."]);
}

/// Profiles switch off and on; `show allprofiles state` and
/// `show currentprofile` read the model back.
#[test]
fn profile_state_is_set_and_shown() {
    let script = r#"
netsh advfirewall set publicprofile state off | Out-Null; $LASTEXITCODE
$o = netsh advfirewall show allprofiles state; $LASTEXITCODE
($o | Where-Object { $_ -like 'State*' }) -replace '\s+', ' '
$o = netsh advfirewall show currentprofile
($o | Where-Object { $_ -like '*Profile Settings:*' -or $_ -like 'Firewall Policy*' }) -replace '\s+', ' '
netsh advfirewall set allprofiles state on | Out-Null; $LASTEXITCODE
"#;
    let (r, world) = run_with("5.1.19041.1", |h| h.firewall.active = crate::lab::world::firewall::ProfileKind::Domain, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        ["0", "0", "State ON", "State ON", "State OFF", "Domain Profile Settings: ", "Firewall Policy BlockInbound,AllowOutbound", "0"]
    );
    assert!(world.firewall.public.enabled && world.firewall.domain.enabled);
    let (_, world) = run_with("5.1.19041.1", |_| {}, "netsh advfirewall set domainprofile state off");
    assert!(!world.firewall.domain.enabled && world.firewall.private.enabled);
}

/// What Windows refuses is refused as netsh refuses it (an add-only
/// argument on delete, a missing `dir=`, the reserved name `all`, ports
/// without TCP/UDP, an unknown command, a non-elevated change), and what
/// the lab cannot model fails saying so; none of them changes the
/// firewall.
#[test]
fn refusals_and_what_the_lab_does_not_model() {
    let script = r#"
$o = netsh advfirewall firewall delete rule name=x action=block; "$LASTEXITCODE $(@($o)[0])"
$o = netsh advfirewall firewall add rule name=x action=block; "$LASTEXITCODE $(@($o)[0])"
$o = netsh advfirewall firewall add rule name=all dir=in action=block; "$LASTEXITCODE $(@($o)[0])"
$o = netsh advfirewall firewall add rule name=x dir=in action=block localport=445; "$LASTEXITCODE $(@($o)[0])"
$o = netsh advfirewall firewall add rule name=x dir=sideways action=block; "$LASTEXITCODE $(@($o)[0])"
$o = netsh advfirewall firewall frobnicate rule; "$LASTEXITCODE $(@($o)[0])"
$e = netsh advfirewall firewall add rule name=x dir=in action=block remoteip=localsubnet 2>&1; "$LASTEXITCODE $e"
$e = netsh advfirewall firewall add rule name=x dir=in action=allow program=C:\x.exe 2>&1; "$LASTEXITCODE $e"
$e = netsh interface ipv4 show addresses 2>&1; "$LASTEXITCODE $e"
"#;
    let (r, world) = run_with("5.1.19041.1", |_| {}, script);
    assert!(r.err.is_empty(), "{}", r.err);
    assert_eq!(
        r.lines(),
        [
            "1 'action' is not a valid argument for this command.",
            "1 Usage: add rule name=<string> dir=in|out action=allow|block|bypass [...]",
            "1 A specified value is not valid.",
            "1 The specified ports are valid only with protocol=tcp or protocol=udp.",
            "1 A specified value is not valid.",
            "1 The following command was not found: advfirewall firewall frobnicate rule.",
            "1 The cauterize lab's netsh.exe does not support 'remoteip=localsubnet'.",
            "1 The cauterize lab's netsh.exe does not support 'program='.",
            "1 The cauterize lab's netsh.exe does not support 'interface'.",
        ]
    );
    assert_eq!(world.firewall.rules().len(), host().1.firewall.rules().len());

    let mut w = host().1.clone();
    let r = run_as(
        &mut w,
        "5.1.19041.1",
        false,
        "$o = netsh advfirewall firewall add rule name=x dir=in action=block; \"$LASTEXITCODE $($o[0])\"\n$o = netsh advfirewall firewall show rule name=all; $LASTEXITCODE",
    );
    assert_eq!(r.lines(), ["1 The requested operation requires elevation (Run as administrator).", "0"], "{}", r.err);
    assert_eq!(w.firewall.rules().len(), host().1.firewall.rules().len());
}
