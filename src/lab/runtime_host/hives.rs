//! User profiles as the runtime finds them (the ProfileList in HKLM), and
//! user hives: a logged-on user's hive is at `HKU\<SID>`; any other user's
//! NTUSER.DAT is loaded under a temporary key, `HKU\cz_<random>` (what
//! `reg load` does), and always unloaded again, whatever happened.

use rand::Rng;

use crate::lab::world::HostState;
use crate::lab::world::paths;
use crate::lab::world::registry::{RegData, hklm};

/// One profile from the ProfileList.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInfo {
    pub sid: String,
    /// Account name without the domain (the SID translated, as
    /// `SecurityIdentifier.Translate` gives it), else the folder's name.
    pub name: String,
    pub profile_path: String,
    /// `HKU\<SID>` exists: the user is logged on (or the hive is loaded).
    pub logged_on: bool,
}

impl ProfileInfo {
    pub fn ntuser_dat(&self) -> String {
        format!(r"{}\NTUSER.DAT", self.profile_path)
    }
}

/// Real user profiles in the ProfileList, in key order: local and domain
/// accounts (`S-1-5-21-...`) and Azure AD / Entra ID accounts
/// (`S-1-12-1-...`), as `Get-CzProfiles`.
pub fn profiles(host: &HostState) -> Vec<ProfileInfo> {
    let list = hklm(paths::PROFILE_LIST);
    let Ok(sids) = host.registry.subkeys(&list) else {
        return Vec::new();
    };
    sids.into_iter()
        .filter(|s| s.starts_with("S-1-5-21-") || s.starts_with("S-1-12-1-"))
        .filter_map(|sid| {
            let key = format!(r"{list}\{sid}");
            let raw = host
                .registry
                .get_value(&key, "ProfileImagePath")
                .ok()?
                .as_str()?
                .to_string();
            let profile_path = host.expand(&raw, None);
            let leaf = profile_path.rsplit('\\').next().unwrap_or("").to_string();
            let name = host.profile(&sid).map(|p| p.name).unwrap_or(leaf);
            let logged_on = host.registry.key_exists(&format!(r"HKU\{sid}"));
            Some(ProfileInfo {
                sid,
                name,
                profile_path,
                logged_on,
            })
        })
        .collect()
}

/// The profile of a SID.
pub fn profile(host: &HostState, sid: &str) -> Option<ProfileInfo> {
    profiles(host)
        .into_iter()
        .find(|p| p.sid.eq_ignore_ascii_case(sid))
}

/// A user hive made reachable for the runtime.
#[derive(Debug)]
pub struct Mounted {
    /// `HKU\<SID>` or `HKU\cz_<random>`.
    pub root: String,
    /// The temporary key this loaded (to unload), if any.
    temp: Option<String>,
}

/// Make the user's hive reachable: `HKU\<SID>` when loaded, else load its
/// NTUSER.DAT under `HKU\cz_<random>`. Pair with [`unmount`]; nothing
/// between the two may return early.
pub fn mount(host: &mut HostState, p: &ProfileInfo) -> Result<Mounted, String> {
    let own = format!(r"HKU\{}", p.sid);
    if host.registry.key_exists(&own) {
        return Ok(Mounted {
            root: own,
            temp: None,
        });
    }
    load(host, p.ntuser_dat())
}

/// Make the user's classes reachable: `HKU\<SID>\Software\Classes` when
/// they are logged on, else their UsrClass.dat loaded under
/// `HKU\cz_<random>` (the classes at its root), as `Mount-CzClassHive`.
pub fn mount_classes(host: &mut HostState, p: &ProfileInfo) -> Result<Mounted, String> {
    let own = format!(r"HKU\{}", p.sid);
    if host.registry.key_exists(&own) {
        return Ok(Mounted {
            root: format!(r"{own}\{}", crate::lab::world::registry::USER_CLASSES),
            temp: None,
        });
    }
    load(host, crate::lab::world::registry::classes_file(&p.ntuser_dat()))
}

fn load(host: &mut HostState, file: String) -> Result<Mounted, String> {
    if !host.files.is_file(&file) {
        return Err(format!("{file} does not exist"));
    }
    let mount = format!("cz_{:08x}", rand::thread_rng().r#gen::<u32>());
    host.registry
        .reg_load(&mount, &file)
        .map_err(|e| format!("reg load {file}: {e}"))?;
    Ok(Mounted {
        root: format!(r"HKU\{mount}"),
        temp: Some(mount),
    })
}

/// Unload what [`mount`] loaded (nothing for a logged-on user's hive).
pub fn unmount(host: &mut HostState, m: Mounted) -> Result<(), String> {
    match m.temp {
        Some(t) => host
            .registry
            .reg_unload(&t)
            .map_err(|e| format!("reg unload {}: {e}", m.root)),
        None => Ok(()),
    }
}

/// Registry data in the runtime's text form (see `runtime::ops`), and its
/// type name.
pub fn data_text(d: &RegData) -> (String, &'static str) {
    let t = d.kind().name();
    let text = match d {
        RegData::Sz(s) | RegData::ExpandSz(s) => s.clone(),
        RegData::MultiSz(v) => v.join("\n"),
        RegData::Dword(n) => n.to_string(),
        RegData::Qword(n) => n.to_string(),
        RegData::Binary(b) => crate::runtime::ops::hex(b),
    };
    (text, t)
}

/// SHA-256 of registry data as the runtime computes it on the host
/// (`runtime::ops::reg_data_sha256`: the whole value, however much of it
/// collection shows).
pub fn data_sha256(d: &RegData) -> String {
    let t = d.kind().name();
    let strings: Vec<String> = match d {
        RegData::Sz(s) | RegData::ExpandSz(s) => vec![s.clone()],
        RegData::MultiSz(v) => v.clone(),
        _ => Vec::new(),
    };
    let (number, bytes): (u64, &[u8]) = match d {
        RegData::Dword(n) => (u64::from(*n), &[]),
        RegData::Qword(n) => (*n, &[]),
        RegData::Binary(b) => (0, b),
        _ => (0, &[]),
    };
    crate::runtime::ops::reg_data_sha256(t, &strings, number, bytes)
}
