//! The app's WebKitGTK web-process extension (issue 18, item 2): memory back once the writer
//! is idle.
//!
//! WebKit keeps what a page once needed (code it compiled, caches, the JavaScript heap's
//! high-water mark) until its memory-pressure handler runs, which on a desktop means the web
//! process is near the machine's RAM. Told to run on a timer (the `memory-pressure` lever), the
//! handler also threw away the editor's compiled code while the writer typed (README, fifth and
//! sixth passes). Only the page knows when nobody is typing, so this extension gives the page's
//! main world one function, [`FUNCTION`]`()`: it schedules on the web process's main loop
//! WebKit's own critical release, synchronous (`WTF::MemoryPressureHandler::releaseMemory(
//! Critical::Yes, Synchronous::Yes)`, what the handler does above its limit: compiled code
//! deleted, a full collection, caches dropped, free pages returned to the system), at most once
//! per [`MIN_GAP`]. The function answers whether it scheduled one.
//!
//! The page asks once a newly opened page has settled, and when the writer has been idle a
//! while (`ui/src/idleRelease.ts`).
//!
//! That call is not WebKitGTK's public API. It is looked up by name in the loaded JavaScriptCore
//! library the first time it is needed; where it is missing (another WebKit build) the page gets
//! no function, and the app runs as it did without this extension.

use std::ffi::CStr;
use std::time::{Duration, Instant};

/// The name the page calls: `window.__inkstoneReleaseMemory()`.
pub const FUNCTION: &CStr = c"__inkstoneReleaseMemory";

/// What the extension looks up by name in JavaScriptCore's library (`nm -D` of WebKitGTK 2.50):
/// `WTF::MemoryPressureHandler::singleton()` and `…::releaseMemory(Critical, Synchronous)`. A
/// unit test finds each in this machine's library.
pub const PRESSURE_SINGLETON: &CStr = c"_ZN3WTF21MemoryPressureHandler9singletonEv";
pub const PRESSURE_RELEASE: &CStr =
    c"_ZN3WTF21MemoryPressureHandler13releaseMemoryENS_8CriticalENS_11SynchronousE";

/// At least this long between two releases, whatever the page asks. The page asks once per
/// page change and once per quiet spell; this bounds what a page asking in a loop could cost: a
/// release blocks the web process's main loop for tens of milliseconds and makes the next
/// scripts run in JavaScriptCore's slower tiers until they are compiled again.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Allows a release when none was allowed within [`MIN_GAP`] of `now`.
#[derive(Debug, Default)]
pub struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    pub const fn new() -> Throttle {
        Throttle { last: None }
    }

    pub fn allow(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < MIN_GAP => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod webkit {
    //! The C side: WebKit's extension entry point, the page's function, and the release.

    use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr};
    use std::ptr::null_mut;
    use std::sync::{Mutex, OnceLock};
    use std::time::Instant;

    use super::{Throttle, FUNCTION, PRESSURE_RELEASE, PRESSURE_SINGLETON};

    type Pointer = *mut c_void;
    /// GLib's `G_TYPE_BOOLEAN` (fundamental type 5, shifted by `G_TYPE_FUNDAMENTAL_SHIFT`).
    const G_TYPE_BOOLEAN: usize = 5 << 2;
    const G_PRIORITY_DEFAULT_IDLE: c_int = 200;

    #[link(name = "webkit2gtk-4.1")]
    extern "C" {
        fn webkit_script_world_get_default() -> Pointer;
        fn webkit_frame_is_main_frame(frame: Pointer) -> c_int;
        fn webkit_frame_get_js_context_for_script_world(frame: Pointer, world: Pointer) -> Pointer;
    }

    #[link(name = "javascriptcoregtk-4.1")]
    extern "C" {
        fn jsc_value_new_function(
            context: Pointer,
            name: *const c_char,
            callback: Pointer,
            user_data: Pointer,
            destroy_notify: Pointer,
            return_type: usize,
            n_params: c_uint,
            ...
        ) -> Pointer;
        fn jsc_context_set_value(context: Pointer, name: *const c_char, value: Pointer);
    }

    #[link(name = "gobject-2.0")]
    extern "C" {
        fn g_signal_connect_data(
            instance: Pointer,
            detailed_signal: *const c_char,
            handler: Pointer,
            data: Pointer,
            destroy_data: Pointer,
            connect_flags: c_int,
        ) -> c_ulong;
        fn g_object_unref(object: Pointer);
    }

    #[link(name = "glib-2.0")]
    extern "C" {
        fn g_idle_add_full(
            priority: c_int,
            function: extern "C" fn(Pointer) -> c_int,
            data: Pointer,
            notify: Pointer,
        ) -> c_uint;
    }

    #[link(name = "dl")]
    extern "C" {
        fn dlsym(handle: Pointer, symbol: *const c_char) -> Pointer;
        #[cfg(test)]
        fn dlopen(file: *const c_char, mode: c_int) -> Pointer;
    }

    /// `WTF::MemoryPressureHandler::singleton()` and `…::releaseMemory(Critical, Synchronous)`
    /// (both enums are `bool`-sized: `No`, `Yes`), as JavaScriptCore's library exports them.
    type Singleton = unsafe extern "C" fn() -> Pointer;
    type ReleaseMemory = unsafe extern "C" fn(handler: Pointer, critical: bool, synchronous: bool);

    fn release_memory_call() -> Option<(Singleton, ReleaseMemory)> {
        static CALL: OnceLock<Option<(usize, usize)>> = OnceLock::new();
        let (singleton, release) = (*CALL.get_or_init(|| {
            // SAFETY: dlsym with RTLD_DEFAULT (null) only reads the loaded objects' tables.
            let find = |name: &CStr| unsafe { dlsym(null_mut(), name.as_ptr()) } as usize;
            let singleton = find(PRESSURE_SINGLETON);
            let release = find(PRESSURE_RELEASE);
            (singleton != 0 && release != 0).then_some((singleton, release))
        }))?;
        // SAFETY: non-null addresses of the functions of these exact (mangled) signatures.
        unsafe {
            Some((
                std::mem::transmute::<usize, Singleton>(singleton),
                std::mem::transmute::<usize, ReleaseMemory>(release),
            ))
        }
    }

    /// Called by WebKit when it loads this library into a web process.
    #[no_mangle]
    pub extern "C" fn webkit_web_extension_initialize(_extension: Pointer) {
        if release_memory_call().is_none() {
            eprintln!("inkstone-webext: this WebKit has no memory-pressure release; the page gets no {FUNCTION:?}");
            return;
        }
        // SAFETY: the default world lives as long as the process; the handler's signature is
        // the signal's (world, page, frame, user data).
        unsafe {
            g_signal_connect_data(
                webkit_script_world_get_default(),
                c"window-object-cleared".as_ptr(),
                window_object_cleared as *const () as Pointer,
                null_mut(),
                null_mut(),
                0,
            );
        }
    }

    /// A new global object (each page load): the main frame's gets the function.
    extern "C" fn window_object_cleared(
        world: Pointer,
        _page: Pointer,
        frame: Pointer,
        _data: Pointer,
    ) {
        // SAFETY: WebKit's live objects for the duration of the signal; what is returned with
        // ownership ("transfer full") is released here.
        unsafe {
            if webkit_frame_is_main_frame(frame) == 0 {
                return;
            }
            let context = webkit_frame_get_js_context_for_script_world(frame, world);
            if context.is_null() {
                return;
            }
            let function = jsc_value_new_function(
                context,
                FUNCTION.as_ptr(),
                asked as *const () as Pointer,
                null_mut(),
                null_mut(),
                G_TYPE_BOOLEAN,
                0,
            );
            if !function.is_null() {
                jsc_context_set_value(context, FUNCTION.as_ptr(), function);
                g_object_unref(function);
            }
            g_object_unref(context);
        }
    }

    static THROTTLE: Mutex<Throttle> = Mutex::new(Throttle::new());

    /// The page's call. The release itself runs from the main loop once it is idle, never
    /// inside the script that asked (it deletes compiled code).
    extern "C" fn asked(_data: Pointer) -> c_int {
        let allowed = THROTTLE
            .lock()
            .map(|mut t| t.allow(Instant::now()))
            .unwrap_or(false);
        if allowed {
            // SAFETY: a plain function with no data.
            unsafe { g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, release, null_mut(), null_mut()) };
        }
        c_int::from(allowed)
    }

    extern "C" fn release(_data: Pointer) -> c_int {
        if let Some((singleton, release_memory)) = release_memory_call() {
            // SAFETY: WebKit's own handler, on the main thread it runs on. Critical::Yes is
            // its strict-threshold release; Synchronous::Yes collects now instead of "soon"
            // (the page is idle, and from the main loop nothing of it is on the stack).
            unsafe { release_memory(singleton(), true, true) };
        }
        0 // G_SOURCE_REMOVE: once
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A misspelt name is no crash, only a page without the function (the E2E suite would
        /// then fail); this finds it in seconds, against the JavaScriptCore this machine has.
        #[test]
        fn every_name_looked_up_is_in_this_machines_javascriptcore() {
            const RTLD_NOW: c_int = 2;
            // SAFETY: loading a system library by its soname; its constructors are WebKit's.
            let library = unsafe { dlopen(c"libjavascriptcoregtk-4.1.so.0".as_ptr(), RTLD_NOW) };
            assert!(
                !library.is_null(),
                "libjavascriptcoregtk-4.1 is not installed"
            );
            for name in [PRESSURE_SINGLETON, PRESSURE_RELEASE] {
                // SAFETY: a handle dlopen returned and a NUL-terminated name.
                let found = unsafe { dlsym(library, name.as_ptr()) };
                assert!(
                    !found.is_null(),
                    "{name:?} is not in libjavascriptcoregtk-4.1"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_release_per_gap_however_often_the_page_asks() {
        let start = Instant::now();
        let mut throttle = Throttle::new();
        assert!(throttle.allow(start));
        for step in 0..100 {
            let at = start + MIN_GAP * step / 100;
            assert!(!throttle.allow(at), "{at:?} after a release");
        }
        assert!(throttle.allow(start + MIN_GAP));
        assert!(!throttle.allow(start + MIN_GAP + MIN_GAP / 2));
        assert!(throttle.allow(start + MIN_GAP * 2 + Duration::from_millis(1)));
    }

    #[test]
    fn a_clock_that_steps_back_is_not_a_gap() {
        let start = Instant::now() + Duration::from_secs(100);
        let mut throttle = Throttle::new();
        assert!(throttle.allow(start));
        assert!(!throttle.allow(start - MIN_GAP * 50));
    }
}
