//! Files: `System.IO` over the host's file system (`HostState.files`),
//! with Windows' behaviour. A path is normalised as Windows normalises it
//! ([`path`]), 8.3 short components are resolved as NTFS resolves them,
//! and failures are .NET's exceptions with Windows' messages ("Could not
//! find file 'X'.", "Could not find a part of the path 'X'.", "Access to
//! the path 'X' is denied.", sharing violations).
//!
//! Parts: [`path`] (`System.IO.Path`, normalisation), [`io`] (the static
//! `File` and `Directory`), [`info`] (`FileInfo`, `DirectoryInfo`),
//! [`stream`] (`FileStream`), [`version`] (`FileVersionInfo`).

pub mod info;
pub mod io;
pub mod path;
pub mod stream;
pub mod version;

#[cfg(test)]
mod tests;

use crate::lab::powershell::dotnet::time;
use crate::lab::powershell::object::{Ctx, EnumDef, NetError, NetResult, Registry};
use crate::lab::powershell::session;
use crate::lab::powershell::value::Value;
use crate::lab::world::files::{Entry, FsError};
use crate::lab::world::{LabTime, shortname};

/// `System.IO.FileAttributes`.
pub static FILE_ATTRIBUTES: EnumDef = EnumDef {
    full_name: "System.IO.FileAttributes",
    members: &[
        ("ReadOnly", 1),
        ("Hidden", 2),
        ("System", 4),
        ("Directory", 16),
        ("Archive", 32),
        ("Device", 64),
        ("Normal", 128),
        ("Temporary", 256),
        ("SparseFile", 512),
        ("ReparsePoint", 1024),
        ("Compressed", 2048),
        ("Offline", 4096),
        ("NotContentIndexed", 8192),
        ("Encrypted", 16384),
    ],
    flags: true,
};

/// A path as a file API received it, resolved for the host.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The full path as .NET reports it (`GetFullPath`).
    pub full: String,
    /// The path the host model stores, when something is there (8.3
    /// components expanded); else the full path without a `\\?\` prefix.
    pub world: String,
}

/// The current directory of a command over WinRM: the user's profile.
pub fn cwd(cx: &Ctx<'_>) -> String {
    session::user_profile_path(cx)
}

/// Resolve `p` as Windows opens it: 8.3 components expanded, reparse
/// points on the way followed; the last component is not followed (see
/// [`follow`]).
pub fn resolve(cx: &Ctx<'_>, p: &str) -> NetResult<Resolved> {
    let full = path::full_path(p, &cwd(cx), &cx.version)?;
    let bare = full.strip_prefix(r"\\?\").or_else(|| full.strip_prefix(r"\??\")).unwrap_or(&full);
    let world = if cx.host.files.exists(bare) { bare.to_string() } else { walk(cx, bare, 0)? };
    Ok(Resolved { full, world })
}

/// Reparse points followed in one path at most (Windows allows 63).
const MAX_LINKS: usize = 63;

fn too_many_links() -> NetError {
    NetError::exception("System.IO.IOException", "The name of the file cannot be resolved by the system.\r\n")
}

/// The stored path for `p`, component by component: a short name is
/// expanded, a link before the last component is replaced by its target.
fn walk(cx: &Ctx<'_>, p: &str, hops: usize) -> NetResult<String> {
    let files = &cx.host.files;
    let comps: Vec<&str> = p.split('\\').collect();
    let mut cur = comps[0].to_string();
    for (i, comp) in comps.iter().enumerate().skip(1) {
        let mut next = format!(r"{cur}\{comp}");
        if !files.exists(&next) && comp.contains('~') {
            if let Some(long) = shortname::long_path(files, &next) {
                next = long;
            }
        }
        let last = i == comps.len() - 1;
        let found = files.get(&next);
        match found.and_then(|e| e.link()) {
            Some(l) if !last => {
                if hops >= MAX_LINKS {
                    return Err(too_many_links());
                }
                cur = walk(cx, &l.target, hops + 1)?;
            }
            _ => cur = next,
        }
        if found.is_none() {
            // Nothing lies below a missing folder: no short name to
            // expand and no link to follow; the rest stays as written.
            for rest in &comps[i + 1..] {
                cur.push('\\');
                cur.push_str(rest);
            }
            break;
        }
    }
    Ok(cur)
}

/// What a path opened without FILE_FLAG_OPEN_REPARSE_POINT reaches: a
/// link's target (followed again if it is a link), else the path itself.
pub fn follow(cx: &Ctx<'_>, r: &Resolved) -> NetResult<Resolved> {
    let mut world = r.world.clone();
    for _ in 0..MAX_LINKS {
        match cx.host.files.get(&world).and_then(|e| e.link()) {
            Some(l) => world = walk(cx, &l.target, 0)?,
            None => return Ok(Resolved { full: r.full.clone(), world }),
        }
    }
    Err(too_many_links())
}

/// The entry at a resolved path.
pub fn entry<'a>(cx: &'a Ctx<'_>, r: &Resolved) -> Option<&'a Entry> {
    cx.host.files.get(&r.world)
}

/// Whether the parent folder of a resolved path exists (for telling
/// "Could not find file" from "Could not find a part of the path").
pub fn parent_exists(cx: &Ctx<'_>, r: &Resolved) -> bool {
    match path::directory_name(&r.world) {
        Some(d) => cx.host.files.is_dir(&d) || d.len() <= 3,
        None => true,
    }
}

/// "Could not find file 'X'." or, when its folder is missing too, "Could
/// not find a part of the path 'X'.".
pub fn not_found(cx: &Ctx<'_>, r: &Resolved) -> NetError {
    if parent_exists(cx, r) {
        NetError::exception("System.IO.FileNotFoundException", format!("Could not find file '{}'.", r.full))
    } else {
        dir_not_found(&r.full)
    }
}

pub fn dir_not_found(shown: &str) -> NetError {
    NetError::exception("System.IO.DirectoryNotFoundException", format!("Could not find a part of the path '{shown}'."))
}

pub fn denied(shown: &str) -> NetError {
    NetError::exception("System.UnauthorizedAccessException", format!("Access to the path '{shown}' is denied."))
}

/// A host file-system error as .NET reports it for `shown`.
pub fn fs_error(e: &FsError, shown: &str) -> NetError {
    match e {
        FsError::FileNotFound(_) => NetError::exception("System.IO.FileNotFoundException", format!("Could not find file '{shown}'.")),
        FsError::PathNotFound(_) => dir_not_found(shown),
        FsError::AccessDenied(_) => denied(shown),
        FsError::SharingViolation(..) => NetError::exception("System.IO.IOException", format!("The process cannot access the file '{shown}' because it is being used by another process.")),
        FsError::DirNotEmpty(_) => NetError::exception("System.IO.IOException", "The directory is not empty.\r\n"),
        FsError::AlreadyExists(_) => NetError::exception("System.IO.IOException", format!("Cannot create \"{shown}\" because a file or directory with the same name already exists.")),
        FsError::InvalidName(_) => NetError::exception("System.IO.IOException", "The filename, directory name, or volume label syntax is incorrect.\r\n"),
    }
}

/// The attributes Windows reports for an entry (a file with none set
/// reads as Archive, as NTFS sets it on every write; a link has
/// ReparsePoint, and Directory when it leads to a folder).
pub fn attributes(e: &Entry) -> i64 {
    let mut a = 0;
    if e.attrs.readonly {
        a |= 1;
    }
    if e.attrs.hidden {
        a |= 2;
    }
    if e.attrs.system {
        a |= 4;
    }
    a |= if e.is_dir() { 16 } else { 32 };
    if e.link().is_some() {
        a |= 0x400;
    }
    a
}

/// A lab time as a `DateTime` of kind Utc (`...TimeUtc` properties), on
/// the host's clock.
pub fn utc(cx: &Ctx<'_>, t: LabTime) -> Value {
    time::from_lab(cx, t, true)
}

/// The same instant as local time (lab hosts run in UTC).
pub fn local(cx: &Ctx<'_>, t: LabTime) -> Value {
    time::from_lab(cx, t, false)
}

/// A string argument that must not be `$null` (`Value cannot be null.`).
pub fn path_arg(cx: &mut Ctx<'_>, v: &Value, param: &str) -> NetResult<String> {
    match v {
        Value::Null => Err(NetError::exception("System.ArgumentNullException", format!("Value cannot be null.\r\nParameter name: {param}"))),
        v => Ok(crate::lab::powershell::convert::to_string(v, cx)),
    }
}

pub fn register(r: &mut Registry) {
    r.add_enum(&FILE_ATTRIBUTES);
    io::register(r);
    info::register(r);
    stream::register(r);
    version::register(r);
}
