//! Keeps the one webview lean (issue 18). The app is a single page served from its own
//! protocol, so WebKit's browser-sized defaults (a cache model for many sites, WebGL and Web
//! Audio switched on by wry) cost memory and buy nothing here. What each lever bought is in
//! the README ("Benchmarks"), measured with `scripts/bench.sh`.
//!
//! The levers are on unless `INKSTONE_WEBVIEW_LEVERS` names a different set (comma-separated
//! names, or `none`); the bench uses it to measure each one on the same build. Leaving the
//! variable out is the production choice, which depends on one thing about the machine: where
//! there is no GPU (software GL, see [`Rendering`]) accelerated compositing is off too.

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One thing done to the webview or its processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lever {
    /// WebKit's cache model for a document viewer: no page cache of earlier pages and the
    /// smallest memory cache (every resource of this app is local and served again cheaply).
    CacheModel,
    /// Web features the app never uses switched off: WebGL, Web Audio, WebRTC and media
    /// capture, media source extensions and encrypted media, the back/forward page cache,
    /// WebSQL, the offline application cache, DNS prefetching. `<video>` and `<img>` stay.
    Features,
    /// `MALLOC_ARENA_MAX=2` for the web processes WebKit starts: glibc otherwise keeps up to
    /// 8 arenas per core of mostly free memory in a busy multi-threaded process.
    MallocArenas,
    /// glibc's mmap threshold fixed at [`MMAP_THRESHOLD`] (`mallopt` in the app process,
    /// `MALLOC_MMAP_THRESHOLD_` for the web processes). By default the threshold rises to the
    /// size of the largest mmapped block freed so far (up to 32 MiB), so after the first
    /// sign-in every argon2 hash (19 MiB) comes from the heap and stays resident once freed;
    /// fixed, blocks that large are mapped and given back at once.
    MallocThreshold,
    /// Page content painted by Skia on the CPU (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`) instead
    /// of into GL textures; the layers are still composited with GL. Measured under Xvfb
    /// (Mesa's software GL, where "GPU" textures are this process's memory): 27–43 MiB less
    /// heap in the web process; the frame figures are in the README.
    CpuPainting,
    /// JavaScriptCore's small-heap mode (`JSC_forceMiniVMMode=1`, the mode WebKit uses on
    /// small devices): the heap grows by smaller steps and is collected sooner. A page of
    /// forms and text does not need a browser-sized heap.
    JsMiniHeap,
    /// No accelerated compositing (`WEBKIT_DISABLE_COMPOSITING_MODE=1`): pages are painted
    /// in software. In production only where GL is software anyway ([`Rendering::Software`]):
    /// there the "GPU" layers are Mesa llvmpipe's, drawn by the CPU into this process's
    /// memory, and measured frames were no worse without them (README). A real GPU keeps
    /// compositing: what it would cost there was not measured.
    NoCompositing,
    /// WebKit's memory-pressure handler for the web process told this is a small app
    /// ([`MEMORY_PRESSURE`]): above its thresholds the web process drops caches, collects
    /// garbage and frees compiled code it can compile again. By default the limit is the
    /// machine's RAM (at most 3 GB) and a page like this one never reaches it, so memory a
    /// page once needed stays. WebKitGTK takes the settings only when the web context is
    /// created, which wry does without a hook: [`linux::install_memory_pressure`].
    /// **Not in production**: it halves the memory a session adds but slows typing (the web
    /// process keeps freeing the code it compiled for the editor); named in
    /// `INKSTONE_WEBVIEW_LEVERS` to measure it.
    MemoryPressure,
    /// WebKit's critical memory release (what its memory-pressure handler does above its
    /// limit: compiled code deleted, a full collection, caches dropped), run once the writer has
    /// been idle: the web-process extension `crates/webext` (found by [`web_extension_dir`])
    /// gives the page a function for it, and the page calls it after
    /// `ui/src/idleRelease.ts`'s 30 s with no input and no command in flight, and once a newly
    /// opened page has settled (500 ms, no input). Measured (README, seventh and eighth passes):
    /// a session's growth +19 MiB instead of +40 (10 generations), typing on is unharmed, and
    /// the first keys after a release are 3–5 ms slower at the 95th percentile.
    IdleRelease,
}

/// The web-process extension's file, in `webext/` next to the binary (every cargo build,
/// `src-tauri/build.rs`) or in the app's resource folder (the installers: `/usr/lib/Inkstone`,
/// or the AppImage's own). WebKit loads every library of that folder, so it holds only this one.
pub const WEB_EXTENSION: &str = "libinkstone_webext.so";

/// The folder to give WebKit for [`Lever::IdleRelease`]: the first of `resource_dir/webext`
/// and `exe_dir/webext` that holds [`WEB_EXTENSION`]; `None` when neither does (the page then
/// gets no release function and runs as before).
pub fn web_extension_dir(
    resource_dir: Option<&std::path::Path>,
    exe_dir: Option<&std::path::Path>,
) -> Option<std::path::PathBuf> {
    [resource_dir, exe_dir]
        .into_iter()
        .flatten()
        .map(|base| base.join("webext"))
        .find(|dir| dir.join(WEB_EXTENSION).is_file())
}

/// WebKit's memory-pressure settings for the web process ([`Lever::MemoryPressure`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryPressure {
    /// The limit, MB: above it WebKit releases memory synchronously at every poll.
    pub limit_mb: u32,
    /// Fraction of the limit above which it drops caches at every poll.
    pub conservative: f64,
    /// Fraction of the limit above which it also collects and deletes compiled code.
    pub strict: f64,
    /// How often the web process measures itself, seconds.
    pub poll_s: f64,
}

/// The lever's settings, measured in the README ("Fifth pass").
pub const MEMORY_PRESSURE: MemoryPressure = MemoryPressure {
    limit_mb: 100,
    conservative: 0.2,
    strict: 0.3,
    poll_s: 2.0,
};

/// Other settings for [`Lever::MemoryPressure`], to measure them without a build:
/// `INKSTONE_MEMORY_PRESSURE=limit,conservative,strict,poll` (MB, fractions, seconds).
/// Read only when that lever is named.
pub const MEMORY_PRESSURE_VARIABLE: &str = "INKSTONE_MEMORY_PRESSURE";

/// [`MEMORY_PRESSURE_VARIABLE`]'s value, or `None` for anything WebKit would refuse or read
/// as "its default": a limit of 0, thresholds outside (0, 1) or out of order, a poll interval
/// that is not a positive number of seconds up to an hour.
pub fn parse_memory_pressure(value: &str) -> Option<MemoryPressure> {
    let mut parts = value.split(',').map(str::trim);
    let limit_mb: u32 = parts.next()?.parse().ok()?;
    let mut number = || parts.next()?.parse::<f64>().ok();
    let (conservative, strict, poll_s) = (number()?, number()?, number()?);
    if parts.next().is_some() || limit_mb == 0 {
        return None;
    }
    let ordered = 0.0 < conservative && conservative < strict && strict < 1.0;
    (ordered && poll_s > 0.0 && poll_s <= 3600.0).then_some(MemoryPressure {
        limit_mb,
        conservative,
        strict,
        poll_s,
    })
}

impl Lever {
    pub const ALL: [Lever; 9] = [
        Lever::CacheModel,
        Lever::Features,
        Lever::MallocArenas,
        Lever::MallocThreshold,
        Lever::CpuPainting,
        Lever::JsMiniHeap,
        Lever::NoCompositing,
        Lever::MemoryPressure,
        Lever::IdleRelease,
    ];

    /// The name used in `INKSTONE_WEBVIEW_LEVERS`.
    pub fn name(self) -> &'static str {
        match self {
            Lever::CacheModel => "cache-model",
            Lever::Features => "features",
            Lever::MallocArenas => "malloc-arenas",
            Lever::MallocThreshold => "malloc-threshold",
            Lever::CpuPainting => "cpu-painting",
            Lever::JsMiniHeap => "js-mini-heap",
            Lever::NoCompositing => "no-compositing",
            Lever::MemoryPressure => "memory-pressure",
            Lever::IdleRelease => "idle-release",
        }
    }
}

/// The levers in effect for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levers(BTreeSet<Lever>);

/// The environment variable that picks another set of levers (measuring only).
pub const LEVERS_VAR: &str = "INKSTONE_WEBVIEW_LEVERS";

/// Lever `malloc-threshold`: blocks of this many bytes or more are mapped on their own and
/// unmapped when freed (glibc's starting value, kept from rising).
pub const MMAP_THRESHOLD: i32 = 256 * 1024;
// At least glibc's default, well below argon2's 19 MiB blocks.
const _: () = assert!(MMAP_THRESHOLD >= 128 * 1024 && MMAP_THRESHOLD < 19 * 1024 * 1024);

/// How this machine draws GL, as far as it matters to the levers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// A GPU render node is there and nothing forces software GL: keep compositing.
    Gpu,
    /// No GPU render node (`/dev/dri/renderD*`), or Mesa told to render in software
    /// (`LIBGL_ALWAYS_SOFTWARE`, `GALLIUM_DRIVER=llvmpipe|softpipe`): Xvfb, most VMs and
    /// remote desktops, containers without `/dev/dri`.
    Software,
}

impl Rendering {
    /// Decides from what [`Rendering::detect`] reads: the names in `/dev/dri` and Mesa's two
    /// variables. Pure, so every case is tested. In doubt (a render node there, nothing
    /// forcing software) it says GPU: the safe choice is to leave WebKit's default alone.
    pub fn from_probe<'a>(
        dri_entries: impl IntoIterator<Item = &'a str>,
        libgl_always_software: Option<&str>,
        gallium_driver: Option<&str>,
    ) -> Rendering {
        // Mesa's env_var_as_boolean: these mean true, anything else false.
        let forced = libgl_always_software.is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "y" | "yes"
            )
        });
        let software_driver = gallium_driver.is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "llvmpipe" | "softpipe" | "swr"
            )
        });
        let render_node = dri_entries
            .into_iter()
            .any(|name| name.strip_prefix("renderD").is_some_and(|n| !n.is_empty()));
        if forced || software_driver || !render_node {
            Rendering::Software
        } else {
            Rendering::Gpu
        }
    }

    /// Looks at this machine: `/dev/dri` (a missing or unreadable folder is no render node)
    /// and `LIBGL_ALWAYS_SOFTWARE` / `GALLIUM_DRIVER`.
    pub fn detect() -> Rendering {
        let entries: Vec<String> = std::fs::read_dir("/dev/dri")
            .map(|dir| {
                dir.flatten()
                    .take(64)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let var = |name: &str| std::env::var(name).ok();
        Rendering::from_probe(
            entries.iter().map(String::as_str),
            var("LIBGL_ALWAYS_SOFTWARE").as_deref(),
            var("GALLIUM_DRIVER").as_deref(),
        )
    }
}

impl Levers {
    /// What production runs: everything that measured well without depending on the GPU,
    /// and no compositing where GL is software anyway.
    pub fn production(rendering: Rendering) -> Levers {
        Levers(
            Lever::ALL
                .into_iter()
                .filter(|&lever| lever != Lever::NoCompositing || rendering == Rendering::Software)
                // A trade against typing speed, measured and not taken (README, fifth pass).
                .filter(|&lever| lever != Lever::MemoryPressure)
                .collect(),
        )
    }

    /// A set value of `INKSTONE_WEBVIEW_LEVERS`: `none` (or an empty value) means no lever,
    /// otherwise the named levers, whatever the machine. Unknown names are returned so they
    /// can be logged; they never turn a lever on.
    pub fn parse(value: &str) -> (Levers, Vec<String>) {
        let mut set = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "none" {
                continue;
            }
            match Lever::ALL.into_iter().find(|l| l.name() == name) {
                Some(lever) => {
                    set.insert(lever);
                }
                // Bounded: the log gets the first few, cut short.
                None if unknown.len() < 8 => unknown.push(name.chars().take(40).collect()),
                None => {}
            }
        }
        (Levers(set), unknown)
    }

    /// `INKSTONE_WEBVIEW_LEVERS` ([`Levers::parse`]), or [`Levers::production`] for this
    /// machine ([`Rendering::detect`]) when it is unset.
    /// Read once per process: `main` (malloc), the web context's environment and the window
    /// all ask, and the answer cannot change in between.
    pub fn from_env() -> (Levers, Vec<String>) {
        static ONCE: OnceLock<(Levers, Vec<String>)> = OnceLock::new();
        ONCE.get_or_init(|| match std::env::var(LEVERS_VAR).ok() {
            // Only the production set depends on the machine: no probe otherwise.
            None => (Levers::production(Rendering::detect()), Vec::new()),
            Some(value) => Levers::parse(&value),
        })
        .clone()
    }

    pub fn has(&self, lever: Lever) -> bool {
        self.0.contains(&lever)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|l| l.name()).collect()
    }

    /// Environment variables WebKit reads when it starts its processes, so they are set
    /// before the first webview exists and before any other thread runs (`run()` calls this
    /// first). A value the writer or the system set already wins.
    pub fn environment(&self) -> Vec<(&'static str, &'static str)> {
        let mut vars = Vec::new();
        if self.has(Lever::MallocArenas) {
            vars.push(("MALLOC_ARENA_MAX", "2"));
        }
        if self.has(Lever::MallocThreshold) {
            // MMAP_THRESHOLD as text (a test keeps the two equal).
            vars.push(("MALLOC_MMAP_THRESHOLD_", "262144"));
        }
        if self.has(Lever::CpuPainting) {
            vars.push(("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"));
        }
        if self.has(Lever::JsMiniHeap) {
            // JavaScriptCore reads `JSC_<option>` when the web process starts.
            vars.push(("JSC_forceMiniVMMode", "1"));
        }
        if self.has(Lever::NoCompositing) {
            vars.push(("WEBKIT_DISABLE_COMPOSITING_MODE", "1"));
        }
        vars
    }

    /// Sets [`Levers::environment`] in this process (inherited by WebKit's processes), and
    /// remembers which it set ([`set_by_app`]) so programs the app starts for the writer do
    /// not inherit them.
    pub fn apply_environment(&self) {
        let mut set = Vec::new();
        for (key, value) in self.environment() {
            if std::env::var_os(key).is_none() {
                std::env::set_var(key, value);
                set.push(key);
            }
        }
        let _ = SET_BY_APP.set(set);
        #[cfg(target_os = "linux")]
        if self.has(Lever::MemoryPressure) {
            let settings = match std::env::var(MEMORY_PRESSURE_VARIABLE) {
                Ok(value) => parse_memory_pressure(&value).unwrap_or_else(|| {
                    tracing::warn!(%value, "{MEMORY_PRESSURE_VARIABLE} is not limit,conservative,strict,poll: the lever's own settings are used");
                    MEMORY_PRESSURE
                }),
                Err(_) => MEMORY_PRESSURE,
            };
            linux::install_memory_pressure(settings);
        }
    }

    /// Applies the webview's levers to the main window's webview (its web context and
    /// settings). Runs as soon as the window exists, before the page has run any script.
    pub fn apply_to<R: tauri::Runtime>(&self, window: &tauri::WebviewWindow<R>) {
        #[cfg(target_os = "linux")]
        {
            let levers = self.clone();
            if let Err(error) =
                window.with_webview(move |webview| linux::tune(&webview.inner(), &levers))
            {
                tracing::warn!(%error, "the webview could not be tuned");
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = window;
    }
}

static SET_BY_APP: OnceLock<Vec<&'static str>> = OnceLock::new();

/// The variables [`Levers::apply_environment`] set in this process (not those the writer or
/// the system had set). They tune WebKit for this app's one page; a browser the app starts
/// for a link (a WebKitGTK one, when none is running) must start as the writer set it up, not
/// with a small JavaScript heap and without compositing.
pub fn set_by_app() -> &'static [&'static str] {
    SET_BY_APP.get().map(Vec::as_slice).unwrap_or(&[])
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod linux {
    use std::sync::OnceLock;

    use webkit2gtk::glib::gobject_ffi::{
        g_object_class_find_property, g_type_class_ref, GObject, GObjectClass, GParamSpec,
    };
    use webkit2gtk::glib::translate::{IntoGlib, ToGlibPtr};
    use webkit2gtk::glib::value::ToValue;
    use webkit2gtk::glib::StaticType;
    use webkit2gtk::{CacheModel, MemoryPressureSettings, SettingsExt, WebContextExt, WebViewExt};

    use super::{Lever, Levers};

    /// What [`constructed`] needs: the web context's class (owner of the property), the
    /// property, the class's own `constructed`, and the settings. Addresses as `usize` so
    /// the statics are `Sync`; the class is referenced for the life of the process.
    struct Hook {
        class: usize,
        pspec: usize,
        original: Option<unsafe extern "C" fn(*mut GObject)>,
        settings: super::MemoryPressure,
    }

    static HOOK: OnceLock<Hook> = OnceLock::new();

    /// Makes every `WebKitWebContext` created from now on start its web processes with these
    /// memory-pressure settings, as if they had been passed to `g_object_new` (the property
    /// is construct-only, and wry builds the context without it). The context class's
    /// `constructed` is wrapped: it sets the property through the class's own setter, then
    /// runs WebKit's `constructed`, which reads it. Runs before any context exists (`run()`
    /// first); a WebKitGTK without the property (< 2.34) is left as it is.
    pub(super) fn install_memory_pressure(settings: super::MemoryPressure) {
        if HOOK.get().is_some() {
            return;
        }
        // SAFETY: GObject's documented class structures. The class reference is never
        // dropped, so the pointers stay valid; the swap happens on the only thread, before
        // any web context is constructed.
        unsafe {
            let class = g_type_class_ref(webkit2gtk::WebContext::static_type().into_glib())
                as *mut GObjectClass;
            if class.is_null() {
                return;
            }
            let pspec = g_object_class_find_property(class, c"memory-pressure-settings".as_ptr());
            if pspec.is_null() || (*class).set_property.is_none() {
                tracing::warn!("this WebKitGTK has no memory-pressure settings: left as is");
                return;
            }
            let hook = Hook {
                class: class as usize,
                pspec: pspec as usize,
                original: (*class).constructed,
                settings,
            };
            if HOOK.set(hook).is_ok() {
                (*class).constructed = Some(constructed);
            }
        }
    }

    unsafe extern "C" fn constructed(object: *mut GObject) {
        let Some(hook) = HOOK.get() else { return };
        let class = hook.class as *mut GObjectClass;
        let pspec = hook.pspec as *mut GParamSpec;
        let wanted = hook.settings;
        let mut settings = MemoryPressureSettings::new();
        settings.set_memory_limit(wanted.limit_mb);
        settings.set_conservative_threshold(wanted.conservative);
        settings.set_strict_threshold(wanted.strict);
        settings.set_poll_interval(wanted.poll_s);
        let value = settings.to_value();
        if let Some(set_property) = (*class).set_property {
            // The setter only reads the value (WebKit copies the settings).
            set_property(
                object,
                (*pspec).param_id,
                value.to_glib_none().0 as *mut _,
                pspec,
            );
        }
        if let Some(original) = hook.original {
            original(object);
        }
    }

    pub(super) fn tune(webview: &webkit2gtk::WebView, levers: &Levers) {
        if levers.has(Lever::CacheModel) {
            if let Some(context) = webview.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        }
        let Some(settings) = WebViewExt::settings(webview) else {
            return;
        };
        if levers.has(Lever::Features) {
            // wry switches WebGL and Web Audio on; nothing in the app draws 3D or plays sound
            // from script. Videos are plain <video> elements and stay.
            settings.set_enable_webgl(false);
            settings.set_enable_webaudio(false);
            settings.set_enable_webrtc(false);
            settings.set_enable_media_stream(false);
            settings.set_enable_mediasource(false);
            settings.set_enable_encrypted_media(false);
            // Hash routes never leave the page: there is nothing to keep for "back".
            settings.set_enable_page_cache(false);
            settings.set_enable_html5_database(false);
            settings.set_enable_offline_web_application_cache(false);
            settings.set_enable_dns_prefetching(false);
            settings.set_enable_hyperlink_auditing(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn production_with_a_gpu_is_every_lever_but_no_compositing() {
        let levers = Levers::production(Rendering::Gpu);
        assert!(levers.has(Lever::CacheModel) && levers.has(Lever::Features));
        assert!(levers.has(Lever::MallocArenas) && levers.has(Lever::MallocThreshold));
        assert!(levers.has(Lever::CpuPainting) && levers.has(Lever::JsMiniHeap));
        // Measured and not taken: it costs typing.
        assert!(!levers.has(Lever::MemoryPressure));
        // GPU-dependent: not where there is a GPU.
        assert!(!levers.has(Lever::NoCompositing));
        assert_eq!(
            levers.environment(),
            vec![
                ("MALLOC_ARENA_MAX", "2"),
                ("MALLOC_MMAP_THRESHOLD_", "262144"),
                ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
                ("JSC_forceMiniVMMode", "1"),
            ]
        );
    }

    #[test]
    fn production_releases_memory_when_idle_and_that_sets_no_variable() {
        for rendering in [Rendering::Gpu, Rendering::Software] {
            let levers = Levers::production(rendering);
            assert!(levers.has(Lever::IdleRelease));
            // A folder for WebKit (main_window) and a page function: the processes WebKit
            // starts get the same environment with the lever as without it.
            let mut without = levers.clone();
            without.0.remove(&Lever::IdleRelease);
            assert_eq!(levers.environment(), without.environment());
        }
    }

    #[test]
    fn the_extension_folder_is_the_first_that_holds_the_extension() {
        let root = tempfile::tempdir().unwrap();
        let resources = root.path().join("usr/lib/Inkstone");
        let exe_dir = root.path().join("target/release");
        // Neither holds it: no folder (an empty one would load nothing, but say so instead).
        std::fs::create_dir_all(resources.join("webext")).unwrap();
        std::fs::create_dir_all(exe_dir.join("webext")).unwrap();
        assert_eq!(web_extension_dir(Some(&resources), Some(&exe_dir)), None);
        std::fs::write(exe_dir.join("webext").join(WEB_EXTENSION), b"elf").unwrap();
        assert_eq!(
            web_extension_dir(Some(&resources), Some(&exe_dir)),
            Some(exe_dir.join("webext"))
        );
        // The installed one wins over one next to the binary.
        std::fs::write(resources.join("webext").join(WEB_EXTENSION), b"elf").unwrap();
        assert_eq!(
            web_extension_dir(Some(&resources), Some(&exe_dir)),
            Some(resources.join("webext"))
        );
        // A folder named like the file is not the file.
        let odd = root.path().join("odd");
        std::fs::create_dir_all(odd.join("webext").join(WEB_EXTENSION)).unwrap();
        assert_eq!(web_extension_dir(Some(&odd), None), None);
        assert_eq!(web_extension_dir(None, None), None);
    }

    #[test]
    fn the_memory_pressure_lever_is_a_hook_not_a_variable() {
        let (levers, unknown) = Levers::parse("memory-pressure");
        assert!(unknown.is_empty() && levers.has(Lever::MemoryPressure));
        // A hook on the web context (linux::install_memory_pressure), nothing in the environment.
        assert!(levers.environment().is_empty());
    }

    #[test]
    fn memory_pressure_settings_are_read_only_when_webkit_would_take_them() {
        assert_eq!(
            parse_memory_pressure("400, 0.05,0.075, 30"),
            Some(MemoryPressure {
                limit_mb: 400,
                conservative: 0.05,
                strict: 0.075,
                poll_s: 30.0
            })
        );
        // WebKit refuses (and logs) thresholds outside (0, 1) or out of order, and a limit or
        // poll interval of 0 means its default: the lever's own settings pass the same checks.
        let MemoryPressure {
            limit_mb,
            conservative,
            strict,
            poll_s,
        } = MEMORY_PRESSURE;
        let shipped = format!("{limit_mb},{conservative},{strict},{poll_s}");
        assert_eq!(parse_memory_pressure(&shipped), Some(MEMORY_PRESSURE));
        for bad in [
            "",
            "100",
            "100,0.2,0.3",
            "100,0.2,0.3,2,9",
            "0,0.2,0.3,2",
            "-1,0.2,0.3,2",
            "100,0.3,0.2,2",
            "100,0,0.3,2",
            "100,0.2,1,2",
            "100,0.2,0.3,0",
            "100,0.2,0.3,NaN",
            "100,0.2,0.3,inf",
            "100,0.2,0.3,7200",
            "100,a,0.3,2",
        ] {
            assert_eq!(parse_memory_pressure(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_memory_pressure_value_is_settings_webkit_takes_or_none(value in ".{0,64}") {
            if let Some(s) = parse_memory_pressure(&value) {
                prop_assert!(s.limit_mb > 0);
                prop_assert!(0.0 < s.conservative && s.conservative < s.strict && s.strict < 1.0);
                prop_assert!(s.poll_s > 0.0 && s.poll_s <= 3600.0);
            }
        }
    }

    #[test]
    fn the_threshold_given_to_web_processes_is_the_apps() {
        let (levers, _) = Levers::parse("malloc-threshold");
        assert_eq!(
            levers.environment(),
            vec![(
                "MALLOC_MMAP_THRESHOLD_",
                MMAP_THRESHOLD.to_string().as_str()
            )]
        );
    }

    #[test]
    fn none_and_empty_turn_every_lever_off() {
        for value in ["none", "", " , "] {
            let (levers, unknown) = Levers::parse(value);
            assert!(levers.names().is_empty(), "{value:?}");
            assert!(unknown.is_empty());
            assert!(levers.environment().is_empty());
        }
    }

    #[test]
    fn named_levers_only_and_unknown_names_reported() {
        let (levers, unknown) = Levers::parse("cache-model, no-compositing,gpu");
        assert_eq!(levers.names(), vec!["cache-model", "no-compositing"]);
        assert_eq!(unknown, vec!["gpu".to_string()]);
        assert_eq!(
            levers.environment(),
            vec![("WEBKIT_DISABLE_COMPOSITING_MODE", "1")]
        );
    }

    #[test]
    fn without_a_gpu_production_also_turns_compositing_off() {
        let levers = Levers::production(Rendering::Software);
        // Every lever but the one not taken (memory-pressure).
        assert_eq!(levers.names().len(), Lever::ALL.len() - 1);
        assert!(levers.has(Lever::NoCompositing));
        assert_eq!(
            levers.environment().last(),
            Some(&("WEBKIT_DISABLE_COMPOSITING_MODE", "1"))
        );
        // Everything else is the same on both kinds of machine.
        let gpu = Levers::production(Rendering::Gpu);
        assert!(Lever::ALL
            .into_iter()
            .filter(|&l| l != Lever::NoCompositing && l != Lever::MemoryPressure)
            .all(|l| gpu.has(l) && levers.has(l)));
    }

    #[test]
    fn a_set_variable_decides_compositing_either_way() {
        // Named levers are exactly those: the machine is not asked (from_env).
        let (off, _) = Levers::parse("cache-model");
        assert!(!off.has(Lever::NoCompositing));
        let (on, _) = Levers::parse("no-compositing");
        assert!(on.has(Lever::NoCompositing));
    }

    #[test]
    fn a_render_node_means_gpu() {
        for nodes in [
            vec!["card0", "renderD128"],
            vec!["by-path", "card1", "renderD129"],
        ] {
            assert_eq!(Rendering::from_probe(nodes, None, None), Rendering::Gpu);
        }
        // Mesa's "false" values leave it alone.
        for value in ["0", "false", "no", ""] {
            assert_eq!(
                Rendering::from_probe(["renderD128"], Some(value), Some("iris")),
                Rendering::Gpu,
                "{value:?}"
            );
        }
    }

    #[test]
    fn no_render_node_or_mesa_forced_means_software() {
        // No /dev/dri at all (Xvfb in a container, this build machine).
        assert_eq!(Rendering::from_probe([], None, None), Rendering::Software);
        // A display-only card (simpledrm, bochs in a VM) has no render node.
        assert_eq!(
            Rendering::from_probe(["card0", "by-path"], None, None),
            Rendering::Software
        );
        // "renderD" alone is not a node.
        assert_eq!(
            Rendering::from_probe(["renderD"], None, None),
            Rendering::Software
        );
        for value in ["1", "true", "YES", " y "] {
            assert_eq!(
                Rendering::from_probe(["renderD128"], Some(value), None),
                Rendering::Software,
                "{value:?}"
            );
        }
        for driver in ["llvmpipe", "softpipe", "LLVMpipe"] {
            assert_eq!(
                Rendering::from_probe(["renderD128"], None, Some(driver)),
                Rendering::Software,
                "{driver:?}"
            );
        }
    }

    proptest! {
        // Names in /dev/dri and Mesa's variables are outside input: any of them decides
        // without a panic, and a software GL setting always wins over a node.
        #[test]
        fn any_probe_decides(
            entries in proptest::collection::vec(".{0,40}", 0..20),
            libgl in proptest::option::of(".{0,20}"),
            gallium in proptest::option::of(".{0,20}"),
        ) {
            let rendering = Rendering::from_probe(
                entries.iter().map(String::as_str),
                libgl.as_deref(),
                gallium.as_deref(),
            );
            let forced = Rendering::from_probe(
                entries.iter().map(String::as_str),
                Some("1"),
                gallium.as_deref(),
            );
            prop_assert_eq!(forced, Rendering::Software);
            if !entries.iter().any(|e| e.starts_with("renderD") && e.len() > 7) {
                prop_assert_eq!(rendering, Rendering::Software);
            }
        }
    }

    proptest! {
        // The variable comes from outside the process: any text parses, nothing unknown
        // turns a lever on, and what is kept for the log stays small.
        #[test]
        fn any_value_parses_to_known_levers(value in ".{0,400}") {
            let (levers, unknown) = Levers::parse(&value);
            let named: Vec<&str> = value.split(',').map(str::trim).collect();
            for name in levers.names() {
                prop_assert!(named.contains(&name));
            }
            prop_assert!(unknown.len() <= 8);
            prop_assert!(unknown.iter().all(|u| u.chars().count() <= 40));
        }
    }
}
