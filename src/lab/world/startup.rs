//! Startup folders and shell links. The folders are plain directories
//! (per user `%APPDATA%\Microsoft\Windows\Start Menu\Programs\Startup`, all
//! users `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp`);
//! whatever file is in them starts at logon. A `.lnk` file is modelled as a
//! file whose content records its target, arguments and working folder
//! (`LnkTarget`): it starts with the real shell-link header (HeaderSize
//! 0x4C and the ShellLink CLSID) followed by a lab block, not the full
//! MS-SHLLINK layout.

use super::files::{Content, FileSystem, FsError, Signer};
use super::paths;
use super::time::LabTime;
use super::users::Profile;

/// The real first 20 bytes of every .lnk: HeaderSize and LinkCLSID
/// {00021401-0000-0000-C000-000000000046}.
const LNK_HEADER: [u8; 20] = [
    0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46,
];
const LAB_MAGIC: &[u8] = b"LABLNK1\0";

/// Where a shortcut points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LnkTarget {
    pub target: String,
    pub arguments: String,
    pub working_dir: String,
}

impl LnkTarget {
    pub fn new(target: &str, arguments: &str) -> LnkTarget {
        LnkTarget {
            target: target.into(),
            arguments: arguments.into(),
            working_dir: String::new(),
        }
    }
    pub fn encode(&self) -> Vec<u8> {
        let mut v = LNK_HEADER.to_vec();
        v.extend_from_slice(LAB_MAGIC);
        for f in [&self.target, &self.arguments, &self.working_dir] {
            v.extend_from_slice(f.as_bytes());
            v.push(0);
        }
        v
    }
    pub fn decode(b: &[u8]) -> Option<LnkTarget> {
        let rest = b.strip_prefix(&LNK_HEADER[..])?.strip_prefix(LAB_MAGIC)?;
        let mut parts = rest.split(|&c| c == 0);
        let mut next = || {
            parts
                .next()
                .and_then(|p| String::from_utf8(p.to_vec()).ok())
        };
        Some(LnkTarget {
            target: next()?,
            arguments: next()?,
            working_dir: next()?,
        })
    }
}

/// Both startup folders that apply to `user`: theirs, then all users'.
pub fn startup_dirs(user: &Profile) -> [String; 2] {
    [user.startup_dir(), paths::COMMON_STARTUP.to_string()]
}

/// Write `<dir>\<name>` as a shortcut (creating folders). Returns its path.
pub fn place_lnk(
    fs: &mut FileSystem,
    dir: &str,
    name: &str,
    lnk: &LnkTarget,
    now: LabTime,
) -> Result<String, FsError> {
    fs.plant_file(
        &format!(r"{dir}\{name}"),
        Content::bytes(lnk.encode()),
        None::<Signer>,
        now,
    )
}

/// Read a shortcut file, if `path` is one.
pub fn read_lnk(fs: &FileSystem, path: &str) -> Option<LnkTarget> {
    LnkTarget::decode(fs.get(path)?.file()?.content.as_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lnk_round_trip_in_a_users_startup_folder() {
        let t = LabTime::EPOCH;
        let mut fs = FileSystem::new(t);
        let u = Profile::new("Пётр", "CORP", "S-1-5-21-1-2-3-1104");
        let l = LnkTarget {
            target: r"C:\Users\Пётр\AppData\Roaming\Xcd\sigverif.exe".into(),
            arguments: String::new(),
            working_dir: r"C:\Users\Пётр\AppData\Roaming\Xcd".into(),
        };
        let p = place_lnk(&mut fs, &startup_dirs(&u)[0], "Sigverif.lnk", &l, t).unwrap();
        assert_eq!(
            p,
            r"C:\Users\Пётр\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\Sigverif.lnk"
        );
        assert_eq!(read_lnk(&fs, &p.to_uppercase()), Some(l));
        assert_eq!(
            &fs.get(&p)
                .unwrap()
                .file()
                .unwrap()
                .content
                .as_bytes()
                .unwrap()[..4],
            &[0x4C, 0, 0, 0]
        );
        fs.plant_file(r"C:\x.txt", Content::text("hi"), None, t)
            .unwrap();
        assert_eq!(read_lnk(&fs, r"C:\x.txt"), None);
    }
}
