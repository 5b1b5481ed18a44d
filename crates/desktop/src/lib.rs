//! The desktop app's services, wired once (ARCHITECTURE.md, "The first
//! minute"): the database, crash recovery, the generation [`Studio`], model
//! selection with keys from the OS keychain (or the bundled demo model when
//! no key is set), the embedded sandbox payment endpoint and [`Shop`].
//! [`Services`] is the shell's one door: a Tauri command in `src-tauri` parses its
//! arguments, calls one method here and maps the error (scripts/checks/05-shape.sh checks
//! that no command reaches around it).
//!
//! Invariants: one process per data folder ([`DataLock`], taken before recovery touches
//! anything); an interrupted generation is ended and refunded at start; keys are read from
//! the keychain only when a provider is called, and the DashScope key goes to DashScope hosts
//! only; changing models or keys needs the owner; demo mode (the `demo` feature) is the only
//! way the demo model or the sandbox endpoint ever runs.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use inkstone_desktop::{MemoryStore, Options, Services};
//! use inkstone_desktop::studio::WriteRequest;
//!
//! let folder = tempfile::tempdir().unwrap();
//! let db = inkstone_core::open_in_memory().await.unwrap();
//! let options = Options {
//!     data_dir: folder.path().to_path_buf(),
//!     demo: true, // the seed report's demo users, the demo model, the sandbox endpoint
//!     demo_tokens_per_second: 10_000.0,
//!     ..Options::default()
//! };
//! let services = Services::start(db, options, Arc::new(MemoryStore::default())).await.unwrap();
//! let writer = services.sign_in("test_user", "test123456", false).await.unwrap();
//! assert_eq!(services.balance(writer.id).await.unwrap().credits, 100);
//! let request = WriteRequest {
//!     profile_id: writer.id,
//!     tool: inkstone_domain::Tool::Article,
//!     input: "写一篇关于春天的短文".into(),
//!     params: serde_json::json!({}),
//!     regenerated_from: None,
//!     inputs: Vec::new(),
//! };
//! let written = services.write(request, None, &mut |_| {}).await.unwrap();
//! assert!(!written.output_text.is_empty());
//! assert_eq!(services.balance(writer.id).await.unwrap().credits, 90);
//! services.shutdown().await;
//! # });
//! ```
#![forbid(unsafe_code)]

pub mod archive;
pub mod backups;
pub mod books;
pub mod clean_exit;
mod demo;
pub mod history;
pub mod lock;
pub mod media;
pub mod preferences;
mod profiles_local;
pub mod purchase_account;
mod refunds;
pub mod updates;
pub mod workspace;
pub mod workspace_io;

pub use lock::{DataLock, LockError};

/// The generation types the shell's commands speak.
pub mod studio {
    pub use inkstone_studio::{MediaKind, Update, WriteRequest};
}

/// Model configurations as the settings page edits them.
pub mod ai_models {
    pub use inkstone_core::models::{ModelConfig, ModelInput};
}

/// Buying as the shell sees it.
pub mod shop {
    pub use inkstone_core::claims::PurchaseElsewhere;
    pub use inkstone_core::orders::{Order, OrderStatus};
    pub use inkstone_shop::{AccountSignIn, AccountStatus, RevocationRecord, Settled};
}

/// Local profiles as the shell sees them.
pub mod profiles {
    pub use inkstone_core::profiles::{DeletedProfile, Profile};
}

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use inkstone_core::models::{self, ModelConfig, ModelInput};
use inkstone_core::orders::Order;
use inkstone_core::{Clock, CoreError, Database};
use inkstone_domain::{GenerationId, ProfileId};
use inkstone_keychain::{redact, KeychainError, OsKeychain, SecretName};
use inkstone_qwen::{
    ChatParams, ChatProvider, DashScope, ImageInput, OpenAiCompatible, QwenError, Settings,
};
use inkstone_receipt::TrustedKeys;
use inkstone_shop::{PaymentClient, ResumeReport, Settled, Shop, ShopError};
use inkstone_studio::{MediaKind, QwenMedia, QwenText, Studio, StudioError, Update, WriteRequest};
use serde::Serialize;

/// Label of the bundled demo model, wherever it appears.
pub const DEMO_LABEL: &str = "演示模型 Demo";

#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Studio(#[from] StudioError),
    #[error(transparent)]
    Shop(#[from] ShopError),
    #[error(transparent)]
    Qwen(#[from] QwenError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// Occurs when the writing workspace refuses (a bad name, another profile's document, an
    /// outdated save, the trash) or its database fails.
    #[error(transparent)]
    Workspace(#[from] inkstone_core::workspace::WorkspaceError),
    /// Occurs when a generation needs DashScope but no key is set (outside demo mode, which
    /// answers with the bundled demo model instead).
    #[error("no DashScope API key is set")]
    NoApiKey,
    /// Occurs when buying is asked for but no payment endpoint is running or configured.
    #[error("payments are not available: {0}")]
    PaymentsUnavailable(String),
    #[error("cannot start: {0}")]
    Start(String),
    /// Occurs when another Inkstone holds the data folder, or it cannot be locked.
    #[error(transparent)]
    DataFolder(#[from] LockError),
    /// Occurs when a profile that is not the owner (an admin) tries to change AI models or keys.
    #[error("only the owner (an admin profile) may change AI models and keys")]
    OwnerOnly,
    /// Occurs when the DashScope key would go to a host that is not DashScope's (a custom
    /// region or a model's own URL): refused before any request.
    #[error("the DashScope key is only sent to DashScope hosts, not to {host}")]
    KeyHostRefused { host: String },
    /// Occurs when a profile export cannot be written (disk full, no permission, interrupted).
    #[error("the export failed: {0}")]
    Export(&'static str),
    /// Occurs when an argument is outside what the operation accepts.
    #[error("invalid argument {field}: {reason}")]
    InvalidArgument {
        field: &'static str,
        reason: &'static str,
    },
    /// Occurs when this installation's id file exists but cannot be read (it is never
    /// replaced silently; see `purchase_account::load_or_create_installation`).
    #[error("{0}")]
    Installation(String),
    /// Occurs when a backup cannot be written, listed, checked or restored.
    #[error(transparent)]
    Backup(#[from] inkstone_core::backup::BackupError),
    /// Occurs when an "export everything" archive cannot be written or read back.
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    /// Occurs when an update cannot be checked, downloaded or verified.
    #[error(transparent)]
    Update(#[from] updates::UpdateError),
    /// Occurs when the folder the writer picked for an export cannot take it.
    #[error(transparent)]
    ExportFolder(#[from] workspace_io::ExportFolderError),
}

impl DesktopError {
    /// The kinds of its own (besides those of the errors it wraps).
    pub const OWN_KINDS: &'static [&'static str] = &[
        "no_api_key",
        "payments_unavailable",
        "start_failed",
        "already_running",
        "storage",
        "owner_only",
        "key_host_refused",
        "export_failed",
        "invalid_argument",
        "installation_unreadable",
    ];

    /// Stable machine name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            DesktopError::Core(e) => e.kind(),
            DesktopError::Studio(e) => e.kind(),
            DesktopError::Shop(e) => e.kind(),
            DesktopError::Qwen(e) => e.kind(),
            DesktopError::Keychain(e) => e.kind(),
            DesktopError::Workspace(e) => e.kind(),
            DesktopError::NoApiKey => "no_api_key",
            DesktopError::PaymentsUnavailable(_) => "payments_unavailable",
            DesktopError::Start(_) => "start_failed",
            DesktopError::DataFolder(LockError::AlreadyRunning { .. }) => "already_running",
            DesktopError::DataFolder(LockError::Io { .. }) => "storage",
            DesktopError::OwnerOnly => "owner_only",
            DesktopError::KeyHostRefused { .. } => "key_host_refused",
            DesktopError::Export(_) => "export_failed",
            DesktopError::InvalidArgument { .. } => "invalid_argument",
            DesktopError::Installation(_) => "installation_unreadable",
            DesktopError::Backup(e) => e.kind(),
            DesktopError::Archive(e) => e.kind(),
            DesktopError::Update(e) => e.kind(),
            DesktopError::ExportFolder(e) => e.kind(),
        }
    }
}

pub type DesktopResult<T> = Result<T, DesktopError>;

/// Every error kind the app's core can send to the UI or store as a generation's
/// `error_kind`, sorted and without repeats. The shell adds its own and writes the list to
/// `ui/src/i18n/errorKinds.generated.ts`, where a UI test checks both languages have text.
pub fn error_kinds() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = [
        CoreError::KINDS,
        StudioError::OWN_KINDS,
        inkstone_studio::OWN_FAILURE_KINDS,
        ShopError::OWN_KINDS,
        inkstone_shop::ClientError::KINDS,
        QwenError::KINDS,
        KeychainError::KINDS,
        inkstone_core::workspace::WorkspaceError::KINDS,
        DesktopError::OWN_KINDS,
        inkstone_core::backup::BackupError::KINDS,
        archive::ArchiveError::KINDS,
        updates::UpdateError::KINDS,
        workspace_io::ExportFolderError::KINDS,
    ]
    .concat();
    all.sort_unstable();
    all.dedup();
    all
}

pub use inkstone_keychain::MemoryStore;
/// The secret store the app uses (the OS keychain, or memory in tests).
pub use inkstone_keychain::SecretStore;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// App data folder: generated files go under `files/`, the embedded payment endpoint under `payments/`.
    pub data_dir: PathBuf,
    /// Demo mode (ARCHITECTURE.md, "The first minute"): seeds the report's demo users, answers
    /// with the bundled demo model when no key is set, and runs the sandbox payment endpoint
    /// inside the app unless `payment_server_url` is given. Never set in a release build,
    /// which has none of these.
    pub demo: bool,
    /// A payment endpoint to use instead of the embedded sandbox one.
    pub payment_server_url: Option<String>,
    /// Its pinned receipt keys (required with `payment_server_url`).
    pub payment_server_keys: Option<TrustedKeys>,
    /// Test payments (the sandbox provider) through `payment_server_url` outside demo mode:
    /// a release-like run with no demo users or model that still buys with test money (the
    /// end-to-end test of a new user). Off unless chosen; the shell honours it in debug
    /// builds only, like demo mode.
    pub sandbox_payments: bool,
    /// DashScope host (region); default Beijing.
    pub dashscope_base_url: Option<String>,
    /// Streaming pace of the demo model, tokens per second.
    pub demo_tokens_per_second: f64,
    /// Where "now" comes from (the system clock unless a test fixes it).
    pub clock: Clock,
    /// The lock on `data_dir` when the caller took it already (the shell does, before it
    /// opens the database); otherwise [`Services::start`] takes it.
    pub data_lock: Option<Arc<DataLock>>,
}

/// Where purchases go, for the purchase pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentInfo {
    pub server_url: Option<String>,
    /// Purchases are test payments (the sandbox provider): the UI labels them so.
    pub sandbox: bool,
    /// `sandbox`, `wechat`, `alipay` as offered; `None` when the endpoint could not be asked.
    pub providers: Option<Vec<String>>,
}

/// Whether a DashScope key is set, without showing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    pub configured: bool,
    /// `sk-…abcd`
    pub hint: Option<String>,
    /// True when generations use the bundled demo model.
    pub demo_model: bool,
}

/// An order with its QR code rendered in Rust.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderWithQr {
    pub order: Order,
    /// A standalone SVG document of the QR code.
    pub qr_svg: String,
    /// True for the sandbox provider: the UI labels it clearly.
    pub sandbox: bool,
}

pub struct Services {
    pub db: Database,
    pub studio: Studio,
    secrets: Arc<dyn SecretStore>,
    shop: Option<Shop>,
    /// The demo model and the embedded sandbox endpoint (demo mode only).
    demo: demo::Demo,
    /// The DashScope host from the writer's region setting (`options.dashscope_base_url` wins).
    region_base_url: std::sync::RwLock<Option<String>>,
    /// Purchases a start credited (paid while the app was closed), until the shell has
    /// announced them.
    resumed: std::sync::Mutex<Vec<Settled>>,
    /// Why this installation has no id, when its file exists but cannot be read: credit
    /// packages are then neither claimed nor credited (`installation_unknown`).
    installation_problem: Option<String>,
    options: Options,
    /// The search index catching up with autosaves when typing pauses (workspace.rs).
    index_later: workspace::IndexLater,
    /// One update download and install at a time.
    update_install: updates::InstallGate,
    /// Held for as long as the services run: one app per data folder.
    _data_lock: Arc<DataLock>,
}

/// The host of `url` for a message (never its path or query, which may carry secrets).
fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}

/// Renders `text` as an SVG QR code.
pub fn qr_svg(text: &str) -> DesktopResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| DesktopError::PaymentsUnavailable(format!("cannot draw the QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

impl Services {
    /// Opens everything. `secrets` is the OS keychain in the app; tests pass a memory store.
    pub async fn start(
        db: Database,
        options: Options,
        secrets: Arc<dyn SecretStore>,
    ) -> DesktopResult<Self> {
        // First of all: a second app on this folder must not run recovery below, which would
        // close and refund the first one's running generations.
        let data_lock = match &options.data_lock {
            Some(lock) if lock.dir() == options.data_dir => lock.clone(),
            Some(_) => {
                return Err(DesktopError::Start(
                    "the data folder lock is for another folder".into(),
                ))
            }
            None => Arc::new(DataLock::acquire(&options.data_dir)?),
        };
        let clock = options.clock.clone();
        if options.demo && !demo::Demo::AVAILABLE {
            return Err(DesktopError::Start(
                "this build has no demo mode (built without the `demo` feature)".into(),
            ));
        }
        if options.demo {
            inkstone_core::demo::seed_demo(&db, clock.now()).await?;
        }
        let studio =
            Studio::new(db.clone(), options.data_dir.join("files")).with_clock(clock.clone());
        let recovered = studio.recover().await?;
        if !recovered.is_empty() {
            tracing::warn!(
                count = recovered.len(),
                "closed interrupted generations and refunded them"
            );
        }
        // Made once per data folder; a file that exists but cannot be read is reported, never
        // replaced (a new id would claim the account's credit packages here again).
        let (installation, installation_problem) =
            match purchase_account::load_or_create_installation(&options.data_dir) {
                Ok(id) => (Some(id), None),
                Err(e) => {
                    tracing::error!(error = %e, "no installation id: credit packages cannot be credited");
                    (None, Some(e.to_string()))
                }
            };
        let with_installation = |shop: Shop| match &installation {
            Some(id) => shop.with_installation(id.clone()),
            None => shop,
        };
        let demo_parts = demo::Demo::new();
        let shop = match (&options.payment_server_url, &options.payment_server_keys) {
            (Some(url), Some(keys)) => {
                let client =
                    PaymentClient::new(url).map_err(|e| DesktopError::Start(e.to_string()))?;
                let shop = Shop::new(db.clone(), client, keys.clone(), secrets.clone())
                    .with_clock(clock.clone());
                // Test money only in demo mode (or a debug run that asked for it): a release
                // never buys or credits the sandbox.
                let shop = if options.demo || options.sandbox_payments {
                    shop.allow_sandbox()
                } else {
                    shop
                };
                Some(with_installation(shop))
            }
            (Some(_), None) => {
                return Err(DesktopError::Start(
                    "a payment server URL needs its pinned receipt keys".into(),
                ))
            }
            (None, _) if !options.demo => {
                tracing::warn!("no payment endpoint configured: buying is unavailable");
                None
            }
            (None, _) => {
                // The sandbox endpoint inside the app: purchases work out of the box.
                match demo_parts
                    .start_endpoint(&options.data_dir.join("payments"))
                    .await
                {
                    Ok(endpoint) => {
                        let client = PaymentClient::new(&endpoint.base_url)
                            .map_err(|e| DesktopError::Start(e.to_string()))?;
                        // Demo mode only (checked above): the sandbox key is pinned too.
                        let keys = TrustedKeys::new(endpoint.keys);
                        Some(with_installation(
                            Shop::new(db.clone(), client, keys, secrets.clone())
                                .with_clock(clock.clone())
                                .allow_sandbox(),
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "embedded payment endpoint did not start");
                        None
                    }
                }
            }
        };
        let services = Services {
            db,
            studio,
            secrets,
            shop,
            demo: demo_parts,
            region_base_url: std::sync::RwLock::new(None),
            resumed: std::sync::Mutex::new(Vec::new()),
            installation_problem,
            options,
            index_later: workspace::IndexLater::default(),
            update_install: updates::InstallGate::default(),
            _data_lock: data_lock,
        };
        services.resume_orders().await;
        Ok(services)
    }

    /// The time every rule of this app runs on (the system clock unless a test fixes it).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.options.clock.now()
    }

    /// The OS keychain, for the app's own data folder.
    pub fn os_keychain() -> Arc<dyn SecretStore> {
        Arc::new(OsKeychain::default())
    }

    /// The OS keychain for another data folder (demo mode, `--data-dir`): its
    /// entries get their own service name, so the demo's profile 1 never reads
    /// the account token of the real profile 1.
    pub fn os_keychain_for(data_dir: &std::path::Path) -> Arc<dyn SecretStore> {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(data_dir.to_string_lossy().as_bytes());
        let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Arc::new(OsKeychain::with_service(&format!(
            "{}.{tag}",
            inkstone_keychain::SERVICE
        )))
    }

    /// Applies the writer's region (validated) to the next DashScope call.
    pub fn set_preferences(&self, prefs: &preferences::Preferences) -> DesktopResult<()> {
        let url = prefs.region.base_url()?;
        if let Ok(mut r) = self.region_base_url.write() {
            *r = Some(url);
        }
        Ok(())
    }

    /// Orders left waiting by an earlier run, and orders that ended in the last 48 hours:
    /// settled now if the server knows more. The purchases this credits are kept for
    /// [`Services::take_resumed_purchases`]. Returns what happened, failures by kind.
    pub async fn resume_orders(&self) -> ResumeReport {
        let Some(shop) = &self.shop else {
            return ResumeReport::default();
        };
        match shop.resume().await {
            Ok(report) => {
                self.keep_credited(&report);
                report
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not resume orders now; will retry");
                ResumeReport::default()
            }
        }
    }

    /// Asks again about ended orders whose backoff ran out (the shell calls this every
    /// minute): a late payment is credited and kept for the announcement.
    pub async fn follow_up_orders(&self) -> ResumeReport {
        let Some(shop) = &self.shop else {
            return ResumeReport::default();
        };
        match shop.follow_up().await {
            Ok(report) => {
                self.keep_credited(&report);
                report
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not follow up ended orders now");
                ResumeReport::default()
            }
        }
    }

    fn keep_credited(&self, report: &ResumeReport) {
        for f in &report.failures {
            tracing::warn!(order_no = %f.order_no, kind = f.kind, "order not settled now");
        }
        let credited = report
            .settled
            .iter()
            .filter(|s| matches!(s, Settled::Applied { newly: true, .. }))
            .cloned();
        if let Ok(mut resumed) = self.resumed.lock() {
            resumed.extend(credited);
        }
    }

    /// The purchases credited by resuming orders (paid while the app was closed), each
    /// handed out once, so the shell tells the writer about them once.
    pub fn take_resumed_purchases(&self) -> Vec<Settled> {
        self.resumed
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    pub fn shop(&self) -> DesktopResult<&Shop> {
        self.shop
            .as_ref()
            .ok_or_else(|| DesktopError::PaymentsUnavailable("no payment endpoint".into()))
    }

    /// Where purchases go and which ways to pay it offers. The embedded endpoint is
    /// the sandbox and nothing else; a deployed one is asked, and when it cannot be
    /// reached `providers` is `None` (the page offers the usual ones, and the order
    /// itself then says the server is down).
    pub async fn payment_info(&self) -> PaymentInfo {
        let Some(shop) = &self.shop else {
            return PaymentInfo {
                server_url: None,
                sandbox: false,
                providers: Some(Vec::new()),
            };
        };
        let server_url = Some(shop.client().base_url().to_string());
        if self.demo.endpoint_running().await {
            return PaymentInfo {
                server_url,
                sandbox: true,
                providers: Some(vec!["sandbox".into()]),
            };
        }
        match shop.client().providers().await {
            Ok(mut offered) => {
                // Outside demo mode the sandbox is never offered to the writer.
                offered.sandbox &= shop.sandbox_allowed();
                PaymentInfo {
                    server_url,
                    sandbox: offered.sandbox,
                    providers: Some(offered.names().into_iter().map(String::from).collect()),
                }
            }
            Err(error) => {
                tracing::info!(%error, "cannot ask the payment endpoint for its providers");
                PaymentInfo {
                    server_url,
                    sandbox: false,
                    providers: None,
                }
            }
        }
    }

    // --- keys and models -------------------------------------------------

    pub fn key_status(&self) -> DesktopResult<KeyStatus> {
        let key = self.secrets.get(&SecretName::DashScopeKey)?;
        Ok(KeyStatus {
            configured: key.is_some(),
            hint: key.as_deref().map(redact),
            demo_model: key.is_none() && self.options.demo,
        })
    }

    /// The signed-in profile when it is the owner (an admin): only the owner changes AI
    /// models and keys, since they decide where the writers' texts and the keys go.
    pub async fn require_owner(&self, profile_id: Option<ProfileId>) -> DesktopResult<ProfileId> {
        let id = profile_id.ok_or(DesktopError::OwnerOnly)?;
        let profile = inkstone_core::profiles::get_profile(&self.db, id).await?;
        if !profile.is_admin {
            return Err(DesktopError::OwnerOnly);
        }
        Ok(id)
    }

    /// Stores the key in the keychain (only there) after checking its form. Owner only.
    pub async fn set_api_key(
        &self,
        profile_id: Option<ProfileId>,
        key: &str,
    ) -> DesktopResult<KeyStatus> {
        self.require_owner(profile_id).await?;
        inkstone_qwen::validate::api_key(key.trim())?;
        self.secrets.set(&SecretName::DashScopeKey, key.trim())?;
        self.key_status()
    }

    /// Owner only.
    pub async fn delete_api_key(&self, profile_id: Option<ProfileId>) -> DesktopResult<KeyStatus> {
        self.require_owner(profile_id).await?;
        self.secrets.delete(&SecretName::DashScopeKey)?;
        self.key_status()
    }

    /// Checks a model before it is stored: an OpenAI-compatible endpoint needs https unless
    /// it runs on this machine; a DashScope model's own URL must be a DashScope host (it gets
    /// the DashScope key).
    fn check_model_input(input: &ModelInput) -> DesktopResult<()> {
        let url = input
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        match (input.provider.as_str(), url) {
            ("openai", Some(url)) => {
                inkstone_qwen::validate::openai_base_url(url)?;
            }
            ("dashscope", Some(url)) if !inkstone_qwen::validate::is_dashscope_host(url) => {
                return Err(DesktopError::KeyHostRefused { host: host_of(url) })
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds a model; an OpenAI-compatible one may bring its own key (kept in the keychain
    /// under the model's id, never with the DashScope key). Owner only.
    pub async fn add_model(
        &self,
        profile_id: Option<ProfileId>,
        input: &ModelInput,
        api_key: Option<&str>,
    ) -> DesktopResult<ModelConfig> {
        self.require_owner(profile_id).await?;
        Self::check_model_input(input)?;
        let key = Self::model_key_input(input, api_key)?;
        let model = models::add_model(&self.db, input, self.now().timestamp_millis()).await?;
        if let Some(key) = key {
            self.secrets
                .set(&SecretName::ModelKey { model_id: model.id }, key)?;
        }
        Ok(model)
    }

    /// Edits a model; `api_key` replaces its own key when given. Owner only.
    pub async fn update_model(
        &self,
        profile_id: Option<ProfileId>,
        id: i64,
        input: &ModelInput,
        api_key: Option<&str>,
    ) -> DesktopResult<ModelConfig> {
        self.require_owner(profile_id).await?;
        Self::check_model_input(input)?;
        let key = Self::model_key_input(input, api_key)?;
        let model = models::update_model(&self.db, id, input).await?;
        if model.provider != "openai" {
            // A model that stopped being OpenAI-compatible keeps no key of its own.
            self.secrets
                .delete(&SecretName::ModelKey { model_id: id })?;
        } else if let Some(key) = key {
            self.secrets
                .set(&SecretName::ModelKey { model_id: id }, key)?;
        }
        Ok(model)
    }

    /// The trimmed, checked key of an OpenAI-compatible model, if one was given.
    fn model_key_input<'a>(
        input: &ModelInput,
        api_key: Option<&'a str>,
    ) -> DesktopResult<Option<&'a str>> {
        let Some(key) = api_key.map(str::trim).filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        if input.provider != "openai" {
            return Err(CoreError::InvalidInput {
                field: "api_key",
                reason: "only an OpenAI-compatible model has a key of its own",
            }
            .into());
        }
        inkstone_qwen::validate::api_key(key)?;
        Ok(Some(key))
    }

    /// Owner only.
    pub async fn activate_model(
        &self,
        profile_id: Option<ProfileId>,
        id: i64,
    ) -> DesktopResult<ModelConfig> {
        self.require_owner(profile_id).await?;
        Ok(models::activate_model(&self.db, id).await?)
    }

    /// Deletes a model and its own key. Owner only.
    pub async fn delete_model(&self, profile_id: Option<ProfileId>, id: i64) -> DesktopResult<()> {
        self.require_owner(profile_id).await?;
        models::delete_model(&self.db, id).await?;
        self.secrets
            .delete(&SecretName::ModelKey { model_id: id })?;
        Ok(())
    }

    /// Whether an OpenAI-compatible model has a key of its own in the keychain.
    /// Every configured model (keys are never part of it).
    pub async fn models(&self) -> DesktopResult<Vec<ModelConfig>> {
        Ok(models::list_models(&self.db).await?)
    }

    pub fn model_has_key(&self, id: i64) -> DesktopResult<bool> {
        Ok(self
            .secrets
            .get(&SecretName::ModelKey { model_id: id })?
            .is_some())
    }

    /// The DashScope key goes to DashScope's hosts, or to the host the person who launched
    /// the app named (`dashscope_base_url`: tests and the E2E against a local fake), never to
    /// a URL from the database or the UI.
    fn check_key_host(&self, base: &str) -> DesktopResult<()> {
        let launched_with = self
            .options
            .dashscope_base_url
            .as_deref()
            .and_then(|u| inkstone_qwen::validate::base_url(u).ok());
        let normalised = inkstone_qwen::validate::base_url(base)?;
        if inkstone_qwen::validate::is_dashscope_host(&normalised)
            || launched_with.as_deref() == Some(normalised.as_str())
        {
            Ok(())
        } else {
            Err(DesktopError::KeyHostRefused {
                host: host_of(base),
            })
        }
    }

    /// Base URL, key and label for a DashScope call: the writer's key, or the demo model.
    async fn dashscope_target(&self, model_id: &str) -> DesktopResult<(String, String, String)> {
        // In demo mode a locked or missing keychain must not stop writing: the demo model
        // answers, labelled. Otherwise the writer needs to know their key cannot be read.
        let key = match self.secrets.get(&SecretName::DashScopeKey) {
            Ok(key) => key,
            Err(e) if self.options.demo => {
                tracing::warn!(error = %e, "keychain unavailable; using the demo model");
                None
            }
            Err(e) => return Err(e.into()),
        };
        match key {
            Some(key) => {
                let region = self.region_base_url.read().ok().and_then(|r| r.clone());
                let base = self
                    .options
                    .dashscope_base_url
                    .clone()
                    .or(region)
                    .unwrap_or_else(|| inkstone_qwen::BEIJING.to_string());
                self.check_key_host(&base)?;
                Ok((base, key, model_id.to_string()))
            }
            None if !self.options.demo => Err(DesktopError::NoApiKey),
            None => Ok((
                self.demo
                    .model_base_url(self.options.demo_tokens_per_second, &self.options.clock)
                    .await?,
                demo::Demo::model_key().to_string(),
                format!("{DEMO_LABEL} ({model_id})"),
            )),
        }
    }

    async fn model_for(&self, kind: &str, model_id: Option<i64>) -> DesktopResult<ModelConfig> {
        let m = match model_id {
            Some(id) => models::get_model(&self.db, id).await?,
            None => models::active_model(&self.db, kind)
                .await?
                .ok_or(CoreError::InvalidInput {
                    field: "model",
                    reason: "no active model of this kind",
                })?,
        };
        Ok(m)
    }

    pub async fn text_model(
        &self,
        model_id: Option<i64>,
        images: Vec<ImageInput>,
    ) -> DesktopResult<QwenText> {
        let kind = if images.is_empty() { "text" } else { "vision" };
        let m = self.model_for(kind, model_id).await?;
        let settings = Settings::default();
        let params = ChatParams {
            temperature: m
                .params
                .get("temperature")
                .and_then(|v| v.as_f64())
                .map(|v| v as f32),
            top_p: m
                .params
                .get("top_p")
                .and_then(|v| v.as_f64())
                .map(|v| v as f32),
            max_tokens: m
                .params
                .get("max_tokens")
                .and_then(|v| v.as_u64())
                .map(|v| v as u32),
            seed: None,
        };
        let (provider, label): (Arc<dyn ChatProvider>, String) = if m.provider == "openai" {
            let base = m.base_url.clone().ok_or(CoreError::InvalidInput {
                field: "base_url",
                reason: "an OpenAI-compatible model needs its endpoint",
            })?;
            // Its own key, never the DashScope one; a local server may need none.
            let provider = match self.secrets.get(&SecretName::ModelKey { model_id: m.id })? {
                Some(key) => OpenAiCompatible::new(&base, &key, settings)?,
                None => OpenAiCompatible::without_key(&base, settings)?,
            };
            (Arc::new(provider), m.model_id.clone())
        } else {
            let (base, key, label) = self.dashscope_target(&m.model_id).await?;
            let base = match m
                .base_url
                .clone()
                .filter(|_| !label.starts_with(DEMO_LABEL))
            {
                Some(own) => {
                    // The model's own URL comes from the database: it gets the key only if
                    // it is DashScope's.
                    self.check_key_host(&own)?;
                    own
                }
                None => base,
            };
            (Arc::new(DashScope::new(&base, &key, settings)?), label)
        };
        Ok(QwenText {
            provider,
            model: m.model_id,
            params,
            images,
            label,
        })
    }

    pub async fn media_model(&self, kind: MediaKind) -> DesktopResult<QwenMedia> {
        let m = self
            .model_for(
                if kind == MediaKind::Image {
                    "image"
                } else {
                    "video"
                },
                None,
            )
            .await?;
        let (base, key, label) = self.dashscope_target(&m.model_id).await?;
        let settings = Settings {
            task_poll: Duration::from_millis(if label.starts_with(DEMO_LABEL) {
                300
            } else {
                1000
            }),
            ..Settings::default()
        };
        Ok(QwenMedia {
            client: DashScope::new(&base, &key, settings)?,
            model: m.model_id,
            label,
        })
    }

    /// "Test connection": one tiny request with the stored key and the active text model.
    pub async fn test_connection(&self) -> DesktopResult<String> {
        let m = self.model_for("text", None).await?;
        let (base, key, label) = self.dashscope_target(&m.model_id).await?;
        DashScope::new(&base, &key, Settings::default())?
            .test_connection(&m.model_id)
            .await?;
        Ok(label)
    }

    // --- generation --------------------------------------------------------

    pub async fn write(
        &self,
        request: WriteRequest,
        model_id: Option<i64>,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<inkstone_core::generations::Generation> {
        let model = self.text_model(model_id, Vec::new()).await?;
        Ok(self.studio.write(request, &model, sink).await?)
    }

    /// Image understanding: a writing tool with an image attached (qwen-vl-*). The image
    /// arrives as bytes (the webview has no file paths); not an image or larger than 10 MB is
    /// a typed `invalid_input` before anything is charged or sent. A copy is kept with the
    /// generation (under the writer's `file_name`), so history shows what was asked about.
    pub async fn write_about_image(
        &self,
        request: WriteRequest,
        image: Vec<u8>,
        file_name: &str,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<inkstone_core::generations::Generation> {
        let image = ImageInput::from_bytes(image)?;
        let extension = match image.mime {
            "image/jpeg" => "jpg",
            other => other.strip_prefix("image/").unwrap_or("img"),
        };
        let studio = self.studio.clone();
        let name = file_name.to_string();
        let (kept, image) = tokio::task::spawn_blocking(move || {
            (studio.keep_input(&image.bytes, extension, &name), image)
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "keeping the picture was interrupted");
            DesktopError::Studio(StudioError::Files(file_name.to_string()))
        })?;
        let kept = kept?;
        let model = self.text_model(None, vec![image]).await?;
        Ok(self
            .studio
            .write(
                WriteRequest {
                    tool: inkstone_domain::Tool::Vision,
                    inputs: vec![kept],
                    ..request
                },
                &model,
                sink,
            )
            .await?)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn slides(
        &self,
        profile_id: ProfileId,
        topic: String,
        slides: u32,
        language: String,
        accent: String,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<inkstone_core::generations::Generation> {
        let model = self.text_model(None, Vec::new()).await?;
        Ok(self
            .studio
            .slides(profile_id, topic, slides, language, accent, &model, sink)
            .await?)
    }

    pub async fn media(
        &self,
        profile_id: ProfileId,
        kind: MediaKind,
        prompt: String,
        params: serde_json::Value,
        sink: &mut (dyn FnMut(Update) + Send),
    ) -> DesktopResult<inkstone_core::generations::Generation> {
        let model = self.media_model(kind).await?;
        Ok(self
            .studio
            .media(profile_id, kind, prompt, params, &model, sink)
            .await?)
    }

    // --- buying ------------------------------------------------------------

    pub async fn start_order(
        &self,
        profile_id: ProfileId,
        sku: &str,
        provider: &str,
    ) -> DesktopResult<OrderWithQr> {
        let order = self.shop()?.start_order(profile_id, sku, provider).await?;
        let qr_svg = qr_svg(&order.qr_payload)?;
        Ok(OrderWithQr {
            sandbox: order.provider == "sandbox",
            order,
            qr_svg,
        })
    }

    /// Long-polls the endpoint for an order (up to `wait`); a paid order's receipt is
    /// verified and applied here.
    pub async fn wait_order(
        &self,
        profile_id: ProfileId,
        order_no: &str,
        wait: Duration,
    ) -> DesktopResult<Settled> {
        Ok(self.shop()?.wait(profile_id, order_no, wait).await?)
    }

    /// "I have paid, check again": asks the endpoint (and through it the provider) once.
    pub async fn check_order(
        &self,
        profile_id: ProfileId,
        order_no: &str,
    ) -> DesktopResult<Settled> {
        Ok(self.shop()?.check(profile_id, order_no).await?)
    }

    pub async fn cancel_order(
        &self,
        profile_id: ProfileId,
        order_no: &str,
    ) -> DesktopResult<Settled> {
        Ok(self.shop()?.cancel(profile_id, order_no).await?)
    }

    /// The stop button. False when the run already ended.
    pub fn stop_generation(&self, generation_id: GenerationId) -> bool {
        self.studio.cancel(generation_id)
    }

    pub async fn shutdown(&self) {
        self.demo.stop().await;
    }

    /// At a clean exit: the demo doubles stopped, the database checkpointed and closed, and
    /// the clean-exit stamp written so the next start can skip its integrity check
    /// ([`clean_exit`]). Nothing may use the database after this. Returns whether the stamp
    /// was written.
    pub async fn finish(&self) -> bool {
        self.shutdown().await;
        clean_exit::record_clean_exit(&self.db, &self.options.data_dir).await
    }
}
