//! glibc malloc settings for this process (issue 18). A module of the binaries only (`main.rs`
//! and the bench's `examples/empty_window`): the library forbids `unsafe`, and `mallopt` is a
//! C call.
//!
//! Called first thing in `main`: `mallopt` is safe while no other thread has allocated yet,
//! and glibc reads the `MALLOC_*` variables before `main`, so setting them from here could not
//! do it. The web processes get the variables themselves (`webview_tuning`), and
//! `INKSTONE_WEBVIEW_LEVERS` without a lever leaves this process alone too. A variable set
//! from outside wins.
//!
//! * `malloc-arenas`: at most two arenas (measured 15–30 MiB less PSS for the app process
//!   after a session of generations).
//! * `malloc-threshold`: a fixed mmap threshold, so argon2's 19 MiB blocks (every sign-in,
//!   every password set) are unmapped when freed instead of staying in an arena.

use inkstone_app::webview_tuning::Levers;

pub fn tune_malloc(levers: &Levers) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use inkstone_app::webview_tuning::{Lever, MMAP_THRESHOLD};
        // glibc's <malloc.h>.
        const M_MMAP_THRESHOLD: i32 = -3;
        const M_ARENA_MAX: i32 = -8;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        let unset = |var: &str| std::env::var_os(var).is_none();
        if levers.has(Lever::MallocArenas) && unset("MALLOC_ARENA_MAX") {
            // SAFETY: mallopt only changes a glibc malloc setting; it is called before any
            // other thread exists, and an unknown or refused value just returns 0.
            unsafe {
                mallopt(M_ARENA_MAX, 2);
            }
        }
        if levers.has(Lever::MallocThreshold) && unset("MALLOC_MMAP_THRESHOLD_") {
            // SAFETY: as above.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = levers;
}
