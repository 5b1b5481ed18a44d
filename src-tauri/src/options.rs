//! Launch options from the command line and the environment.
//!
//! * `--data-dir <path>` or `INKSTONE_DATA_DIR`: where the database and logs live (tests give
//!   every run its own folder). Default: the OS app data folder.
//! * `--demo` or `INKSTONE_DEMO=1`: seed the demo users. Only honoured in builds with the `demo`
//!   feature, so the installer's build never contains demo accounts or test doubles.
//!
//! * `--payment-server <url> --payment-keys <key_id:base64,…>` (or `INKSTONE_PAYMENT_SERVER_URL`
//!   and `INKSTONE_PAYMENT_SERVER_KEYS`, at run time or baked in at build time): buy
//!   through that payment endpoint, trusting receipts signed by those keys only. Without them
//!   demo mode runs the sandbox endpoint inside the app, and buying is unavailable otherwise.
//!
//! * `--sandbox-payments`: buy with test money (the endpoint's sandbox provider) outside demo
//!   mode, for the end-to-end test of a new user. Only honoured in builds with the `demo` feature.
//!
//! * `--update-endpoint <url>` or `INKSTONE_UPDATE_ENDPOINT`: where signed updates come from
//!   (default: the payment endpoint). Updates still need the public key built in.
//!
//! Unknown arguments are ignored: WebKitWebDriver and the OS may add their own.

use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// The folder for the database and logs; `None` means the OS default.
    pub data_dir: Option<PathBuf>,
    /// Whether demo mode was asked for (see [`LaunchOptions::demo_enabled`]).
    pub demo_requested: bool,
    /// An external payment endpoint and its pinned receipt keys.
    pub payment_server: Option<PaymentServer>,
    /// Whether test payments outside demo mode were asked for (see
    /// [`LaunchOptions::sandbox_payments_enabled`]).
    pub sandbox_payments_requested: bool,
    /// Where updates are asked for, if not the payment endpoint.
    pub update_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentServer {
    pub url: String,
    pub keys: Vec<inkstone_receipt::PublicKeyInfo>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionsError {
    /// Occurs when `--data-dir` is the last argument.
    #[error("--data-dir needs a folder path")]
    MissingDataDir,
    /// Occurs when the data folder given is an empty string.
    #[error("the data folder path is empty")]
    EmptyDataDir,
    /// Occurs when a payment server is named without keys to trust, or the keys are malformed.
    #[error("INKSTONE_PAYMENT_SERVER_KEYS must be `key_id:base64` entries separated by commas")]
    PaymentKeys,
}

impl LaunchOptions {
    /// Reads options from `args` (without the program name) and the `env` lookup.
    /// Command-line arguments win over the environment.
    pub fn parse<I, E>(args: I, env: E) -> Result<Self, OptionsError>
    where
        I: IntoIterator<Item = String>,
        E: Fn(&str) -> Option<String>,
    {
        let mut options = LaunchOptions {
            data_dir: None,
            demo_requested: matches!(env("INKSTONE_DEMO").as_deref(), Some("1" | "true")),
            payment_server: None,
            sandbox_payments_requested: false,
            update_endpoint: env("INKSTONE_UPDATE_ENDPOINT"),
        };
        if let Some(dir) = env("INKSTONE_DATA_DIR") {
            options.data_dir = Some(non_empty(dir)?);
        }
        let mut server_url = env("INKSTONE_PAYMENT_SERVER_URL");
        let mut server_keys = env("INKSTONE_PAYMENT_SERVER_KEYS");
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--payment-server" {
                server_url = Some(args.next().ok_or(OptionsError::PaymentKeys)?);
            } else if arg == "--payment-keys" {
                server_keys = Some(args.next().ok_or(OptionsError::PaymentKeys)?);
            } else if arg == "--demo" {
                options.demo_requested = true;
            } else if arg == "--update-endpoint" {
                options.update_endpoint = args.next();
            } else if arg == "--sandbox-payments" {
                options.sandbox_payments_requested = true;
            } else if arg == "--data-dir" {
                let dir = args.next().ok_or(OptionsError::MissingDataDir)?;
                options.data_dir = Some(non_empty(dir)?);
            } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
                options.data_dir = Some(non_empty(dir.to_owned())?);
            }
        }
        options.update_endpoint = options
            .update_endpoint
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        if let Some(url) = server_url.filter(|u| !u.trim().is_empty()) {
            let keys = server_keys.ok_or(OptionsError::PaymentKeys)?;
            options.payment_server = Some(PaymentServer {
                url: url.trim().to_owned(),
                keys: parse_keys(&keys)?,
            });
        }
        Ok(options)
    }

    /// Reads options from this process's arguments and environment.
    /// A release build's payment endpoint comes from the same two variables set when it was
    /// built (`INKSTONE_PAYMENT_SERVER_URL=… INKSTONE_PAYMENT_SERVER_KEYS=… cargo build`).
    pub fn from_process() -> Result<Self, OptionsError> {
        Self::parse(std::env::args().skip(1), |key| {
            std::env::var(key).ok().or_else(|| {
                match key {
                    "INKSTONE_PAYMENT_SERVER_URL" => option_env!("INKSTONE_PAYMENT_SERVER_URL"),
                    "INKSTONE_PAYMENT_SERVER_KEYS" => option_env!("INKSTONE_PAYMENT_SERVER_KEYS"),
                    _ => None,
                }
                .map(str::to_owned)
            })
        })
    }

    /// Demo mode: asked for, and this build has it (the `demo` feature; the installer's
    /// build does not).
    pub fn demo_enabled(&self) -> bool {
        self.demo_requested && cfg!(feature = "demo")
    }

    /// The name a running app holds on the session bus (single-instance plugin): one per data
    /// folder, so a second launch on the same folder focuses the first window while an app on
    /// another folder (demo, `--data-dir`) starts as an app of its own. `None` is the default
    /// folder: the plugin then uses the app's identifier.
    pub fn instance_id(&self, identifier: &str) -> Option<String> {
        match &self.data_dir {
            // The same folder spelled two ways (`./d`, `/abs/d`) is one app.
            Some(dir) => {
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                Some(format!(
                    "{identifier}.Folder_{:016x}",
                    fnv1a(dir.as_os_str().as_encoded_bytes())
                ))
            }
            None if self.demo_enabled() => Some(format!("{identifier}.Demo")),
            None => None,
        }
    }

    /// Where the window's size and position are kept: the plugin's default (the OS config
    /// folder) for the default data folder, inside the data folder otherwise, so each data
    /// folder (each E2E run among them) opens its own window where it was left.
    pub fn window_state_file(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|dir| {
            std::path::absolute(dir)
                .unwrap_or_else(|_| dir.clone())
                .join("window-state.json")
        })
    }

    /// Test payments outside demo mode: asked for, and this build has demo mode's test
    /// doubles (the `demo` feature; never the installer's build).
    pub fn sandbox_payments_enabled(&self) -> bool {
        self.sandbox_payments_requested && cfg!(feature = "demo")
    }
}

/// FNV-1a, 64 bits: stable across processes and builds (std's hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn parse_keys(raw: &str) -> Result<Vec<inkstone_receipt::PublicKeyInfo>, OptionsError> {
    let keys = raw
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (key_id, public_key) = entry
                .trim()
                .split_once(':')
                .ok_or(OptionsError::PaymentKeys)?;
            Ok(inkstone_receipt::PublicKeyInfo {
                key_id: key_id.to_owned(),
                public_key: public_key.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Checked here so a typo fails at start, not at the first receipt.
    inkstone_receipt::TrustedKeys::try_new(keys.clone()).map_err(|_| OptionsError::PaymentKeys)?;
    if keys.is_empty() {
        return Err(OptionsError::PaymentKeys);
    }
    Ok(keys)
}

fn non_empty(dir: String) -> Result<PathBuf, OptionsError> {
    if dir.trim().is_empty() {
        Err(OptionsError::EmptyDataDir)
    } else {
        Ok(PathBuf::from(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<LaunchOptions, OptionsError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LaunchOptions::parse(args.iter().map(|a| a.to_string()), |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_to_os_folder_and_no_demo() {
        assert_eq!(parse(&[], &[]), Ok(LaunchOptions::default()));
    }

    #[test]
    fn reads_data_dir_in_both_spellings_and_from_env() {
        let want = Some(PathBuf::from("/tmp/x"));
        assert_eq!(
            parse(&["--data-dir", "/tmp/x"], &[]).unwrap().data_dir,
            want
        );
        assert_eq!(parse(&["--data-dir=/tmp/x"], &[]).unwrap().data_dir, want);
        assert_eq!(
            parse(&[], &[("INKSTONE_DATA_DIR", "/tmp/x")])
                .unwrap()
                .data_dir,
            want
        );
    }

    #[test]
    fn command_line_wins_over_environment() {
        let options = parse(
            &["--data-dir", "/tmp/cli"],
            &[("INKSTONE_DATA_DIR", "/tmp/env")],
        )
        .unwrap();
        assert_eq!(options.data_dir, Some(PathBuf::from("/tmp/cli")));
    }

    #[test]
    fn rejects_missing_or_empty_data_dir() {
        assert_eq!(
            parse(&["--data-dir"], &[]),
            Err(OptionsError::MissingDataDir)
        );
        assert_eq!(
            parse(&["--data-dir="], &[]),
            Err(OptionsError::EmptyDataDir)
        );
        assert_eq!(
            parse(&[], &[("INKSTONE_DATA_DIR", " ")]),
            Err(OptionsError::EmptyDataDir)
        );
    }

    #[test]
    fn demo_from_flag_or_env_and_ignores_unknown_arguments() {
        assert!(
            parse(&["--automation", "--demo"], &[])
                .unwrap()
                .demo_requested
        );
        assert!(
            parse(&[], &[("INKSTONE_DEMO", "1")])
                .unwrap()
                .demo_requested
        );
        assert!(
            !parse(&[], &[("INKSTONE_DEMO", "0")])
                .unwrap()
                .demo_requested
        );
    }

    #[test]
    fn a_payment_server_needs_well_formed_keys() {
        let signer = inkstone_receipt::ReceiptSigner::generate();
        let key = signer.public_key();
        let good = format!("{}:{}", key.key_id, key.public_key);
        let options = parse(
            &[],
            &[
                ("INKSTONE_PAYMENT_SERVER_URL", "http://127.0.0.1:9"),
                ("INKSTONE_PAYMENT_SERVER_KEYS", &good),
            ],
        )
        .unwrap();
        assert_eq!(
            options.payment_server,
            Some(PaymentServer {
                url: "http://127.0.0.1:9".into(),
                keys: vec![key]
            })
        );
        for bad in ["", "nokey", "kid:not-base64!", ":"] {
            assert_eq!(
                parse(
                    &[],
                    &[
                        ("INKSTONE_PAYMENT_SERVER_URL", "http://x"),
                        ("INKSTONE_PAYMENT_SERVER_KEYS", bad)
                    ]
                ),
                Err(OptionsError::PaymentKeys),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse(&[], &[("INKSTONE_PAYMENT_SERVER_URL", "http://x")]),
            Err(OptionsError::PaymentKeys)
        );
        let from_args = parse(
            &[
                "--payment-server",
                "http://127.0.0.1:9",
                "--payment-keys",
                &good,
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            from_args.payment_server.map(|s| s.url),
            Some("http://127.0.0.1:9".into())
        );
    }

    #[test]
    fn the_update_endpoint_comes_from_the_flag_or_the_environment() {
        assert_eq!(parse(&[], &[]).unwrap().update_endpoint, None);
        let env = [("INKSTONE_UPDATE_ENDPOINT", "https://env.example")];
        assert_eq!(
            parse(&[], &env).unwrap().update_endpoint.as_deref(),
            Some("https://env.example")
        );
        let args = ["--update-endpoint", " http://127.0.0.1:9 "];
        assert_eq!(
            parse(&args, &env).unwrap().update_endpoint.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            parse(&["--update-endpoint", ""], &[])
                .unwrap()
                .update_endpoint,
            None
        );
    }

    #[test]
    fn demo_is_enabled_only_in_builds_that_have_it() {
        let options = parse(&["--demo"], &[]).unwrap();
        assert_eq!(options.demo_enabled(), cfg!(feature = "demo"));
        // Test payments likewise, and only when asked for.
        assert!(!options.sandbox_payments_enabled());
        let options = parse(&["--sandbox-payments"], &[]).unwrap();
        assert_eq!(options.sandbox_payments_enabled(), cfg!(feature = "demo"));
        assert!(!options.demo_enabled());
    }

    #[test]
    fn each_data_folder_is_its_own_single_instance() {
        let at = |dir: Option<&str>, demo: bool| LaunchOptions {
            data_dir: dir.map(PathBuf::from),
            demo_requested: demo,
            sandbox_payments_requested: false,
            payment_server: None,
            update_endpoint: None,
        };
        let id = "studio.inkstone.desktop";
        assert_eq!(at(None, false).instance_id(id), None);
        let a = at(Some("/tmp/a"), false).instance_id(id).unwrap();
        let b = at(Some("/tmp/b"), false).instance_id(id).unwrap();
        assert_ne!(a, b);
        assert_eq!(at(Some("/tmp/a"), true).instance_id(id).unwrap(), a);
        // A D-Bus well-known name: elements of [A-Za-z0-9_-], none starting with a digit.
        for name in [&a, &b] {
            assert!(name.len() < 255);
            for element in name.split('.') {
                assert!(!element.is_empty());
                assert!(!element.starts_with(|c: char| c.is_ascii_digit()));
                assert!(element
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            }
        }
        if cfg!(feature = "demo") {
            assert_eq!(
                at(None, true).instance_id(id).as_deref(),
                Some("studio.inkstone.desktop.Demo")
            );
        }
        let file = at(Some("/tmp/a"), false).window_state_file().unwrap();
        assert_eq!(file, PathBuf::from("/tmp/a/window-state.json"));
        assert_eq!(at(None, false).window_state_file(), None);
    }

    #[test]
    fn the_identifier_is_the_configured_one() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"], crate::IDENTIFIER);
    }
}
