//! Demo mode's two test doubles, linked only with the cargo feature `demo` (development, the
//! tests and the bench turn it on; the installer does not): the demo model (the fake
//! DashScope, started on first use) and the embedded sandbox payment endpoint. A build without
//! the feature has neither, and asking it for demo mode is a start error.

use inkstone_core::Clock;

use crate::{DesktopError, DesktopResult};

/// The sandbox endpoint inside the app, as the shop needs it.
pub(crate) struct EmbeddedEndpoint {
    pub base_url: String,
    /// Its receipt keys and the sandbox key: demo mode trusts both.
    pub keys: Vec<inkstone_receipt::PublicKeyInfo>,
}

#[cfg(feature = "demo")]
mod parts {
    use super::*;
    use tokio::sync::Mutex;

    /// The running doubles; dropped (stopped) with the services.
    #[derive(Default)]
    pub(crate) struct Demo {
        model: Mutex<Option<inkstone_fake_dashscope::FakeHandle>>,
        endpoint: Mutex<Option<inkstone_server::RunningServer>>,
    }

    impl Demo {
        pub const AVAILABLE: bool = true;

        pub fn new() -> Self {
            Self::default()
        }

        /// The key the demo model accepts.
        pub fn model_key() -> &'static str {
            inkstone_fake_dashscope::DEFAULT_KEY
        }

        /// The demo model's base URL, started on first use.
        pub async fn model_base_url(
            &self,
            tokens_per_second: f64,
            clock: &Clock,
        ) -> DesktopResult<String> {
            let mut guard = self.model.lock().await;
            if guard.is_none() {
                let config = inkstone_fake_dashscope::FakeConfig {
                    tokens_per_second: if tokens_per_second > 0.0 {
                        tokens_per_second
                    } else {
                        40.0
                    },
                    reply_tokens: 120,
                    clock: clock.clone(),
                    ..Default::default()
                };
                *guard = Some(
                    inkstone_fake_dashscope::spawn(config)
                        .await
                        .map_err(|e| DesktopError::Start(e.to_string()))?,
                );
            }
            Ok(guard
                .as_ref()
                .map(|f| f.base_url.clone())
                .unwrap_or_default())
        }

        /// Starts the sandbox endpoint on loopback with its data under `dir`.
        pub async fn start_endpoint(
            &self,
            dir: &std::path::Path,
        ) -> DesktopResult<EmbeddedEndpoint> {
            let server = inkstone_server::start_embedded(dir, ([127, 0, 0, 1], 0).into())
                .await
                .map_err(|e| DesktopError::Start(e.to_string()))?;
            let endpoint = EmbeddedEndpoint {
                base_url: server.base_url.clone(),
                keys: server
                    .public_keys
                    .iter()
                    .chain(server.sandbox_public_key.iter())
                    .cloned()
                    .collect(),
            };
            *self.endpoint.lock().await = Some(server);
            Ok(endpoint)
        }

        pub async fn endpoint_running(&self) -> bool {
            self.endpoint.lock().await.is_some()
        }

        pub async fn stop(&self) {
            if let Some(server) = self.endpoint.lock().await.take() {
                server.shutdown().await;
            }
            self.model.lock().await.take();
        }
    }
}

#[cfg(not(feature = "demo"))]
mod parts {
    use super::*;

    /// This build has no demo mode: nothing to run.
    pub(crate) struct Demo;

    impl Demo {
        pub const AVAILABLE: bool = false;

        pub fn new() -> Self {
            Self
        }

        pub fn model_key() -> &'static str {
            ""
        }

        pub async fn model_base_url(&self, _: f64, _: &Clock) -> DesktopResult<String> {
            Err(DesktopError::Start("this build has no demo model".into()))
        }

        pub async fn start_endpoint(&self, _: &std::path::Path) -> DesktopResult<EmbeddedEndpoint> {
            Err(DesktopError::Start(
                "this build has no embedded payment endpoint".into(),
            ))
        }

        pub async fn endpoint_running(&self) -> bool {
            false
        }

        pub async fn stop(&self) {}
    }
}

pub(crate) use parts::Demo;
