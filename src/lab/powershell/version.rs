//! Which PowerShell a host runs, and the language rules that differ
//! between versions. Each rule is a method here, so the interpreter asks
//! "does this version enumerate members?" rather than comparing numbers.

/// A host's PowerShell, from `$PSVersionTable.PSVersion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsVersion {
    pub major: u32,
    pub minor: u32,
    /// As the host reports it (`5.1.19041.1`, `2.0`, `7.4.1`).
    pub text: String,
}

impl PsVersion {
    pub fn parse(text: &str) -> PsVersion {
        let mut parts = text.split(['.', '-', '+']).map(|p| p.parse::<u32>().unwrap_or(0));
        let major = parts.next().unwrap_or(5);
        let minor = parts.next().unwrap_or(0);
        PsVersion { major: major.max(1), minor, text: text.to_string() }
    }

    /// PowerShell 3.0 and later: `.Count`/`.Length` on any object (1 for a
    /// scalar, 0 for `$null`), member enumeration (`$array.Name`), `$PSItem`,
    /// `foreach` over `$null` running no iteration. None of these exist in
    /// 2.0 (Windows PowerShell 2.0 language specification; about_Foreach and
    /// about_Properties of 3.0: "Beginning in Windows PowerShell 3.0 ...").
    pub fn v3(&self) -> bool {
        self.major >= 3
    }

    /// PowerShell 6 and later run on .NET Core: `double.ToString()` is the
    /// shortest round-trip form (`0.30000000000000004`) instead of .NET
    /// Framework's 15 significant digits (`0.3`).
    pub fn dotnet_core(&self) -> bool {
        self.major >= 6
    }

    /// `[NullString]`, `-in`/`-notin`, `-shl`/`-shr`: 3.0 and later.
    pub fn has_v3_operators(&self) -> bool {
        self.major >= 3
    }
}
