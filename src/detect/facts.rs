//! The snapshot, indexed for the rules: files by path (WOW64 and 8.3
//! aware), users by SID and name, and every autostart and process turned
//! into a parsed "launch".

use std::collections::HashMap;

use super::command_line::{self, Env, ParseCtx, Parsed};
use super::file_index::Files;
use super::commands;
use super::paths::{self, Place};
use super::{ArtifactRef, Family, Finding, Grounds};
use crate::runtime::snapshot::{
    Autorun, AutorunLocation, FileFacts, Service, Snapshot, UserProfile,
};

/// Where a launch comes from.
pub(crate) use super::commands::Origin as Source;

/// One command something on the host starts (or a running process).
#[derive(Debug, Clone)]
pub(crate) struct Launch<'a> {
    pub artifact: ArtifactRef,
    pub source: Source<'a>,
    /// Value name, task leaf name, service name, consumer name, image name.
    pub name: String,
    pub user: Option<UserProfile>,
    pub parsed: Parsed,
    /// An autostart (not merely a running process).
    pub autostart: bool,
}

impl Launch<'_> {
    /// Words for the kind of mechanism, for reasons.
    pub fn what(&self) -> String {
        match self.source {
            Source::Autorun(a) => match &a.location {
                AutorunLocation::RegistryValue { key, .. } => {
                    let k = key.to_ascii_lowercase();
                    if k.ends_with("runonce") || k.ends_with("runonceex") {
                        format!("RunOnce value {}", self.name)
                    } else if k.contains("winlogon") {
                        format!("Winlogon value {}", self.name)
                    } else if k.contains("image file execution options") {
                        format!("IFEO value {}", self.name)
                    } else {
                        format!("Run value {}", self.name)
                    }
                }
                AutorunLocation::StartupFolder { path } => format!("startup item {path}"),
            },
            Source::Task(t) => format!("scheduled task {}", t.path),
            Source::Service(s) => format!("service {}", s.name),
            Source::Wmi(w) => format!("WMI consumer {}", w.consumer_name),
            Source::Process(p) => format!("process {} ({})", p.pid, paths::file_name(&p.image)),
        }
    }
    pub fn is_task(&self) -> bool {
        matches!(self.source, Source::Task(_))
    }
    pub fn is_service(&self) -> bool {
        matches!(self.source, Source::Service(_))
    }
    pub fn is_process(&self) -> bool {
        matches!(self.source, Source::Process(_))
    }
    pub fn is_run_value(&self) -> bool {
        matches!(
            self.source,
            Source::Autorun(Autorun {
                location: AutorunLocation::RegistryValue { .. },
                ..
            })
        )
    }
    pub fn hive(&self) -> Option<&str> {
        match self.source {
            Source::Autorun(Autorun {
                location: AutorunLocation::RegistryValue { hive, .. },
                ..
            }) => Some(hive),
            _ => None,
        }
    }
}

pub(crate) struct Facts<'a> {
    pub snap: &'a Snapshot,
    pub host: String,
    /// By exact path (and long path), case folded.
    exact: HashMap<String, &'a FileFacts>,
    /// By [`paths::key`] (WOW64 views folded), the one that exists first
    /// (the fleet reads files the same way).
    files: Files<'a>,
    pub launches: Vec<Launch<'a>>,
    pub system_user: UserProfile,
    local_service: UserProfile,
    network_service: UserProfile,
}

pub(crate) fn system_profile() -> UserProfile {
    service_profile("S-1-5-18")
}

fn service_profile(sid: &str) -> UserProfile {
    UserProfile::service_account(sid).expect("a service account SID")
}

impl<'a> Facts<'a> {
    pub fn new(snap: &'a Snapshot) -> Facts<'a> {
        let mut exact: HashMap<String, &FileFacts> = HashMap::new();
        for f in &snap.files {
            for p in [&f.path, &f.long_path]
                .into_iter()
                .filter(|p| !p.is_empty())
            {
                // Of two facts for one spelling, the one that exists.
                exact
                    .entry(paths::normalize(p).to_lowercase())
                    .and_modify(|e| {
                        if !e.exists && f.exists {
                            *e = f;
                        }
                    })
                    .or_insert(f);
            }
        }
        let files = Files::of(snap);
        let mut facts = Facts {
            snap,
            host: snap.computer_name.clone(),
            exact,
            files,
            launches: Vec::new(),
            system_user: system_profile(),
            local_service: service_profile("S-1-5-19"),
            network_service: service_profile("S-1-5-20"),
        };
        facts.launches = facts.build_launches();
        facts
    }

    /// File facts for a path (WOW64 views and 8.3 names resolved): the
    /// path as written when it exists, else its existing WOW64 twin, else
    /// what the snapshot says of the path as written.
    pub fn file(&self, path: &str) -> Option<&'a FileFacts> {
        let exact = self
            .exact
            .get(&paths::normalize(path).to_lowercase())
            .copied();
        if let Some(f) = exact.filter(|f| f.exists) {
            return Some(f);
        }
        if let Some(f) = self.files.get(path) {
            return Some(if f.exists { f } else { exact.unwrap_or(f) });
        }
        if path.contains('~') {
            let want = paths::key(path);
            let wc: Vec<&str> = want.split('\\').collect();
            let hits: Vec<&'a FileFacts> = self
                .files
                .iter()
                .filter(|(k, _)| {
                    let kc: Vec<&str> = k.split('\\').collect();
                    kc.len() == wc.len() && kc.iter().zip(&wc).all(|(a, b)| paths::component_eq(a, b))
                })
                .map(|(_, f)| *f)
                .collect();
            // The one that exists, whatever order the map holds them in.
            return hits.iter().find(|f| f.exists).or(hits.first()).copied();
        }
        None
    }

    /// A service's ServiceDll as the payload svchost.exe loads (expanded).
    fn service_dll(&self, s: &Service) -> Option<command_line::Payload> {
        let raw = s.service_dll.trim();
        if raw.is_empty() {
            return None;
        }
        let path = paths::normalize(&Env::for_user(None).expand(raw));
        Some(command_line::Payload::new(
            self.long_path(&path),
            command_line::Launcher::Svchost,
        ))
    }

    /// Does the snapshot show this path existing?
    pub fn exists(&self, path: &str) -> bool {
        self.file(path).is_some_and(|f| f.exists)
    }

    /// Does the snapshot show exactly this path (no WOW64 folding)? Used to
    /// tell which of System32/SysWOW64 really holds a file.
    pub fn exists_exact(&self, path: &str) -> bool {
        self.exact
            .get(&paths::normalize(path).to_lowercase())
            .is_some_and(|f| f.exists)
    }

    /// Does anything on the host sit under SysWOW64 (a 64-bit Windows)?
    /// `None` when the snapshot asked about nothing there.
    pub fn has_wow64(&self) -> Option<bool> {
        let under = |f: &&FileFacts| {
            paths::normalize(&f.path)
                .to_ascii_lowercase()
                .starts_with(r"c:\windows\syswow64\")
        };
        let mut asked = self.snap.files.iter().filter(under).peekable();
        asked.peek()?;
        Some(asked.any(|f| f.exists))
    }

    /// The long form of a path when the snapshot knows it.
    pub fn long_path(&self, path: &str) -> String {
        match self.file(path) {
            Some(f) if !f.long_path.is_empty() => paths::normalize(&f.long_path),
            Some(f) => paths::normalize(&f.path),
            None => paths::normalize(path),
        }
    }

    pub fn place(&self, path: &str) -> Place {
        paths::classify(path, &self.snap.users)
    }

    pub fn user_by_sid(&self, sid: &str) -> Option<&UserProfile> {
        if sid.eq_ignore_ascii_case("S-1-5-18") {
            return Some(&self.system_user);
        }
        if sid.eq_ignore_ascii_case("S-1-5-19") {
            return Some(&self.local_service);
        }
        if sid.eq_ignore_ascii_case("S-1-5-20") {
            return Some(&self.network_service);
        }
        self.snap
            .users
            .iter()
            .find(|u| u.sid.eq_ignore_ascii_case(sid))
    }

    /// The profile of an account word (`NT AUTHORITY\\SYSTEM`, `CORP\\bob`,
    /// a profile folder name, a SID); see [`commands::user_by_account`].
    pub fn user_by_name(&self, name: &str) -> Option<&UserProfile> {
        let n = name.rsplit('\\').next().unwrap_or(name);
        if !name.trim().is_empty()
            && let Some(sid) = commands::service_account_sid(name)
        {
            return self.user_by_sid(sid);
        }
        self.snap.users.iter().find(|u| {
            u.name.eq_ignore_ascii_case(n)
                || paths::file_name(&u.profile_path).eq_ignore_ascii_case(n)
                || u.sid.eq_ignore_ascii_case(n)
        })
    }

    /// Full paths of the entries of a folder the snapshot knows: its listing
    /// and any file facts whose parent it is.
    pub fn dir_entries(&self, dir: &str) -> Vec<String> {
        let dk = paths::key(dir);
        let mut out: Vec<String> = Vec::new();
        if let Some(d) = self.file(dir) {
            let base = self.long_path(dir);
            for e in &d.listing {
                out.push(format!("{base}\\{}", e));
            }
        }
        for f in &self.snap.files {
            if paths::key(paths::parent(&f.path)) == dk && f.exists {
                let n = paths::normalize(&f.path);
                if !out.iter().any(|o| paths::key(o) == paths::key(&n)) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Is there a folder `name` directly under `root` (from a listing or facts)?
    pub fn has_child(&self, root: &str, name: &str) -> bool {
        if root.is_empty() {
            return false;
        }
        if self
            .file(&format!("{root}\\{name}"))
            .is_some_and(|f| f.exists)
        {
            return true;
        }
        self.file(root)
            .is_some_and(|d| d.listing.iter().any(|e| e.eq_ignore_ascii_case(name)))
    }

    /// The original file name (PE version information) the snapshot
    /// gives a file, if any.
    pub fn original_name(&self, path: &str) -> Option<String> {
        self.file(path)
            .map(|f| f.original_name.trim())
            .filter(|o| !o.is_empty())
            .map(str::to_string)
    }

    /// Valid signer of a file, if the snapshot has one.
    pub fn valid_signer(&self, path: &str) -> Option<&'a str> {
        self.file(path)
            .filter(|f| f.signature.eq_ignore_ascii_case("valid") && !f.signer.is_empty())
            .map(|f| f.signer.as_str())
    }

    /// A finding on the mechanism a launch comes from, whose target is one
    /// payload (by its long path when the snapshot knows it).
    pub fn payload_finding(
        &self,
        l: &Launch,
        p: &command_line::Payload,
        family: Family,
        rule_id: &'static str,
        grounds: Grounds,
        reasons: Vec<String>,
    ) -> Finding {
        let target = vec![self.long_path(&p.path)];
        Finding::new(&self.host, l.artifact.clone(), family, rule_id, grounds, reasons, target)
    }

    fn parse(&self, cmd: &str, user: Option<&UserProfile>, cwd: Option<&str>) -> Parsed {
        let env = Env::for_user(user);
        let exists = |p: &str| self.exists(p);
        let original = |p: &str| self.original_name(p);
        let mut parsed = command_line::parse(
            cmd,
            &ParseCtx {
                env: &env,
                cwd,
                exists: &exists,
                original_name: &original,
            },
        );
        // Prefer long names the snapshot knows.
        for p in &mut parsed.payloads {
            if p.path.contains('~') {
                p.path = self.long_path(&p.path);
            }
        }
        parsed
    }

    fn build_launches(&self) -> Vec<Launch<'a>> {
        commands::commands(self.snap)
            .into_iter()
            .map(|c| {
                let (artifact, name) = match c.origin {
                    Source::Autorun(a) => match &a.location {
                        AutorunLocation::RegistryValue { hive, key, value } => (
                            ArtifactRef::RegistryAutorun {
                                hive: hive.clone(),
                                key: key.clone(),
                                value: value.clone(),
                            },
                            value.clone(),
                        ),
                        AutorunLocation::StartupFolder { path } => (
                            ArtifactRef::StartupItem { path: path.clone() },
                            paths::file_name(path).to_string(),
                        ),
                    },
                    Source::Task(t) => (
                        ArtifactRef::Task {
                            path: t.path.clone(),
                        },
                        t.path.rsplit('\\').next().unwrap_or(&t.path).to_string(),
                    ),
                    Source::Service(s) => (
                        ArtifactRef::Service {
                            name: s.name.clone(),
                        },
                        s.name.clone(),
                    ),
                    Source::Wmi(w) => (
                        ArtifactRef::Wmi {
                            filter: w.filter_name.clone(),
                            consumer: w.consumer_name.clone(),
                        },
                        w.consumer_name.clone(),
                    ),
                    Source::Process(p) => (
                        ArtifactRef::Process {
                            pid: p.pid,
                            image: p.image.clone(),
                        },
                        paths::file_name(&p.image).to_string(),
                    ),
                };
                let mut parsed = self.parse(&c.text, c.user.as_ref(), c.cwd.as_deref());
                match c.origin {
                    Source::Service(s) => {
                        if let Some(dll) = self.service_dll(s) {
                            parsed.payloads.push(dll);
                        }
                    }
                    // The image is what runs, whatever the command line's
                    // first word says (a bare name, a renamed copy): read
                    // the arguments as that program's.
                    Source::Process(p)
                        if !p.image.trim().is_empty()
                            && paths::key(&parsed.program) != paths::key(&p.image) =>
                    {
                        let again = format!("\"{}\"{}", p.image.trim(), parsed.tail);
                        parsed = Parsed {
                            raw: parsed.raw.clone(),
                            ..self.parse(&again, c.user.as_ref(), None)
                        };
                    }
                    _ => {}
                }
                Launch {
                    artifact,
                    source: c.origin,
                    name,
                    user: c.user,
                    parsed,
                    autostart: !matches!(c.origin, Source::Process(_)),
                }
            })
            .collect()
    }
}

/// Seconds since 1970 of an ISO 8601 time (`2021-01-05T10:11:12.1234567Z`,
/// offsets allowed); `None` when it does not parse.
pub(crate) fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.len() < 19 {
        return None;
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut frac = 0.0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac = format!("0.{}", &s[start..i]).parse::<f64>().ok()?;
    }
    let mut offset = 0i64;
    match b.get(i) {
        None | Some(b'Z') | Some(b'z') => {}
        Some(b'+') | Some(b'-') => {
            let sign = if b[i] == b'+' { 1 } else { -1 };
            let oh = s.get(i + 1..i + 3)?.parse::<i64>().ok()?;
            let om = s
                .get(i + 4..i + 6)
                .or_else(|| s.get(i + 3..i + 5))
                .and_then(|x| x.parse::<i64>().ok())
                .unwrap_or(0);
            offset = sign * (oh * 3600 + om * 60);
        }
        _ => return None,
    }
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = if y2 >= 0 { y2 } else { y2 - 399 } / 400;
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::parse_time;
    use super::Facts;
    use crate::detect::builder::SnapshotBuilder;

    /// Collection asks for both WOW64 views of a system path; only one
    /// holds the file. A signed program in a System32 subfolder stays
    /// signed whichever order the facts come in, by either spelling.
    #[test]
    fn a_missing_wow64_twin_never_stands_for_a_signed_system_program() {
        let sys = r"C:\Windows\System32\wbem\WmiPrvSE.exe";
        let wow = r"C:\Windows\SysWOW64\wbem\WmiPrvSE.exe";
        for twin_first in [true, false] {
            let s = SnapshotBuilder::new("WS1")
                .signed_with_missing_wow64_twin(sys, "Microsoft Windows", twin_first)
                .build();
            let f = Facts::new(&s);
            for spelling in [sys, wow, r"C:\Windows\Sysnative\wbem\WmiPrvSE.exe", r"c:\windows\system32\WBEM\wmiprvse.exe"] {
                assert_eq!(f.valid_signer(spelling), Some("Microsoft Windows"), "{spelling}, twin first: {twin_first}");
            }
            assert!(f.exists_exact(sys) && !f.exists_exact(wow));
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_time("2021-01-08T00:00:00Z").unwrap()
                - parse_time("2021-01-01T00:00:00Z").unwrap(),
            604_800.0
        );
        assert_eq!(
            parse_time("2021-01-01T01:00:00+01:00"),
            parse_time("2021-01-01T00:00:00Z")
        );
        assert!(
            (parse_time("2021-01-01T00:00:00.5Z").unwrap()
                - parse_time("2021-01-01T00:00:00Z").unwrap()
                - 0.5)
                .abs()
                < 1e-6
        );
        assert_eq!(parse_time("garbage"), None);
    }
}
