//! Operating-system identity and host role: caption, build, architecture,
//! PowerShell version, with presets for the Windows versions the loaders
//! meet in the field (Windows 7 SP1 / Server 2008 R2 with PowerShell 2.0
//! up to Windows 11 / Server 2022 with 5.1).

/// Processor architecture of the OS install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arch {
    X64,
    X86,
}

/// What the host is for (decides default services, SMB exemptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Workstation,
    Server,
    DomainController,
    FileServer,
    PrintServer,
}

impl Role {
    pub fn is_server(self) -> bool {
        !matches!(self, Role::Workstation)
    }
}

/// OS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Os {
    /// `Win32_OperatingSystem.Caption`.
    pub caption: String,
    /// `CurrentBuild`, e.g. 7601, 19045.
    pub build: u32,
    pub arch: Arch,
    /// `$PSVersionTable.PSVersion`.
    pub ps_version: String,
}

impl Os {
    pub fn new(caption: &str, build: u32, arch: Arch, ps: &str) -> Os {
        Os {
            caption: caption.into(),
            build,
            arch,
            ps_version: ps.into(),
        }
    }
    pub fn win7_sp1_x64() -> Os {
        Os::new("Microsoft Windows 7 Professional", 7601, Arch::X64, "2.0")
    }
    pub fn win7_sp1_x86() -> Os {
        Os::new("Microsoft Windows 7 Professional", 7601, Arch::X86, "2.0")
    }
    pub fn win10_22h2() -> Os {
        Os::new(
            "Microsoft Windows 10 Pro",
            19045,
            Arch::X64,
            "5.1.19041.4648",
        )
    }
    pub fn win11_23h2() -> Os {
        Os::new(
            "Microsoft Windows 11 Pro",
            22631,
            Arch::X64,
            "5.1.22621.2506",
        )
    }
    pub fn server2008r2() -> Os {
        Os::new(
            "Microsoft Windows Server 2008 R2 Standard",
            7601,
            Arch::X64,
            "2.0",
        )
    }
    pub fn server2012r2() -> Os {
        Os::new(
            "Microsoft Windows Server 2012 R2 Standard",
            9600,
            Arch::X64,
            "4.0",
        )
    }
    pub fn server2016() -> Os {
        Os::new(
            "Microsoft Windows Server 2016 Standard",
            14393,
            Arch::X64,
            "5.1.14393.6343",
        )
    }
    pub fn server2019() -> Os {
        Os::new(
            "Microsoft Windows Server 2019 Standard",
            17763,
            Arch::X64,
            "5.1.17763.5830",
        )
    }
    pub fn server2022() -> Os {
        Os::new(
            "Microsoft Windows Server 2022 Standard",
            20348,
            Arch::X64,
            "5.1.20348.2400",
        )
    }
    /// Windows 7 / 2008 R2 era (no Get-ScheduledTask, PS 2.0 by default).
    pub fn is_legacy(&self) -> bool {
        self.build < 9200
    }
}
