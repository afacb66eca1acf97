//! How a WinRM command line starts: PowerShell (with `-EncodedCommand`,
//! its abbreviations, or `-Command`) or a cmd.exe command line. Parses
//! powershell.exe's own switches the way powershell.exe matches them
//! (unambiguous prefixes with a minimum, `-e`/`-ec` for EncodedCommand).

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// PowerShell with a script to run.
    PowerShell(Script),
    /// PowerShell without a script we can run (`-File`, interactive).
    PowerShellOther,
    /// Anything else, as the cmd.exe command line it becomes.
    Cmd(String),
}

/// The script given to PowerShell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// `-EncodedCommand`: the decoded text, or `None` when it is not
    /// base64 of UTF-16LE.
    Encoded(Option<String>),
    /// `-Command`: the rest of the command line.
    Command(String),
    /// `-Command -`: the script is read from stdin (Ansible's pipelining).
    Stdin,
}

/// Split a command line on blanks, honouring double quotes (which are
/// removed), as the C runtime does for simple cases.
pub fn split_command_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut have = false;
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                have = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// Whether an executable names Windows PowerShell.
pub fn is_powershell(exe: &str) -> bool {
    let base = exe.trim_matches('"').rsplit(['\\', '/']).next().unwrap_or("");
    base.eq_ignore_ascii_case("powershell") || base.eq_ignore_ascii_case("powershell.exe")
}

/// `key` matches `full` when it is a prefix of it at least `min` long
/// (powershell.exe's MatchSwitch).
fn matches_switch(key: &str, full: &str, min: &str) -> bool {
    key.starts_with(min) && full.starts_with(key)
}

/// Classify what WinRM received (`rsp:Command` and `rsp:Arguments`).
pub fn classify(command: &str, args: &[String]) -> Launch {
    // WinRS hands cmd.exe one command line: the command and every
    // `rsp:Arguments` element joined by blanks (pywinrm sends all arguments
    // in one element, winrm-rs one element each), so split it again.
    let mut line = command.to_string();
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let tokens = split_command_line(&line);
    let Some(exe) = tokens.first() else { return Launch::Cmd(String::new()) };
    if !is_powershell(exe) {
        let mut line = command.trim().to_string();
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        return Launch::Cmd(line);
    }
    let mut i = 1;
    while let Some(t) = tokens.get(i) {
        let Some(key) = t.strip_prefix('-').or_else(|| t.strip_prefix('/')) else {
            // A bare word starts the command text (as -Command).
            return Launch::PowerShell(Script::Command(tokens[i..].join(" ")));
        };
        let key = key.to_ascii_lowercase();
        i += 1;
        if matches_switch(&key, "encodedcommand", "e") || key == "ec" {
            return Launch::PowerShell(Script::Encoded(
                tokens.get(i).and_then(|b64| decode_encoded_command(b64)),
            ));
        }
        if matches_switch(&key, "command", "c") {
            return match tokens.get(i..) {
                Some(rest) if !rest.is_empty() && rest[0] != "-" => Launch::PowerShell(Script::Command(rest.join(" "))),
                Some([dash]) if dash == "-" => Launch::PowerShell(Script::Stdin),
                _ => Launch::PowerShellOther,
            };
        }
        let takes_value = matches_switch(&key, "executionpolicy", "ex")
            || key == "ep"
            || matches_switch(&key, "outputformat", "o")
            || matches_switch(&key, "inputformat", "i")
            || matches_switch(&key, "windowstyle", "w")
            || matches_switch(&key, "version", "v")
            || matches_switch(&key, "psconsolefile", "psc")
            || matches_switch(&key, "configurationname", "config");
        if takes_value {
            i += 1;
            continue;
        }
        let switch = ["noprofile", "noninteractive", "nologo", "noexit", "sta", "mta"]
            .iter()
            .any(|s| matches_switch(&key, s, &s[..3.min(s.len())]));
        if !switch {
            return Launch::PowerShellOther;
        }
    }
    Launch::PowerShellOther
}

/// powershell.exe's reading of an `-EncodedCommand` value: base64 of
/// UTF-16LE text; `None` when it is not (powershell.exe then refuses the
/// command line).
pub fn decode_encoded_command(b64: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).ok()
}

/// Whether a script enumerates `$input`: PowerShell started with a
/// redirected stdin then reads that stream to its end before the pipeline
/// it feeds can finish, so the command waits for the client's end of input.
pub fn reads_input(script: &str) -> bool {
    let lower = script.to_ascii_lowercase();
    lower.match_indices("$input").any(|(at, _)| {
        !lower[at + "$input".len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// What a client puts after `-EncodedCommand`: base64 of UTF-16LE.
    fn encode_command(script: &str) -> String {
        let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_script_reading_input_waits_for_stdin() {
        let script = "$text = (@($input) -join '').Trim()";
        let args = strings(&["-NoProfile", "-NonInteractive", "-EncodedCommand", &encode_command(script)]);
        match classify("powershell.exe", &args) {
            Launch::PowerShell(Script::Encoded(Some(s))) => assert!(reads_input(&s), "{s}"),
            other => panic!("{other:?}"),
        }
        assert!(reads_input("foreach ($l in $INPUT) { $l }"));
        assert!(!reads_input("$inputFile = 'x'; hostname"));
        assert!(!reads_input("hostname"));
        // Not UTF-16LE (an odd byte count): refused as powershell.exe does.
        assert_eq!(decode_encoded_command("YQ=="), None);
    }

    #[test]
    fn encoded_command_abbreviations_and_case() {
        let b64 = encode_command("hostname");
        for flag in ["-EncodedCommand", "-enc", "-e", "-ec", "-ENC", "/e"] {
            assert_eq!(
                classify("PowerShell.EXE", &strings(&["-NoProfile", "-ExecutionPolicy", "Bypass", flag, &b64])),
                Launch::PowerShell(Script::Encoded(Some("hostname".into()))),
                "{flag}"
            );
        }
        // The whole line in rsp:Command, as pywinrm's run_ps sends it.
        assert_eq!(
            classify(&format!("powershell -encodedcommand {b64}"), &[]),
            Launch::PowerShell(Script::Encoded(Some("hostname".into())))
        );
    }

    #[test]
    fn other_commands_become_cmd_lines() {
        assert_eq!(classify("echo", &strings(&["hi", "there"])), Launch::Cmd("echo hi there".into()));
        assert_eq!(classify("powershellx", &[]), Launch::Cmd("powershellx".into()));
        assert_eq!(classify("powershell", &strings(&["-File", "x.ps1"])), Launch::PowerShellOther);
        assert_eq!(classify("powershell", &strings(&["-e", "@@@"])), Launch::PowerShell(Script::Encoded(None)));
        assert_eq!(classify("powershell", &strings(&["-c", "hostname;", "whoami"])), Launch::PowerShell(Script::Command("hostname; whoami".into())));
    }
}
