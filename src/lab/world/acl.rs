//! Folder access control, as far as writes go: the explicit ACEs a folder
//! carries (NTFS keeps them in its DACL) and Windows' check of a write by
//! an account's token.
//!
//! - An ACE names a SID, allows or denies an access mask, and says where
//!   it is inherited: `ContainerInherit` (1) to subfolders,
//!   `ObjectInherit` (2) to files; `NoPropagateInherit` (1) only one level
//!   down, `InheritOnly` (2) not on the folder itself.
//! - Creating a file in a folder needs FILE_ADD_FILE (0x2) on the folder,
//!   a subfolder FILE_ADD_SUBDIRECTORY (0x4); overwriting a file needs
//!   FILE_WRITE_DATA (0x2) on the file, which it inherits from the folders
//!   above it. A Deny ACE whose SID is in the token and whose mask holds
//!   the right refuses (access denied), administrators and SYSTEM
//!   included: Everyone (S-1-1-0) is in every token. The lab grants what
//!   no deny refuses (its folders have no allow list of their own).
//! - Ownership, WRITE_DAC and reading are not modelled: anyone may read,
//!   and change a folder's ACEs through the PowerShell facades.

/// One explicit access-control entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    pub sid: String,
    pub deny: bool,
    /// The access mask (`FileSystemRights`).
    pub rights: u32,
    /// `InheritanceFlags`: 1 ContainerInherit, 2 ObjectInherit.
    pub inheritance: u32,
    /// `PropagationFlags`: 1 NoPropagateInherit, 2 InheritOnly.
    pub propagation: u32,
}

pub const EVERYONE: &str = "S-1-1-0";
pub const AUTHENTICATED_USERS: &str = "S-1-5-11";
pub const SYSTEM: &str = "S-1-5-18";
pub const ADMINISTRATORS: &str = "S-1-5-32-544";
pub const USERS: &str = "S-1-5-32-545";

/// FILE_ADD_FILE / FILE_WRITE_DATA.
pub const ADD_FILE: u32 = 0x2;
/// FILE_ADD_SUBDIRECTORY / FILE_APPEND_DATA.
pub const ADD_SUBDIRECTORY: u32 = 0x4;

/// The deny a defender places on a folder a loader writes to at shutdown:
/// create files, append data, write extended attributes and attributes,
/// for Everyone, inherited by files and subfolders.
pub fn deny_writes_for_everyone() -> Ace {
    Ace { sid: EVERYONE.into(), deny: true, rights: 0x116, inheritance: 3, propagation: 0 }
}

/// The SIDs in an account's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(pub Vec<String>);

impl Token {
    /// An interactive user's token.
    pub fn user(sid: &str) -> Token {
        Token(vec![sid.into(), EVERYONE.into(), AUTHENTICATED_USERS.into(), USERS.into()])
    }
    /// LocalSystem's token.
    pub fn system() -> Token {
        Token(vec![SYSTEM.into(), EVERYONE.into(), AUTHENTICATED_USERS.into(), ADMINISTRATORS.into()])
    }
    /// An ordinary account nobody named (writes whose writer the lab does
    /// not track).
    pub fn anyone() -> Token {
        Token(vec![EVERYONE.into(), AUTHENTICATED_USERS.into(), USERS.into()])
    }
    fn holds(&self, sid: &str) -> bool {
        self.0.iter().any(|s| s.eq_ignore_ascii_case(sid))
    }
}

/// Does an ACE on a folder `depth` levels above an entry reach it? `depth`
/// 0 is the folder itself.
fn reaches(ace: &Ace, depth: usize, entry_is_dir: bool) -> bool {
    if depth == 0 {
        return ace.propagation & 2 == 0;
    }
    if depth > 1 && ace.propagation & 1 != 0 {
        return false;
    }
    if entry_is_dir {
        ace.inheritance & 1 != 0
    } else if depth == 1 {
        ace.inheritance & 2 != 0
    } else {
        // A file deeper down inherits through the subfolders between.
        ace.inheritance & 3 == 3
    }
}

/// Is `right` denied to `token` on an entry whose ACE lists, from the
/// entry itself (index 0, empty for a file) up through its parents, are
/// `chain`?
pub fn denied<'a>(chain: impl IntoIterator<Item = &'a [Ace]>, entry_is_dir: bool, token: &Token, right: u32) -> bool {
    chain.into_iter().enumerate().any(|(depth, aces)| {
        aces.iter()
            .any(|a| a.deny && a.rights & right != 0 && token.holds(&a.sid) && reaches(a, depth, entry_is_dir))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deny_reaches_the_folder_its_files_and_subfolders_as_its_flags_say() {
        let deny = deny_writes_for_everyone();
        let user = Token::user("S-1-5-21-1-2-3-1001");
        let on = [deny.clone()];
        // Creating in the folder itself; overwriting a file in it; in a
        // subfolder; for SYSTEM too.
        assert!(denied([&on[..]], true, &user, ADD_FILE));
        assert!(denied([&[][..], &on[..]], false, &user, ADD_FILE));
        assert!(denied([&[][..], &[][..], &on[..]], false, &Token::system(), ADD_FILE));
        // Not a right it denies; a SID the token lacks; inherit-only on the
        // folder itself; object-only does not reach a subfolder.
        assert!(!denied([&on[..]], true, &user, 0x10000));
        let other = [Ace { sid: "S-1-5-21-9".into(), ..deny.clone() }];
        assert!(!denied([&other[..]], true, &user, ADD_FILE));
        let only = [Ace { propagation: 2, ..deny.clone() }];
        assert!(!denied([&only[..]], true, &user, ADD_FILE));
        assert!(denied([&[][..], &only[..]], false, &user, ADD_FILE));
        let files = [Ace { inheritance: 2, ..deny.clone() }];
        assert!(!denied([&[][..], &files[..]], true, &user, ADD_FILE));
        // An allow never refuses.
        let allow = [Ace { deny: false, ..deny }];
        assert!(!denied([&allow[..]], true, &user, ADD_FILE));
    }
}
