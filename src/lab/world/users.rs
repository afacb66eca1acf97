//! User profiles and environment-variable expansion. A profile is a user
//! name (any Unicode, e.g. `Пётр`), a SID, a profile folder and whether the
//! user is logged on. `expand` resolves `%APPDATA%`, `%LOCALAPPDATA%`,
//! `%USERPROFILE%`, `%TEMP%` ... for THAT user (so the collector can expand
//! a Run value found in another user's hive), and the system variables.
//! Variable names are case-insensitive; an undefined variable stays as
//! written, as ExpandEnvironmentStrings leaves it.

use super::ci::eq_ci;
use super::os::Arch;
use super::paths;

/// The SYSTEM account's SID (`NT AUTHORITY\SYSTEM`).
pub const SYSTEM_SID: &str = "S-1-5-18";

/// A user profile on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Account name, e.g. `Пётр` (no domain).
    pub name: String,
    /// NetBIOS domain for domain accounts, the computer name for local ones.
    pub domain: String,
    pub sid: String,
    /// `C:\Users\<name>` (or `...\systemprofile` for SYSTEM).
    pub profile_path: String,
    pub logged_on: bool,
}

impl Profile {
    /// A profile at `C:\Users\<name>`, logged off.
    pub fn new(name: &str, domain: &str, sid: &str) -> Profile {
        Profile {
            name: name.into(),
            domain: domain.into(),
            sid: sid.into(),
            profile_path: format!(r"{}\{}", paths::USERS, name),
            logged_on: false,
        }
    }
    /// The SYSTEM profile (`HKU\S-1-5-18`, systemprofile folder).
    pub fn system() -> Profile {
        Profile {
            name: "SYSTEM".into(),
            domain: "NT AUTHORITY".into(),
            sid: SYSTEM_SID.into(),
            profile_path: paths::SYSTEM_PROFILE.into(),
            logged_on: true,
        }
    }
    pub fn is_system(&self) -> bool {
        self.sid == SYSTEM_SID
    }
    /// `DOMAIN\name`.
    pub fn qualified(&self) -> String {
        format!(r"{}\{}", self.domain, self.name)
    }
    pub fn appdata(&self) -> String {
        format!(r"{}\AppData\Roaming", self.profile_path)
    }
    pub fn local_appdata(&self) -> String {
        format!(r"{}\AppData\Local", self.profile_path)
    }
    pub fn temp(&self) -> String {
        if self.is_system() {
            paths::WINDOWS_TEMP.into()
        } else {
            format!(r"{}\AppData\Local\Temp", self.profile_path)
        }
    }
    pub fn ntuser_dat(&self) -> String {
        format!(r"{}\NTUSER.DAT", self.profile_path)
    }
    /// `%APPDATA%\Microsoft\Windows\Start Menu\Programs\Startup`.
    pub fn startup_dir(&self) -> String {
        format!(r"{}\{}", self.appdata(), paths::USER_STARTUP_UNDER_APPDATA)
    }

    fn var(&self, name: &str) -> Option<String> {
        let v = |n: &str| eq_ci(name, n);
        Some(if v("APPDATA") {
            self.appdata()
        } else if v("LOCALAPPDATA") {
            self.local_appdata()
        } else if v("USERPROFILE") {
            self.profile_path.clone()
        } else if v("TEMP") || v("TMP") {
            self.temp()
        } else if v("USERNAME") {
            self.name.clone()
        } else if v("USERDOMAIN") {
            self.domain.clone()
        } else if v("HOMEDRIVE") {
            "C:".into()
        } else if v("HOMEPATH") {
            self.profile_path.get(2..).unwrap_or("").to_string()
        } else {
            return None;
        })
    }
}

/// System-wide variables of a Windows install.
fn system_var(name: &str, arch: Arch) -> Option<&'static str> {
    let v = |n: &str| eq_ci(name, n);
    let x64 = arch == Arch::X64;
    Some(if v("SystemRoot") || v("windir") {
        paths::WINDOWS
    } else if v("SystemDrive") {
        "C:"
    } else if v("ProgramData") || v("ALLUSERSPROFILE") {
        paths::PROGRAM_DATA
    } else if v("ProgramFiles") {
        paths::PROGRAM_FILES
    } else if v("ProgramFiles(x86)") && x64 {
        paths::PROGRAM_FILES_X86
    } else if v("ProgramW6432") && x64 {
        paths::PROGRAM_FILES
    } else if v("CommonProgramFiles") {
        r"C:\Program Files\Common Files"
    } else if v("CommonProgramFiles(x86)") && x64 {
        r"C:\Program Files (x86)\Common Files"
    } else if v("PUBLIC") {
        paths::PUBLIC
    } else if v("ComSpec") {
        r"C:\Windows\system32\cmd.exe"
    } else if v("OS") {
        "Windows_NT"
    } else {
        return None;
    })
}

/// Expand `%VAR%` references for `user` (None: system variables only) on
/// a 64-bit install.
pub fn expand(text: &str, user: Option<&Profile>) -> String {
    expand_for(text, user, Arch::X64)
}

/// Expand for a given architecture (`%ProgramFiles(x86)%` is undefined on
/// a 32-bit install).
pub fn expand_for(text: &str, user: Option<&Profile>, arch: Arch) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('%') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &after[..j];
        let value = if name.is_empty() {
            None
        } else {
            user.and_then(|u| u.var(name))
                .or_else(|| system_var(name, arch).map(str::to_string))
        };
        match value {
            Some(v) => out.push_str(&v),
            None => {
                out.push('%');
                out.push_str(name);
                out.push('%');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// A SID in a machine or domain: `S-1-5-21-<a>-<b>-<c>-<rid>`.
pub fn sid(authority: [u32; 3], rid: u32) -> String {
    format!(
        "S-1-5-21-{}-{}-{}-{}",
        authority[0], authority[1], authority[2], rid
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_expansion_uses_that_users_profile() {
        let petr = Profile::new("Пётр", "CORP", "S-1-5-21-1-2-3-1104");
        let bob = Profile::new("bob", "CORP", "S-1-5-21-1-2-3-1105");
        assert_eq!(
            expand(r"%APPDATA%\Microsoft\Bbbetedog\x.dll", Some(&petr)),
            r"C:\Users\Пётр\AppData\Roaming\Microsoft\Bbbetedog\x.dll"
        );
        assert_eq!(
            expand(r"%localappdata%\Ab\c.ljk", Some(&petr)),
            r"C:\Users\Пётр\AppData\Local\Ab\c.ljk"
        );
        assert_eq!(expand("%UserProfile%", Some(&bob)), r"C:\Users\bob");
        assert_eq!(
            expand(r"%TEMP%\a.vbs", Some(&petr)),
            r"C:\Users\Пётр\AppData\Local\Temp\a.vbs"
        );
        assert_eq!(
            expand(r"%TEMP%\a.vbs", Some(&Profile::system())),
            r"C:\Windows\Temp\a.vbs"
        );
        assert_eq!(expand("%HOMEPATH%", Some(&petr)), r"\Users\Пётр");
    }

    #[test]
    fn system_vars_and_undefined_vars() {
        assert_eq!(
            expand(r"%SystemRoot%\system32\rundll32.exe", None),
            r"C:\Windows\system32\rundll32.exe"
        );
        assert_eq!(
            expand(
                "%windir%|%ProgramData%|%ProgramFiles%|%ProgramFiles(x86)%",
                None
            ),
            r"C:\Windows|C:\ProgramData|C:\Program Files|C:\Program Files (x86)"
        );
        // user vars without a user stay literal, like undefined ones
        assert_eq!(expand(r"%APPDATA%\x", None), r"%APPDATA%\x");
        assert_eq!(expand("100% sure %NOPE% 50%", None), "100% sure %NOPE% 50%");
        assert_eq!(expand("%%", None), "%%");
        assert_eq!(
            expand_for("%ProgramFiles(x86)%", None, Arch::X86),
            "%ProgramFiles(x86)%"
        );
    }
}
