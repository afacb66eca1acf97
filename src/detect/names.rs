//! Name heuristics: the documented shapes of loader folder and file names,
//! a "random-looking" test, and lists of known product names that must
//! never be called random.

/// Emotet's 2019 keyword dictionary (EmoCheck scan v1), in order.
pub const EMOTET_V1_KEYWORDS: &str = "duck,mfidl,targets,ptr,khmer,purge,metrics,acc,inet,msra,symbol,driver,\
sidebar,restore,msg,volume,cards,shext,query,roam,etw,mexico,basic,url,\
createa,blb,pal,cors,send,devices,radio,bid,format,thrd,taskmgr,timeout,\
vmd,ctl,bta,shlp,avi,exce,dbt,pfx,rtp,edge,mult,clr,wmistr,ellipse,vol,\
cyan,ses,guid,wce,wmp,dvb,elem,channel,space,digital,pdeft,violet,thunk";

fn select_word(keywords: &[u8], mut ptr: usize) -> String {
    let mut i = ptr;
    while i > 0 {
        if keywords[i] == b',' {
            ptr = i;
            break;
        }
        i -= 1;
    }
    if keywords[ptr] == b',' {
        ptr += 1;
    }
    let mut w = String::new();
    for &b in &keywords[ptr..] {
        if b == b',' {
            break;
        }
        w.push(b as char);
    }
    w
}

/// The process/file name Emotet (2019 - Feb 2020) derives from the C:
/// volume serial number, as EmoCheck computes it.
pub fn emotet_v1_name(serial: u32) -> String {
    let k = EMOTET_V1_KEYWORDS.as_bytes();
    let len = k.len() as u32;
    let q = serial / len;
    let m1 = (serial % len) as usize;
    let seed = 0xFFFF_FFFFu32 - q;
    let m2 = (seed % len) as usize;
    format!("{}{}", select_word(k, m1), select_word(k, m2))
}

/// Is the stem exactly two words of the Emotet v1 dictionary?
pub fn emotet_v1_two_words(stem: &str) -> Option<(String, String)> {
    let s = stem.to_ascii_lowercase();
    for a in EMOTET_V1_KEYWORDS.split(',') {
        if let Some(rest) = s.strip_prefix(a)
            && let Some(b) = EMOTET_V1_KEYWORDS.split(',').find(|b| *b == rest)
        {
            return Some((a.to_string(), b.to_string()));
        }
    }
    None
}

pub fn is_alpha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn alpha_len(s: &str, lo: usize, hi: usize) -> bool {
    is_alpha(s) && (lo..=hi).contains(&s.len())
}

/// Emotet 2020-12+ folder: `^[A-Za-z]{4,16}$`.
pub fn emotet_folder_shape(name: &str) -> bool {
    alpha_len(name, 4, 16)
}

/// Emotet 2020-12+ file: `^[A-Za-z]{3,15}\.[A-Za-z]{3}$`, not .exe/.dll.
pub fn emotet_fake_ext_file(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    alpha_len(stem, 3, 15)
        && alpha_len(ext, 3, 3)
        && !ext.eq_ignore_ascii_case("exe")
        && !ext.eq_ignore_ascii_case("dll")
}

/// Emotet Run value name when not the file name: `^[A-Za-z]{7,16}$`.
pub fn emotet_value_name_shape(name: &str) -> bool {
    alpha_len(name, 7, 16)
}

/// A fake extension: 2-4 letters that are not a known PE/script/data type.
pub fn is_fake_dll_extension(ext: &str) -> bool {
    const REAL: &[&str] = &[
        "dll", "exe", "ocx", "cpl", "sys", "drv", "scr", "com", "ax", "acm", "tlb", "mui", "efi",
        "bat", "cmd", "vbs", "js", "ps1", "hta", "wsf", "msi", "lnk",
    ];
    let e = ext.to_ascii_lowercase();
    (1..=8).contains(&e.len()) && !REAL.contains(&e.as_str())
}

/// TrickBot EXE-era folder: a word and exactly ten digits
/// (`Identities1159371911`, `Comboboot7559513311`, `newyearTV5382453440`).
pub fn trickbot_gtag_folder(name: &str) -> bool {
    let digits = name
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let letters = &name[..name.len() - digits];
    digits == 10 && alpha_len(letters, 3, 24)
}

/// TrickBot DLL-era folder: hyphenated lower-case words and six upper-case
/// letters/digits (`wise-toolsZ7RZBV`).
pub fn trickbot_words_suffix_folder(name: &str) -> bool {
    if name.len() < 10 || !name.is_ascii() {
        return false;
    }
    let (words, suffix) = name.split_at(name.len() - 6);
    let suffix_ok = suffix
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && suffix.bytes().any(|b| b.is_ascii_uppercase());
    let parts: Vec<&str> = words.split('-').collect();
    suffix_ok
        && parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.len() >= 2 && p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Qakbot folder under `%APPDATA%\Microsoft`: one capital then lower-case
/// letters (`Bbbetedog`, `Vybgeuye`, `Ejuio`, `Ccnwa`).
pub fn qakbot_folder_shape(name: &str) -> bool {
    let b = name.as_bytes();
    (5..=14).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1..].iter().all(|c| c.is_ascii_lowercase())
}

/// Qakbot DLL/EXE name: lower-case random letters.
pub fn qakbot_file_shape(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            (4..=20).contains(&stem.len())
                && stem.bytes().all(|b| b.is_ascii_lowercase())
                && (ext.eq_ignore_ascii_case("dll") || ext.eq_ignore_ascii_case("exe"))
        }
        None => false,
    }
}

/// Qakbot Run value name: lower-case letters.
pub fn qakbot_value_name_shape(name: &str) -> bool {
    (5..=16).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase())
}

/// IcedID data folder: two capitalised words (`BrightBike`, `SpringGoat`).
pub fn icedid_wordword(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() < 6 || !b[0].is_ascii_uppercase() {
        return false;
    }
    let caps: Vec<usize> = b
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_uppercase())
        .map(|(i, _)| i)
        .collect();
    caps.len() == 2 && caps[1] >= 3 && b.len() - caps[1] >= 3 && is_alpha(name)
}

/// `{8-4-4-4-12}` hex GUID (braces optional).
pub fn is_guid(s: &str) -> bool {
    let t = s.trim_start_matches('{').trim_end_matches('}');
    let parts: Vec<&str> = t.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Exactly eight hex digits (Qakbot config value names).
pub fn is_hex8(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

const VOWELS: &[u8] = b"aeiouy";
const COMMON_CC: &str = "bb bl br bs bt ch ck cl cr cs ct dd dg dl dm dn dr ds dw ff fl fr fs ft gg gh gl gm gn gr gs gt \
hl hm hn hr hs ht kn ks kl lb lc ld lf lg lk ll lm ln lp ls lt lv mb mm mn mp ms nc nd nf ng nk nl nn ns nt nv nz ph pl \
pp pr ps pt rb rc rd rf rg rk rl rm rn rp rr rs rt rv rw rz sc sh sk sl sm sn sp ss st sw th tl tm tr ts tt tw tz wh wl \
wn wr ws xp xt zz sq nq pn";

/// Split a name into case/digit segments: `EEdafoGqJrPp` -> E, Edafo, Gq, Jr, Pp.
fn segments(name: &str) -> Vec<String> {
    let cs: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for i in 0..cs.len() {
        let c = cs[i];
        let boundary = if cur.is_empty() {
            false
        } else {
            let prev = cs[i - 1];
            let next_lower = cs.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            (prev.is_ascii_digit() != c.is_ascii_digit())
                || (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower)
        };
        if boundary {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The measures behind [`looks_random`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Randomness {
    pub rare_bigrams: usize,
    pub bigrams: usize,
    pub max_consonant_run: usize,
    pub short_segments: usize,
    pub triple_letter: bool,
    pub digit_letter_switches: usize,
}

pub fn randomness(name: &str) -> Randomness {
    let common: Vec<&str> = COMMON_CC.split_whitespace().collect();
    let segs = segments(name);
    let mut r = Randomness {
        rare_bigrams: 0,
        bigrams: 0,
        max_consonant_run: 0,
        short_segments: 0,
        triple_letter: false,
        digit_letter_switches: segs.len().saturating_sub(1)
            - segs
                .windows(2)
                .filter(|w| {
                    w[0].chars().all(|c| c.is_ascii_alphabetic())
                        && w[1].chars().all(|c| c.is_ascii_alphabetic())
                })
                .count(),
    };
    for s in &segs {
        if !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            continue;
        }
        if s.len() <= 2 {
            r.short_segments += 1;
        }
        let l = s.to_ascii_lowercase();
        let b = l.as_bytes();
        let mut run = 0;
        for i in 0..b.len() {
            if VOWELS.contains(&b[i]) {
                run = 0;
            } else {
                run += 1;
                r.max_consonant_run = r.max_consonant_run.max(run);
            }
            if i >= 2 && b[i] == b[i - 1] && b[i] == b[i - 2] {
                r.triple_letter = true;
            }
            if i >= 1 {
                r.bigrams += 1;
                let (a, c) = (b[i - 1], b[i]);
                let av = VOWELS.contains(&a);
                let cv = VOWELS.contains(&c);
                let rare = if !av && !cv {
                    !common.contains(&&l[i - 1..=i])
                } else {
                    (a == b'q' && c != b'u')
                        || (a == b'j' && !cv)
                        || (a == b'x' && !cv && c != b't' && c != b'p')
                };
                if rare {
                    r.rare_bigrams += 1;
                }
            }
        }
    }
    r
}

/// Does a name look machine-generated? Only letters and digits are judged;
/// names with spaces, dots, hyphens or underscores are product-like.
pub fn looks_random(name: &str) -> bool {
    if name.len() < 4 || !name.bytes().all(|b| b.is_ascii_alphanumeric()) || known_product(name) {
        return false;
    }
    let r = randomness(name);
    (r.rare_bigrams >= 2 && r.rare_bigrams * 5 >= r.bigrams)
        || r.max_consonant_run >= 5
        || (r.short_segments >= 3 && name.len() >= 8)
        || r.triple_letter
        || (r.digit_letter_switches >= 2 && name.len() >= 6)
}

/// Folder names of software commonly found at the top of %LOCALAPPDATA%,
/// %APPDATA% or ProgramData (lower-case). Never random.
const KNOWN_PRODUCTS: &[&str] = &[
    "microsoft",
    "google",
    "mozilla",
    "adobe",
    "apple",
    "apple computer",
    "packages",
    "programs",
    "temp",
    "comms",
    "connecteddevicesplatform",
    "crashdumps",
    "d3dscache",
    "diagnostics",
    "elevateddiagnostics",
    "peerdistrepub",
    "placeholdertilelogofolder",
    "publishers",
    "virtualstore",
    "isolatedstorage",
    "toastnotificationmanagercompat",
    "history",
    "deployment",
    "assembly",
    "squirrel",
    "squirreltemp",
    "spotify",
    "discord",
    "slack",
    "zoom",
    "webex",
    "cisco",
    "gotomeeting",
    "logmein",
    "teamviewer",
    "anydesk",
    "dropbox",
    "box",
    "onedrive",
    "nvidia",
    "nvidia corporation",
    "intel",
    "amd",
    "realtek",
    "logitech",
    "logishrd",
    "lenovo",
    "dell",
    "hp",
    "hewlett-packard",
    "asus",
    "acer",
    "razer",
    "corsair",
    "steelseries",
    "steam",
    "valve",
    "epicgameslauncher",
    "battle.net",
    "blizzard",
    "origin",
    "ubisoft",
    "riot games",
    "roblox",
    "jetbrains",
    "github",
    "githubdesktop",
    "atom",
    "code",
    "postman",
    "figma",
    "notion",
    "obsidian",
    "signal",
    "whatsapp",
    "telegram desktop",
    "viber",
    "skype",
    "thunderbird",
    "citrix",
    "vmware",
    "virtualbox",
    "docker",
    "yarn",
    "npm",
    "npm-cache",
    "pip",
    "python",
    "programs",
    "java",
    "sun",
    "oracle",
    "mcafee",
    "symantec",
    "norton",
    "avast",
    "avg",
    "kaspersky",
    "eset",
    "sophos",
    "malwarebytes",
    "crowdstrike",
    "cylance",
    "sentinelone",
    "carbonblack",
    "bitdefender",
    "trend micro",
    "greenshot",
    "everything",
    "opera software",
    "opera",
    "brave",
    "bravesoftware",
    "vivaldi",
    "chromium",
    "yandex",
    "evernote",
    "grammarly",
    "dashlane",
    "bitwarden",
    "1password",
    "lastpass",
    "keepass",
    "keybase",
    "unity",
    "unity technologies",
    "autodesk",
    "blender foundation",
    "inkscape",
    "gimp",
    "audacity",
    "vlc",
    "videolan",
    "obs-studio",
    "elgato",
    "nahimic",
    "synaptics",
    "wondershare",
    "foxit software",
    "nitro",
    "sumatrapdf",
    "notepad++",
    "sublime text",
    "7-zip",
    "winrar",
    "filezilla",
    "putty",
    "mremoteng",
    "wireshark",
    "plex",
    "plex media server",
    "kodi",
    "itunes",
    "icloud",
    "ccleaner",
    "piriform",
    "ninite",
    "chocolatey",
    "scoop",
    "winget",
    "package cache",
    "fontcache",
    "fontconfig",
    "gtk-3.0",
    "cef",
    "electron",
    "node",
    "nodejs",
    "go",
    "rust",
    "cargo",
    "rustup",
    "dotnet",
    "nuget",
    "visualstudio",
    "vscode",
    "cursor",
    "warp",
    "insomnia",
    "kubernetes",
    "minikube",
    "rainmeter",
    "winamp",
    "jellyfin",
    "calibre",
    "krita",
    "tableau",
    "salesforce",
    "zendesk",
    "asana",
    "trello",
    "miro",
    "loom",
    "ringcentral",
    "bluejeans",
    "lifesize",
    "vonage",
    "twilio",
    "dialpad",
    "hubspot",
    "mailchimp",
    "facebook",
    "gotoopener",
    "goto",
    "mattermost",
    "rocket.chat",
    "element",
    "wire",
    "threema",
    "protonvpn",
    "nordvpn",
    "expressvpn",
    "openvpn",
    "wireguard",
    "fortinet",
    "forticlient",
    "paloaltonetworks",
    "globalprotect",
    "pulse secure",
    "checkpoint",
    "zscaler",
    "netskope",
    "okta",
    "duo",
    "yubico",
    "jabra",
    "plantronics",
    "poly",
    "sennheiser",
    "bose",
    "sonos",
    "garmin",
    "fitbit",
    "samsung",
    "lg electronics",
    "sony",
    "canon",
    "epson",
    "brother",
    "xerox",
    "ricoh",
    "kyocera",
    "lexmark",
    "konica minolta",
    "ms-teams",
    "teams",
    "microsoft teams",
    "msteams",
    "onenote",
    "outlook",
    "office",
    "powertoys",
    "windowsapps",
    "microsoftedge",
    "edge",
    "spicetify",
    "tidal",
    "deezer",
    "amazon",
    "amazon music",
    "kindle",
    "adobe acrobat",
    "acrobat",
    "reader",
    "crashpad",
    "sentry",
    "bugsnag",
    "pdfsam",
    "libreoffice",
    "openoffice",
    "mendeley",
    "zotero",
    "endnote",
    "rstudio",
    "anaconda",
    "anaconda3",
    "miniconda3",
    "jupyter",
    "matlab",
    "mathworks",
    "wolfram",
    "ipython",
    "conda",
    "pypoetry",
    "pipx",
    "uv",
    "deno",
    "bun",
    "pnpm",
    "pnpm-cache",
    "gradle",
    "maven",
    "android",
    "androidstudio",
    "xamarin",
    "genymotion",
    "bluestacks",
    "nox",
    "memu",
    "ldplayer",
    "mumu",
];

/// Is this a known product folder name (case-insensitive)?
pub fn known_product(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    KNOWN_PRODUCTS.contains(&l.as_str())
}

/// Folders that Windows and Office create under `%APPDATA%\Microsoft`.
const KNOWN_MS_ROAMING: &[&str] = &[
    "addins",
    "bibliography",
    "clipart",
    "credentials",
    "crypto",
    "document building blocks",
    "excel",
    "event viewer",
    "feeds",
    "forms",
    "groove",
    "html help",
    "installer",
    "internet explorer",
    "media player",
    "mmc",
    "network",
    "office",
    "onenote",
    "outlook",
    "powerpoint",
    "proof",
    "protect",
    "publisher",
    "queries",
    "search",
    "sidebar",
    "signatures",
    "speech",
    "spelling",
    "stationery",
    "sticky notes",
    "systemcertificates",
    "teams",
    "templates",
    "uproof",
    "vault",
    "visio",
    "windows",
    "word",
    "access",
    "project",
    "skype",
    "skype for business",
    "lync",
    "themes",
    "dictionaries",
    "edge",
    "mobile pc",
    "speech recognition",
    "windows mail",
    "windows live",
    "windows live mail",
    "visualstudio",
    "vscode",
    "msbuild",
    "microsoft sql server",
    "sqlserver",
    "identitycrl",
    "msoidsvc",
    "clr security config",
    "workflow",
    "xna",
    "playready",
    "powershell",
    "windowsapps",
    "onedrive",
    "wlsetup",
    "dlm",
    "fdc",
    "fontcache",
    "imjp15",
    "imjp14",
    "ime",
    "inputmethod",
    "intellitype",
    "mouse",
    "userdata",
    "azure",
    "azureaccount",
    "azurepowershell",
    "bing",
    "sharepoint",
    "sync",
    "whiteboard",
    "stickynotes",
    "msquery",
    "msapps",
    "qat",
    "schemas",
    "xbox",
    "gamedvr",
    "photos",
    "paint",
    "snipping",
    "todo",
    "oneauth",
    "olk",
    "activesync",
    "crmclient",
    "dynamics",
    "lockbox",
    "recent",
    "office16",
    "officeai",
];

pub fn known_ms_roaming_folder(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    KNOWN_MS_ROAMING.contains(&l.as_str())
}

/// Keys directly under `HKCU\Software\Microsoft` that Windows/Office use.
const KNOWN_MS_KEYS: &[&str] = &[
    "windows",
    "office",
    "internet explorer",
    "windows nt",
    "windows script",
    "windows script host",
    "ctf",
    "ime",
    "input",
    "inputpersonalization",
    "multimedia",
    "narrator",
    "notepad",
    "onedrive",
    "speech",
    "speech_onecore",
    "systemcertificates",
    "wab",
    "wisp",
    "xbox",
    "edge",
    "edgeupdate",
    "mediaplayer",
    "msf",
    "ftp",
    "fax",
    "ias",
    "protected storage system provider",
    "shared tools",
    "advanced inf setup",
    "active setup",
    "command processor",
    "cryptography",
    "dataaccess",
    "directinput",
    "directx",
    "eventsystem",
    "gaming",
    "games",
    "installer",
    "internet connection wizard",
    "keyboard",
    "msmq",
    "mscfile",
    "ole",
    "osk",
    "personalization",
    "phone",
    "remote assistance",
    "scriptedsetup",
    "search assistant",
    "sqmclient",
    "terminal server client",
    "tabletp",
    "teams",
    "touchpad",
    "unified store",
    "usersettings",
    "vba",
    "visualstudio",
    "windows defender",
    "windows media",
    "windows search",
    "windows mail",
    "windows live",
    "windowsupdate",
    "wordpad",
    "wbem",
    "clipboard",
    "identitycrl",
    "authcookies",
    "accessibility",
    "assistance",
    "avalon.graphics",
    "calc",
    "charmap",
    "clr security config",
    "dfrg",
    "dxgi",
    "f12",
    "feeds",
    "lighting",
    "office test",
    "oneauth",
    "onenote",
    "outlook",
    "photos",
    "pim",
    "sharepoint",
    "skype",
    "sticky notes",
    "storage",
    "synctoolbox",
    "tips",
    "vbexpress",
    "wcmsvc",
    "wdf",
    "xaml",
    "azure",
    "inputmethod",
    "enterprisecertificates",
    "exchange",
    "ncsi",
    "pushnotifications",
];

pub fn known_ms_software_key(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    KNOWN_MS_KEYS.contains(&l.as_str())
}

/// Windows binaries that Dridex copies next to a DLL it side-loads, and the
/// DLL names it plants (documented pairs; a generalisation uses the
/// signer and location, this list only strengthens the reasons).
pub const DRIDEX_SIDELOAD_EXES: &[&str] = &[
    "deviceenroller",
    "rdvghelper",
    "mdmappinstaller",
    "sigverif",
    "msdt",
    "bitlockerwizard",
    "bitlockerwizardelev",
    "systempropertiesadvanced",
    "systempropertiescomputername",
    "systempropertiesperformance",
    "systempropertiesprotection",
    "systempropertiesremote",
    "dxgiadaptercache",
    "dccw",
    "wfs",
    "rdpshell",
    "sethc",
    "lpksetup",
    "mblctr",
    "dwm",
    "presentationsettings",
    "isoburn",
    "eudcedit",
    "slui",
    "tcmsetup",
    "wusa",
    "recoverydrive",
    "mfpmp",
    "rstrui",
    "magnify",
    "utilman",
    "osk",
    "sppsvc",
    "ddodiag",
    "fxscover",
    "quickassist",
    "wscript",
    "cttune",
    "shrpubw",
    "credwiz",
    "dpapimig",
    "fvenotify",
    "fveprompt",
    "psr",
    "netplwiz",
    "sndvol",
    "printui",
    "rekeywiz",
    "wbengine",
    "upfc",
    "musnotification",
    "disksnapshot",
    "wermgr",
    "winsat",
    "dialer",
    "perfmon",
    "unregmp2",
    "ie4uinit",
];
pub const DRIDEX_SIDELOAD_DLLS: &[&str] = &[
    "xmllite",
    "wtsapi32",
    "version",
    "dui70",
    "fvewiz",
    "dwmapi",
    "uxtheme",
    "winsta",
    "wer",
    "netapi32",
    "slc",
    "mfc42u",
    "oleacc",
    "secur32",
    "userenv",
    "dxgi",
    "d3d11",
    "cryptbase",
    "winmm",
    "dpx",
    "duser",
    "propsys",
    "srvcli",
    "wkscli",
    "mpr",
    "hid",
    "credui",
    "newdev",
    "magnification",
    "rtutils",
    "wmsgapi",
    "activeds",
    "bcp47langs",
    "spp",
    "wininet",
    "sppc",
    "dbghelp",
    "cryptsp",
    "ncrypt",
    "tapi32",
    "ntdsapi",
];

/// Folders Windows keeps directly in System32/SysWOW64 (lower-case).
const KNOWN_SYSTEM_SUBDIRS: &[&str] = &[
    "drivers",
    "wbem",
    "spool",
    "tasks",
    "config",
    "catroot",
    "catroot2",
    "oobe",
    "sysprep",
    "migration",
    "dism",
    "logfiles",
    "grouppolicy",
    "grouppolicyusers",
    "appraiser",
    "appmgmt",
    "restore",
    "recovery",
    "sru",
    "winevt",
    "wdi",
    "speech",
    "speech_onecore",
    "ime",
    "inetsrv",
    "icsxml",
    "ias",
    "com",
    "setup",
    "manifeststore",
    "mui",
    "networklist",
    "boot",
    "codeintegrity",
    "containers",
    "directx",
    "dsc",
    "driverstore",
    "firewall",
    "lxss",
    "macromed",
    "microsoft",
    "msdtc",
    "nativeimages",
    "performance",
    "ras",
    "schemas",
    "servicing",
    "shellexperiences",
    "smi",
    "spp",
    "sppui",
    "wcp",
    "wfp",
    "winbiodatabase",
    "winbioplugins",
    "windowspowershell",
    "winmetadata",
    "winrm",
    "wlan",
    "wua",
    "applocker",
    "bthprops",
    "cryptography",
    "downlevel",
    "fxstmp",
    "hostedstore",
    "lpksetup",
    "msmq",
    "openssh",
    "printing_admin_scripts",
    "provisioning",
    "ucrt",
    "vpn",
    "wbemtest",
    "xpsviewer",
    "zh",
    "ja",
    "ko",
    "de",
    "fr",
    "es",
    "it",
    "ru",
    "pt",
    "nl",
    "pl",
    "sv",
    "tr",
    "cs",
    "da",
    "fi",
    "el",
    "hu",
    "nb",
];

/// Is this a folder Windows itself keeps in System32 (or a language folder)?
pub fn known_system_subdir(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    KNOWN_SYSTEM_SUBDIRS.contains(&l.as_str()) || (l.len() == 5 && l.as_bytes()[2] == b'-')
}

/// Well-known names of System32 modules seen reused as Emotet 2020
/// folder/file names (EmoCheck scan v3 builds the full list from the host's
/// System32; the snapshot can supply it, this is the fallback).
pub const SYSTEM_MODULE_SAMPLES: &[&str] = &[
    "kbdsmsno",
    "spwizeng",
    "synchost",
    "subst",
    "d3d11on12",
    "mscpxl32",
    "mtxoci",
    "wmiprvse",
    "wininit",
    "netprofm",
    "scavengeui",
    "tapisrv",
    "wmpeffects",
    "dbgcore",
    "certcli",
    "psmodulediscoveryprovider",
    "ncryptprov",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shapes() {
        assert!(emotet_folder_shape("Ckninfwzsiyqxydc"));
        assert!(!emotet_folder_shape("Ckninfwzsiyqxydcx"));
        assert!(emotet_fake_ext_file("ialkquzoobkioba.czi"));
        assert!(emotet_fake_ext_file("jbcss.nfg"));
        assert!(emotet_fake_ext_file("abc.zia"));
        assert!(!emotet_fake_ext_file("abc.dll"));
        assert!(!emotet_fake_ext_file("a.czi"));
        assert!(!emotet_fake_ext_file("abc1.czi"));
        assert!(trickbot_gtag_folder("Identities1159371911"));
        assert!(trickbot_gtag_folder("newyearTV5382453440"));
        assert!(trickbot_gtag_folder("Othercampaign0123456789"));
        assert!(!trickbot_gtag_folder("Folder123"));
        assert!(trickbot_words_suffix_folder("wise-toolsZ7RZBV"));
        assert!(trickbot_words_suffix_folder("net-servicesQ4K2ZA"));
        assert!(!trickbot_words_suffix_folder("npm-cache"));
        assert!(!trickbot_words_suffix_folder("wise-tools123456"));
        for q in [
            "Bbbetedog",
            "Vybgeuye",
            "Ejuio",
            "Ccnwa",
            "Vuhys",
            "Blqgeaf",
        ] {
            assert!(qakbot_folder_shape(q), "{q}");
        }
        assert!(!qakbot_folder_shape("Internet Explorer"));
        assert!(qakbot_file_shape("naqhixfsvwhmw.dll"));
        assert!(icedid_wordword("BrightBike"));
        assert!(icedid_wordword("HopeDescribe"));
        assert!(!icedid_wordword("Bright"));
        assert!(!icedid_wordword("GoToMeeting"));
        assert!(is_guid("{757A43CE-A08A-2912-8ACA-33BFE2AEC05D}"));
        assert!(is_hex8("0a1b2c3d"));
        assert!(!is_hex8("0a1b2c3g"));
    }

    #[test]
    fn randomness_separates() {
        for r in [
            "Ckninfwzsiyqxydc",
            "Phxnzljad",
            "wcgzvziqg",
            "Vqkwyfejbj",
            "EEdafoGqJrPp",
            "pYvzqbuWqgBOj",
            "KiowKnzOxRlGn",
            "NJEFTzbdMmMZyYXl",
            "VOcAfmAvKLlv",
            "Bbbetedog",
            "naqhixfsvwhmw",
            "Ccnwa",
            "Blqgeaf",
            "cmmgurwtmo",
            "urdvwi",
            "hbwfhGzt",
            "aeygwtpv",
            "mtxoci73a",
            "kripbnjh",
            "Fnszvpxso",
            "8BZQKUfNh",
            "Jov5Cwf8Pz3",
        ] {
            assert!(
                looks_random(r),
                "{r} should look random: {:?}",
                randomness(r)
            );
        }
        for b in [
            "Microsoft",
            "Google",
            "Spotify",
            "Discord",
            "slack",
            "Zoom",
            "WebEx",
            "GoToMeeting",
            "Mozilla",
            "Packages",
            "CrashDumps",
            "ConnectedDevicesPlatform",
            "JetBrains",
            "Dropbox",
            "Postman",
            "Obsidian",
            "WhatsApp",
            "Thunderbird",
            "Wondershare",
            "NVIDIA",
            "Lenovo",
            "Logitech",
            "PlaceholderTileLogoFolder",
            "fontconfig",
            "SquirrelTemp",
            "Greenshot",
            "Everything",
            "iTunesHelper",
            "GoogleDriveFS",
            "Grammarly",
            "Inkscape",
            "Rainmeter",
            "Salesforce",
            "Ringcentral",
            "Sendgrid",
            "D3DSCache",
            "Azad",
            "Teams",
            "Programs",
            "Update",
            "OneDrive",
            "Chrome",
            "Firefox",
            "Signal",
            "Telegram",
            "Bitwarden",
            "Kubernetes",
            "Steelseries",
        ] {
            assert!(
                !looks_random(b),
                "{b} should not look random: {:?}",
                randomness(b)
            );
        }
    }

    #[test]
    fn emotet_v1_dictionary() {
        assert_eq!(
            emotet_v1_two_words("khmerbid"),
            Some(("khmer".into(), "bid".into()))
        );
        assert_eq!(emotet_v1_two_words("mstask"), None);
        assert!(emotet_v1_two_words("duckthunk").is_some());
        let n = emotet_v1_name(0x1234_5678);
        assert!(
            n.len() >= 4 && n.bytes().all(|b| b.is_ascii_lowercase()),
            "{n}"
        );
        // Determinism.
        assert_eq!(emotet_v1_name(42), emotet_v1_name(42));
    }
}
