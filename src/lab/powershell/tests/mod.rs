//! The engine's semantics, one test per behaviour, each with what Windows
//! PowerShell really does written beside it (and where it is documented).
//! Scripts run on a lab host of the given PowerShell version through the
//! same entry point WinRM commands use.
//!
//! Parts: [`versions`] (what differs between 2.0, 5.1 and 7),
//! [`conversions`], [`operators`], [`flow`] (functions, scopes, pipelines,
//! errors), [`dotnet`] (the .NET basics), [`registry`] (the registry
//! facade).

mod conversions;
mod dotnet;
mod flow;
mod operators;
mod registry;
mod versions;

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use crate::lab::emulate::Target;
use crate::lab::spec::{HostSpec, HostWorld, LabSettings};
use crate::lab::world::HostState;

/// What a script printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub out: String,
    /// Stderr as a person reads it (CLIXML decoded).
    pub err: String,
    pub code: i32,
}

impl Run {
    /// Stderr with the console's line wrapping undone.
    pub fn flat(&self) -> String {
        self.err.replace("\r\n", "")
    }

    /// Stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        let t = self.out.strip_suffix("\r\n").unwrap_or(&self.out);
        if t.is_empty() { Vec::new() } else { t.split("\r\n").collect() }
    }
}

pub fn host() -> &'static (HostSpec, HostState) {
    static HOST: OnceLock<(HostSpec, HostState)> = OnceLock::new();
    HOST.get_or_init(|| {
        let spec = crate::lab::scenario::simple(1, Ipv4Addr::new(127, 40, 9, 1), 5985).hosts.remove(0);
        let lab = LabSettings::default();
        let world = crate::lab::network::build::host_state(&spec, &HostWorld::derived(&spec, 0), &lab, lab.start);
        (spec, world)
    })
}

/// Run `script` on a fresh lab host with PowerShell `version`, after
/// `prepare` changed its state; returns the run and the host afterwards.
pub fn run_with(version: &str, prepare: impl FnOnce(&mut HostState), script: &str) -> (Run, HostState) {
    let mut world = host().1.clone();
    prepare(&mut world);
    let run = run_on(&mut world, version, script);
    (run, world)
}

/// Run `script` on `world` (any host state) with PowerShell `version`,
/// as the lab's `cauterize` administrator.
pub fn run_on(world: &mut HostState, version: &str, script: &str) -> Run {
    let (spec, _) = host();
    world.os.ps_version = version.to_string();
    let mut shutdown = None;
    let now = LabSettings::default().start;
    let mut t = Target { host: spec, world, shutdown: &mut shutdown, now };
    let r = super::run(&mut t, r"LAB\cauterize", true, script, &[]);
    let mut decoder = winrm_rs::StderrDecoder::new();
    let mut err = decoder.push(&r.stderr);
    err.extend(decoder.finish());
    Run { out: String::from_utf8_lossy(&r.stdout).into_owned(), err: String::from_utf8_lossy(&err).into_owned(), code: r.exit_code }
}

pub fn ps(version: &str, script: &str) -> Run {
    run_with(version, |_| {}, script).0
}

/// PowerShell 2.0 (Windows 7, Server 2008 R2).
pub fn v2(script: &str) -> Run {
    ps("2.0", script)
}

/// Windows PowerShell 5.1.
pub fn v5(script: &str) -> Run {
    ps("5.1.19041.1", script)
}

/// PowerShell 7.
pub fn v7(script: &str) -> Run {
    ps("7.4.1", script)
}

/// Assert a run printed these lines and no error.
#[track_caller]
pub fn prints(r: &Run, lines: &[&str]) {
    assert_eq!(r.lines(), lines, "stderr: {}", r.err);
    assert!(r.err.is_empty(), "unexpected stderr: {}", r.err);
}

mod hostile {
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn hostile_text_parses_or_fails_quickly() {
        let alphabet: Vec<char> = "$`'\"#<>(){}[];,.:|&=-_ \n\raZ0x9é🦀\u{2018}\u{201C}@".chars().collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let len = (next(&mut seed) % 40) as usize;
            let script: String = (0..len).map(|_| alphabet[(next(&mut seed) % alphabet.len() as u64) as usize]).collect();
            let t = std::time::Instant::now();
            let _ = crate::lab::powershell::parser::parse_script(std::sync::Arc::from(script.as_str()));
            assert!(t.elapsed().as_millis() < 500, "{script:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let script = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        let r = crate::lab::powershell::parser::parse_script(std::sync::Arc::from(script.as_str()));
        assert!(r.is_err());
        let r = super::v5(&"@{a=".repeat(3000));
        assert_eq!(r.code, 1);
    }
}
