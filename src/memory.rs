//! The process's resident memory kept near what it uses (the binary calls
//! [`tune`] once at start).
//!
//! Measured on the lab (a `run` of 266 hosts with 256 forks, in its reboot
//! phase): glibc's malloc held 188 MB from the system while 12.6 MB was in
//! use. glibc keeps what is freed inside the arena it came from (up to 8
//! arenas per core, one taken by each thread that allocates while another
//! holds its arena) and gives pages back only from the top of each arena,
//! so the memory of every host in flight at the busiest moment (scan
//! replies, snapshots, the runtime's payload chunks), once freed, stayed
//! resident for the rest of the run, and the longer and larger the run,
//! the more of it was pinned by the small records that outlive a host.
//! Calling `malloc_trim` by hand brought that process from 204 MB to 74 MB.
//!
//! So, with glibc (Linux): at most [`ARENAS`] arenas, and a thread that
//! hands free pages back ([`TRIM_EVERY`]). Elsewhere nothing is done.
//! `MALLOC_ARENA_MAX` in the environment wins over [`ARENAS`]. Large
//! blocks are left to glibc's own threshold: mapping every block of 64 KB
//! and more on its own (`MALLOC_MMAP_THRESHOLD_=65536`, tried) adds system
//! calls and page faults to WinRM replies, and the runs with it contained
//! their hosts more slowly (under other load; not measured apart).

use std::time::Duration;

/// Most malloc arenas: two threads allocate at once without waiting on
/// each other (the machine's cores, roughly), and freed memory is shared
/// between them instead of kept per thread.
pub const ARENAS: i32 = 2;

/// How often free pages inside the arenas are handed back.
pub const TRIM_EVERY: Duration = Duration::from_secs(2);

/// Set the allocator up and start the trimming thread (once, at start,
/// before other threads).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::tune();
}

/// Hand free pages back now (glibc: `malloc_trim(0)`); `true` when some
/// were.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        glibc::trim()
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use super::{ARENAS, TRIM_EVERY};

    pub fn tune() {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets the allocator's parameters; called
            // before the async runtime starts its threads.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, ARENAS);
            }
        }
        // Without the thread the process only keeps more memory resident.
        let _ = std::thread::Builder::new().name("cauterize-trim".into()).spawn(|| {
            loop {
                std::thread::sleep(TRIM_EVERY);
                trim();
            }
        });
    }

    pub fn trim() -> bool {
        // SAFETY: malloc_trim takes each arena's lock while it walks it.
        unsafe { libc::malloc_trim(0) == 1 }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn freed_memory_is_handed_back() {
        if cfg!(not(all(target_os = "linux", target_env = "gnu"))) {
            return;
        }
        // 20 MB in small blocks (never mapped on their own), nine in ten
        // freed: what one in ten still holds keeps the free runs between
        // them inside the arena, where free() never hands them back and
        // the trim does.
        let mut blocks: Vec<Vec<u8>> = (0..20_000).map(|i| vec![(i % 251) as u8; 1000]).collect();
        for (i, b) in blocks.iter_mut().enumerate() {
            if i % 10 != 0 {
                *b = Vec::new();
            }
        }
        assert_eq!(blocks.iter().map(|b| b.len()).sum::<usize>(), 2_000_000);
        assert!(super::trim());
        drop(blocks);
    }
}
