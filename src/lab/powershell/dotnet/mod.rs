//! The pure .NET types the engine implements itself (no host state):
//! strings, collections, text encodings, `Convert`, `BitConverter`,
//! `Buffer` and `MemoryStream`,
//! `Math`, dates, `Guid`, `Environment`, `Console`, `GC`, SHA-256 and
//! `System.Security.Principal`. Each file registers its types.

pub mod args;
pub mod buffers;
pub mod collections;
pub mod crypto;
pub mod misc;
pub mod prims;
pub mod principal;
pub mod string;
pub mod text;
pub mod time;

use super::object::{EnumDef, Registry};

/// `System.StringComparison` (odd values ignore case).
pub static STRING_COMPARISON: EnumDef = EnumDef {
    full_name: "System.StringComparison",
    members: &[
        ("CurrentCulture", 0),
        ("CurrentCultureIgnoreCase", 1),
        ("InvariantCulture", 2),
        ("InvariantCultureIgnoreCase", 3),
        ("Ordinal", 4),
        ("OrdinalIgnoreCase", 5),
    ],
    flags: false,
};

/// `System.StringSplitOptions`.
pub static STRING_SPLIT_OPTIONS: EnumDef =
    EnumDef { full_name: "System.StringSplitOptions", members: &[("None", 0), ("RemoveEmptyEntries", 1)], flags: true };

/// `System.MidpointRounding`.
pub static MIDPOINT_ROUNDING: EnumDef =
    EnumDef { full_name: "System.MidpointRounding", members: &[("ToEven", 0), ("AwayFromZero", 1)], flags: false };

pub fn register(r: &mut Registry) {
    r.add_enum(&STRING_COMPARISON);
    r.add_enum(&STRING_SPLIT_OPTIONS);
    r.add_enum(&MIDPOINT_ROUNDING);
    r.add_enum(&super::session::ACTION_PREFERENCE);
    buffers::register(r);
    collections::register(r);
    crypto::register(r);
    misc::register(r);
    principal::register(r);
    text::register(r);
}
