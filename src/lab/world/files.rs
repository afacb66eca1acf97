//! The file system of a host: one NTFS-like, case-insensitive tree with
//! Windows' rules.
//!
//! - Paths are normalised (`\` separators, upper-case drive letter, no
//!   trailing `\`, `\\?\` and `\??\` prefixes stripped, trailing dots and
//!   spaces of a name stripped as Win32 does); `..` is rejected, never
//!   resolved.
//! - A file's content is either real bytes (small files: scripts, .lnk,
//!   configs) or just (size, SHA-256) for big or opaque ones, so a 500 MB
//!   padded DLL costs 40 bytes.
//! - Files and directories carry created/modified/accessed times; adding
//!   or removing an entry updates its directory's modified time, as NTFS
//!   does; `set_times` is the SetFileTime that timestompers use.
//! - Locks come from running processes (see `FileLocks`): a file mapped as
//!   an image or loaded module cannot be deleted or overwritten (access
//!   denied) but CAN be renamed, as on Windows; a file held open without
//!   FILE_SHARE_DELETE cannot be deleted or renamed (sharing violation). A
//!   directory with a locked file anywhere below it cannot be renamed. A
//!   non-empty directory cannot be removed. A read-only file cannot be
//!   deleted.
//! - A directory carries its explicit ACEs (`acl`, see [`super::acl`]): a
//!   write is checked against them for the writer's token, as Windows
//!   checks it (the pre-reboot defence against loaders that write their
//!   persistence at shutdown is a Deny ACE).

use std::ops::Bound;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::acl::{self, Ace, Token};
use super::ci::{CiKey, CiStr, eq_ci, starts_with_ci};
use super::layered::Layered;
use super::paths;
use super::time::LabTime;

/// Process id (multiples of 4, as on Windows).
pub type Pid = u32;

/// How a running process holds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Mapped as an image: the process's EXE or a loaded DLL.
    Mapped,
    /// Open without FILE_SHARE_DELETE.
    Open,
}

/// Who holds a file. Implemented by the process table.
pub trait FileLocks {
    /// The strongest lock on this (normalised) path, and by whom.
    fn lock_on(&self, path: &str) -> Option<(LockKind, Pid)>;
}

/// No process holds anything (offline edits, tests).
pub struct NoLocks;
impl FileLocks for NoLocks {
    fn lock_on(&self, _: &str) -> Option<(LockKind, Pid)> {
        None
    }
}

/// An Authenticode signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Subject CN, e.g. `Microsoft Windows`, `Google LLC`.
    pub subject: Arc<str>,
    /// The signature verifies (false: tampered or bad chain).
    pub valid: bool,
}

impl Signer {
    pub fn valid(subject: &str) -> Signer {
        Signer {
            subject: Arc::from(subject),
            valid: true,
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Real bytes (keep small).
    Bytes(Arc<[u8]>),
    /// Only size and hash are known (large or opaque binaries).
    Opaque { size: u64, sha256: [u8; 32] },
}

impl Content {
    pub fn bytes(b: impl Into<Vec<u8>>) -> Content {
        Content::Bytes(Arc::from(b.into()))
    }
    pub fn text(s: &str) -> Content {
        Content::bytes(s.as_bytes().to_vec())
    }
    /// Opaque content whose hash is derived from `seed` (deterministic,
    /// distinct per seed): a stand-in for a real binary.
    pub fn synthetic(seed: &str, size: u64) -> Content {
        Content::Opaque {
            size,
            sha256: Sha256::digest(seed.as_bytes()).into(),
        }
    }
    /// This content with `junk` bytes appended (a loader padding its file
    /// to defeat size-capped scanners): the size grows and the hash is the
    /// padded file's; nothing is allocated.
    pub fn padded(&self, junk: u64) -> Content {
        let mut h = Sha256::new();
        h.update(b"padded:");
        h.update(self.sha256());
        h.update(junk.to_le_bytes());
        Content::Opaque {
            size: self.size() + junk,
            sha256: h.finalize().into(),
        }
    }
    /// Same size, other bytes (a loader corrupting its file on disk).
    pub fn corrupted(&self) -> Content {
        let mut h = Sha256::new();
        h.update(b"corrupted:");
        h.update(self.sha256());
        Content::Opaque {
            size: self.size(),
            sha256: h.finalize().into(),
        }
    }
    pub fn size(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Opaque { size, .. } => *size,
        }
    }
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Content::Bytes(b) => Sha256::digest(b).into(),
            Content::Opaque { sha256, .. } => *sha256,
        }
    }
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Content::Bytes(b) => Some(b),
            Content::Opaque { .. } => None,
        }
    }
}

/// Lower-case hex of a hash.
pub fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Times {
    pub created: LabTime,
    pub modified: LabTime,
    pub accessed: LabTime,
}

impl Times {
    pub fn all(t: LabTime) -> Times {
        Times {
            created: t,
            modified: t,
            accessed: t,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attrs {
    pub hidden: bool,
    pub system: bool,
    pub readonly: bool,
}

/// A file's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    pub content: Content,
    pub signer: Option<Signer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir {
        /// The folder's explicit ACEs, in order.
        acl: Vec<Ace>,
    },
    File(FileData),
    /// A reparse point: a symbolic link (to a file or a folder) or a
    /// directory junction. Windows follows it when a path goes through it
    /// or when it is opened without FILE_FLAG_OPEN_REPARSE_POINT;
    /// deleting it deletes the link, never its target.
    Link(Link),
}

/// Where a reparse point leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The full path it points to (it may not exist: a dangling link).
    pub target: String,
    /// A link to a folder (a junction always is).
    pub dir: bool,
    /// A directory junction (mount point) rather than a symbolic link.
    pub junction: bool,
}

/// A file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub times: Times,
    pub attrs: Attrs,
    pub kind: EntryKind,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, EntryKind::Dir { .. } | EntryKind::Link(Link { dir: true, .. }))
    }
    pub fn file(&self) -> Option<&FileData> {
        match &self.kind {
            EntryKind::File(f) => Some(f),
            EntryKind::Dir { .. } | EntryKind::Link(_) => None,
        }
    }
    pub fn size(&self) -> u64 {
        self.file().map_or(0, |f| f.content.size())
    }
    pub fn sha256(&self) -> Option<[u8; 32]> {
        self.file().map(|f| f.content.sha256())
    }
    /// The reparse point's target, when the entry is one.
    pub fn link(&self) -> Option<&Link> {
        match &self.kind {
            EntryKind::Link(l) => Some(l),
            _ => None,
        }
    }
    pub fn signer(&self) -> Option<&Signer> {
        self.file().and_then(|f| f.signer.as_ref())
    }
}

/// File-system errors, with the Win32 code Windows returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    #[error("the system cannot find the file specified: {0}")]
    FileNotFound(String),
    #[error("the system cannot find the path specified: {0}")]
    PathNotFound(String),
    #[error("access is denied: {0}")]
    AccessDenied(String),
    #[error(
        "the process cannot access the file because it is being used by another process (pid {1}): {0}"
    )]
    SharingViolation(String, Pid),
    #[error("the directory is not empty: {0}")]
    DirNotEmpty(String),
    #[error("cannot create a file when that file already exists: {0}")]
    AlreadyExists(String),
    #[error("the file name, directory name, or volume label syntax is incorrect: {0}")]
    InvalidName(String),
}

impl FsError {
    pub fn win32_code(&self) -> u32 {
        match self {
            FsError::FileNotFound(_) => 2,
            FsError::PathNotFound(_) => 3,
            FsError::AccessDenied(_) => 5,
            FsError::SharingViolation(..) => 32,
            FsError::DirNotEmpty(_) => 145,
            FsError::AlreadyExists(_) => 183,
            FsError::InvalidName(_) => 123,
        }
    }
}

/// Normalise an absolute local path. Rejects relative paths, UNC paths,
/// `..` components and characters Windows forbids in names.
pub fn normalize(path: &str) -> Result<String, FsError> {
    let bad = || FsError::InvalidName(path.to_string());
    let mut p = path.replace('/', "\\");
    for prefix in [r"\\?\", r"\??\", r"\\.\"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest.to_string();
            break;
        }
    }
    let mut chars = p.chars();
    let (Some(d), Some(':')) = (chars.next(), chars.next()) else {
        return Err(bad());
    };
    if !d.is_ascii_alphabetic() {
        return Err(bad());
    }
    let rest = &p[2..];
    if !rest.is_empty() && !rest.starts_with('\\') {
        return Err(bad()); // drive-relative `C:foo`
    }
    let mut out = String::with_capacity(p.len());
    out.push(d.to_ascii_uppercase());
    out.push(':');
    for comp in rest.split('\\') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp == ".." {
            return Err(bad());
        }
        let comp = comp.trim_end_matches(['.', ' ']);
        if comp.is_empty()
            || comp
                .chars()
                .any(|c| (c as u32) < 32 || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        {
            return Err(bad());
        }
        out.push('\\');
        out.push_str(comp);
    }
    Ok(out)
}

/// Parent of a normalised path (`None` for a drive root `C:`).
pub fn parent(path: &str) -> Option<&str> {
    path.rfind('\\').map(|i| &path[..i])
}

/// Last component of a normalised path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('\\').next().unwrap_or(path)
}

/// A path and its WOW64 twin: a path under `System32` is `SysWOW64` for a
/// 32-bit process and vice versa (`Sysnative` is the 64-bit System32).
/// Returns the normalised path first, then the twin if there is one.
pub fn resolve_wow64(path: &str) -> Vec<String> {
    let Ok(p) = normalize(path) else {
        return vec![path.to_string()];
    };
    let swap = |from: &str, to: &str| -> Option<String> {
        let f = format!(r"{}\{from}", paths::WINDOWS);
        if starts_with_ci(&p, &f) && (p.len() == f.len() || p[f.len()..].starts_with('\\')) {
            Some(format!(r"{}\{to}{}", paths::WINDOWS, &p[f.len()..]))
        } else {
            None
        }
    };
    let alt = swap("System32", "SysWOW64")
        .or_else(|| swap("SysWOW64", "System32"))
        .or_else(|| swap("Sysnative", "System32"));
    match alt {
        Some(a) => vec![p, a],
        None => vec![p],
    }
}

/// The tree. Stock files can be shared between hosts (`freeze`, then
/// clone): each host then holds only what it changed.
#[derive(Debug, Clone)]
pub struct FileSystem {
    entries: Layered<Entry>,
}

impl Default for FileSystem {
    fn default() -> Self {
        FileSystem::new(LabTime::EPOCH)
    }
}

impl FileSystem {
    /// An empty `C:` volume.
    pub fn new(now: LabTime) -> FileSystem {
        let mut entries = Layered::default();
        entries.insert(CiKey::new("C:"), dir_entry(now));
        FileSystem { entries }
    }

    /// Make the current contents a shared base: clones made afterwards
    /// share it and pay only for their own changes.
    pub fn freeze(&mut self) {
        self.entries.freeze();
    }
    /// Entries this file system holds privately (not shared).
    pub fn private_len(&self) -> usize {
        self.entries.overlay_len()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `path` (any spelling).
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let p = normalize(path).ok()?;
        self.entries.get(CiStr::new(&p))
    }
    /// The entry and its stored spelling.
    pub fn get_with_name(&self, path: &str) -> Option<(&str, &Entry)> {
        let p = normalize(path).ok()?;
        self.entries
            .get_key_value(CiStr::new(&p))
            .map(|(k, e)| (k.as_str(), e))
    }
    pub fn exists(&self, path: &str) -> bool {
        self.get(path).is_some()
    }
    pub fn is_dir(&self, path: &str) -> bool {
        self.get(path).is_some_and(Entry::is_dir)
    }
    pub fn is_file(&self, path: &str) -> bool {
        self.get(path).is_some_and(|e| !e.is_dir())
    }

    fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a CiKey, &'a Entry)> + 'a {
        let prefix = format!("{dir}\\");
        self.entries
            .range_from(Bound::Excluded(CiStr::new(&prefix)))
            .take_while(move |(k, _)| starts_with_ci(k.as_str(), &prefix))
    }

    /// Direct children of a directory: (full path, entry), sorted.
    pub fn list(&self, dir: &str) -> Result<Vec<(&str, &Entry)>, FsError> {
        let d = normalize(dir)?;
        match self.entries.get(CiStr::new(&d)) {
            Some(e) if e.is_dir() => {}
            Some(_) => return Err(FsError::InvalidName(d)),
            None => return Err(FsError::PathNotFound(d)),
        }
        let depth = d.len() + 1;
        Ok(self
            .descendants(&d)
            .filter(|(k, _)| !k.as_str()[depth..].contains('\\'))
            .map(|(k, e)| (k.as_str(), e))
            .collect())
    }
    /// Everything below a directory (recursive), sorted.
    pub fn walk(&self, dir: &str) -> Vec<(&str, &Entry)> {
        let Ok(d) = normalize(dir) else { return vec![] };
        self.descendants(&d).map(|(k, e)| (k.as_str(), e)).collect()
    }
    /// All entries (ground truth).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }

    fn parent_dir_for_create(&self, p: &str) -> Result<(), FsError> {
        self.parent_dir_for_create_as(p, &Token::anyone(), false)
    }

    /// The ACE lists of `p` (empty when it is no folder) and of each
    /// folder above it, nearest first.
    fn acl_chain(&self, p: &str) -> Vec<&[Ace]> {
        let mut out = Vec::new();
        let mut cur = Some(p);
        while let Some(c) = cur {
            out.push(self.acl(c).unwrap_or(&[]));
            cur = parent(c);
        }
        out
    }

    /// The explicit ACEs of a folder (`None`: no folder there).
    pub fn acl(&self, dir: &str) -> Option<&[Ace]> {
        match self.entries.get(CiStr::new(dir)) {
            Some(Entry { kind: EntryKind::Dir { acl }, .. }) => Some(acl),
            _ => None,
        }
    }

    /// Replace a folder's explicit ACEs (SetAccessControl of its DACL).
    pub fn set_acl(&mut self, dir: &str, aces: Vec<Ace>) -> Result<(), FsError> {
        let p = normalize(dir)?;
        match &mut self.entry_mut_or_not_found(&p)?.kind {
            EntryKind::Dir { acl } => {
                *acl = aces;
                Ok(())
            }
            EntryKind::File(_) | EntryKind::Link(_) => Err(FsError::InvalidName(p)),
        }
    }

    /// May `token` create `p` (a file, or a folder when `dir`) in its
    /// parent? The parent must exist and no Deny ACE may refuse it.
    fn parent_dir_for_create_as(&self, p: &str, token: &Token, dir: bool) -> Result<(), FsError> {
        let par = parent(p).ok_or_else(|| FsError::AccessDenied(p.to_string()))?;
        match self.entries.get(CiStr::new(par)) {
            Some(e) if e.is_dir() => {
                let right = if dir { acl::ADD_SUBDIRECTORY } else { acl::ADD_FILE };
                if acl::denied(self.acl_chain(par), true, token, right) {
                    return Err(FsError::AccessDenied(p.to_string()));
                }
                Ok(())
            }
            _ => Err(FsError::PathNotFound(p.to_string())),
        }
    }
    fn touch_parent(&mut self, p: &str, now: LabTime) {
        if let Some(par) = parent(p)
            && let Some(e) = self.entries.get_mut(CiStr::new(par))
        {
            e.times.modified = now;
        }
    }

    /// CreateDirectory: the parent must exist.
    pub fn create_dir(&mut self, path: &str, now: LabTime) -> Result<(), FsError> {
        let p = normalize(path)?;
        if self.entries.contains_key(CiStr::new(&p)) {
            return Err(FsError::AlreadyExists(p));
        }
        self.parent_dir_for_create_as(&p, &Token::anyone(), true)?;
        self.entries.insert(CiKey::from(p.clone()), dir_entry(now));
        self.touch_parent(&p, now);
        Ok(())
    }
    /// `mkdir -p`: creates missing parents; an existing directory is fine.
    pub fn create_dir_all(&mut self, path: &str, now: LabTime) -> Result<(), FsError> {
        let p = normalize(path)?;
        let mut cur = String::new();
        for comp in p.split('\\') {
            if !cur.is_empty() {
                cur.push('\\');
            }
            cur.push_str(comp);
            match self.entries.get(CiStr::new(&cur)) {
                Some(e) if e.is_dir() => {}
                Some(_) => return Err(FsError::AlreadyExists(cur)),
                None if cur.len() == 2 => {
                    self.entries.insert(CiKey::new(&cur), dir_entry(now));
                }
                None => self.create_dir(&cur, now)?,
            }
        }
        Ok(())
    }

    /// CreateFile + WriteFile: create or overwrite. The parent must exist
    /// and allow writes; an in-use or read-only file cannot be overwritten.
    pub fn write_file(
        &mut self,
        path: &str,
        content: Content,
        now: LabTime,
        locks: &dyn FileLocks,
    ) -> Result<(), FsError> {
        self.write_file_as(path, content, now, locks, &Token::anyone())
    }

    /// [`FileSystem::write_file`] by an account with this token: a Deny
    /// ACE of the folder (or inherited from above it) refuses.
    pub fn write_file_as(
        &mut self,
        path: &str,
        content: Content,
        now: LabTime,
        locks: &dyn FileLocks,
        token: &Token,
    ) -> Result<(), FsError> {
        let p = normalize(path)?;
        self.parent_dir_for_create_as(&p, token, false)?;
        if self.is_file(&p) && acl::denied(self.acl_chain(&p), false, token, acl::ADD_FILE) {
            return Err(FsError::AccessDenied(p));
        }
        match self.entries.get_mut(CiStr::new(&p)) {
            Some(e) => {
                if e.is_dir() || e.attrs.readonly {
                    return Err(FsError::AccessDenied(p));
                }
                match locks.lock_on(&p) {
                    Some((LockKind::Mapped, _)) => return Err(FsError::AccessDenied(p)),
                    Some((LockKind::Open, pid)) => return Err(FsError::SharingViolation(p, pid)),
                    None => {}
                }
                let signer = None; // rewriting invalidates any signature
                e.kind = EntryKind::File(FileData { content, signer });
                e.times.modified = now;
                e.times.accessed = now;
            }
            None => {
                self.entries.insert(
                    CiKey::from(p.clone()),
                    Entry {
                        times: Times::all(now),
                        attrs: Attrs::default(),
                        kind: EntryKind::File(FileData {
                            content,
                            signer: None,
                        }),
                    },
                );
                self.touch_parent(&p, now);
            }
        }
        Ok(())
    }

    /// Place a file with full metadata, creating parent folders (no ACL or
    /// lock checks): how the lab seeds hosts and how malware "drops" with
    /// privileges it already has. Returns the normalised path.
    pub fn plant(&mut self, path: &str, entry: Entry, now: LabTime) -> Result<String, FsError> {
        let p = normalize(path)?;
        if let Some(par) = parent(&p) {
            self.create_dir_all(par, now)?;
        }
        if self.entries.get(CiStr::new(&p)).is_some_and(Entry::is_dir) && !entry.is_dir() {
            return Err(FsError::AccessDenied(p));
        }
        let fresh = self.entries.insert(CiKey::from(p.clone()), entry).is_none();
        if fresh {
            self.touch_parent(&p, now);
        }
        Ok(p)
    }
    /// `plant` a plain file with these contents, signer and times `now`.
    pub fn plant_file(
        &mut self,
        path: &str,
        content: Content,
        signer: Option<Signer>,
        now: LabTime,
    ) -> Result<String, FsError> {
        let e = Entry {
            times: Times::all(now),
            attrs: Attrs::default(),
            kind: EntryKind::File(FileData { content, signer }),
        };
        self.plant(path, e, now)
    }

    /// Create a symbolic link or a junction at `path` pointing to `target`
    /// (`mklink`, `mklink /D`, `mklink /J`), creating parent folders.
    pub fn plant_link(&mut self, path: &str, target: &str, dir: bool, junction: bool, now: LabTime) -> Result<String, FsError> {
        let target = normalize(target)?;
        let e = Entry { times: Times::all(now), attrs: Attrs::default(), kind: EntryKind::Link(Link { target, dir: dir || junction, junction }) };
        self.plant(path, e, now)
    }

    fn check_lock(p: &str, locks: &dyn FileLocks) -> Result<(), FsError> {
        match locks.lock_on(p) {
            Some((LockKind::Mapped, _)) => Err(FsError::AccessDenied(p.to_string())),
            Some((LockKind::Open, pid)) => Err(FsError::SharingViolation(p.to_string(), pid)),
            None => Ok(()),
        }
    }

    /// DeleteFile.
    pub fn delete_file(
        &mut self,
        path: &str,
        now: LabTime,
        locks: &dyn FileLocks,
    ) -> Result<Entry, FsError> {
        let p = normalize(path)?;
        let e = self.entry_or_not_found(&p)?;
        if e.is_dir() || e.attrs.readonly {
            return Err(FsError::AccessDenied(p));
        }
        Self::check_lock(&p, locks)?;
        let e = self.entries.remove(CiStr::new(&p)).expect("checked");
        self.touch_parent(&p, now);
        Ok(e)
    }

    /// RemoveDirectory: must be empty.
    pub fn remove_dir(&mut self, path: &str, now: LabTime) -> Result<(), FsError> {
        let p = normalize(path)?;
        let e = self.entry_or_not_found(&p)?;
        if !e.is_dir() {
            return Err(FsError::InvalidName(p));
        }
        if parent(&p).is_none() {
            return Err(FsError::AccessDenied(p));
        }
        if self.descendants(&p).next().is_some() {
            return Err(FsError::DirNotEmpty(p));
        }
        self.entries.remove(CiStr::new(&p));
        self.touch_parent(&p, now);
        Ok(())
    }

    /// `Remove-Item -Recurse -Force`: deletes what it can (clearing
    /// read-only), deepest first; returns what could not be deleted.
    pub fn remove_tree(&mut self, path: &str, now: LabTime, locks: &dyn FileLocks) -> Vec<FsError> {
        let p = match normalize(path) {
            Ok(p) => p,
            Err(e) => return vec![e],
        };
        if !self.entries.contains_key(CiStr::new(&p)) {
            return vec![FsError::PathNotFound(p)];
        }
        let mut all: Vec<String> = self.descendants(&p).map(|(k, _)| k.to_string()).collect();
        all.reverse(); // children sort after their parents: deepest first
        all.push(p);
        let mut errs = Vec::new();
        for q in all {
            if self.is_dir(&q) {
                if let Err(e) = self.remove_dir(&q, now)
                    && !matches!(e, FsError::DirNotEmpty(_))
                {
                    errs.push(e);
                }
            } else {
                if let Some(e) = self.entries.get_mut(CiStr::new(&q)) {
                    e.attrs.readonly = false;
                }
                if let Err(e) = self.delete_file(&q, now, locks) {
                    errs.push(e);
                }
            }
        }
        errs
    }

    /// MoveFileEx: rename a file or directory (`replace`: MOVEFILE_REPLACE_EXISTING).
    pub fn rename(
        &mut self,
        from: &str,
        to: &str,
        replace: bool,
        now: LabTime,
        locks: &dyn FileLocks,
    ) -> Result<(), FsError> {
        let src = normalize(from)?;
        let dst = normalize(to)?;
        let e = self.entry_or_not_found(&src)?;
        let src_is_dir = e.is_dir();
        if parent(&src).is_none() || starts_with_ci(&dst, &format!("{src}\\")) {
            return Err(FsError::AccessDenied(src));
        }
        if src_is_dir {
            if let Some((k, _)) = self
                .descendants(&src)
                .find(|(k, _)| locks.lock_on(k.as_str()).is_some())
            {
                let _ = k;
                return Err(FsError::AccessDenied(src));
            }
        } else if let Some((LockKind::Open, pid)) = locks.lock_on(&src) {
            return Err(FsError::SharingViolation(src, pid));
        }
        self.parent_dir_for_create(&dst)?;
        if !eq_ci(&src, &dst)
            && let Some(d) = self.entries.get(CiStr::new(&dst))
        {
            if !replace {
                return Err(FsError::AlreadyExists(dst));
            }
            if d.is_dir() || src_is_dir || d.attrs.readonly {
                return Err(FsError::AccessDenied(dst));
            }
            Self::check_lock(&dst, locks)?;
            self.entries.remove(CiStr::new(&dst));
        }
        let moved: Vec<String> = if src_is_dir {
            self.descendants(&src).map(|(k, _)| k.to_string()).collect()
        } else {
            vec![]
        };
        let e = self.entries.remove(CiStr::new(&src)).expect("checked");
        self.entries.insert(CiKey::from(dst.clone()), e);
        for old in moved {
            let e = self.entries.remove(CiStr::new(&old)).expect("listed");
            let new = format!("{dst}{}", &old[src.len()..]);
            self.entries.insert(CiKey::from(new), e);
        }
        self.touch_parent(&src, now);
        self.touch_parent(&dst, now);
        Ok(())
    }

    /// SetFileTime (timestomping included).
    pub fn set_times(&mut self, path: &str, times: Times) -> Result<(), FsError> {
        let p = normalize(path)?;
        self.entry_mut_or_not_found(&p)?.times = times;
        Ok(())
    }
    pub fn set_attrs(&mut self, path: &str, attrs: Attrs) -> Result<(), FsError> {
        let p = normalize(path)?;
        self.entry_mut_or_not_found(&p)?.attrs = attrs;
        Ok(())
    }
    /// Add or remove the deny-write ACE for Everyone
    /// ([`acl::deny_writes_for_everyone`]) on a directory.
    pub fn set_deny_write(&mut self, dir: &str, deny: bool) -> Result<(), FsError> {
        let p = normalize(dir)?;
        let ace = acl::deny_writes_for_everyone();
        let mut aces: Vec<Ace> = self.acl(&p).ok_or_else(|| FsError::InvalidName(p.clone()))?.to_vec();
        aces.retain(|a| *a != ace);
        if deny {
            aces.push(ace);
        }
        self.set_acl(&p, aces)
    }

    fn entry_or_not_found(&self, p: &str) -> Result<&Entry, FsError> {
        match self.entries.get(CiStr::new(p)) {
            Some(e) => Ok(e),
            None => Err(self.not_found(p)),
        }
    }
    fn entry_mut_or_not_found(&mut self, p: &str) -> Result<&mut Entry, FsError> {
        let nf = self.not_found(p);
        self.entries.get_mut(CiStr::new(p)).ok_or(nf)
    }
    fn not_found(&self, p: &str) -> FsError {
        match parent(p) {
            Some(par) if self.is_dir(par) => FsError::FileNotFound(p.to_string()),
            _ => FsError::PathNotFound(p.to_string()),
        }
    }
}

fn dir_entry(now: LabTime) -> Entry {
    Entry {
        times: Times::all(now),
        attrs: Attrs::default(),
        kind: EntryKind::Dir { acl: Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Held(&'static str, LockKind);
    impl FileLocks for Held {
        fn lock_on(&self, p: &str) -> Option<(LockKind, Pid)> {
            eq_ci(p, self.0).then_some((self.1, 1234))
        }
    }

    fn t0() -> LabTime {
        LabTime::EPOCH
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("c:/Windows//System32\\").unwrap(),
            r"C:\Windows\System32"
        );
        assert_eq!(normalize(r"\??\c:\x\y.dll").unwrap(), r"C:\x\y.dll");
        assert_eq!(normalize(r"\\?\C:\x\.\y").unwrap(), r"C:\x\y");
        assert_eq!(normalize(r"C:\a\b. ").unwrap(), r"C:\a\b");
        assert_eq!(normalize(r"c:\").unwrap(), "C:");
        for bad in [
            r"C:\a\..\Windows",
            r"relative\x",
            r"\\server\share\x",
            r"C:x",
            r"C:\a?b",
            "",
        ] {
            assert!(
                matches!(normalize(bad), Err(FsError::InvalidName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn case_insensitive_tree_and_listing() {
        let mut fs = FileSystem::new(t0());
        fs.plant_file(
            r"C:\Users\Пётр\AppData\Local\Ab\c.ljk",
            Content::text("x"),
            None,
            t0(),
        )
        .unwrap();
        fs.plant_file(
            r"C:\Users\Пётр\AppData\Local\Ab\d.dll",
            Content::text("y"),
            None,
            t0(),
        )
        .unwrap();
        fs.create_dir_all(r"C:\Users\Пётр\AppData\Local\Ab\Sub", t0())
            .unwrap();
        fs.create_dir_all(r"C:\Users\Пётр\AppData\Local\Ab-x", t0())
            .unwrap();
        assert!(fs.is_file(r"c:\USERS\пётр\appdata\local\AB\C.LJK"));
        let names: Vec<&str> = fs
            .list(r"c:\users\ПЁТР\appdata\local\ab")
            .unwrap()
            .iter()
            .map(|(p, _)| file_name(p))
            .collect();
        assert_eq!(names, ["c.ljk", "d.dll", "Sub"]);
        assert_eq!(fs.walk(r"C:\Users\Пётр\AppData\Local\Ab").len(), 3);
        let (name, _) = fs.get_with_name(r"c:\users\пётр").unwrap();
        assert_eq!(name, r"C:\Users\Пётр");
    }

    #[test]
    fn big_opaque_file_costs_no_memory_and_hashes() {
        let mut fs = FileSystem::new(t0());
        let c = Content::synthetic("emotet-padded", 500 * 1024 * 1024);
        fs.plant_file(r"C:\Users\a\AppData\Local\X\y.dll", c.clone(), None, t0())
            .unwrap();
        let e = fs.get(r"C:\Users\a\AppData\Local\X\y.dll").unwrap();
        assert_eq!(e.size(), 524_288_000);
        assert_eq!(e.sha256(), Some(c.sha256()));
        assert_eq!(
            hex(&Content::text("abc").sha256()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn locked_file_cannot_be_deleted_until_released() {
        let mut fs = FileSystem::new(t0());
        let p = r"C:\Users\a\AppData\Roaming\Microsoft\Vybgeuye\x.dll";
        fs.plant_file(p, Content::text("mz"), None, t0()).unwrap();
        let mapped = Held(
            r"C:\Users\a\AppData\Roaming\Microsoft\Vybgeuye\x.dll",
            LockKind::Mapped,
        );
        assert_eq!(
            fs.delete_file(p, t0(), &mapped).unwrap_err().win32_code(),
            5
        );
        assert_eq!(
            fs.write_file(p, Content::text("z"), t0(), &mapped)
                .unwrap_err()
                .win32_code(),
            5
        );
        let open = Held(
            r"C:\Users\a\AppData\Roaming\Microsoft\Vybgeuye\x.dll",
            LockKind::Open,
        );
        assert_eq!(fs.delete_file(p, t0(), &open).unwrap_err().win32_code(), 32);
        assert_eq!(
            fs.rename(p, r"C:\x.old", false, t0(), &open)
                .unwrap_err()
                .win32_code(),
            32
        );
        // the folder holding it cannot be renamed either
        let dir = r"C:\Users\a\AppData\Roaming\Microsoft\Vybgeuye";
        assert_eq!(
            fs.rename(dir, r"C:\Users\a\q", false, t0(), &mapped)
                .unwrap_err()
                .win32_code(),
            5
        );
        // nor removed (not empty)
        assert_eq!(fs.remove_dir(dir, t0()).unwrap_err().win32_code(), 145);
        // once released
        fs.delete_file(p, t0(), &NoLocks).unwrap();
        assert!(!fs.exists(p));
        fs.remove_dir(dir, t0()).unwrap();
    }

    #[test]
    fn mapped_image_can_be_renamed_but_not_deleted() {
        let mut fs = FileSystem::new(t0());
        let p = r"C:\ProgramData\a.dll";
        fs.plant_file(p, Content::text("mz"), None, t0()).unwrap();
        let mapped = Held(r"C:\ProgramData\a.dll", LockKind::Mapped);
        fs.rename(p, r"C:\ProgramData\a.dll.old", false, t0(), &mapped)
            .unwrap();
        assert!(fs.is_file(r"C:\ProgramData\A.DLL.OLD"));
    }

    #[test]
    fn non_empty_dir_delete_fails_and_misc_errors() {
        let mut fs = FileSystem::new(t0());
        fs.plant_file(r"C:\D\f.txt", Content::text("a"), None, t0())
            .unwrap();
        assert!(matches!(
            fs.remove_dir(r"C:\D", t0()),
            Err(FsError::DirNotEmpty(_))
        ));
        assert_eq!(
            fs.delete_file(r"C:\D\nope", t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            2
        );
        assert_eq!(
            fs.delete_file(r"C:\Nope\x", t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            3
        );
        assert_eq!(
            fs.delete_file(r"C:\D", t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            5
        );
        assert_eq!(fs.create_dir(r"C:\D", t0()).unwrap_err().win32_code(), 183);
        assert_eq!(
            fs.write_file(r"C:\Q\x", Content::text(""), t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            3
        );
        fs.set_attrs(
            r"C:\D\f.txt",
            Attrs {
                readonly: true,
                ..Attrs::default()
            },
        )
        .unwrap();
        assert_eq!(
            fs.delete_file(r"C:\D\f.txt", t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            5
        );
        assert!(fs.remove_tree(r"C:\D", t0(), &NoLocks).is_empty());
        assert!(!fs.exists(r"C:\D"));
        assert!(matches!(
            fs.remove_dir("C:", t0()),
            Err(FsError::AccessDenied(_))
        ));
    }

    #[test]
    fn rename_directory_moves_subtree_and_replace_rules() {
        let mut fs = FileSystem::new(t0());
        fs.plant_file(r"C:\A\B\f", Content::text("1"), None, t0())
            .unwrap();
        fs.plant_file(r"C:\A\g", Content::text("2"), None, t0())
            .unwrap();
        fs.rename(r"C:\A", r"C:\Z", false, t0(), &NoLocks).unwrap();
        assert!(fs.is_file(r"C:\Z\B\f") && fs.is_file(r"C:\Z\g") && !fs.exists(r"C:\A\g"));
        fs.plant_file(r"C:\Z\h", Content::text("3"), None, t0())
            .unwrap();
        assert_eq!(
            fs.rename(r"C:\Z\g", r"C:\Z\h", false, t0(), &NoLocks)
                .unwrap_err()
                .win32_code(),
            183
        );
        fs.rename(r"C:\Z\g", r"C:\Z\h", true, t0(), &NoLocks)
            .unwrap();
        assert_eq!(
            fs.get(r"C:\Z\h").unwrap().file().unwrap().content,
            Content::text("2")
        );
        assert!(
            fs.rename(r"C:\Z", r"C:\Z\B\inner", false, t0(), &NoLocks)
                .is_err()
        );
    }

    #[test]
    fn deny_write_dir_blocks_creation_and_timestamps_move() {
        let mut fs = FileSystem::new(t0());
        let d = r"C:\Users\a\AppData\Roaming\Microsoft\Ejuio";
        fs.create_dir_all(d, t0()).unwrap();
        fs.set_deny_write(d, true).unwrap();
        let later = t0().plus_secs(60);
        let e = fs
            .write_file(&format!(r"{d}\x.dll"), Content::text("mz"), later, &NoLocks)
            .unwrap_err();
        assert_eq!(e.win32_code(), 5);
        fs.set_deny_write(d, false).unwrap();
        fs.write_file(&format!(r"{d}\x.dll"), Content::text("mz"), later, &NoLocks)
            .unwrap();
        assert_eq!(fs.get(d).unwrap().times.modified, later);
        assert_eq!(fs.get(d).unwrap().times.created, t0());
        // Emotet-style timestomp: file exactly 7 days before its folder
        let mut t = fs.get(&format!(r"{d}\x.dll")).unwrap().times;
        t.modified = later.plus_days(-7);
        fs.set_times(&format!(r"{d}\x.dll"), t).unwrap();
        let f = fs.get(&format!(r"{d}\x.dll")).unwrap();
        assert_eq!(
            fs.get(d)
                .unwrap()
                .times
                .modified
                .secs_since(f.times.modified),
            7 * 86_400
        );
    }

    #[test]
    fn wow64_resolution() {
        assert_eq!(
            resolve_wow64(r"c:\windows\system32\rundll32.exe"),
            vec![
                r"C:\windows\system32\rundll32.exe".to_string(),
                r"C:\Windows\SysWOW64\rundll32.exe".into()
            ]
        );
        assert_eq!(
            resolve_wow64(r"C:\Windows\SysWOW64\Xyz\a.dll")[1],
            r"C:\Windows\System32\Xyz\a.dll"
        );
        assert_eq!(
            resolve_wow64(r"C:\Windows\Sysnative\cmd.exe")[1],
            r"C:\Windows\System32\cmd.exe"
        );
        assert_eq!(resolve_wow64(r"C:\Windows\System32x\a.dll").len(), 1);
        assert_eq!(
            resolve_wow64(r"C:\Users\a\x.dll"),
            vec![r"C:\Users\a\x.dll".to_string()]
        );
    }
}
