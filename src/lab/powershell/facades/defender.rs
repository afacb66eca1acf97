//! Microsoft Defender's exclusions, as Windows keeps them: value names
//! under `HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\{Paths,
//! Extensions,Processes,TemporaryPaths}` in the host's registry, changed
//! through `Remove-MpPreference` (the Defender module, Windows 8 and
//! later, PowerShell 3.0 and later).
//!
//! - On Windows 8 and later Defender's own key refuses writes to
//!   administrators and SYSTEM alike ([`write_refused`], used by the
//!   registry facade): only Defender's interface changes it. Older
//!   builds (Windows 7's Defender, MSE/SCEP's `Microsoft Antimalware` key)
//!   take an administrator's write (the lab's assumption).
//! - Tamper Protection guarding exclusions (`Features\TamperProtection`
//!   5 and `Features\TPExclusions` 1): `Remove-MpPreference` succeeds and
//!   changes nothing.
//! - A value absent is no error; a policy list (`SOFTWARE\Policies\...`)
//!   is not what the cmdlet changes.

use crate::lab::powershell::convert;
use crate::lab::powershell::object::{Bound, CmdletError, CmdletOutput, CmdletSpec, Ctx, Exception, ParamKind as K, ParamSpec as P, Registry};
use crate::lab::powershell::value::Value;
use crate::lab::powershell::version::PsVersion;

const DEFENDER: &str = r"SOFTWARE\Microsoft\Windows Defender";
const FEATURES: &str = r"SOFTWARE\Microsoft\Windows Defender\Features";

/// First build of Windows 8 / Server 2012.
const WINDOWS_8: u32 = 9200;

/// Does the host refuse an administrator's (and SYSTEM's) write access to
/// the HKLM key `path` (`HKLM\...`)?
pub fn write_refused(cx: &Ctx<'_>, path: &str) -> bool {
    cx.host.os.build >= WINDOWS_8 && registry_path_is(path, DEFENDER)
}

/// Is `path` (`HKLM\...` or `HKEY_LOCAL_MACHINE\...`) `key` or below it?
fn registry_path_is(path: &str, key: &str) -> bool {
    let Some((root, rel)) = path.split_once('\\') else { return false };
    if !(root.eq_ignore_ascii_case("HKLM") || root.eq_ignore_ascii_case("HKEY_LOCAL_MACHINE")) {
        return false;
    }
    rel.len() >= key.len()
        && rel.is_char_boundary(key.len())
        && rel[..key.len()].eq_ignore_ascii_case(key)
        && (rel.len() == key.len() || rel.as_bytes()[key.len()] == b'\\')
}

/// Tamper Protection keeps the exclusions.
fn exclusions_guarded(cx: &Ctx<'_>) -> bool {
    let dword = |name: &str| cx.host.registry.hklm().descend(FEATURES).and_then(|k| k.value(name)).and_then(|v| v.data.as_dword());
    dword("TamperProtection") == Some(5) && dword("TPExclusions") == Some(1)
}

static SPEC: CmdletSpec = CmdletSpec {
    name: "Remove-MpPreference",
    class: "Microsoft.PowerShell.Cmdletization.GeneratedTypes.MpPreference.Remove",
    params: &[
        P::named("ExclusionPath", K::Value("System.String[]")),
        P::named("ExclusionExtension", K::Value("System.String[]")),
        P::named("ExclusionProcess", K::Value("System.String[]")),
    ],
    remaining: None,
};

struct RemoveMpPreference;

impl crate::lab::powershell::object::Cmdlet for RemoveMpPreference {
    fn name(&self) -> &'static str {
        "Remove-MpPreference"
    }
    fn spec(&self, _: &PsVersion) -> &'static CmdletSpec {
        &SPEC
    }
    fn available(&self, version: &PsVersion) -> bool {
        version.v3()
    }
    fn process(&self, cx: &mut Ctx<'_>, args: &Bound, _: Option<&Value>, _: &mut CmdletOutput) -> Result<(), CmdletError> {
        if cx.host.os.build < WINDOWS_8 {
            return Err(CmdletError {
                exception: Exception::new("Microsoft.Management.Infrastructure.CimException", "Invalid class "),
                category: "MetadataError",
                error_id: "HRESULT 0x80041010,Remove-MpPreference".into(),
                target: Some("MSFT_MpPreference".into()),
            });
        }
        if exclusions_guarded(cx) {
            return Ok(());
        }
        for (param, list) in [("ExclusionPath", "Paths"), ("ExclusionExtension", "Extensions"), ("ExclusionProcess", "Processes")] {
            let Some(v) = args.get(param) else { continue };
            let names: Vec<String> = v.enumerate(cx).unwrap_or_else(|| vec![v.clone()]).iter().map(|x| convert::to_string(x, cx)).collect();
            if let Some(key) = cx.host.registry.hklm_mut().descend_mut(&format!(r"{DEFENDER}\Exclusions\{list}")) {
                for n in names {
                    key.remove_value(&n);
                }
            }
        }
        Ok(())
    }
}

pub fn register(r: &mut Registry) {
    r.add_cmdlet(RemoveMpPreference);
}
