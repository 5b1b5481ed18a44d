//! Inkstone's Tauri 2 shell: opens the window, the database and the log, and exposes thin
//! commands (`commands/`) over `inkstone_core`. No SQL and no business rule lives here.
//!
//! Start-up: read [`options::LaunchOptions`], pick the data folder (OS app data folder, its
//! `demo/` subfolder in demo mode, or `--data-dir`), start logging, open and migrate
//! `inkstone.db`, manage [`state::AppState`].
// One exception, `webview_tuning::linux` (a GObject class hook WebKit offers no API for).
#![deny(unsafe_code)]

pub mod close_guard;
pub mod commands;
pub mod error;
pub mod logging;
pub mod media;
pub mod navigation;
pub mod options;
pub mod state;
pub mod updater;
pub mod webview_tuning;

use std::path::PathBuf;
use std::process::ExitCode;

use tauri::{Manager, Runtime};

use crate::options::LaunchOptions;
use crate::state::AppState;

/// When `run()` began: start-up steps are logged with the time since (issue 18).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Milliseconds since `run()` began (0 in tests that never call it).
fn since_start_ms() -> u64 {
    STARTED
        .get()
        .map(|t| t.elapsed().as_millis() as u64)
        .unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Occurs when the OS gives no app data or log folder.
    #[error("cannot find the app folder: {0}")]
    Path(#[from] tauri::Error),
    /// Occurs when the data folder cannot be created.
    #[error("cannot create {dir}: {source}")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// Occurs when logging cannot start.
    #[error(transparent)]
    Logging(#[from] logging::LoggingError),
    /// Occurs when the database cannot be opened or migrated.
    #[error(transparent)]
    Database(#[from] inkstone_core::db::OpenError),
    /// Occurs when the app's services (payments, studio) cannot start.
    #[error(transparent)]
    Services(#[from] inkstone_desktop::DesktopError),
    /// Occurs when another Inkstone already runs on this data folder (or it cannot be locked).
    #[error("{0}. 墨砚已在使用这个数据文件夹，请切换到已打开的窗口。")]
    DataFolder(#[from] inkstone_desktop::LockError),
    /// Occurs when the main window cannot be made.
    #[error("cannot open the window: {0}")]
    Window(String),
}

/// `identifier` of tauri.conf.json, checked by a test.
pub const IDENTIFIER: &str = "studio.inkstone.desktop";

/// Registers the commands and the start-up on `builder` (the real or the mock runtime).
pub fn configure<R: Runtime>(
    builder: tauri::Builder<R>,
    options: LaunchOptions,
) -> tauri::Builder<R> {
    // A second launch on the same data folder focuses the first window and exits (the
    // plugin forwards it over the session bus before this app's setup runs). A process that
    // cannot reach the first one (no session bus, another session) is refused by the data
    // folder lock in `start`.
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        tracing::info!("a second launch on this data folder: focusing this window");
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    if let Some(id) = options.instance_id(IDENTIFIER) {
        single = single.dbus_id(id);
    }
    let mut window_state = tauri_plugin_window_state::Builder::new();
    if let Some(file) = options.window_state_file() {
        // The plugin joins this to the OS config folder; an absolute path replaces it.
        window_state = window_state.with_filename(file.to_string_lossy());
    }
    builder
        .plugin(single.build())
        .plugin(tauri_plugin_store::Builder::new().build())
        // Links from model output open in the system browser, from Rust only (`open_link`).
        .plugin(tauri_plugin_opener::init())
        // The window opens where and as large as the writer left it (Rust only: no webview API).
        .plugin(window_state.build())
        // Used from Rust only (a purchase credited); the webview gets no notification API.
        .plugin(tauri_plugin_notification::init())
        // The folder picker for exports, from Rust only (`export_pick_folder`): no capability
        // gives the webview the dialog API.
        .plugin(tauri_plugin_dialog::init())
        // Signed updates, from Rust only (`updater.rs`; the webview gets no updater API). The
        // key and endpoint are set per check from what this build carries and this launch.
        .plugin(tauri_plugin_updater::Builder::new().build())
        // Generated files for <img>/<video>: only the signed-in profile's, in byte ranges.
        .register_asynchronous_uri_scheme_protocol(inkstone_desktop::media::SCHEME, media::handle)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            let prepared = tauri::async_runtime::block_on(prepare(&handle, &options))?;
            tracing::info!(
                ms = since_start_ms(),
                "start-up: data folder locked, log open"
            );
            app.manage(commands::backups::StartNotices::default());
            app.manage(commands::backups::TroubleState::default());
            app.manage(commands::updates::UpdateState::default());
            // The database opens on a second thread while this one creates the window and
            // WebKit starts its processes (issue 18: ~140 ms of webview next to the database's
            // ~60). The page cannot ask anything before setup returns and the event loop
            // runs, and by then the state below is managed.
            let opened = std::thread::scope(|scope| {
                let opening = scope.spawn(|| {
                    let opened = tauri::async_runtime::block_on(open_services(&options, &prepared));
                    tracing::info!(
                        ms = since_start_ms(),
                        "start-up: database and services open"
                    );
                    opened
                });
                main_window(&handle)?;
                tracing::info!(ms = since_start_ms(), "start-up: window created");
                opening
                    .join()
                    .map_err(|_| StartupError::Window("opening the database panicked".into()))?
            })?;
            // A database that is not well shows the trouble page (in the writer's language)
            // instead of failing in the log; the page's choices open it again in this process
            // (`reopen`).
            match opened {
                Ok((state, notices)) => {
                    commands::backups::set_notices(&handle, notices);
                    tauri::async_runtime::block_on(go_live(&handle, state));
                }
                Err(trouble) => {
                    tracing::error!(error = %trouble, "the database cannot be used");
                    commands::backups::set_trouble(&handle, &prepared.data_dir, &trouble);
                }
            }
            app.manage(Launch { options, prepared });
            exit_on_terminate(handle);
            tracing::info!(ms = since_start_ms(), "start-up: setup done");
            Ok(())
        })
}

/// What start-up settled once per process (the data folder, its lock, the log), kept so the
/// trouble page can open the database again.
pub struct Launch {
    options: LaunchOptions,
    prepared: Prepared,
}

pub struct Prepared {
    data_dir: PathBuf,
    demo: bool,
    data_lock: std::sync::Arc<inkstone_desktop::DataLock>,
}

/// After the trouble page resolved what it could: opens the database again. `Ok(None)` when
/// the app now runs, `Ok(Some(trouble))` when the database is still not well.
pub async fn reopen<R: Runtime>(
    app: &tauri::AppHandle<R>,
) -> Result<Option<inkstone_desktop::backups::DataTrouble>, StartupError> {
    let Some(launch) = app.try_state::<Launch>() else {
        return Err(StartupError::Window("start-up has not run".into()));
    };
    match open_services(&launch.options, &launch.prepared).await? {
        Ok((state, notices)) => {
            commands::backups::set_notices(app, notices);
            go_live(app, state).await;
            Ok(None)
        }
        Err(trouble) => Ok(Some(trouble)),
    }
}

/// The app runs: its state managed, preferences applied, purchases announced, videos served,
/// orders followed, a backup a day.
async fn go_live<R: Runtime>(handle: &tauri::AppHandle<R>, state: AppState) {
    // The writer's region applies from the first generation on.
    let prefs = commands::settings::load(handle, &commands::settings::store_path(&state));
    if let Err(error) = state.services.set_preferences(&prefs) {
        tracing::warn!(%error, "stored region ignored");
    }
    // Paid while the app was closed: credited just now by resuming the order.
    for purchase in state.services.take_resumed_purchases() {
        commands::shop::announce(handle, &state, &purchase);
    }
    handle.manage(state);
    match media::serve_loopback(handle.clone()).await {
        Ok(base) => {
            if let Some(state) = handle.try_state::<AppState>() {
                let _ = state.media_base.set(base);
            }
        }
        // Images still show through the protocol; only videos cannot play.
        Err(error) => tracing::error!(%error, "no loopback listener for videos"),
    }
    // Expired and closed orders are asked about again for 48 hours (the services
    // back off per order); a late payment is credited and announced like one
    // credited at start.
    let follow = handle.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            let Some(state) = follow.try_state::<AppState>() else {
                return;
            };
            state.services.follow_up_orders().await;
            for purchase in state.services.take_resumed_purchases() {
                commands::shop::announce(&follow, &state, &purchase);
            }
            // Refunded purchases: taken back once, and the writer told why.
            for revoked in state.services.apply_revocations().await {
                commands::refunds::announce(&follow, &state, &revoked);
            }
        }
    });
    commands::backups::spawn_daily(handle.clone());
    commands::updates::spawn_checks(handle.clone());
}

/// The main window, made here rather than from the config so it gets the navigation guard:
/// whatever the page does, the window stays on the app's own pages.
fn main_window<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<(), StartupError> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .ok_or_else(|| StartupError::Window("no main window in tauri.conf.json".into()))?;
    let (levers, unknown) = webview_tuning::Levers::from_env();
    if !unknown.is_empty() {
        tracing::warn!(?unknown, "unknown webview levers ignored");
    }
    tracing::info!(levers = ?levers.names(), "webview levers");
    let mut builder = tauri::WebviewWindowBuilder::from_config(app, &config)
        .map_err(|e| StartupError::Window(e.to_string()))?
        .on_navigation(|url| {
            let allowed = navigation::is_app_page(url);
            if !allowed {
                tracing::warn!(url = %url, "kept the window on the app (navigation blocked)");
            }
            allowed
        });
    if cfg!(target_os = "linux") && levers.has(webview_tuning::Lever::IdleRelease) {
        let exe = std::env::current_exe().ok();
        let exe_dir = exe.as_deref().and_then(std::path::Path::parent);
        let resource_dir = app.path().resource_dir().ok();
        match webview_tuning::web_extension_dir(resource_dir.as_deref(), exe_dir) {
            Some(dir) => builder = builder.extensions_path(dir),
            None => tracing::warn!(
                ?resource_dir,
                ?exe_dir,
                "no web extension found: memory is not released when idle"
            ),
        }
    }
    let window = builder
        .build()
        .map_err(|e| StartupError::Window(e.to_string()))?;
    // Before the page runs: a lean web context and settings (issue 18).
    levers.apply_to(&window);
    window.on_window_event(keep_window_state(app.clone()));
    // The workspace saves its last keystrokes before the window goes.
    app.manage(close_guard::CloseGuard::default());
    if let Some(window) = app.get_webview_window("main") {
        close_guard::install(&window);
    }
    Ok(())
}

/// Writes the window's size and position half a second after the writer stops moving or
/// resizing it. The plugin alone writes only on a clean exit, so a crash, a kill or a window
/// closed from outside (as WebDriver does) would forget where the window was.
fn keep_window_state<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> impl Fn(&tauri::WindowEvent) + Send + Sync + 'static {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    let changes = std::sync::Arc::new(AtomicU64::new(0));
    move |event| {
        if !matches!(
            event,
            tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
        ) {
            return;
        }
        let this = changes.fetch_add(1, Ordering::SeqCst) + 1;
        let (app, changes) = (app.clone(), changes.clone());
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if changes.load(Ordering::SeqCst) == this {
                // On the main thread, where the plugin's own handlers take the same lock: from
                // here, its lock held while asking the main thread for the window's size
                // deadlocked with a resize handled there.
                let saver = app.clone();
                let _ = app.run_on_main_thread(move || {
                    if let Err(error) = saver.save_window_state(StateFlags::all()) {
                        tracing::warn!(%error, "the window's place was not saved");
                    }
                });
            }
        });
    }
}

/// Once per process: the data folder, its lock (before anything reads the database: a
/// second process on this folder stops here and touches nothing of the first one's), the log.
async fn prepare<R: Runtime>(
    app: &tauri::AppHandle<R>,
    options: &LaunchOptions,
) -> Result<Prepared, StartupError> {
    let demo = options.demo_enabled();
    let (data_dir, log_dir) = match &options.data_dir {
        Some(dir) => (dir.clone(), dir.join("logs")),
        // Demo users live in their own database so they never mix with real profiles.
        None if demo => (
            app.path().app_data_dir()?.join("demo"),
            app.path().app_log_dir()?,
        ),
        None => (app.path().app_data_dir()?, app.path().app_log_dir()?),
    };
    for dir in [&data_dir, &log_dir] {
        std::fs::create_dir_all(dir).map_err(|source| StartupError::CreateDir {
            dir: dir.clone(),
            source,
        })?;
    }
    let data_lock = std::sync::Arc::new(inkstone_desktop::DataLock::acquire(&data_dir)?);
    let guard = logging::init(&log_dir)?;
    app.manage(guard);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %data_dir.display(),
        demo,
        "starting"
    );
    if options.demo_requested && !demo {
        tracing::warn!(
            "demo mode was asked for but this build has none (no `demo` feature): ignored"
        );
    }
    Ok(Prepared {
        data_dir,
        demo,
        data_lock,
    })
}

/// Opens the database (`inkstone_desktop::backups::open_data`: a waiting restore, the copy
/// before an upgrade, a database that is not well) and the services on it.
async fn open_services(
    options: &LaunchOptions,
    prepared: &Prepared,
) -> Result<
    Result<
        (AppState, Vec<inkstone_desktop::backups::StartNotice>),
        inkstone_desktop::backups::DataTrouble,
    >,
    StartupError,
> {
    let data_dir = prepared.data_dir.clone();
    let demo = prepared.demo;
    let clock = inkstone_core::Clock::system();
    let opened = match inkstone_desktop::backups::open_data(
        &data_dir,
        &inkstone_desktop::backups::OpenConfig::app(env!("CARGO_PKG_VERSION")),
        clock.now(),
    )
    .await
    {
        Ok(opened) => opened,
        Err(trouble) => return Ok(Err(trouble)),
    };
    let db = opened.db;
    let (payment_server_url, payment_server_keys) = match &options.payment_server {
        Some(server) => (
            Some(server.url.clone()),
            Some(inkstone_receipt::TrustedKeys::new(server.keys.clone())),
        ),
        None => (None, None),
    };
    let desktop_options = inkstone_desktop::Options {
        data_dir: data_dir.clone(),
        demo,
        payment_server_url,
        payment_server_keys,
        sandbox_payments: options.sandbox_payments_enabled(),
        dashscope_base_url: std::env::var("INKSTONE_DASHSCOPE_BASE_URL").ok(),
        demo_tokens_per_second: std::env::var("INKSTONE_DEMO_TOKENS_PER_SECOND")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(40.0),
        clock,
        data_lock: Some(prepared.data_lock.clone()),
    };
    // Keys live in the OS keychain; a data folder other than the default gets its own entries.
    let secrets = if options.data_dir.is_none() && !demo {
        inkstone_desktop::Services::os_keychain()
    } else {
        inkstone_desktop::Services::os_keychain_for(&data_dir)
    };
    let services = inkstone_desktop::Services::start(db.clone(), desktop_options, secrets).await?;
    // "Keep me signed in on this computer": the keychain's secret signs the profile in again.
    let remembered = match services.remembered_profile().await {
        Ok(profile) => profile.map(|p| p.id),
        Err(error) => {
            tracing::warn!(%error, "the remembered session could not be checked");
            None
        }
    };
    Ok(Ok((
        AppState {
            db,
            data_dir,
            demo,
            services: std::sync::Arc::new(services),
            session: std::sync::Mutex::new(remembered),
            media_base: std::sync::OnceLock::new(),
        },
        opened.notices,
    )))
}

/// A clean exit: the database closed and stamped so the next start can skip its integrity
/// check (`inkstone_desktop::clean_exit`). A crash or a kill never gets here, and the next
/// start then checks.
fn finish<R: Runtime>(handle: &tauri::AppHandle<R>) {
    let Some(state) = handle.try_state::<AppState>() else {
        return;
    };
    let stamped = tauri::async_runtime::block_on(state.services.finish());
    tracing::info!(stamped, "exit: database closed");
}

/// SIGTERM (the desktop session ending, a service manager, a test driver ending its session)
/// exits the way closing the window does, so the database is closed and stamped (`finish`)
/// instead of the next start having to check it.
fn exit_on_terminate<R: Runtime>(handle: tauri::AppHandle<R>) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return;
        };
        if terminate.recv().await.is_some() {
            tracing::info!("SIGTERM: exiting as if the window were closed");
            handle.exit(0);
        }
    });
    #[cfg(not(unix))]
    let _ = handle;
}

/// The app's entry point (`main.rs`). Returns a failure code when start-up fails.
pub fn run() -> ExitCode {
    let _ = STARTED.set(std::time::Instant::now());
    // WebKit reads these when it starts its processes: set now, while this is the only
    // thread and before any webview exists.
    webview_tuning::Levers::from_env().0.apply_environment();
    let options = match LaunchOptions::from_process() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("inkstone: {error}");
            return ExitCode::from(2);
        }
    };
    match configure(tauri::Builder::default(), options).build(tauri::generate_context!()) {
        Ok(app) => {
            app.run(|handle, event| {
                if let tauri::RunEvent::Exit = event {
                    finish(handle);
                }
            });
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "start-up failed");
            eprintln!("inkstone: start-up failed: {error}");
            ExitCode::FAILURE
        }
    }
}
