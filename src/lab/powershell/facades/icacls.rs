//! `icacls.exe` over the host's folder ACLs (`world::acl`, the explicit
//! ACEs a folder keeps): show a folder's ACL, `/grant[:r]`, `/deny`,
//! `/remove[:g|:d]`, `/q`.
//!
//! Windows' behaviour kept (Microsoft's windows-commands `icacls` page;
//! texts as icacls prints them in English):
//! - A listing prints the path, then one ACE per line (the following lines
//!   indented under the first), `name:` then the flags `(I)` inherited,
//!   `(OI)`, `(CI)`, `(IO)`, `(NP)`, `(DENY)` for a deny, and the rights:
//!   a simple right when the mask is one (`F`, `M`, `RX`, `R`, `W`), else
//!   the specific rights (`D`, `RC`, `WDAC`, `WO`, `S`, `RD`, `WD`, `AD`,
//!   `REA`, `WEA`, `X`, `DC`, `RA`, `WA`, ...). An account Windows cannot
//!   name prints as its SID. Then a blank line and `Successfully processed
//!   N files; Failed processing M files`.
//! - A change prints `processed file: PATH` (not with `/q`) and the same
//!   summary; exit 0.
//! - A permission is `name:perm` or `*SID:perm`, perm being inheritance
//!   flags and rights, each either in parentheses or bare
//!   (`(OI)(CI)(W)`, `(OI)(CI)W`, `(WD,AD,WEA,WA)`).
//! - icacls adds SYNCHRONIZE to the ACE it writes (a deny of `(D)` is
//!   stored as 0x110000, and listed as `(D)`: the lab lists a specific
//!   mask without that bit), so a deny of `(W)` also denies opening the folder
//!   for synchronous reads; `/grant` merges the rights into an explicit
//!   allow of the same account and flags, `/grant:r` replaces that
//!   account's explicit allows; `/deny` also takes the denied rights out
//!   of that account's explicit allows; `/remove` removes the account's
//!   explicit ACEs (`:g` allows only, `:d` denies only).
//! - Failures: a missing path is `PATH: The system cannot find the file
//!   specified.` with exit 2; an account that does not translate is `NAME:
//!   No mapping between account names and security IDs was done.` with
//!   exit 1332; a malformed argument is `Invalid parameter "X"` with exit
//!   87; all on stderr, each followed by the summary (the summary on
//!   stdout).
//!
//! What the lab's file system does not keep (file ACLs, owners, integrity
//! levels, audit entries, saved ACL files) or does not walk (`/t`) is
//! valid on Windows but refused here with a message saying the lab does
//! not support it.

use super::acl::{add_canonical, inherited};
use super::fs;
use crate::lab::powershell::dotnet::principal;
use crate::lab::powershell::natives::lab_unsupported;
use crate::lab::powershell::object::{Ctx, NativeOutput, NativeProgram, Registry};
use crate::lab::world::acl::Ace;

const PROGRAM: &str = "icacls.exe";
const SYNCHRONIZE: u32 = 0x100000;

/// Simple rights, as icacls names whole masks.
const SIMPLE: &[(&str, u32)] = &[("F", 0x1F01FF), ("M", 0x1301BF), ("RX", 0x1200A9), ("R", 0x120089), ("W", 0x100116)];

/// Specific rights, in the order icacls lists them.
const SPECIFIC: &[(&str, u32)] = &[
    ("D", 0x10000),
    ("RC", 0x20000),
    ("WDAC", 0x40000),
    ("WO", 0x80000),
    ("S", 0x100000),
    ("AS", 0x1000000),
    ("MA", 0x2000000),
    ("GR", 0x80000000),
    ("GW", 0x40000000),
    ("GE", 0x20000000),
    ("GA", 0x10000000),
    ("RD", 0x1),
    ("WD", 0x2),
    ("AD", 0x4),
    ("REA", 0x8),
    ("WEA", 0x10),
    ("X", 0x20),
    ("DC", 0x40),
    ("RA", 0x80),
    ("WA", 0x100),
];

fn summary(ok: usize, failed: usize) -> String {
    format!("Successfully processed {ok} files; Failed processing {failed} files\r\n")
}

fn failure(message: String, exit_code: i32) -> NativeOutput {
    NativeOutput { stdout: summary(0, 1), stderr: message, exit_code }
}

fn invalid(arg: &str) -> NativeOutput {
    NativeOutput { stderr: format!("Invalid parameter \"{arg}\"\r\n"), exit_code: 87, ..Default::default() }
}

/// A mask as icacls writes it.
fn rights_text(mask: u32) -> String {
    if let Some((n, _)) = SIMPLE.iter().find(|(_, m)| *m == mask) {
        return (*n).to_string();
    }
    // The SYNCHRONIZE icacls adds on its own is not shown beside other
    // rights (a deny of `(D)` lists as `(D)`).
    let shown = if mask & !SYNCHRONIZE != 0 { mask & !SYNCHRONIZE } else { mask };
    let names: Vec<&str> = SPECIFIC.iter().filter(|(_, m)| shown & m != 0).map(|(n, _)| *n).collect();
    names.join(",")
}

fn ace_text(cx: &Ctx<'_>, a: &Ace, is_inherited: bool) -> String {
    let name = principal::account_of(cx, &a.sid).unwrap_or_else(|| a.sid.clone());
    let mut flags = String::new();
    if is_inherited {
        flags.push_str("(I)");
    }
    for (bit, text) in [(a.inheritance & 2, "(OI)"), (a.inheritance & 1, "(CI)"), (a.propagation & 2, "(IO)"), (a.propagation & 1, "(NP)")] {
        if bit != 0 {
            flags.push_str(text);
        }
    }
    if a.deny {
        flags.push_str("(DENY)");
    }
    format!("{name}:{flags}({})", rights_text(a.rights))
}

/// Parsed `name:perm`.
struct Permission {
    sid: String,
    rights: u32,
    inheritance: u32,
    propagation: u32,
}

/// `name:perm` to a permission; `Err` is icacls' answer.
fn permission(cx: &Ctx<'_>, arg: &str) -> Result<Permission, NativeOutput> {
    let (name, perm) = arg.rsplit_once(':').ok_or_else(|| invalid(arg))?;
    let sid = account(cx, name)?;
    let (mut rights, mut inheritance, mut propagation) = (0u32, 0u32, 0u32);
    let tokens = perm.split(['(', ')']).filter(|t| !t.is_empty());
    let mut any = false;
    for tok in tokens {
        any = true;
        match tok.to_ascii_uppercase().as_str() {
            "OI" => inheritance |= 2,
            "CI" => inheritance |= 1,
            "IO" => propagation |= 2,
            "NP" => propagation |= 1,
            "I" => return Err(invalid(arg)),
            "N" => {}
            t => {
                for r in t.split(',') {
                    let m = SIMPLE.iter().chain(SPECIFIC).find(|(n, _)| *n == r).map(|(_, m)| *m).ok_or_else(|| invalid(arg))?;
                    rights |= m;
                }
            }
        }
    }
    if !any {
        return Err(invalid(arg));
    }
    Ok(Permission { sid, rights, inheritance, propagation })
}

/// An account name or `*SID` to its SID.
fn account(cx: &Ctx<'_>, name: &str) -> Result<String, NativeOutput> {
    if let Some(sid) = name.strip_prefix('*') {
        if sid.to_ascii_uppercase().starts_with("S-1-") {
            return Ok(sid.to_string());
        }
    } else if let Some(sid) = principal::sid_of(cx, name).or_else(|| principal::sid_of(cx, &format!("BUILTIN\\{name}"))) {
        return Ok(sid);
    }
    Err(failure(format!("{name}: No mapping between account names and security IDs was done.\r\n"), 1332))
}

/// What to do to the folder.
enum Change {
    Grant { replace: bool, perms: Vec<String> },
    Deny(Vec<String>),
    Remove { allows: bool, denies: bool, names: Vec<String> },
}

fn apply(cx: &Ctx<'_>, aces: &mut Vec<Ace>, change: &Change) -> Result<(), NativeOutput> {
    match change {
        Change::Grant { replace, perms } => {
            for p in perms {
                let p = permission(cx, p)?;
                if *replace {
                    aces.retain(|a| a.deny || !a.sid.eq_ignore_ascii_case(&p.sid));
                }
                add_canonical(aces, Ace { sid: p.sid, deny: false, rights: p.rights | SYNCHRONIZE, inheritance: p.inheritance, propagation: p.propagation });
            }
        }
        Change::Deny(perms) => {
            for p in perms {
                let p = permission(cx, p)?;
                for a in aces.iter_mut().filter(|a| !a.deny && a.sid.eq_ignore_ascii_case(&p.sid)) {
                    a.rights &= !(p.rights & !SYNCHRONIZE);
                }
                aces.retain(|a| a.deny || a.rights & !SYNCHRONIZE != 0);
                add_canonical(aces, Ace { sid: p.sid, deny: true, rights: p.rights | SYNCHRONIZE, inheritance: p.inheritance, propagation: p.propagation });
            }
        }
        Change::Remove { allows, denies, names } => {
            for n in names {
                let sid = account(cx, n)?;
                aces.retain(|a| !(a.sid.eq_ignore_ascii_case(&sid) && if a.deny { *denies } else { *allows }));
            }
        }
    }
    Ok(())
}

/// Options icacls has that the lab does not carry out.
const UNMODELLED: &[&str] = &["/t", "/c", "/l", "/save", "/restore", "/setowner", "/findsid", "/verify", "/reset", "/inheritance", "/setintegritylevel", "/substitute"];

struct Icacls;

impl Icacls {
    fn parse(args: &[String]) -> Result<(String, Option<Change>, bool), NativeOutput> {
        let Some(path) = args.first() else { return Err(invalid("")) };
        let mut change = None;
        let mut quiet = false;
        let mut i = 1;
        while i < args.len() {
            let opt = args[i].to_ascii_lowercase();
            let base = opt.split(':').next().unwrap_or("").to_string();
            if UNMODELLED.contains(&base.as_str()) {
                return Err(lab_unsupported(PROGRAM, &args[i]));
            }
            if opt == "/q" {
                quiet = true;
                i += 1;
                continue;
            }
            // The permissions or names an option takes: every argument up
            // to the next option.
            let end = args[i + 1..].iter().position(|a| a.starts_with('/')).map_or(args.len(), |p| i + 1 + p);
            let list: Vec<String> = args[i + 1..end].to_vec();
            if list.is_empty() || change.is_some() {
                return Err(invalid(&args[i]));
            }
            change = Some(match opt.as_str() {
                "/grant" => Change::Grant { replace: false, perms: list },
                "/grant:r" => Change::Grant { replace: true, perms: list },
                "/deny" => Change::Deny(list),
                "/remove" => Change::Remove { allows: true, denies: true, names: list },
                "/remove:g" => Change::Remove { allows: true, denies: false, names: list },
                "/remove:d" => Change::Remove { allows: false, denies: true, names: list },
                _ => return Err(invalid(&args[i])),
            });
            i = end;
        }
        Ok((path.clone(), change, quiet))
    }

    fn show(cx: &Ctx<'_>, shown: &str, world: &str) -> NativeOutput {
        let explicit = cx.host.files.acl(world).unwrap_or(&[]).to_vec();
        let lines: Vec<String> = explicit.iter().map(|a| ace_text(cx, a, false)).chain(inherited(cx, world).iter().map(|a| ace_text(cx, a, true))).collect();
        let indent = " ".repeat(shown.chars().count() + 1);
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out.push_str(if i == 0 { shown } else { &indent[..indent.len() - 1] });
            out.push(' ');
            out.push_str(l);
            out.push_str("\r\n");
        }
        if lines.is_empty() {
            out.push_str(&format!("{shown} \r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&summary(1, 0));
        NativeOutput { stdout: out, ..Default::default() }
    }
}

impl NativeProgram for Icacls {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        let (path, change, quiet) = match Self::parse(args) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let r = match fs::resolve(cx, &path) {
            Ok(r) => r,
            Err(_) => return failure(format!("{path}: The filename, directory name, or volume label syntax is incorrect.\r\n"), 123),
        };
        if cx.host.files.is_file(&r.world) {
            return lab_unsupported(PROGRAM, "a file's ACL (the lab keeps ACLs on folders)");
        }
        if !cx.host.files.is_dir(&r.world) {
            return failure(format!("{path}: The system cannot find the file specified.\r\n"), 2);
        }
        let Some(change) = change else { return Self::show(cx, &path, &r.world) };
        let mut aces = cx.host.files.acl(&r.world).unwrap_or(&[]).to_vec();
        if let Err(e) = apply(cx, &mut aces, &change) {
            return e;
        }
        if cx.host.files.set_acl(&r.world, aces).is_err() {
            return failure(format!("{path}: The system cannot find the file specified.\r\n"), 2);
        }
        let processed = if quiet { String::new() } else { format!("processed file: {path}\r\n") };
        NativeOutput { stdout: format!("{processed}{}", summary(1, 0)), ..Default::default() }
    }
}

pub fn register(r: &mut Registry) {
    r.add_native("icacls.exe", Icacls);
}

#[cfg(test)]
mod tests;
