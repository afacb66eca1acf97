//! What the journal records about who ran what: the command line with
//! anything that looks like a secret replaced, and the operator.

/// Words in a flag name that mark its value as secret.
const SECRET_WORDS: &[&str] = &[
    "pass",
    "secret",
    "token",
    "credential",
    "apikey",
    "api-key",
    "pwd",
];

/// What stands for a removed value.
pub const REDACTED: &str = "<redacted>";

fn is_secret_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-').to_ascii_lowercase();
    flag.starts_with('-') && SECRET_WORDS.iter().any(|w| name.contains(w))
}

/// The command line with the values of secret-looking flags
/// (`--password X`, `--token=X`) replaced by [`REDACTED`]. cauterize itself
/// takes no secret on its command line; this guards wrappers and future
/// flags.
pub fn redact<I, S>(args: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    let mut hide_next = false;
    for a in args {
        let a = a.as_ref();
        if hide_next {
            out.push(REDACTED.to_string());
            hide_next = false;
            continue;
        }
        if a == "--" {
            out.push(a.to_string());
            continue;
        }
        match a.split_once('=') {
            Some((flag, _)) if is_secret_flag(flag) => out.push(format!("{flag}={REDACTED}")),
            _ => {
                hide_next = is_secret_flag(a);
                out.push(a.to_string());
            }
        }
    }
    out
}

/// The process's own command line, redacted.
pub fn current() -> Vec<String> {
    redact(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
}

/// `user@machine` of the operator running cauterize (from the environment;
/// `unknown` parts when not set).
pub fn operator() -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", machine())
}

/// The name of the machine cauterize runs on (`unknown` when it cannot be
/// read).
pub fn machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            ["HOSTNAME", "COMPUTERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_flags_lose_their_values() {
        let got = redact([
            "cauterize",
            "scan",
            "-i",
            "inv.yml",
            "--password",
            "hunter2",
            "--api-token=abc",
            "--engagement",
            "case-17",
        ]);
        assert_eq!(
            got,
            vec![
                "cauterize",
                "scan",
                "-i",
                "inv.yml",
                "--password",
                REDACTED,
                "--api-token=<redacted>",
                "--engagement",
                "case-17"
            ]
        );
    }

    #[test]
    fn operator_has_user_and_machine() {
        assert!(operator().contains('@'));
    }
}
