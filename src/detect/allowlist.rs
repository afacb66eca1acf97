//! The allow-list: built-in known-good software (trusted publishers in
//! their usual places, and product patterns from the documented benign
//! look-alikes) plus the user's own list. A match never deletes a finding:
//! it is kept, with `allowlisted: Some(reason)`, shown and not planned.
//!
//! A built-in match always requires the real location (and the real signer
//! when the snapshot has one): a file merely *named* like a product in a
//! random folder is not spared.
//!
//! User list format, one entry a line (`#` comments):
//! ```text
//! sha256:<64 hex>
//! path:C:\Users\*\AppData\Local\Vendor\**
//! signer:Contoso Ltd
//! ```
//! or the same as YAML lists:
//! ```yaml
//! sha256: [<hex>, ...]
//! paths:
//!   - 'C:\Tools\*.dll'
//! signers:
//!   - Contoso Ltd
//! ```
//! Globs: `*` any characters within one path component, `**` any
//! characters, `?` one character; case-insensitive.

use super::command_line::Launcher;
use super::facts::{Facts, Launch, Source};
use super::paths::{self, Area};
use super::{ArtifactRef, Finding};

/// The user's allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    pub sha256: Vec<String>,
    pub paths: Vec<String>,
    pub signers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AllowListError {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sha,
    Path,
    Signer,
}

fn kind_of(k: &str) -> Option<Kind> {
    match k.trim().to_ascii_lowercase().as_str() {
        "sha256" | "sha256s" | "hash" | "hashes" => Some(Kind::Sha),
        "path" | "paths" => Some(Kind::Path),
        "signer" | "signers" => Some(Kind::Signer),
        _ => None,
    }
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && ((t.starts_with('\'') && t.ends_with('\'')) || (t.starts_with('"') && t.ends_with('"')))
    {
        let inner = &t[1..t.len() - 1];
        if t.starts_with('\'') {
            inner.replace("''", "'")
        } else {
            inner.to_string()
        }
    } else {
        t.to_string()
    }
}

/// Strip a trailing ` # comment` (not inside quotes).
fn strip_comment(s: &str) -> &str {
    let mut in_s = false;
    let mut in_d = false;
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            '\'' if !in_d => in_s = !in_s,
            '"' if !in_s => in_d = !in_d,
            '#' if !in_s && !in_d && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') => {
                return &s[..i];
            }
            _ => {}
        }
    }
    s
}

impl AllowList {
    /// Parse the user's allow-list (simple lines or YAML lists).
    pub fn parse(text: &str) -> Result<AllowList, AllowListError> {
        let mut a = AllowList::default();
        let mut section: Option<Kind> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = strip_comment(raw.trim_start_matches('\u{feff}')).trim_end();
            let t = line.trim();
            if t.is_empty() || t == "---" {
                continue;
            }
            if let Some(item) = t.strip_prefix("- ").or_else(|| (t == "-").then_some("")) {
                let item = item.trim();
                // `- sha256: <hex>` or `- <value>` under a section.
                if let Some((k, v)) = item.split_once(':')
                    && let Some(kind) = kind_of(k)
                    && !v.trim().is_empty()
                {
                    a.add(kind, &unquote(v), line_no)?;
                    continue;
                }
                match section {
                    Some(kind) => a.add(kind, &unquote(item), line_no)?,
                    None => {
                        return Err(AllowListError { line: line_no, message: "a list item outside a section: put it under `sha256:`, `paths:` or `signers:`".into() })
                    }
                }
                continue;
            }
            let Some((k, v)) = t.split_once(':') else {
                return Err(AllowListError {
                    line: line_no,
                    message: format!(
                        "expected `sha256:<hex>`, `path:<glob>` or `signer:<name>`, found '{t}'"
                    ),
                });
            };
            let Some(kind) = kind_of(k) else {
                return Err(AllowListError {
                    line: line_no,
                    message: format!(
                        "unknown entry kind '{}': use sha256, path or signer",
                        k.trim()
                    ),
                });
            };
            let v = v.trim();
            if v.is_empty() {
                section = Some(kind);
                continue;
            }
            section = None;
            if v.starts_with('[') && v.ends_with(']') {
                for item in v[1..v.len() - 1]
                    .split(',')
                    .map(unquote)
                    .filter(|s| !s.is_empty())
                {
                    a.add(kind, &item, line_no)?;
                }
            } else {
                a.add(kind, &unquote(v), line_no)?;
            }
        }
        Ok(a)
    }

    fn add(&mut self, kind: Kind, v: &str, line: usize) -> Result<(), AllowListError> {
        let v = v.trim();
        if v.is_empty() {
            return Err(AllowListError {
                line,
                message: "empty value".into(),
            });
        }
        match kind {
            Kind::Sha => {
                if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(AllowListError {
                        line,
                        message: format!("expected a SHA-256 (64 hex digits), found '{v}'"),
                    });
                }
                self.sha256.push(v.to_ascii_lowercase());
            }
            Kind::Path => self.paths.push(v.to_string()),
            Kind::Signer => self.signers.push(v.to_string()),
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.sha256.is_empty() && self.paths.is_empty() && self.signers.is_empty()
    }
}

/// Case-insensitive glob over normalised Windows paths.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = paths::normalize(pattern).to_lowercase().chars().collect();
    let s: Vec<char> = paths::normalize(path).to_lowercase().chars().collect();
    fn m(p: &[char], s: &[char]) -> bool {
        if p.is_empty() {
            return s.is_empty();
        }
        if p.len() >= 2 && p[0] == '*' && p[1] == '*' {
            let rest = &p[2..];
            return (0..=s.len()).any(|i| m(rest, &s[i..]));
        }
        match p[0] {
            '*' => {
                let rest = &p[1..];
                let mut i = 0;
                loop {
                    if m(rest, &s[i..]) {
                        return true;
                    }
                    if i >= s.len() || s[i] == '\\' {
                        return false;
                    }
                    i += 1;
                }
            }
            '?' => !s.is_empty() && s[0] != '\\' && m(&p[1..], &s[1..]),
            c => !s.is_empty() && s[0] == c && m(&p[1..], &s[1..]),
        }
    }
    m(&p, &s)
}

/// The files a finding is about, for allow-list checks (targets, else the
/// artifact's own path).
fn subject_files(fd: &Finding) -> Vec<String> {
    if !fd.target_files.is_empty() {
        return fd.target_files.clone();
    }
    match &fd.artifact {
        ArtifactRef::File { path }
        | ArtifactRef::Folder { path }
        | ArtifactRef::StartupItem { path } => vec![path.clone()],
        ArtifactRef::Process { image, .. } => vec![image.clone()],
        _ => vec![],
    }
}

fn user_reason(f: &Facts, a: &AllowList, fd: &Finding) -> Option<String> {
    if a.is_empty() {
        return None;
    }
    let files = subject_files(fd);
    if files.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    for file in &files {
        let facts = f.file(file);
        let by_hash = facts
            .filter(|x| !x.sha256.is_empty())
            .and_then(|x| a.sha256.iter().find(|h| h.eq_ignore_ascii_case(&x.sha256)));
        let by_path = a.paths.iter().find(|g| glob_match(g, file));
        let by_signer = f
            .valid_signer(file)
            .and_then(|s| a.signers.iter().find(|n| n.eq_ignore_ascii_case(s)));
        if let Some(h) = by_hash {
            why.push(format!("{file}: SHA-256 {h} is on the user's allow-list"));
        } else if let Some(g) = by_path {
            why.push(format!("{file} matches the user's allowed path {g}"));
        } else if let Some(s) = by_signer {
            why.push(format!(
                "{file} is validly signed by {s}, an allowed signer"
            ));
        } else {
            return None;
        }
    }
    Some(why.join("; "))
}

/// Trusted publishers and where their files normally live.
struct Vendor {
    signer: &'static str,
    program_files: bool,
    system: bool,
    /// Per-user folders, as `area:<first folder>` (e.g. `local:Google`).
    user_dirs: &'static [&'static str],
}

const VENDORS: &[Vendor] = &[
    Vendor {
        signer: "microsoft windows",
        program_files: true,
        system: true,
        user_dirs: &[],
    },
    Vendor {
        signer: "microsoft corporation",
        program_files: true,
        system: true,
        user_dirs: &["local:Microsoft", "local:Programs"],
    },
    Vendor {
        signer: "google llc",
        program_files: true,
        system: false,
        user_dirs: &["local:Google"],
    },
    Vendor {
        signer: "google inc",
        program_files: true,
        system: false,
        user_dirs: &["local:Google"],
    },
    Vendor {
        signer: "zoom video communications",
        program_files: true,
        system: false,
        user_dirs: &["roaming:Zoom"],
    },
    Vendor {
        signer: "slack technologies",
        program_files: true,
        system: false,
        user_dirs: &["local:slack"],
    },
    Vendor {
        signer: "spotify",
        program_files: true,
        system: false,
        user_dirs: &["roaming:Spotify", "local:Spotify"],
    },
    Vendor {
        signer: "adobe",
        program_files: true,
        system: false,
        user_dirs: &[],
    },
    Vendor {
        signer: "logitech",
        program_files: true,
        system: true,
        user_dirs: &[],
    },
    Vendor {
        signer: "mozilla corporation",
        program_files: true,
        system: false,
        user_dirs: &["local:Mozilla"],
    },
    Vendor {
        signer: "lenovo",
        program_files: true,
        system: true,
        user_dirs: &["programdata:Lenovo"],
    },
    Vendor {
        signer: "dropbox",
        program_files: true,
        system: false,
        user_dirs: &["roaming:Dropbox", "local:Dropbox"],
    },
    Vendor {
        signer: "discord inc",
        program_files: false,
        system: false,
        user_dirs: &["local:Discord"],
    },
    Vendor {
        signer: "cisco",
        program_files: true,
        system: false,
        user_dirs: &["local:WebEx", "local:CiscoSpark", "local:Programs"],
    },
    Vendor {
        signer: "logmein",
        program_files: true,
        system: false,
        user_dirs: &["local:GoToMeeting"],
    },
    Vendor {
        signer: "facebook",
        program_files: false,
        system: false,
        user_dirs: &["local:Facebook"],
    },
    Vendor {
        signer: "nvidia corporation",
        program_files: true,
        system: true,
        user_dirs: &[],
    },
    Vendor {
        signer: "intel corporation",
        program_files: true,
        system: true,
        user_dirs: &[],
    },
    Vendor {
        signer: "apple inc",
        program_files: true,
        system: false,
        user_dirs: &[],
    },
    Vendor {
        signer: "oracle",
        program_files: true,
        system: false,
        user_dirs: &[],
    },
    Vendor {
        signer: "github",
        program_files: false,
        system: false,
        user_dirs: &["local:GitHubDesktop"],
    },
];

fn vendor_in_place(f: &Facts, file: &str) -> Option<String> {
    let signer = f.valid_signer(file)?;
    let ls = signer.to_ascii_lowercase();
    let v = VENDORS.iter().find(|v| publisher_is(&ls, v.signer))?;
    let place = f.place(file);
    let ok = match place.area {
        Area::ProgramFiles => v.program_files,
        Area::System | Area::Windows => v.system,
        Area::LocalAppData | Area::RoamingAppData | Area::ProgramData => {
            v.user_dirs.iter().any(|d| {
                let (area, dir) = d.split_once(':').unwrap_or(("", d));
                let area_ok = (area == "local" && place.area == Area::LocalAppData)
                    || (area == "roaming" && place.area == Area::RoamingAppData)
                    || (area == "programdata" && place.area == Area::ProgramData);
                area_ok && place.rel.len() >= 2 && place.rel[0].eq_ignore_ascii_case(dir)
            })
        }
        _ => false,
    };
    ok.then(|| {
        format!("{file} is validly signed by {signer} and sits where that publisher installs")
    })
}

/// A built-in product entry: what it is matched on, where its file must
/// be, and who must have signed that file when the snapshot read its
/// signature (empty: any valid signature; the sources name no publisher).
struct Product {
    publishers: &'static [&'static str],
}

const MS_WINDOWS: Product = Product {
    publishers: &["microsoft windows"],
};
const MS_CORP: Product = Product {
    publishers: &["microsoft corporation"],
};
const ANY_SIGNER: Product = Product { publishers: &[] };

/// rundll32 DLL,export pairs of known products, with the folders they
/// must be in and their publisher.
const KNOWN_EXPORTS: &[(&str, &str, &[Area], Product)] = &[
    (
        "advpack.dll",
        "DelNodeRunDLL32",
        &[Area::System],
        MS_WINDOWS,
    ),
    (
        "logilda.dll",
        "LogiFetch",
        &[Area::System, Area::ProgramFiles],
        Product {
            publishers: &["logitech"],
        },
    ),
    (
        "spectrum_core.dll",
        "RunDLL",
        &[Area::System, Area::ProgramFiles, Area::ProgramData],
        Product {
            publishers: &["lenovo"],
        },
    ),
    ("printui.dll", "PrintUIEntry", &[Area::System], MS_WINDOWS),
    (
        "user32.dll",
        "UpdatePerUserSystemParameters",
        &[Area::System],
        MS_WINDOWS,
    ),
    (
        "dfshim.dll",
        "ShArpMaintain",
        &[Area::System, Area::Windows],
        Product {
            publishers: &["microsoft corporation", "microsoft windows"],
        },
    ),
    (
        "dfshim.dll",
        "ShOpenVerbShortcut",
        &[Area::System, Area::Windows],
        Product {
            publishers: &["microsoft corporation", "microsoft windows"],
        },
    ),
    ("eed_ec.dll", "SpeedLauncher", &[Area::System], ANY_SIGNER),
    (
        "bit4upki-store.dll",
        "RunImportServer",
        &[Area::System],
        ANY_SIGNER,
    ),
    ("shell32.dll", "Control_RunDLL", &[Area::System], MS_WINDOWS),
];

/// Known product tasks: name prefix, where the action must be, publisher.
const KNOWN_TASKS: &[(&str, &[&str], Product)] = &[
    (
        "onedrive standalone update task-",
        &["local:microsoft\\onedrive\\onedrivestandaloneupdater.exe"],
        MS_CORP,
    ),
    (
        "onedrive reporting task-",
        &["local:microsoft\\onedrive\\onedrive.exe"],
        MS_CORP,
    ),
    (
        "googleupdatetask",
        &[
            "pf:google\\update\\googleupdate.exe",
            "local:google\\update\\googleupdate.exe",
        ],
        Product {
            publishers: &["google"],
        },
    ),
    (
        "microsoftedgeupdate",
        &[
            "pf:microsoft\\edgeupdate\\microsoftedgeupdate.exe",
            "local:microsoft\\edgeupdate\\microsoftedgeupdate.exe",
        ],
        MS_CORP,
    ),
    (
        "adobe acrobat update task",
        &["pf:common files\\adobe\\arm\\*\\adobearm.exe"],
        Product {
            publishers: &["adobe"],
        },
    ),
    (
        "facebookupdatetaskuser",
        &["local:facebook\\update\\facebookupdate.exe"],
        Product {
            publishers: &["facebook"],
        },
    ),
    (
        "firefox default browser agent",
        &["pf:mozilla firefox\\default-browser-agent.exe"],
        Product {
            publishers: &["mozilla"],
        },
    ),
    ("microsoft office 1", &["pf:microsoft office\\**"], MS_CORP),
    (
        "nvidia",
        &["pf:nvidia corporation\\**", "sys:**"],
        Product {
            publishers: &["nvidia"],
        },
    ),
];

/// Known product services: name, where the program must be (under
/// Program Files), publisher.
const KNOWN_SERVICES: &[(&str, &str, Product)] = &[
    (
        "gupdate",
        "google\\update\\googleupdate.exe",
        Product {
            publishers: &["google"],
        },
    ),
    (
        "gupdatem",
        "google\\update\\googleupdate.exe",
        Product {
            publishers: &["google"],
        },
    ),
    (
        "adobearmservice",
        "common files\\adobe\\arm\\**",
        Product {
            publishers: &["adobe"],
        },
    ),
    (
        "zoom sharing service",
        "zoom\\**",
        Product {
            publishers: &["zoom video communications"],
        },
    ),
];

/// Is `signer` (a certificate's simple name) the publisher `publisher`
/// (lower-case)? The name starts with the publisher's (`Google LLC`,
/// `Lenovo (Beijing) Limited`, `Microsoft Windows Publisher`), not merely
/// contains it (`Not Microsoft Corporation` is not Microsoft's).
fn publisher_is(signer: &str, publisher: &str) -> bool {
    signer
        .trim()
        .to_ascii_lowercase()
        .strip_prefix(publisher)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ',', '.', '(']))
}

/// The allow-list header's rule for a built-in product match: when the
/// snapshot read the file's signature, it must be valid and by the
/// product's publisher. `Ok` says how the file was judged (for the
/// reason); `Err` why the entry does not spare it.
fn signed_as(f: &Facts, file: &str, product: &Product) -> Result<String, String> {
    let Some(ff) = f.file(file).filter(|x| x.exists) else {
        return Ok("its signature was not collected".into());
    };
    let status = ff.signature.to_ascii_lowercase();
    if status.is_empty() || status == "unknown" {
        return Ok("its signature could not be read".into());
    }
    let signer = ff.signer.trim();
    if status != "valid" || signer.is_empty() {
        return Err(format!(
            "{} is not validly signed ({status})",
            paths::file_name(file)
        ));
    }
    if product.publishers.is_empty() || product.publishers.iter().any(|p| publisher_is(signer, p)) {
        Ok(format!("validly signed by {signer}"))
    } else {
        Err(format!(
            "{} is signed by {signer}, not by the product's publisher ({})",
            paths::file_name(file),
            product.publishers.join(" or ")
        ))
    }
}

fn task_action_ok(f: &Facts, path: &str, allowed: &[&str]) -> bool {
    let place = f.place(path);
    let rel = place.rel.join("\\");
    allowed.iter().any(|a| {
        let (area, pat) = a.split_once(':').unwrap_or(("", a));
        let area_ok = match area {
            "pf" => place.area == Area::ProgramFiles,
            "local" => place.area == Area::LocalAppData,
            "sys" => place.area == Area::System,
            _ => false,
        };
        area_ok && glob_match(pat, &rel)
    })
}

/// Per-user Squirrel installs: `%LOCALAPPDATA%\<App>\Update.exe --processStart <App>.exe`.
fn squirrel_ok(f: &Facts, program: &str, args: &[String]) -> bool {
    let place = f.place(program);
    if place.area != Area::LocalAppData
        || !paths::file_name(program).eq_ignore_ascii_case("update.exe")
        || !(2..=3).contains(&place.rel.len())
    {
        return false;
    }
    let i = args
        .iter()
        .position(|a| a.eq_ignore_ascii_case("--processStart"));
    let Some(target) = i.and_then(|i| args.get(i + 1)) else {
        return false;
    };
    let app_dir = paths::parent(program);
    let target_stem = paths::stem(target);
    let folder = paths::file_name(app_dir);
    folder.eq_ignore_ascii_case(target_stem)
        || folder.eq_ignore_ascii_case("teams") && target_stem.eq_ignore_ascii_case("teams")
        || folder.eq_ignore_ascii_case(target_stem.trim_end_matches("Desktop"))
        || target_stem
            .to_ascii_lowercase()
            .starts_with(&folder.to_ascii_lowercase())
}

/// A finding on a signed Windows process a loader injected into (kill
/// only): the image's signature is why the loader chose it, so it spares
/// nothing.
fn injected_process(fd: &Finding) -> bool {
    matches!(fd.artifact, ArtifactRef::Process { .. })
        && fd.target_files.is_empty()
        && fd.rule_id.ends_with("INJECTED-PROCESS")
}

/// The built-in product entry a launch matches, if any: `Ok(reason)`
/// when it spares the launch, `Err(why not)` when the entry's path and
/// name match but its file is not signed as the product's is.
fn product_entry(f: &Facts, l: &Launch) -> Option<Result<String, String>> {
    let p = &l.parsed;
    let judged = |file: &str, product: &Product, what: String| {
        Some(signed_as(f, file, product).map(|how| format!("{what} ({how})")))
    };
    if squirrel_ok(f, &p.program, &p.args) {
        return judged(
            &p.program,
            &ANY_SIGNER,
            format!(
                "{} is a per-user Squirrel installer ({} --processStart)",
                l.what(),
                p.program
            ),
        );
    }
    let prog_place = f.place(&p.program);
    if p.program_name == "onedrive.exe"
        && (prog_place.area == Area::ProgramFiles
            || prog_place.area == Area::LocalAppData
                && prog_place.rel.len() == 3
                && prog_place.rel[0].eq_ignore_ascii_case("microsoft")
                && prog_place.rel[1].eq_ignore_ascii_case("onedrive"))
    {
        return judged(
            &p.program,
            &MS_CORP,
            format!("{} is OneDrive from its install folder", l.what()),
        );
    }
    for pl in p.payloads.iter().filter(|pl| pl.via == Launcher::Rundll32) {
        let name = paths::file_name(&pl.path).to_ascii_lowercase();
        let place = f.place(&pl.path);
        let Some((_, export, areas, product)) = KNOWN_EXPORTS.iter().find(|(d, e, _, _)| {
            *d == name
                && pl
                    .export
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(e))
        }) else {
            continue;
        };
        let vendor_dir_ok = place.area != Area::ProgramData
            || place
                .rel
                .first()
                .is_some_and(|d| d.eq_ignore_ascii_case("lenovo"));
        if areas.contains(&place.area) && vendor_dir_ok {
            return judged(
                &pl.path,
                product,
                format!(
                    "{} runs {},{export} from {}, a known product entry point in its real folder",
                    l.what(),
                    paths::file_name(&pl.path),
                    paths::parent(&pl.path)
                ),
            );
        }
    }
    if let Source::Task(t) = l.source {
        let leaf = l.name.to_ascii_lowercase();
        if let Some((prefix, _, product)) = KNOWN_TASKS.iter().find(|(pre, allowed, _)| {
            (leaf.starts_with(pre) || t.path.to_ascii_lowercase().contains(&format!("\\{pre}")))
                && task_action_ok(f, &p.program, allowed)
        }) {
            return judged(
                &p.program,
                product,
                format!(
                    "task {} is the known product task '{prefix}*' running {} from its real folder",
                    t.path, p.program
                ),
            );
        }
    }
    if let Source::Service(s) = l.source
        && let Some((_, _, product)) = KNOWN_SERVICES.iter().find(|(k, pat, _)| {
            s.name.eq_ignore_ascii_case(k)
                && prog_place.area == Area::ProgramFiles
                && glob_match(pat, &prog_place.rel.join("\\"))
        })
    {
        return judged(
            &p.program,
            product,
            format!(
                "service {} is the known product service running {}",
                s.name, p.program
            ),
        );
    }
    None
}

fn builtin_reason(f: &Facts, fd: &Finding) -> Option<String> {
    if injected_process(fd) {
        return None;
    }
    // Product patterns on the mechanism; each needs the product's signer
    // on the file when the snapshot read it.
    for l in f.launches.iter().filter(|l| l.artifact == fd.artifact) {
        if let Some(r) = product_entry(f, l) {
            return r.ok();
        }
    }
    // EmoCheck's cue: a signed file in a %LOCALAPPDATA% folder whose name
    // a product also uses under Program Files or the user's %APPDATA%.
    let subj: Vec<String> = subject_files(fd)
        .into_iter()
        .filter(|x| !f.file(x).is_some_and(|y| y.is_dir))
        .collect();
    if !subj.is_empty() {
        let mut why = Vec::new();
        for file in &subj {
            let place = f.place(file);
            let signer = f.valid_signer(file);
            let user_appdata = place
                .user
                .as_deref()
                .and_then(|u| f.user_by_name(u))
                .map(|u| u.appdata.clone());
            let elsewhere = (place.area == Area::LocalAppData && place.rel.len() >= 2)
                .then(|| {
                    super::families::name_exists_elsewhere(
                        f,
                        user_appdata.as_deref(),
                        &place.rel[0],
                    )
                })
                .flatten();
            match (signer, elsewhere) {
                (Some(s), Some(e)) => why.push(format!(
                    "{file} is signed by {s} and its folder name is a product's ({e} exists)"
                )),
                _ => {
                    why.clear();
                    break;
                }
            }
        }
        if !why.is_empty() {
            return Some(why.join("; "));
        }
    }
    // Trusted publishers in their usual places.
    let files: Vec<String> = subject_files(fd)
        .into_iter()
        .filter(|x| !f.file(x).is_some_and(|y| y.is_dir))
        .collect();
    if files.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    for file in &files {
        why.push(vendor_in_place(f, file)?);
    }
    Some(why.join("; "))
}

/// Set `allowlisted` on findings the allow-lists spare. A user hash match
/// (certain) is spared only by the user's own list, never the built-in one.
pub(crate) fn apply(f: &Facts, user: &AllowList, out: &mut [Finding]) {
    for fd in out.iter_mut() {
        // A product entry whose file is not signed as the product's: say
        // why the built-in list does not spare it.
        for l in f.launches.iter().filter(|l| l.artifact == fd.artifact) {
            if let Some(Err(why)) = product_entry(f, l) {
                let r = format!("it has the shape of a known product entry, but {why}");
                if !fd.reasons.contains(&r) {
                    fd.reasons.push(r);
                }
            }
        }
        let reason = user_reason(f, user, fd)
            .map(|r| format!("user allow-list: {r}"))
            .or_else(|| {
                if fd.certain {
                    None
                } else {
                    builtin_reason(f, fd).map(|r| format!("built-in allow-list: {r}"))
                }
            });
        fd.allowlisted = reason;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_lines() {
        let a = AllowList::parse(
            "# ours\nsha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\npath:C:\\Tools\\*.dll  # build tools\nsigner: Contoso Ltd\n",
        )
        .unwrap();
        assert_eq!(a.sha256.len(), 1);
        assert_eq!(a.paths, vec!["C:\\Tools\\*.dll"]);
        assert_eq!(a.signers, vec!["Contoso Ltd"]);
    }

    #[test]
    fn yaml_lists() {
        let a = AllowList::parse(
            "sha256: [0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef]\npaths:\n  - 'C:\\Users\\*\\AppData\\Local\\Vendor\\**'\n  - \"C:\\x#y\\a.dll\"\nsigners:\n  - Contoso Ltd\n- path: C:\\Other\\*\n",
        )
        .unwrap();
        assert_eq!(a.sha256.len(), 1);
        assert_eq!(a.paths.len(), 3);
        assert_eq!(a.signers, vec!["Contoso Ltd"]);
    }

    #[test]
    fn yaml_lists_ok() {
        let a = AllowList::parse("paths:\n  - 'C:\\Users\\*\\AppData\\Local\\Vendor\\**'\n  - \"C:\\x#y\\a.dll\"\nsigners:\n  - Contoso Ltd\n").unwrap();
        assert_eq!(a.paths.len(), 2);
        assert_eq!(a.paths[1], "C:\\x#y\\a.dll");
        assert_eq!(a.signers, vec!["Contoso Ltd"]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = AllowList::parse("path:C:\\a\nsha256:abc\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = AllowList::parse("\n\nfolder:C:\\x\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown entry kind"));
        let e = AllowList::parse("- C:\\x\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = AllowList::parse("just words\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn globs() {
        assert!(glob_match(
            "C:\\Users\\*\\AppData\\Local\\Vendor\\**",
            "c:\\users\\bob\\appdata\\local\\vendor\\x\\y.dll"
        ));
        assert!(!glob_match(
            "C:\\Users\\*\\AppData\\Local\\Vendor\\*",
            "c:\\users\\bob\\appdata\\local\\vendor\\x\\y.dll"
        ));
        assert!(glob_match("C:\\Tools\\?.dll", "C:\\tools\\a.DLL"));
        assert!(!glob_match("C:\\Tools\\*.dll", "C:\\Tools\\sub\\a.dll"));
    }
}

#[cfg(test)]
mod product_signer_tests {
    use super::*;
    use crate::detect::builder::SnapshotBuilder;
    use crate::detect::{DetectContext, detect};

    /// The built-in entry the first launch of `snap` matches.
    fn entry(snap: &crate::runtime::snapshot::Snapshot) -> Option<Result<String, String>> {
        let f = Facts::new(snap);
        f.launches.iter().find_map(|l| product_entry(&f, l))
    }

    const LENOVO_DLL: &str =
        r"C:\ProgramData\Lenovo\Vantage\Addins\LenovoSpectrum\Spectrum_Core.dll";

    fn lenovo(
        file: impl FnOnce(SnapshotBuilder) -> SnapshotBuilder,
    ) -> crate::runtime::snapshot::Snapshot {
        file(SnapshotBuilder::new("WS1").run(
            "HKLM",
            "LenovoVantage",
            &format!(r#"rundll32.exe "{LENOVO_DLL}",RunDLL"#),
        ))
        .build()
    }

    #[test]
    fn a_product_entry_needs_the_products_signer_when_the_signature_was_read() {
        let ok = lenovo(|b| b.signed_file(LENOVO_DLL, "Lenovo"));
        assert!(
            entry(&ok)
                .unwrap()
                .unwrap()
                .contains("validly signed by Lenovo")
        );
        let unsigned = lenovo(|b| b.file(LENOVO_DLL));
        assert!(
            entry(&unsigned)
                .unwrap()
                .unwrap_err()
                .contains("not validly signed")
        );
        let other = lenovo(|b| b.signed_file(LENOVO_DLL, "Evil Soft Ltd"));
        let why = entry(&other).unwrap().unwrap_err();
        assert!(
            why.contains("signed by Evil Soft Ltd, not by the product's publisher (lenovo)"),
            "{why}"
        );
        // No facts of the file: the path and export alone, said so.
        let unread = lenovo(|b| b);
        assert!(entry(&unread).unwrap().unwrap().contains("not collected"));

        // Through detection: the unsigned copy is flagged, not spared, and
        // the finding says why the allow-list did not spare it.
        let out = detect(&unsigned, &DetectContext::default());
        let fd = out
            .iter()
            .find(|x| x.actionable())
            .unwrap_or_else(|| panic!("flagged: {out:#?}"));
        assert!(
            fd.reasons
                .iter()
                .any(|r| r.contains("shape of a known product entry")),
            "{fd:?}"
        );
        let out = detect(&ok, &DetectContext::default());
        assert!(out.iter().all(|x| !x.actionable()), "{out:#?}");
    }

    #[test]
    fn tasks_services_and_squirrel_apps_need_their_signer_too() {
        let google = |signer: Option<&str>| {
            let exe = r"C:\Users\bob\AppData\Local\Google\Update\GoogleUpdate.exe";
            let b = SnapshotBuilder::new("WS1").user("bob").task(
                r"\GoogleUpdateTaskUserS-1-5-21-1-2-3-1001Core",
                exe,
                "/c",
                "bob",
                &["logon"],
            );
            match signer {
                Some(s) => b.signed_file(exe, s),
                None => b.file(exe),
            }
            .build()
        };
        assert!(entry(&google(Some("Google LLC"))).unwrap().is_ok());
        assert!(
            entry(&google(Some("Microsoft Corporation")))
                .unwrap()
                .is_err()
        );
        assert!(entry(&google(None)).unwrap().is_err());

        let svc = |signer: &str| {
            let exe = r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe";
            SnapshotBuilder::new("WS1")
                .service(
                    "gupdate",
                    "Google Update",
                    &format!("\"{exe}\" /svc"),
                    "LocalSystem",
                )
                .signed_file(exe, signer)
                .build()
        };
        assert!(entry(&svc("Google LLC")).unwrap().is_ok());
        assert!(
            entry(&svc("Totally Google")).unwrap().is_err(),
            "the name must start with the publisher's"
        );
        assert!(entry(&svc("Evil")).unwrap().is_err());

        let squirrel = |signed: bool| {
            let exe = r"C:\Users\bob\AppData\Local\Discord\Update.exe";
            let b = SnapshotBuilder::new("WS1").user("bob").run(
                "bob",
                "Discord",
                &format!("{exe} --processStart Discord.exe"),
            );
            if signed {
                b.signed_file(exe, "Discord Inc.")
            } else {
                b.file(exe)
            }
            .build()
        };
        assert!(entry(&squirrel(true)).unwrap().is_ok());
        assert!(entry(&squirrel(false)).unwrap().is_err());
    }
}
