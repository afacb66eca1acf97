//! A benchmark, not a test (`cargo bench --bench lab_world_memory`, run
//! alone by bench/lab-world-memory.sh so no other work's allocations are
//! counted): the heap one clean lab host costs, 1,000 baseline
//! workstations built after a first one has warmed the shared templates.
//! Prints bytes per host; exits 1 above 50,000 bytes (the lab's memory aim
//! that lets a 10,000-host lab run on a laptop) or below 1,000 (a figure
//! that small means the measurement is broken). Linux with glibc only
//! (it reads `mallinfo2`); elsewhere it says so and exits 0.

use cauterize::lab::world::HostState;
use cauterize::lab::world::baseline::{BaselineSpec, sample};

const HOSTS: u32 = 1000;
const AIM_BYTES: usize = 50_000;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_in_use() -> Option<usize> {
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    unsafe extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: mallinfo2 has no preconditions.
    let m = unsafe { mallinfo2() };
    Some(m.uordblks + m.hblkhd)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_in_use() -> Option<usize> {
    None
}

fn main() {
    let specs: Vec<BaselineSpec> = (0..HOSTS).map(sample).collect();
    let _warm = HostState::baseline(&specs[0]); // templates built once
    let Some(before) = heap_in_use() else {
        println!("lab world memory: not measured (needs Linux with glibc's mallinfo2)");
        return;
    };
    let hosts: Vec<HostState> = specs.iter().map(HostState::baseline).collect();
    let after = heap_in_use().unwrap_or(before);
    let per_host = after.saturating_sub(before) / hosts.len();
    println!("lab world memory: {per_host} bytes of heap per clean host ({HOSTS} hosts, 2 users each; aim < {AIM_BYTES})");
    if !(1_000..AIM_BYTES).contains(&per_host) {
        eprintln!("lab world memory: {per_host} bytes per host is outside 1,000..{AIM_BYTES}");
        std::process::exit(1);
    }
}
