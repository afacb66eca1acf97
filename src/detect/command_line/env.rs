//! Environment variables as Windows expands them for one account: the
//! machine's (`%SystemRoot%`, `%ProgramData%`, ...) and the account's own
//! folders (`%APPDATA%` of a user, or of SYSTEM's profile under
//! `System32\config\systemprofile`).

use crate::runtime::snapshot::UserProfile;

/// Environment variables for expansion, per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    /// Machine-wide variables only (user variables stay unexpanded).
    pub fn machine() -> Env {
        let v = |a: &str, b: &str| (a.to_string(), b.to_string());
        Env {
            vars: vec![
                v("SYSTEMROOT", "C:\\Windows"),
                v("WINDIR", "C:\\Windows"),
                v("SYSTEMDRIVE", "C:"),
                v("PROGRAMDATA", "C:\\ProgramData"),
                v("ALLUSERSPROFILE", "C:\\ProgramData"),
                v("PROGRAMFILES", "C:\\Program Files"),
                v("PROGRAMFILES(X86)", "C:\\Program Files (x86)"),
                v("PROGRAMW6432", "C:\\Program Files"),
                v("COMMONPROGRAMFILES", "C:\\Program Files\\Common Files"),
                v(
                    "COMMONPROGRAMFILES(X86)",
                    "C:\\Program Files (x86)\\Common Files",
                ),
                v("PUBLIC", "C:\\Users\\Public"),
                v("COMSPEC", "C:\\Windows\\system32\\cmd.exe"),
            ],
        }
    }

    /// Machine variables plus the user's own folders.
    pub fn for_user(user: Option<&UserProfile>) -> Env {
        let mut e = Env::machine();
        if let Some(u) = user {
            let mut add = |k: &str, val: &str| {
                if !val.is_empty() {
                    e.vars.push((k.to_string(), val.to_string()));
                }
            };
            add("USERPROFILE", &u.profile_path);
            add("APPDATA", &u.appdata);
            add("LOCALAPPDATA", &u.local_appdata);
            add("TEMP", &u.temp);
            add("TMP", &u.temp);
            add("USERNAME", &u.name);
            add("HOMEDRIVE", "C:");
            if let Some(rest) = u.profile_path.get(2..) {
                add("HOMEPATH", rest);
            }
        }
        e
    }

    /// Expand `%NAME%` references (case-insensitive); unknown ones stay.
    pub fn expand(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            match after.find('%') {
                Some(j) => {
                    let name = &after[..j];
                    match self.vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                        Some((_, v)) if !name.is_empty() => {
                            out.push_str(v);
                            rest = &after[j + 1..];
                        }
                        _ => {
                            out.push('%');
                            rest = after;
                        }
                    }
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

impl Env {
    /// The value of one variable (case-insensitive name), if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
