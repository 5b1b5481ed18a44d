// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    inkstone_app::run()
}

/// At most two glibc malloc arenas in this process (issue 18: measured 15–30 MiB less PSS for
/// the app process after a session of generations). glibc reads `MALLOC_ARENA_MAX` before
/// `main`, so the variable cannot do it from here; `mallopt` can, as long as no other thread
/// has allocated yet, which is why it is the first thing `main` does. The web processes get
/// the variable itself (`webview_tuning`, lever `malloc-arenas`), and
/// `INKSTONE_WEBVIEW_LEVERS` without that lever leaves this process alone too.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let (levers, _) = inkstone_app::webview_tuning::Levers::from_env();
        if levers.has(inkstone_app::webview_tuning::Lever::MallocArenas)
            && std::env::var_os("MALLOC_ARENA_MAX").is_none()
        {
            // glibc's <malloc.h>: M_ARENA_MAX.
            const M_ARENA_MAX: i32 = -8;
            extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            // SAFETY: mallopt only changes a glibc malloc setting; it is called before any
            // other thread exists, and an unknown or refused value just returns 0.
            unsafe {
                mallopt(M_ARENA_MAX, 2);
            }
        }
    }
}
