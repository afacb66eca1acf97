//! The registry: HKLM and the user hives, with Windows' rules. Key paths
//! and value names are case-insensitive and keep their original spelling;
//! values are typed (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD,
//! REG_QWORD, REG_BINARY); subkeys enumerate in sorted order, values in
//! the order they were created (as RegEnumValue does on a fresh key).
//!
//! Each profile's NTUSER.DAT is a `UserHive` that always exists as state.
//! It is reachable under `HKU\<mount>` only while mounted: Windows mounts
//! it at `HKU\<SID>` when the user logs on; an administrator can mount an
//! unloaded hive elsewhere with `reg load HKU\<name> <file>` (and a loaded
//! hive's file cannot be loaded a second time: it is in use). HKCU is not a
//! root here: callers say `HKU\<SID>` (see `hkcu`). Wow6432Node is only a
//! path; there is no redirection.
//!
//! A user's classes (`Software\Classes` of their hive) are stored in the
//! same tree but live, as on Windows, in a hive file of their own,
//! `%LOCALAPPDATA%\Microsoft\Windows\UsrClass.dat`: at logon Windows
//! mounts it at `HKU\<SID>_Classes` and links it at `HKU\<SID>\Software\
//! Classes`; an NTUSER.DAT loaded with `reg load` shows an empty
//! `Software\Classes` (writing under it is refused here); `reg load` of
//! UsrClass.dat shows the classes at the mount's root.

use std::collections::BTreeMap;

use super::ci::{CiKey, CiStr, eq_ci};

/// Registry value types with their Win32 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegType {
    Sz = 1,
    ExpandSz = 2,
    Binary = 3,
    Dword = 4,
    MultiSz = 7,
    Qword = 11,
}

impl RegType {
    /// `REG_SZ`, `REG_DWORD`, ... as reg.exe prints them.
    pub fn name(self) -> &'static str {
        match self {
            RegType::Sz => "REG_SZ",
            RegType::ExpandSz => "REG_EXPAND_SZ",
            RegType::Binary => "REG_BINARY",
            RegType::Dword => "REG_DWORD",
            RegType::MultiSz => "REG_MULTI_SZ",
            RegType::Qword => "REG_QWORD",
        }
    }
}

/// Typed value data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegData {
    Sz(String),
    ExpandSz(String),
    /// May hold empty strings (PendingFileRenameOperations does).
    MultiSz(Vec<String>),
    Dword(u32),
    Qword(u64),
    Binary(Vec<u8>),
}

impl RegData {
    pub fn sz(s: impl Into<String>) -> RegData {
        RegData::Sz(s.into())
    }
    pub fn expand_sz(s: impl Into<String>) -> RegData {
        RegData::ExpandSz(s.into())
    }
    pub fn kind(&self) -> RegType {
        match self {
            RegData::Sz(_) => RegType::Sz,
            RegData::ExpandSz(_) => RegType::ExpandSz,
            RegData::MultiSz(_) => RegType::MultiSz,
            RegData::Dword(_) => RegType::Dword,
            RegData::Qword(_) => RegType::Qword,
            RegData::Binary(_) => RegType::Binary,
        }
    }
    /// The text of a REG_SZ / REG_EXPAND_SZ (unexpanded).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RegData::Sz(s) | RegData::ExpandSz(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_dword(&self) -> Option<u32> {
        match self {
            RegData::Dword(d) => Some(*d),
            _ => None,
        }
    }
}

/// A named value (name `""` is the key's default value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegValue {
    pub name: CiKey,
    pub data: RegData,
}

/// A key: its values (creation order) and subkeys (sorted).
///
/// Subkeys are a sorted `Vec` searched by bisection rather than a
/// `BTreeMap`: most keys have one or a few subkeys, and a B-tree leaf costs
/// ~700 bytes even for one (this halves a clean host's memory).
#[derive(Debug, Clone, Default)]
pub struct RegKey {
    values: Vec<RegValue>,
    subkeys: SubKeys,
}

/// Sorted (case-insensitively) subkeys.
#[derive(Debug, Clone, Default)]
struct SubKeys(Vec<(CiKey, RegKey)>);

impl SubKeys {
    fn find(&self, name: &str) -> Result<usize, usize> {
        let n = CiStr::new(name);
        self.0.binary_search_by(|(k, _)| k.as_ci().cmp(n))
    }
    fn get(&self, name: &CiStr) -> Option<&RegKey> {
        self.find(name.as_str()).ok().map(|i| &self.0[i].1)
    }
    fn get_mut(&mut self, name: &CiStr) -> Option<&mut RegKey> {
        self.find(name.as_str()).ok().map(move |i| &mut self.0[i].1)
    }
    fn entry(&mut self, name: &str) -> &mut RegKey {
        let i = match self.find(name) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (CiKey::new(name), RegKey::default()));
                i
            }
        };
        &mut self.0[i].1
    }
    fn remove(&mut self, name: &CiStr) -> Option<RegKey> {
        self.find(name.as_str()).ok().map(|i| self.0.remove(i).1)
    }
    fn keys(&self) -> impl Iterator<Item = &CiKey> {
        self.0.iter().map(|(k, _)| k)
    }
    fn values(&self) -> impl Iterator<Item = &RegKey> {
        self.0.iter().map(|(_, v)| v)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RegKey {
    /// Give back the spare capacity of this key's and its subkeys' lists:
    /// a key built value by value keeps up to half its lists unused, and a
    /// lab of thousands of hosts pays that slack on every host.
    pub fn shrink_to_fit(&mut self) {
        self.values.shrink_to_fit();
        self.subkeys.0.shrink_to_fit();
        for (_, k) in &mut self.subkeys.0 {
            k.shrink_to_fit();
        }
    }
    pub fn value(&self, name: &str) -> Option<&RegValue> {
        self.values.iter().find(|v| eq_ci(v.name.as_str(), name))
    }
    pub fn values(&self) -> &[RegValue] {
        &self.values
    }
    /// Set (create or replace) a value; a replaced value keeps its
    /// position and its original name spelling, as on Windows.
    pub fn set(&mut self, name: &str, data: RegData) {
        match self
            .values
            .iter_mut()
            .find(|v| eq_ci(v.name.as_str(), name))
        {
            Some(v) => v.data = data,
            None => self.values.push(RegValue {
                name: CiKey::new(name),
                data,
            }),
        }
    }
    pub fn remove_value(&mut self, name: &str) -> Option<RegValue> {
        let i = self
            .values
            .iter()
            .position(|v| eq_ci(v.name.as_str(), name))?;
        Some(self.values.remove(i))
    }
    /// Subkey names in enumeration order, original spelling.
    pub fn subkey_names(&self) -> impl Iterator<Item = &str> {
        self.subkeys.keys().map(|k| k.as_str())
    }
    pub fn subkey(&self, name: &str) -> Option<&RegKey> {
        self.subkeys.get(CiStr::new(name))
    }
    /// Walk a relative path (`a\b\c`).
    pub fn descend(&self, rel: &str) -> Option<&RegKey> {
        let mut k = self;
        for c in components(rel) {
            k = k.subkeys.get(CiStr::new(c))?;
        }
        Some(k)
    }
    pub fn descend_mut(&mut self, rel: &str) -> Option<&mut RegKey> {
        let mut k = self;
        for c in components(rel) {
            k = k.subkeys.get_mut(CiStr::new(c))?;
        }
        Some(k)
    }
    /// Create the relative path (and intermediate keys) like RegCreateKeyEx.
    pub fn create(&mut self, rel: &str) -> &mut RegKey {
        let mut k = self;
        for c in components(rel) {
            k = k.subkeys.entry(c);
        }
        k
    }
    pub fn has_subkeys(&self) -> bool {
        !self.subkeys.is_empty()
    }
    /// Number of keys in this subtree (including this one) and values.
    pub fn count(&self) -> (usize, usize) {
        let mut keys = 1;
        let mut vals = self.values.len();
        for k in self.subkeys.values() {
            let (a, b) = k.count();
            keys += a;
            vals += b;
        }
        (keys, vals)
    }
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('\\').filter(|c| !c.is_empty())
}

/// Registry errors, with the Win32 code Windows returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegError {
    #[error("registry path not found: {0}")]
    KeyNotFound(String),
    #[error("registry value not found: {0}")]
    ValueNotFound(String),
    #[error("invalid registry path: {0}")]
    BadPath(String),
    /// RegDeleteKey on a key that has subkeys; or writing a hive root.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// `reg load` of a hive file that is already loaded.
    #[error("the hive file is in use: {0}")]
    HiveInUse(String),
}

impl RegError {
    pub fn win32_code(&self) -> u32 {
        match self {
            RegError::KeyNotFound(_) | RegError::ValueNotFound(_) => 2,
            RegError::BadPath(_) => 161,
            RegError::AccessDenied(_) => 5,
            RegError::HiveInUse(_) => 32,
        }
    }
}

/// One user's NTUSER.DAT: present as state whether loaded or not.
#[derive(Debug, Clone)]
pub struct UserHive {
    pub sid: String,
    /// The file it lives in, e.g. `C:\Users\bob\NTUSER.DAT`.
    pub file: String,
    pub root: RegKey,
}

/// Where a user's classes live: `UsrClass.dat` under the profile of an
/// `NTUSER.DAT` path.
pub fn classes_file(ntuser: &str) -> String {
    let profile = ntuser.rsplit_once('\\').map_or(ntuser, |(d, _)| d);
    format!(r"{profile}\AppData\Local\Microsoft\Windows\UsrClass.dat")
}

/// The relative path of a user's classes in their hive's tree.
pub const USER_CLASSES: &str = r"Software\Classes";

/// What a mount under HKU shows of a user's hive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// NTUSER.DAT; `linked`: mounted at logon, `Software\Classes` shows
    /// the classes (else it is an empty key).
    User { linked: bool },
    /// UsrClass.dat: the classes at the root.
    Classes,
}

#[derive(Debug, Clone)]
struct Mount {
    sid: CiKey,
    part: Part,
}

/// A key with nothing in it (an offline NTUSER.DAT's `Software\Classes`).
static EMPTY: RegKey = RegKey { values: Vec::new(), subkeys: SubKeys(Vec::new()) };

/// Whether `rel` is `Software\Classes` or below it; the rest after it.
fn under_classes(rel: &str) -> Option<&str> {
    let rel = rel.trim_matches('\\');
    if rel.len() < USER_CLASSES.len() || !eq_ci(&rel[..USER_CLASSES.len()], USER_CLASSES) {
        return None;
    }
    let rest = &rel[USER_CLASSES.len()..];
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix('\\')
}

/// The whole registry of a host.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    hklm: RegKey,
    hives: BTreeMap<CiKey, UserHive>,
    /// `HKU\<mount name>` -> the hive (and which part of it) mounted there.
    mounts: BTreeMap<CiKey, Mount>,
}

/// `HKU\<sid>\<rel>`: the HKCU of that user.
pub fn hkcu(sid: &str, rel: &str) -> String {
    format!(r"HKU\{sid}\{rel}")
}

/// `HKLM\<rel>`.
pub fn hklm(rel: &str) -> String {
    format!(r"HKLM\{rel}")
}

enum Root<'a> {
    Hklm,
    /// `HKU` itself.
    Users,
    Mounted(&'a str),
}

/// Split a full path into root and relative path. Accepts `HKLM`,
/// `HKEY_LOCAL_MACHINE`, `HKLM:` (PowerShell drive), `HKU`, `HKEY_USERS`,
/// and an optional `Registry::` prefix.
fn split_root(path: &str) -> Result<(Root<'_>, &str), RegError> {
    let p = path.trim_start_matches('\\');
    let p = if p.len() >= 10 && eq_ci(&p[..10], "Registry::") {
        &p[10..]
    } else {
        p
    };
    let (head, rest) = match p.find('\\') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => (p, ""),
    };
    let head = head.trim_end_matches(':');
    if eq_ci(head, "HKLM") || eq_ci(head, "HKEY_LOCAL_MACHINE") {
        return Ok((Root::Hklm, rest));
    }
    if eq_ci(head, "HKU") || eq_ci(head, "HKEY_USERS") {
        let rest = rest.trim_start_matches('\\');
        if rest.is_empty() {
            return Ok((Root::Users, ""));
        }
        let (m, r) = match rest.find('\\') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        return Ok((Root::Mounted(m), r));
    }
    Err(RegError::BadPath(path.to_string()))
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// HKLM root, for direct (ground-truth) access.
    pub fn hklm(&self) -> &RegKey {
        &self.hklm
    }
    pub fn hklm_mut(&mut self) -> &mut RegKey {
        &mut self.hklm
    }

    /// Give back the spare capacity of every hive (see
    /// [`RegKey::shrink_to_fit`]); for a host once it is built.
    pub fn shrink_to_fit(&mut self) {
        self.hklm.shrink_to_fit();
        for hive in self.hives.values_mut() {
            hive.root.shrink_to_fit();
        }
    }

    /// Register a user's hive file (a profile's NTUSER.DAT), unloaded.
    pub fn add_user_hive(&mut self, sid: &str, file: &str, root: RegKey) {
        self.hives.insert(
            CiKey::new(sid),
            UserHive {
                sid: sid.to_string(),
                file: file.to_string(),
                root,
            },
        );
    }
    /// Remove a hive entirely (profile deleted).
    pub fn remove_user_hive(&mut self, sid: &str) -> Option<UserHive> {
        self.mounts.retain(|_, m| !eq_ci(m.sid.as_str(), sid));
        self.hives.remove(CiStr::new(sid))
    }
    /// All user hives, loaded or not (ground truth, offline access).
    pub fn user_hives(&self) -> impl Iterator<Item = &UserHive> {
        self.hives.values()
    }
    pub fn user_hive(&self, sid: &str) -> Option<&UserHive> {
        self.hives.get(CiStr::new(sid))
    }
    /// Offline access to a hive's contents (as if edited with the hive
    /// loaded elsewhere); used by the lab, not by "remote" code.
    pub fn user_hive_mut(&mut self, sid: &str) -> Option<&mut UserHive> {
        self.hives.get_mut(CiStr::new(sid))
    }
    /// Where the hive (NTUSER.DAT) is mounted under HKU, if it is.
    pub fn mount_of(&self, sid: &str) -> Option<&str> {
        self.mounts
            .iter()
            .find(|(_, m)| eq_ci(m.sid.as_str(), sid) && m.part != Part::Classes)
            .map(|(n, _)| n.as_str())
    }
    pub fn is_loaded(&self, sid: &str) -> bool {
        self.mount_of(sid).is_some()
    }
    fn classes_loaded(&self, sid: &str) -> bool {
        self.mounts.values().any(|m| eq_ci(m.sid.as_str(), sid) && m.part == Part::Classes)
    }

    /// Logon: mount the user's hive at `HKU\<SID>` and their classes at
    /// `HKU\<SID>_Classes` (linked at `Software\Classes`).
    pub fn load_user(&mut self, sid: &str) -> Result<(), RegError> {
        self.load_at(sid, sid, Part::User { linked: true })?;
        // (LocalSystem has no classes hive of its own.)
        if sid != super::users::SYSTEM_SID && !self.classes_loaded(sid) {
            self.load_at(&format!("{sid}_Classes"), sid, Part::Classes)?;
        }
        Ok(())
    }
    /// Logoff: unmount both, wherever they are.
    pub fn unload_user(&mut self, sid: &str) {
        self.mounts.retain(|_, m| !eq_ci(m.sid.as_str(), sid));
    }

    fn load_at(&mut self, mount: &str, sid: &str, part: Part) -> Result<(), RegError> {
        if !self.hives.contains_key(CiStr::new(sid)) {
            return Err(RegError::KeyNotFound(sid.to_string()));
        }
        let in_use = match part {
            Part::Classes => self.classes_loaded(sid),
            Part::User { .. } => self.is_loaded(sid),
        };
        if in_use {
            return Err(RegError::HiveInUse(sid.to_string()));
        }
        if self.mounts.contains_key(CiStr::new(mount)) {
            return Err(RegError::AccessDenied(format!(r"HKU\{mount}")));
        }
        self.mounts.insert(CiKey::new(mount), Mount { sid: CiKey::new(sid), part });
        Ok(())
    }

    /// `reg load HKU\<mount> <file>`: mount the hive stored in `file` (a
    /// profile's NTUSER.DAT or UsrClass.dat).
    pub fn reg_load(&mut self, mount: &str, file: &str) -> Result<(), RegError> {
        let found = self.hives.values().find_map(|h| {
            if eq_ci(&h.file, file) {
                Some((h.sid.clone(), Part::User { linked: false }))
            } else if eq_ci(&classes_file(&h.file), file) {
                Some((h.sid.clone(), Part::Classes))
            } else {
                None
            }
        });
        let (sid, part) = found.ok_or_else(|| RegError::KeyNotFound(file.to_string()))?;
        self.load_at(mount, &sid, part)
    }
    /// `reg unload HKU\<mount>`.
    pub fn reg_unload(&mut self, mount: &str) -> Result<(), RegError> {
        self.mounts
            .remove(CiStr::new(mount))
            .map(|_| ())
            .ok_or_else(|| RegError::KeyNotFound(format!(r"HKU\{mount}")))
    }

    fn root_key(&self, path: &str) -> Result<(&RegKey, String), RegError> {
        let (root, rel) = split_root(path)?;
        match root {
            Root::Hklm => Ok((&self.hklm, rel.to_string())),
            Root::Users => Err(RegError::AccessDenied(path.to_string())),
            Root::Mounted(m) => {
                let mount = self.mounts.get(CiStr::new(m)).ok_or_else(|| RegError::KeyNotFound(path.to_string()))?;
                let h = &self.hives[mount.sid.as_ci()];
                match (mount.part, under_classes(rel)) {
                    (Part::Classes, _) => Ok((h.root.descend(USER_CLASSES).unwrap_or(&EMPTY), rel.to_string())),
                    // An offline NTUSER.DAT: Software\Classes is empty.
                    (Part::User { linked: false }, Some("")) => Ok((&EMPTY, String::new())),
                    (Part::User { linked: false }, Some(_)) => Err(RegError::KeyNotFound(path.to_string())),
                    (Part::User { .. }, _) => Ok((&h.root, rel.to_string())),
                }
            }
        }
    }
    fn root_key_mut(&mut self, path: &str) -> Result<(&mut RegKey, String), RegError> {
        let (root, rel) = split_root(path)?;
        match root {
            Root::Hklm => Ok((&mut self.hklm, rel.to_string())),
            Root::Users => Err(RegError::AccessDenied(path.to_string())),
            Root::Mounted(m) => {
                let mount = self.mounts.get(CiStr::new(m)).ok_or_else(|| RegError::KeyNotFound(path.to_string()))?.clone();
                let h = self.hives.get_mut(mount.sid.as_ci()).expect("mounted hive exists");
                match (mount.part, under_classes(rel)) {
                    (Part::Classes, _) => Ok((h.root.create(USER_CLASSES), rel.to_string())),
                    (Part::User { linked: false }, Some(_)) => Err(RegError::AccessDenied(format!("{path} (the lab does not write an offline NTUSER.DAT's own Software\\Classes)"))),
                    (Part::User { .. }, _) => Ok((&mut h.root, rel.to_string())),
                }
            }
        }
    }

    /// The key at a full path.
    pub fn key(&self, path: &str) -> Result<&RegKey, RegError> {
        let (root, rel) = self.root_key(path)?;
        root.descend(&rel)
            .ok_or_else(|| RegError::KeyNotFound(path.to_string()))
    }
    pub fn key_mut(&mut self, path: &str) -> Result<&mut RegKey, RegError> {
        let (root, rel) = self.root_key_mut(path)?;
        root.descend_mut(&rel)
            .ok_or_else(|| RegError::KeyNotFound(path.to_string()))
    }
    pub fn key_exists(&self, path: &str) -> bool {
        self.key(path).is_ok()
    }

    pub fn get_value(&self, path: &str, name: &str) -> Result<&RegData, RegError> {
        self.key(path)?
            .value(name)
            .map(|v| &v.data)
            .ok_or_else(|| RegError::ValueNotFound(format!(r"{path}\{name}")))
    }
    /// RegSetValueEx: the key must exist.
    pub fn set_value(&mut self, path: &str, name: &str, data: RegData) -> Result<(), RegError> {
        self.key_mut(path)?.set(name, data);
        Ok(())
    }
    /// Create the key if needed, then set the value (what `reg add` does).
    pub fn put(&mut self, path: &str, name: &str, data: RegData) -> Result<(), RegError> {
        self.create_key(path)?;
        self.set_value(path, name, data)
    }
    pub fn delete_value(&mut self, path: &str, name: &str) -> Result<RegValue, RegError> {
        self.key_mut(path)?
            .remove_value(name)
            .ok_or_else(|| RegError::ValueNotFound(format!(r"{path}\{name}")))
    }
    /// RegCreateKeyEx: creates intermediate keys; `Ok(true)` if created.
    pub fn create_key(&mut self, path: &str) -> Result<bool, RegError> {
        let existed = self.key_exists(path);
        let (root, rel) = self.root_key_mut(path)?;
        root.create(&rel);
        Ok(!existed)
    }
    /// RegDeleteKey: fails with access denied if the key has subkeys; a
    /// hive root cannot be deleted.
    pub fn delete_key(&mut self, path: &str) -> Result<(), RegError> {
        self.delete_inner(path, false)
    }
    /// RegDeleteTree / `Remove-Item -Recurse`.
    pub fn delete_tree(&mut self, path: &str) -> Result<(), RegError> {
        self.delete_inner(path, true)
    }
    fn delete_inner(&mut self, path: &str, recursive: bool) -> Result<(), RegError> {
        let (root, rel) = self.root_key_mut(path)?;
        let comps: Vec<&str> = components(&rel).collect();
        let Some((last, parents)) = comps.split_last() else {
            return Err(RegError::AccessDenied(path.to_string()));
        };
        let mut k = root;
        for c in parents {
            k = k
                .subkeys
                .get_mut(CiStr::new(c))
                .ok_or_else(|| RegError::KeyNotFound(path.to_string()))?;
        }
        let target = k
            .subkeys
            .get(CiStr::new(last))
            .ok_or_else(|| RegError::KeyNotFound(path.to_string()))?;
        if !recursive && target.has_subkeys() {
            return Err(RegError::AccessDenied(path.to_string()));
        }
        k.subkeys.remove(CiStr::new(last));
        Ok(())
    }
    /// Subkey names (sorted, original spelling). `HKU` lists the mounts.
    pub fn subkeys(&self, path: &str) -> Result<Vec<String>, RegError> {
        if let Ok((Root::Users, _)) = split_root(path) {
            return Ok(self.mounts.keys().map(|m| m.to_string()).collect());
        }
        Ok(self.key(path)?.subkey_names().map(str::to_string).collect())
    }
    pub fn values(&self, path: &str) -> Result<&[RegValue], RegError> {
        Ok(self.key(path)?.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::paths;

    const SID: &str = "S-1-5-21-1-2-3-1001";

    fn reg_with_user() -> Registry {
        let mut r = Registry::new();
        r.add_user_hive(SID, r"C:\Users\bob\NTUSER.DAT", RegKey::default());
        r
    }

    #[test]
    fn keys_and_values_are_case_insensitive_and_keep_case() {
        let mut r = Registry::new();
        let run = hklm(paths::RUN);
        r.put(&run, "OneDrive", RegData::sz("x.exe")).unwrap();
        assert_eq!(
            r.get_value(
                r"hkey_local_machine\SOFTWARE\microsoft\windows\currentversion\RUN",
                "onedrive"
            )
            .unwrap(),
            &RegData::sz("x.exe")
        );
        assert_eq!(r.values(&run).unwrap()[0].name.as_str(), "OneDrive");
        // replace keeps original name spelling and position
        r.put(&run, "Zed", RegData::Dword(1)).unwrap();
        r.put(&run, "ONEDRIVE", RegData::sz("y.exe")).unwrap();
        let vals = r.values(&run).unwrap();
        assert_eq!(vals[0].name.as_str(), "OneDrive");
        assert_eq!(vals[0].data, RegData::sz("y.exe"));
        assert_eq!(
            r.subkeys(r"HKLM:\Software\Microsoft\Windows").unwrap(),
            vec!["CurrentVersion"]
        );
        assert!(r.key_exists(r"Registry::HKEY_LOCAL_MACHINE\software"));
    }

    #[test]
    fn all_value_types_round_trip() {
        let mut r = Registry::new();
        let k = r"HKLM\SOFTWARE\T";
        let data = [
            RegData::sz("a"),
            RegData::expand_sz("%SystemRoot%\\x"),
            RegData::MultiSz(vec!["a".into(), String::new(), "b".into()]),
            RegData::Dword(0xdead_beef),
            RegData::Qword(u64::MAX),
            RegData::Binary(vec![0, 1, 2]),
        ];
        for (i, d) in data.iter().enumerate() {
            r.put(k, &format!("v{i}"), d.clone()).unwrap();
        }
        let kinds: Vec<&str> = r
            .values(k)
            .unwrap()
            .iter()
            .map(|v| v.data.kind().name())
            .collect();
        assert_eq!(
            kinds,
            [
                "REG_SZ",
                "REG_EXPAND_SZ",
                "REG_MULTI_SZ",
                "REG_DWORD",
                "REG_QWORD",
                "REG_BINARY"
            ]
        );
        for (i, d) in data.iter().enumerate() {
            assert_eq!(r.get_value(k, &format!("V{i}")).unwrap(), d);
        }
        assert_eq!(r.get_value(k, "v3").unwrap().as_dword(), Some(0xdead_beef));
    }

    #[test]
    fn set_value_needs_existing_key_and_delete_rules() {
        let mut r = Registry::new();
        let e = r
            .set_value(r"HKLM\SOFTWARE\Nope", "a", RegData::Dword(1))
            .unwrap_err();
        assert_eq!(e.win32_code(), 2);
        r.create_key(r"HKLM\SOFTWARE\A\B").unwrap();
        assert_eq!(
            r.delete_key(r"HKLM\SOFTWARE\A").unwrap_err().win32_code(),
            5
        );
        r.delete_key(r"HKLM\SOFTWARE\a\b").unwrap();
        r.delete_key(r"HKLM\SOFTWARE\A").unwrap();
        assert!(!r.key_exists(r"HKLM\SOFTWARE\A"));
        r.create_key(r"HKLM\SOFTWARE\A\B\C").unwrap();
        r.delete_tree(r"HKLM\SOFTWARE\A").unwrap();
        assert!(matches!(
            r.delete_value(r"HKLM\SOFTWARE", "x"),
            Err(RegError::ValueNotFound(_))
        ));
        assert!(matches!(
            r.delete_key("HKLM"),
            Err(RegError::AccessDenied(_))
        ));
        assert!(matches!(r.key(r"HKCU\Software"), Err(RegError::BadPath(_))));
    }

    #[test]
    fn unloaded_hive_still_holds_values() {
        let mut r = reg_with_user();
        let run = hkcu(SID, paths::RUN);
        // not logged on: HKU\<SID> is absent
        assert!(matches!(r.key(&run), Err(RegError::KeyNotFound(_))));
        assert!(r.subkeys("HKU").unwrap().is_empty());
        r.load_user(SID).unwrap();
        r.put(&run, "evil", RegData::sz("regsvr32.exe -s x.dll"))
            .unwrap();
        assert_eq!(r.subkeys("HKEY_USERS").unwrap(), vec![SID.to_string(), format!("{SID}_Classes")]);
        r.unload_user(SID);
        assert!(r.key(&run).is_err());
        // the state is still there, offline
        let h = r.user_hive(SID).unwrap();
        assert_eq!(
            h.root
                .descend(paths::RUN)
                .unwrap()
                .value("EVIL")
                .unwrap()
                .data
                .as_str(),
            Some("regsvr32.exe -s x.dll")
        );
        // reg load under another name, by file, sees it
        r.reg_load("cauterize_bob", r"c:\users\BOB\ntuser.dat")
            .unwrap();
        assert!(
            r.get_value(&format!(r"HKU\cauterize_bob\{}", paths::RUN), "evil")
                .is_ok()
        );
        // loading the same file twice fails: in use
        assert_eq!(r.load_user(SID).unwrap_err().win32_code(), 32);
        r.reg_unload("CAUTERIZE_BOB").unwrap();
        r.load_user(SID).unwrap();
        assert!(r.is_loaded(SID));
    }

    /// A user's classes, as Windows shows them: at logon both at
    /// `HKU\<SID>\Software\Classes` and `HKU\<SID>_Classes`; in an
    /// NTUSER.DAT loaded offline, `Software\Classes` is empty; UsrClass.dat
    /// loaded on its own has them at its root (and is in use while the user
    /// is logged on).
    #[test]
    fn user_classes_live_in_usrclass_dat() {
        let mut r = reg_with_user();
        let key = r"Software\Classes\ms-settings\shell\open\command";
        r.user_hive_mut(SID).unwrap().root.create(key).set("", RegData::sz("evil.exe"));
        r.load_user(SID).unwrap();
        assert!(r.get_value(&hkcu(SID, key), "").is_ok());
        assert!(r.get_value(&format!(r"HKU\{SID}_Classes\ms-settings\shell\open\command"), "").is_ok());
        let usrclass = classes_file(r"C:\Users\bob\NTUSER.DAT");
        assert_eq!(usrclass, r"C:\Users\bob\AppData\Local\Microsoft\Windows\UsrClass.dat");
        assert_eq!(r.reg_load("cz_c", &usrclass).unwrap_err().win32_code(), 32);
        r.unload_user(SID);
        r.reg_load("cz_u", r"C:\Users\bob\NTUSER.DAT").unwrap();
        assert!(r.key(r"HKU\cz_u\Software\Classes").is_ok());
        assert!(r.subkeys(r"HKU\cz_u\Software\Classes").unwrap().is_empty());
        assert!(r.key(r"HKU\cz_u\Software\Classes\ms-settings").is_err());
        r.reg_load("cz_c", &usrclass).unwrap();
        assert!(r.get_value(r"HKU\cz_c\ms-settings\shell\open\command", "").is_ok());
        r.delete_value(r"HKU\cz_c\ms-settings\shell\open\command", "").unwrap();
        assert!(r.user_hive(SID).unwrap().root.descend(key).unwrap().value("").is_none());
    }
}
