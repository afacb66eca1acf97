//! P/Invoke: an `extern` method's call marshalled to the host's Win32
//! functions ([`crate::lab::powershell::facades::kernel32`]) as the CLR
//! marshals it: a `string` argument that is `null` is a NULL pointer and
//! `""` an empty string; `IntPtr.Zero` is NULL; a `StringBuilder` is an
//! output buffer of its capacity; `out`/`ref` structs are written field
//! by field in declaration order (sequential layout). With
//! `SetLastError = true` the error code is kept for
//! `Marshal.GetLastWin32Error`. A DLL or entry point the lab does not
//! implement is refused with an exception saying so.

use super::ast::Method;
use super::exec::CsStruct;
use crate::lab::powershell::convert;
use crate::lab::powershell::dotnet::text::StringBuilder;
use crate::lab::powershell::facades::kernel32::{self, FileHandle};
use crate::lab::powershell::object::{Ctx, Exception};
use crate::lab::powershell::value::Value;

fn text(v: &Value, cx: &mut Ctx<'_>) -> Option<String> {
    match v {
        Value::Null | Value::Long(0) => None,
        v => Some(convert::to_string(v, cx)),
    }
}

fn num(v: &Value, cx: &mut Ctx<'_>) -> u32 {
    convert::to_i64(v, cx).unwrap_or(0) as u32
}

fn handle(v: &Value) -> Option<&FileHandle> {
    kernel32::handle_of(v)
}

fn structure(v: &Value) -> Option<&CsStruct> {
    v.as_object().and_then(|o| o.as_any().downcast_ref::<CsStruct>())
}

/// Call `dll!entry` with `args` (out/ref ones written back in place).
pub fn call(cx: &mut Ctx<'_>, dll: &str, entry: &str, m: &Method, args: &mut [Value], set_last_error: bool) -> Result<Value, Exception> {
    let lib = dll.to_ascii_lowercase();
    let lib = lib.strip_suffix(".dll").unwrap_or(&lib);
    if lib != "kernel32" {
        return Err(Exception::new("System.DllNotFoundException", format!("The cauterize lab implements no function of '{dll}' (only kernel32's file functions).")));
    }
    let name = if entry.ends_with('W') || entry.ends_with('A') || KNOWN.contains(&entry) { entry.to_string() } else { format!("{entry}W") };
    let (ret, error): (Value, u32) = match name.as_str() {
        "MoveFileExW" => {
            let (a, b, f) = (text(&args[0], cx), text(&args[1], cx), num(&args[2], cx));
            match kernel32::move_file_ex(cx, a.as_deref(), b.as_deref(), f) {
                Ok(()) => (Value::Bool(true), 0),
                Err(e) => (Value::Bool(false), e),
            }
        }
        "GetLongPathNameW" => {
            let p = text(&args[0], cx);
            let size = num(&args[2], cx) as usize;
            match kernel32::long_path_name(cx, p.as_deref()) {
                Ok(long) => {
                    let n = crate::lab::world::utf16::len(&long);
                    if n < size {
                        if let Some(sb) = args[1].as_object().and_then(|o| o.as_any().downcast_ref::<StringBuilder>()) {
                            sb.set_text(long);
                        }
                        (Value::UInt32(n as u32), 0)
                    } else {
                        (Value::UInt32(n as u32 + 1), 0)
                    }
                }
                Err(e) => (Value::UInt32(0), e),
            }
        }
        "CreateFileW" => {
            let p = text(&args[0], cx);
            let (access, share, disposition, flags) = (num(&args[1], cx), num(&args[2], cx), num(&args[4], cx), num(&args[5], cx));
            let (h, e) = kernel32::create_file(cx, p.as_deref(), access, share, disposition, flags);
            (Value::object(h), e)
        }
        "GetFileInformationByHandle" => {
            let r = handle(&args[0]).ok_or(kernel32::ERROR_INVALID_HANDLE).and_then(|h| kernel32::file_information(cx, h));
            match (r, structure(&args[1])) {
                (Ok(words), Some(s)) => {
                    let names: Vec<String> = s.fields.borrow().iter().map(|(n, _, _)| n.clone()).collect();
                    for (n, w) in names.iter().zip(words) {
                        s.set_field(n, Value::UInt32(w));
                    }
                    (Value::Bool(true), 0)
                }
                (Err(e), _) => (Value::Bool(false), e),
                (Ok(_), None) => (Value::Bool(false), kernel32::ERROR_INVALID_PARAMETER),
            }
        }
        "SetFileInformationByHandle" => {
            let class = num(&args[1], cx);
            let r = match handle(&args[0]) {
                None => Err(kernel32::ERROR_INVALID_HANDLE),
                // FileBasicInfo: the attributes are the fifth field.
                Some(h) if class == 0 => match structure(&args[2]).and_then(|s| s.fields.borrow().get(4).map(|(_, _, v)| v.clone())) {
                    Some(a) => {
                        let a = num(&a, cx);
                        kernel32::set_attributes(cx, h, a)
                    }
                    None => Err(kernel32::ERROR_INVALID_PARAMETER),
                },
                // FileDispositionInfo: one BOOLEAN.
                Some(h) if class == 4 => {
                    let yes = num(&args[2], cx) != 0;
                    kernel32::set_delete(cx, h, yes)
                }
                Some(_) => Err(kernel32::ERROR_NOT_SUPPORTED),
            };
            match r {
                Ok(()) => (Value::Bool(true), 0),
                Err(e) => (Value::Bool(false), e),
            }
        }
        "CloseHandle" => match handle(&args[0]) {
            Some(_) => (Value::Bool(true), 0),
            None => (Value::Bool(false), kernel32::ERROR_INVALID_HANDLE),
        },
        other => {
            return Err(Exception::new(
                "System.EntryPointNotFoundException",
                format!("The cauterize lab does not implement kernel32!{other} (declared by {}).", m.name),
            ));
        }
    };
    if set_last_error {
        cx.last_error = error;
    }
    Ok(ret)
}

/// Entry points without an A/W form.
const KNOWN: &[&str] = &["GetFileInformationByHandle", "SetFileInformationByHandle", "CloseHandle"];
