//! Keeps the one webview lean (issue 18). The app is a single page served from its own
//! protocol, so WebKit's browser-sized defaults (a cache model for many sites, WebGL and Web
//! Audio switched on by wry) cost memory and buy nothing here. What each lever bought is in
//! the README ("Benchmarks"), measured with `scripts/bench.sh`.
//!
//! The levers are on unless `INKSTONE_WEBVIEW_LEVERS` names a different set (comma-separated
//! names, or `none`); the bench uses it to measure each one on the same build. Leaving the
//! variable out is the production choice.

use std::collections::BTreeSet;

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
    /// in software. Off by default: what it saves and costs depends on the GPU. Even where GL
    /// is software (Xvfb: 33 MiB less web heap, frames no worse) it stays off: with it,
    /// WebKitGTK 2.50 never answers a WebDriver screenshot (`webkit_web_view_get_snapshot`),
    /// which the E2E suite's QR scans need (README, "The app's memory", third pass).
    NoCompositing,
}

impl Lever {
    pub const ALL: [Lever; 7] = [
        Lever::CacheModel,
        Lever::Features,
        Lever::MallocArenas,
        Lever::MallocThreshold,
        Lever::CpuPainting,
        Lever::JsMiniHeap,
        Lever::NoCompositing,
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

impl Default for Levers {
    /// What production runs: everything that measured well without depending on the GPU.
    fn default() -> Self {
        Levers(
            Lever::ALL
                .into_iter()
                .filter(|&lever| lever != Lever::NoCompositing)
                .collect(),
        )
    }
}

impl Levers {
    /// Reads `INKSTONE_WEBVIEW_LEVERS`: unset means the defaults, `none` (or an empty value)
    /// means no lever, otherwise the named levers. Unknown names are returned so they can be
    /// logged; they never turn a lever on.
    pub fn parse(value: Option<&str>) -> (Levers, Vec<String>) {
        let Some(value) = value else {
            return (Levers::default(), Vec::new());
        };
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

    pub fn from_env() -> (Levers, Vec<String>) {
        let value = std::env::var(LEVERS_VAR).ok();
        Levers::parse(value.as_deref())
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

    /// Sets [`Levers::environment`] in this process (inherited by WebKit's processes).
    pub fn apply_environment(&self) {
        for (key, value) in self.environment() {
            if std::env::var_os(key).is_none() {
                std::env::set_var(key, value);
            }
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

#[cfg(target_os = "linux")]
mod linux {
    use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};

    use super::{Lever, Levers};

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
    fn unset_means_the_production_levers() {
        let (levers, unknown) = Levers::parse(None);
        assert_eq!(levers, Levers::default());
        assert!(unknown.is_empty());
        assert!(levers.has(Lever::CacheModel) && levers.has(Lever::Features));
        assert!(levers.has(Lever::MallocArenas) && levers.has(Lever::MallocThreshold));
        assert!(levers.has(Lever::CpuPainting) && levers.has(Lever::JsMiniHeap));
        // GPU-dependent: not in production.
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
    fn the_threshold_given_to_web_processes_is_the_apps() {
        let (levers, _) = Levers::parse(Some("malloc-threshold"));
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
            let (levers, unknown) = Levers::parse(Some(value));
            assert!(levers.names().is_empty(), "{value:?}");
            assert!(unknown.is_empty());
            assert!(levers.environment().is_empty());
        }
    }

    #[test]
    fn named_levers_only_and_unknown_names_reported() {
        let (levers, unknown) = Levers::parse(Some("cache-model, no-compositing,gpu"));
        assert_eq!(levers.names(), vec!["cache-model", "no-compositing"]);
        assert_eq!(unknown, vec!["gpu".to_string()]);
        assert_eq!(
            levers.environment(),
            vec![("WEBKIT_DISABLE_COMPOSITING_MODE", "1")]
        );
    }

    proptest! {
        // The variable comes from outside the process: any text parses, nothing unknown
        // turns a lever on, and what is kept for the log stays small.
        #[test]
        fn any_value_parses_to_known_levers(value in ".{0,400}") {
            let (levers, unknown) = Levers::parse(Some(&value));
            let named: Vec<&str> = value.split(',').map(str::trim).collect();
            for name in levers.names() {
                prop_assert!(named.contains(&name));
            }
            prop_assert!(unknown.len() <= 8);
            prop_assert!(unknown.iter().all(|u| u.chars().count() <= 40));
        }
    }
}
