//! A desktop notification server for the E2E session bus: it owns
//! `org.freedesktop.Notifications` and answers the Desktop Notifications Specification
//! (`Notify`, `CloseNotification`, `GetCapabilities`, `GetServerInformation`) as GNOME's or
//! dunst's would, and remembers what it was asked to show. The app talks to it through its real
//! notification plugin over the real D-Bus, so a test can check what the writer was told.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use zbus::zvariant::OwnedValue;

use crate::R;

/// One notification the app showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        if let Ok(mut shown) = self.shown.lock() {
            shown.push(Shown {
                app_name,
                summary,
                body,
            });
        }
        // The spec: a non-zero replaces_id is answered with that same id.
        if replaces_id != 0 {
            return replaces_id;
        }
        self.next_id += 1;
        self.next_id
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "inkstone-e2e".into(),
            "Inkstone".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// The server of this test process; started on first use, on the session bus of
/// `DBUS_SESSION_BUS_ADDRESS` (scripts/checks/50-e2e.sh runs the tests in a private one).
pub struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    // Kept open: the name goes with the connection.
    _connection: zbus::blocking::Connection,
}

impl Notifications {
    /// The process-wide server (one name per bus, and the tests run one at a time).
    pub fn get() -> R<&'static Notifications> {
        static SERVER: OnceLock<Result<Notifications, String>> = OnceLock::new();
        SERVER
            .get_or_init(|| Notifications::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("no notification server on the session bus: {e}").into())
    }

    fn start() -> R<Notifications> {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let connection = zbus::blocking::connection::Builder::session()?
            .serve_at(
                "/org/freedesktop/Notifications",
                Server {
                    shown: shown.clone(),
                    next_id: 0,
                },
            )?
            .name("org.freedesktop.Notifications")?
            .build()?;
        Ok(Notifications {
            shown,
            _connection: connection,
        })
    }

    /// Everything shown since the last call, oldest first.
    pub fn take(&self) -> Vec<Shown> {
        self.shown
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}
