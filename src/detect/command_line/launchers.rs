//! How each launcher reads its own command line.
//!
//! - rundll32 (KB164787 "Windows Rundll and Rundll32 Interface"; Wine's and
//!   ReactOS's rundll32 for the separators): `<dll>,<entry> [args]`. A
//!   quoted DLL ends at its closing quote; an unquoted one runs up to the
//!   first comma, blanks included (`rundll32 C:\Program Files\Lenovo\x.dll,RunDLL`
//!   loads `C:\Program Files\Lenovo\x.dll`), unless a blank comes first
//!   and the word before it is the DLL (a blank also separates the entry
//!   point: `rundll32 shell32.dll Control_RunDLL`). When both readings
//!   are possible, the one the snapshot shows existing wins, else the one
//!   whose word before the blank has no extension is the longer path.
//!   `-sta {CLSID}` and `-localserver` load no file; `javascript:` is
//!   inline code (the mshtml trick).
//! - regsvr32: flags with `/` or `-` (`/s /u /n /i[:cmdline]`), then one
//!   or more DLLs; with scrobj.dll the `/i:` value is the scriptlet (a URL,
//!   or a file against the working folder).
//! - mshta: the first argument is a URL, inline `vbscript:`/`javascript:`,
//!   or an `.hta` file (any extension) against the working folder.
//! - wscript/cscript: host options start with `//`; the first other
//!   argument is the script.
//! - msiexec: `/i`, `/package`, `/a`, `/j`, `/x`, `/f`, `/p`, `/update`
//!   take a package (a product `{GUID}` is none); `/y` and `/z` register
//!   or unregister a DLL.
//! - conhost `[--headless ...] <command>`, schtasks `/create ... /tr <command>`.

use super::super::paths;
use super::argv::{blanks, split_args};
use super::{DataFile, Launcher, MAX_CODE_CHARS, ParseCtx, Parsed, Payload, adopt, resolve};

/// Most data files kept per payload.
const MAX_DATA_FILES: usize = 8;

/// Files named among `args`: `/i:<path>`, `--key=<path>`, `-key:<path>`,
/// or an argument that is itself a path.
pub(super) fn data_files(args: &[String], ctx: &ParseCtx) -> Vec<DataFile> {
    let mut out: Vec<DataFile> = Vec::new();
    for a in args {
        let value = if let Some(v) = a.strip_prefix("/i:").or_else(|| a.strip_prefix("/I:")) {
            v
        } else if (a.starts_with("--") || a.starts_with('-') || a.starts_with('/'))
            && let Some(i) = a.find(['=', ':'])
            && !resolve::is_absolute(a)
        {
            &a[i + 1..]
        } else {
            a.as_str()
        };
        let v = value.trim().trim_matches('"');
        if !resolve::path_like(v) || out.len() >= MAX_DATA_FILES {
            continue;
        }
        let candidates = resolve::data_candidates(v, ctx);
        if !candidates.is_empty() {
            out.push(DataFile {
                written: paths::normalize(v),
                candidates,
            });
        }
    }
    out
}

/// rundll32's DLL and the text after it (see the module documentation).
/// The reading not taken, when both are possible, goes to `other`.
fn rundll32_target<'s>(r: &'s str, ctx: &ParseCtx, other: &mut Vec<String>) -> (String, &'s str) {
    if let Some(inner) = r.strip_prefix('"') {
        return match inner.find('"') {
            Some(j) => (inner[..j].to_string(), &inner[j + 1..]),
            None => (inner.to_string(), ""),
        };
    }
    let comma = r.find(',');
    let blank = blanks(r).first().copied();
    match (comma, blank) {
        (None, None) => (r.to_string(), ""),
        (None, Some(b)) => (r[..b].to_string(), &r[b..]),
        (Some(c), None) => (r[..c].to_string(), &r[c..]),
        (Some(c), Some(b)) if c < b => (r[..c].to_string(), &r[c..]),
        (Some(c), Some(b)) => {
            let whole = r[..c].trim_end();
            let word = &r[..b];
            let exists = |p: &str| (ctx.exists)(&resolve::dll(p, ctx).0);
            let take_whole = exists(whole)
                || (!exists(word)
                    && paths::extension(word).is_empty()
                    && !paths::extension(whole).is_empty());
            if take_whole {
                other.push(resolve::dll(word, ctx).0);
                (whole.to_string(), &r[c..])
            } else {
                other.push(resolve::dll(whole, ctx).0);
                (word.to_string(), &r[b..])
            }
        }
    }
}

pub(super) fn rundll32(p: &mut Parsed, rest: &str, ctx: &ParseCtx) {
    let r = rest.trim_start();
    if r.is_empty() || r.starts_with('-') || r.starts_with('/') {
        return; // -sta {CLSID}, -localserver: no file
    }
    let lr = r.to_ascii_lowercase();
    if lr.starts_with("javascript:") || lr.starts_with("vbscript:") {
        p.inline_code = true;
        p.code = r.chars().take(MAX_CODE_CHARS).collect();
        return;
    }
    let (dll, after) = rundll32_target(r, ctx, &mut p.alternatives);
    let after = after.trim_start_matches([' ', '\t', ',']);
    let end = after.find([' ', '\t']).unwrap_or(after.len());
    let export = after[..end].trim();
    let args = split_args(&after[end..]);
    let (path, searched) = resolve::dll(dll.trim(), ctx);
    if path.is_empty() {
        return;
    }
    let mut pay = Payload::new(path, Launcher::Rundll32);
    pay.export = (!export.is_empty()).then(|| export.to_string());
    pay.searched = searched;
    pay.data = data_files(&args, ctx);
    pay.args = args;
    p.payloads.push(pay);
}

pub(super) fn regsvr32(p: &mut Parsed, ctx: &ParseCtx) {
    let mut install_arg: Option<String> = None;
    let mut targets = Vec::new();
    for a in &p.args {
        if a.starts_with('/') || a.starts_with('-') {
            let la = a.to_ascii_lowercase();
            if la.starts_with("/i:") || la.starts_with("-i:") {
                let v = a[3..].trim_matches('"').to_string();
                if !v.is_empty() {
                    install_arg = Some(v);
                }
            }
            continue;
        }
        targets.push(a.clone());
    }
    for t in targets {
        let (path, searched) = resolve::dll(&t, ctx);
        if paths::file_name(&path).eq_ignore_ascii_case("scrobj.dll")
            && let Some(i) = &install_arg
        {
            let li = i.to_ascii_lowercase();
            let scriptlet = if li.starts_with("http://") || li.starts_with("https://") {
                i.clone()
            } else {
                resolve::file(i, ctx)
            };
            p.payloads.push(Payload::new(scriptlet, Launcher::Regsvr32));
            continue;
        }
        let mut pay = Payload::new(path, Launcher::Regsvr32);
        pay.searched = searched;
        pay.args = install_arg.iter().map(|i| format!("/i:{i}")).collect();
        pay.data = data_files(&pay.args, ctx);
        p.payloads.push(pay);
    }
}

pub(super) fn script_host(p: &mut Parsed, ctx: &ParseCtx) {
    let mut it = p.args.iter().filter(|a| !a.starts_with("//"));
    if let Some(s) = it.next() {
        let rest: Vec<String> = it.cloned().collect();
        let mut pay = Payload::new(resolve::file(s, ctx), Launcher::ScriptHost);
        pay.data = data_files(&rest, ctx);
        pay.args = rest;
        p.payloads.push(pay);
    }
}

pub(super) fn mshta(p: &mut Parsed, rest: &str, ctx: &ParseCtx) {
    let Some(a) = p.args.first().cloned() else {
        return;
    };
    let la = a.to_ascii_lowercase();
    if la.starts_with("vbscript:") || la.starts_with("javascript:") || la.starts_with("about:") {
        p.inline_code = true;
        p.code = rest.trim().chars().take(MAX_CODE_CHARS).collect();
    } else if la.starts_with("http://") || la.starts_with("https://") {
        p.payloads.push(Payload::new(a, Launcher::Mshta));
    } else {
        let mut pay = Payload::new(resolve::file(&a, ctx), Launcher::Mshta);
        pay.args = p.args[1..].to_vec();
        p.payloads.push(pay);
    }
}

/// msiexec options followed by a package (or a product code).
const MSI_PACKAGE_FLAGS: &[&str] = &[
    "i",
    "package",
    "a",
    "j",
    "ju",
    "jm",
    "x",
    "uninstall",
    "f",
    "p",
    "update",
    "y",
    "z",
];

pub(super) fn msiexec(p: &mut Parsed, ctx: &ParseCtx) {
    let args = p.args.clone();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let Some(flag) = a.strip_prefix('/').or_else(|| a.strip_prefix('-')) else {
            continue;
        };
        let lf = flag.to_ascii_lowercase();
        // `/fvomus <package>` repairs: any letters after f.
        let takes = MSI_PACKAGE_FLAGS.contains(&lf.as_str())
            || (lf.starts_with('f') && lf[1..].bytes().all(|b| b"pecmsuvoa".contains(&b)));
        if !takes {
            continue;
        }
        let Some(t) = args.get(i) else { break };
        if t.starts_with('/') || t.starts_with('-') {
            continue;
        }
        i += 1;
        let lt = t.to_ascii_lowercase();
        if super::super::names::is_guid(t) {
            continue;
        }
        let path = if lt.starts_with("http://") || lt.starts_with("https://") {
            t.clone()
        } else {
            resolve::file(t, ctx)
        };
        p.payloads.push(Payload::new(path, Launcher::Msiexec));
    }
}

pub(super) fn conhost(p: &mut Parsed, rest: &str, ctx: &ParseCtx, depth: usize) {
    // conhost.exe [--headless] [--width n] ... <command>
    let mut r = rest.trim_start();
    loop {
        let tok_end = r.find([' ', '\t']).unwrap_or(r.len());
        let tok = &r[..tok_end];
        if tok.starts_with("--")
            || tok.eq_ignore_ascii_case("0xffffffff")
            || tok.chars().all(|c| c.is_ascii_digit()) && !tok.is_empty()
        {
            r = r[tok_end..].trim_start();
        } else {
            break;
        }
    }
    if !r.is_empty() {
        adopt(p, r, ctx, depth);
    }
}

pub(super) fn schtasks(p: &mut Parsed, ctx: &ParseCtx, depth: usize) {
    let args = p.args.clone();
    for (i, a) in args.iter().enumerate() {
        if (a.eq_ignore_ascii_case("/tr") || a.eq_ignore_ascii_case("-tr"))
            && let Some(tr) = args.get(i + 1)
        {
            adopt(p, tr, ctx, depth);
        }
    }
}
