//! 8.3 short names as NTFS makes them (`Internet Explorer` ->
//! `INTERN~1`, `DeviceEnroller.exe` -> `DEVICE~1.EXE`): a name that is
//! already 8.3 keeps its spelling; any other gets the first six valid
//! characters of its base, `~N`, and the first three of its extension,
//! upper-cased, N counting the folder's names with the same stem (in name
//! order: the lab does not keep creation order). Loaders write paths this
//! way (Dridex's Run values), and Windows opens them: `long_path` resolves
//! them against the file system.

use super::files::{FileSystem, normalize};

/// Whether `name` is already a valid 8.3 name (no short name is made).
fn is_short(name: &str) -> bool {
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (name, None),
    };
    let ok = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-$!#%&'(){}@^`~".contains(c))
    };
    !base.is_empty()
        && base.len() <= 8
        && ok(base)
        && ext.is_none_or(|e| !e.is_empty() && e.len() <= 3 && ok(e))
}

/// The stem (`INTERN`) and extension (`.EXE` or empty) of a short name.
fn stem_ext(name: &str) -> (String, String) {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-$!#%&'(){}@^`".contains(c) {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) if !b.is_empty() => (b, e),
        _ => (name, ""),
    };
    let stem: String = clean(base).chars().take(6).collect();
    let ext: String = clean(ext).chars().take(3).collect();
    (
        stem,
        if ext.is_empty() {
            ext
        } else {
            format!(".{ext}")
        },
    )
}

/// The short name of `name` in a folder holding `siblings` (names, `name`
/// among them or not).
pub fn short_name(name: &str, siblings: &[&str]) -> String {
    if is_short(name) {
        return name.to_string();
    }
    let (stem, ext) = stem_ext(name);
    let mut same: Vec<String> = siblings
        .iter()
        .filter(|s| !is_short(s) && stem_ext(s) == (stem.clone(), ext.clone()))
        .map(|s| s.to_lowercase())
        .collect();
    if !same.contains(&name.to_lowercase()) {
        same.push(name.to_lowercase());
    }
    same.sort();
    let n = same
        .iter()
        .position(|s| *s == name.to_lowercase())
        .unwrap_or(0)
        + 1;
    format!("{stem}~{n}{ext}")
}

/// Names in the folder `dir`.
fn names_in(fs: &FileSystem, dir: &str) -> Vec<String> {
    fs.list(dir)
        .map(|l| {
            l.into_iter()
                .map(|(p, _)| p.rsplit('\\').next().unwrap_or(p).to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `path` (which exists) with every component in its short form.
pub fn short_path(fs: &FileSystem, path: &str) -> Option<String> {
    let p = normalize(path).ok()?;
    fs.exists(&p).then_some(())?;
    let mut parts = p.split('\\');
    let mut long = parts.next()?.to_string();
    let mut short = long.clone();
    for comp in parts {
        let names = names_in(fs, &long);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        short = format!(r"{short}\{}", short_name(comp, &refs));
        long = format!(r"{long}\{comp}");
    }
    Some(short)
}

/// The stored path a path with short components names, as Windows opens
/// it (None when some component names nothing).
pub fn long_path(fs: &FileSystem, path: &str) -> Option<String> {
    let p = normalize(path).ok()?;
    if fs.exists(&p) {
        return Some(p);
    }
    let mut parts = p.split('\\');
    let mut cur = parts.next()?.to_string();
    for comp in parts {
        let direct = format!(r"{cur}\{comp}");
        if fs.exists(&direct) {
            cur = direct;
            continue;
        }
        if !comp.contains('~') {
            return None;
        }
        let names = names_in(fs, &cur);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let hit = names
            .iter()
            .find(|n| short_name(n, &refs).eq_ignore_ascii_case(comp))?;
        cur = format!(r"{cur}\{hit}");
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::world::files::Content;
    use crate::lab::world::time::LabTime;

    #[test]
    fn dridex_path_shortens_as_windows_writes_it_and_resolves_back() {
        let mut fs = FileSystem::new(LabTime::EPOCH);
        let long = r"C:\Users\user1\AppData\Roaming\Microsoft\Internet Explorer\Quick Launch\User Pinned\TaskBar\8BZQKUfNh\DeviceEnroller.exe";
        fs.plant_file(long, Content::text("x"), None, LabTime::EPOCH)
            .unwrap();
        let short = short_path(&fs, long).unwrap();
        assert_eq!(
            short,
            r"C:\Users\user1\AppData\Roaming\MICROS~1\INTERN~1\QUICKL~1\USERPI~1\TaskBar\8BZQKU~1\DEVICE~1.EXE"
        );
        assert_eq!(long_path(&fs, &short).as_deref(), Some(long));
        assert_eq!(
            long_path(&fs, r"C:\Users\user1\AppData\Roaming\MICROS~2"),
            None
        );
    }

    #[test]
    fn names_with_the_same_stem_are_numbered() {
        let sib = ["Program Files", "Program Files (x86)", "ProgramData"];
        assert_eq!(short_name("Program Files", &sib), "PROGRA~1");
        assert_eq!(short_name("Program Files (x86)", &sib), "PROGRA~2");
        assert_eq!(short_name("ProgramData", &sib), "PROGRA~3");
        assert_eq!(short_name("notepad.exe", &sib), "notepad.exe");
    }
}
