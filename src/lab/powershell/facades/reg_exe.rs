//! `reg.exe load` and `reg.exe unload` over the host's registry: a hive
//! file (a profile's NTUSER.DAT, or its UsrClass.dat) mounted as a subkey
//! of HKEY_USERS, as an administrator's `reg load HKU\name file` does.
//! Windows' answers: "The operation completed successfully." on stdout,
//! exit 0; else `ERROR: <the Win32 message>` on stderr, exit 1 (a hive
//! already loaded is in use by another process; a non-administrator lacks
//! the restore privilege; a bad key name is a usage error).

use crate::lab::powershell::facades::fs;
use crate::lab::powershell::object::{Ctx, NativeOutput, NativeProgram, Registry};
use crate::lab::world::registry::RegError;

const OK: &str = "The operation completed successfully.\r\n\r\n";

fn error(message: &str) -> NativeOutput {
    NativeOutput { stderr: format!("ERROR: {message}\r\n"), exit_code: 1, ..Default::default() }
}

fn usage(op: &str, what: &str) -> NativeOutput {
    NativeOutput { stderr: format!("ERROR: {what}\r\nType \"REG {} /?\" for usage.\r\n", op.to_uppercase()), exit_code: 1, ..Default::default() }
}

/// `HKU\name` (or `HKEY_USERS\name`) to `name`; the lab mounts hives
/// under HKEY_USERS only.
fn mount_name(key: &str) -> Result<&str, &'static str> {
    let (root, rest) = key.split_once('\\').ok_or("Invalid key name.")?;
    let root = root.trim_end_matches(':');
    if !(root.eq_ignore_ascii_case("HKU") || root.eq_ignore_ascii_case("HKEY_USERS")) {
        if root.eq_ignore_ascii_case("HKLM") || root.eq_ignore_ascii_case("HKEY_LOCAL_MACHINE") {
            return Err("The cauterize lab loads hives under HKEY_USERS only.");
        }
        return Err("Invalid key name.");
    }
    if rest.is_empty() || rest.contains('\\') {
        return Err("Invalid key name.");
    }
    Ok(rest)
}

fn win32(e: &RegError) -> &'static str {
    match e {
        RegError::HiveInUse(_) => "The process cannot access the file because it is being used by another process.",
        RegError::AccessDenied(_) => "Access is denied.",
        RegError::KeyNotFound(_) | RegError::ValueNotFound(_) => "The system cannot find the file specified.",
        RegError::BadPath(_) => "The parameter is incorrect.",
    }
}

struct RegExe;

impl NativeProgram for RegExe {
    fn run(&self, cx: &mut Ctx<'_>, args: &[String]) -> NativeOutput {
        let Some(op) = args.first().map(|a| a.to_ascii_lowercase()) else {
            return usage("", "Invalid syntax.");
        };
        match op.as_str() {
            "load" => {
                let [_, key, file] = args else { return usage("load", "Invalid syntax.") };
                let name = match mount_name(key) {
                    Ok(n) => n,
                    Err(m) => return usage("load", m),
                };
                if !cx.admin {
                    return error("A required privilege is not held by the client.");
                }
                let Ok(r) = fs::resolve(cx, file) else { return error("The filename, directory name, or volume label syntax is incorrect.") };
                if !cx.host.files.is_file(&r.world) {
                    return error("The system cannot find the file specified.");
                }
                match cx.host.registry.reg_load(name, &r.world) {
                    Ok(()) => NativeOutput { stdout: OK.into(), ..Default::default() },
                    Err(e) => error(win32(&e)),
                }
            }
            "unload" => {
                let [_, key] = args else { return usage("unload", "Invalid syntax.") };
                let name = match mount_name(key) {
                    Ok(n) => n,
                    Err(m) => return usage("unload", m),
                };
                if !cx.admin {
                    return error("A required privilege is not held by the client.");
                }
                match cx.host.registry.reg_unload(name) {
                    Ok(()) => NativeOutput { stdout: OK.into(), ..Default::default() },
                    Err(e) => error(win32(&e)),
                }
            }
            "/?" | "-?" => NativeOutput { stdout: "REG Operation [Parameter List]\r\n".into(), ..Default::default() },
            other => NativeOutput {
                stderr: format!("ERROR: The cauterize lab's reg.exe does not do '{other}' (it does load and unload).\r\n"),
                exit_code: 1,
                ..Default::default()
            },
        }
    }
}

pub fn register(r: &mut Registry) {
    r.add_native("reg.exe", RegExe);
}

#[cfg(test)]
mod tests {
    use crate::lab::powershell::tests::run_with;

    /// `reg load` mounts an offline user's NTUSER.DAT under HKU (its Run
    /// key readable there), a second load of the same file is "in use",
    /// `reg unload` removes it; exit codes and texts as Windows gives them.
    #[test]
    fn reg_load_and_unload_an_offline_hive() {
        let script = concat!(
            "$f = 'C:\\Users\\dave\\NTUSER.DAT'\n",
            "$o = reg.exe load HKU\\cz_t $f; $LASTEXITCODE; $o[0]\n",
            "$null -ne [Microsoft.Win32.Registry]::Users.OpenSubKey('cz_t')\n",
            "$e = reg.exe load HKU\\cz_u $f 2>&1; $LASTEXITCODE; [string]$e\n",
            "reg.exe unload HKU\\cz_t | Out-Null; $LASTEXITCODE\n",
            "$null -eq [Microsoft.Win32.Registry]::Users.OpenSubKey('cz_t')\n",
            "$e = reg.exe unload HKU\\cz_t 2>&1; $LASTEXITCODE; [string]$e\n",
            "$e = reg.exe load HKLM\\x $f 2>&1; $LASTEXITCODE\n",
        );
        let (r, world) = run_with("5.1.19041.1", |_| {}, script);
        assert!(r.err.is_empty(), "{}", r.err);
        assert_eq!(
            r.lines(),
            [
                "0",
                "The operation completed successfully.",
                "True",
                "1",
                "ERROR: The process cannot access the file because it is being used by another process.",
                "0",
                "True",
                "1",
                "ERROR: The system cannot find the file specified.",
                "1",
            ]
        );
        assert!(!world.registry.subkeys("HKU").unwrap_or_default().iter().any(|m| m.eq_ignore_ascii_case("cz_t")));
    }
}
