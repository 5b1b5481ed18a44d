//! Configuration: a TOML file, then `INKSTONE_SERVER_*` environment
//! variables on top (secrets usually come from the environment).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub bind: SocketAddr,
    /// How the outside world reaches this server (sandbox QR pages link here).
    pub public_url: String,
    /// `sqlite://file.db?mode=rwc` or `postgres://user:pass@host/db`.
    pub database_url: String,
    /// Pooled database connections per instance; unset: 4 for SQLite (one writer anyway),
    /// 8 for PostgreSQL (about four per core of a small host: more only queue inside
    /// PostgreSQL, where they compete for the same cores).
    pub database_connections: Option<u32>,
    /// Ed25519 receipt key, base64 of 32 bytes (better given as
    /// INKSTONE_SERVER_RECEIPT_KEY). If unset, `receipt_key_file` is read. With a real
    /// provider configured one of the two is required and the file must exist at an
    /// absolute path: every instance must sign with the key the desktops pinned.
    pub receipt_key: Option<String>,
    pub receipt_key_file: Option<PathBuf>,
    /// Public keys (base64 of 32 bytes) this server signed with before a rotation: listed
    /// in `/v1/keys` as retired so that old receipts still verify.
    pub retired_receipt_public_keys: Vec<String>,
    /// HMAC secret of sandbox notifications; random per start when unset.
    pub sandbox_secret: Option<String>,
    /// Offer the sandbox provider: test payments anyone can confirm. Off unless chosen
    /// (`sandbox = true` or INKSTONE_SERVER_SANDBOX=1).
    pub sandbox: bool,
    /// The sandbox together with a real provider: refused unless this is set too.
    pub allow_sandbox_with_real_providers: bool,
    /// The sandbox's own receipt key (never the production one): base64, or a file
    /// (created when missing); a fresh key per start when neither is set.
    pub sandbox_receipt_key: Option<String>,
    pub sandbox_receipt_key_file: Option<PathBuf>,
    /// Peers whose `X-Forwarded-For` is believed (the reverse proxy); nobody else's.
    pub trusted_proxies: Vec<IpAddr>,
    /// Orders one account may have pending at once.
    pub max_pending_orders_per_account: u32,
    /// Orders one account may create per minute (each is a signed provider call).
    pub orders_per_minute_per_account: u32,
    /// Seconds a client has to send its request headers; then the connection is closed.
    pub header_timeout_secs: u64,
    /// Seconds a client has to send its request body.
    pub body_timeout_secs: u64,
    /// Seconds any handler may take (the long-poll: `wait_max_secs` more).
    pub handler_timeout_secs: u64,
    /// Seconds one call to WeChat Pay's or Alipay's API may take; then it counts as
    /// unreachable (a refund or close is sent again later under the same number).
    pub provider_timeout_secs: u64,
    /// Seconds between two rounds of the sweeper (pending orders about to expire, closes
    /// that failed); 0 turns it off.
    pub sweep_interval_secs: u64,
    pub order_ttl_secs: i64,
    pub wait_max_secs: u64,
    /// Minimum seconds between two active queries of one order.
    pub query_interval_secs: i64,
    pub rate_per_minute_ip: u32,
    pub rate_per_minute_account: u32,
    pub body_limit_bytes: usize,
    /// `/metrics` on its own address (only that route there; bind it to a private
    /// interface). Off when unset.
    pub metrics_bind: Option<SocketAddr>,
    /// `/metrics` on the main address, for `Authorization: Bearer <token>` only (at least
    /// 16 characters; better given as INKSTONE_SERVER_METRICS_TOKEN). Off when unset.
    pub metrics_token: Option<String>,
    /// WeChat Pay merchant settings; the provider is offered when set.
    pub wechat: Option<WechatConfig>,
    /// Alipay app settings; the provider is offered when set.
    pub alipay: Option<AlipayConfig>,
    /// The desktop update manifest the operator publishes (Tauri's `latest.json` shape),
    /// served at `/v1/updates/{target}/{arch}/{current_version}`; unset: nothing is offered.
    pub updates_manifest: Option<PathBuf>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    pub mchid: String,
    pub appid: String,
    /// Serial of the merchant API certificate.
    pub serial_no: String,
    pub private_key_file: PathBuf,
    /// 32 characters; better given as INKSTONE_SERVER_WECHAT_APIV3_KEY.
    #[serde(default)]
    pub apiv3_key: String,
    /// Public-key mode: `PUB_KEY_ID_…` and its PEM file.
    pub platform_public_key_id: Option<String>,
    pub platform_public_key_file: Option<PathBuf>,
    /// Certificate mode (may be combined with public-key mode during a switch).
    #[serde(default)]
    pub platform_certificate_files: Vec<PathBuf>,
    /// Where WeChat Pay posts notifications: `<public_url>/notify/wechat`.
    pub notify_url: String,
    #[serde(default = "wechat_host")]
    pub api_host: String,
}

fn wechat_host() -> String {
    "https://api.mch.weixin.qq.com".into()
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayConfig {
    pub app_id: String,
    /// The merchant's Alipay user id (2088…), checked in notifications.
    pub seller_id: String,
    pub app_private_key_file: PathBuf,
    pub alipay_public_key_file: PathBuf,
    /// `<public_url>/notify/alipay`.
    pub notify_url: String,
    #[serde(default = "alipay_gateway")]
    pub gateway: String,
}

fn alipay_gateway() -> String {
    "https://openapi.alipay.com/gateway.do".into()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: ([127, 0, 0, 1], 8787).into(),
            public_url: "http://127.0.0.1:8787".into(),
            database_url: "sqlite://inkstone-server.db?mode=rwc".into(),
            database_connections: None,
            receipt_key: None,
            receipt_key_file: None,
            retired_receipt_public_keys: Vec::new(),
            sandbox_secret: None,
            sandbox: false,
            allow_sandbox_with_real_providers: false,
            sandbox_receipt_key: None,
            sandbox_receipt_key_file: None,
            trusted_proxies: Vec::new(),
            max_pending_orders_per_account: 5,
            orders_per_minute_per_account: 10,
            header_timeout_secs: 10,
            body_timeout_secs: 15,
            handler_timeout_secs: 20,
            provider_timeout_secs: 10,
            sweep_interval_secs: 30,
            order_ttl_secs: 15 * 60,
            wait_max_secs: 30,
            query_interval_secs: 5,
            rate_per_minute_ip: 1200,
            rate_per_minute_account: 600,
            body_limit_bytes: 64 * 1024,
            metrics_bind: None,
            metrics_token: None,
            wechat: None,
            alipay: None,
            updates_manifest: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets and the database password never reach a log.
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("database", &redact_url(&self.database_url))
            .field("receipt_key", &self.receipt_key.as_ref().map(|_| "<set>"))
            .field("sandbox", &self.sandbox)
            .field(
                "allow_sandbox_with_real_providers",
                &self.allow_sandbox_with_real_providers,
            )
            .field("receipt_key_file", &self.receipt_key_file)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_bind", &self.metrics_bind)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field("wechat", &self.wechat.as_ref().map(|w| &w.mchid))
            .field("alipay", &self.alipay.as_ref().map(|a| &a.app_id))
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| ConfigError::Read(p.into(), e))?;
                toml::from_str(&text).map_err(|e| ConfigError::Invalid(e.to_string()))?
            }
            None => Config::default(),
        };
        let env = |k: &str| std::env::var(format!("INKSTONE_SERVER_{k}")).ok();
        if let Some(v) = env("BIND") {
            config.bind = v
                .parse()
                .map_err(|_| ConfigError::Invalid("INKSTONE_SERVER_BIND".into()))?;
        }
        if let Some(v) = env("PUBLIC_URL") {
            config.public_url = v;
        }
        if let Some(v) = env("DATABASE_URL") {
            config.database_url = v;
        }
        if let Some(v) = env("DATABASE_CONNECTIONS") {
            config.database_connections = Some(v.parse().map_err(|_| {
                ConfigError::Invalid("INKSTONE_SERVER_DATABASE_CONNECTIONS".into())
            })?);
        }
        if let Some(v) = env("RECEIPT_KEY") {
            config.receipt_key = Some(v);
        }
        if let Some(v) = env("RECEIPT_KEY_FILE") {
            config.receipt_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("SANDBOX_RECEIPT_KEY") {
            config.sandbox_receipt_key = Some(v);
        }
        if let Some(v) = env("SANDBOX") {
            config.sandbox = parse_flag(&v)
                .ok_or_else(|| ConfigError::Invalid("INKSTONE_SERVER_SANDBOX: 1 or 0".into()))?;
        }
        if let Some(v) = env("SANDBOX_SECRET") {
            config.sandbox_secret = Some(v);
        }
        if let Some(v) = env("METRICS_BIND") {
            config.metrics_bind = Some(
                v.parse()
                    .map_err(|_| ConfigError::Invalid("INKSTONE_SERVER_METRICS_BIND".into()))?,
            );
        }
        if let Some(v) = env("METRICS_TOKEN") {
            config.metrics_token = Some(v);
        }
        if let (Some(w), Some(k)) = (config.wechat.as_mut(), env("WECHAT_APIV3_KEY")) {
            w.apiv3_key = k;
        }
        config.public_url = config.public_url.trim_end_matches('/').to_string();
        config.validate()?;
        Ok(config)
    }

    /// Checks settings that do not depend on files (also run by `start`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let config = self;
        if config.sandbox
            && (config.wechat.is_some() || config.alipay.is_some())
            && !config.allow_sandbox_with_real_providers
        {
            return Err(ConfigError::Invalid(
                "sandbox = true with a real provider needs allow_sandbox_with_real_providers = true"
                    .into(),
            ));
        }
        if config.max_pending_orders_per_account == 0 || config.orders_per_minute_per_account == 0 {
            return Err(ConfigError::Invalid(
                "max_pending_orders_per_account and orders_per_minute_per_account >= 1".into(),
            ));
        }
        if [
            config.header_timeout_secs,
            config.body_timeout_secs,
            config.handler_timeout_secs,
            config.provider_timeout_secs,
        ]
        .iter()
        .any(|t| !(1..=600).contains(t))
        {
            return Err(ConfigError::Invalid(
                "1 <= header_timeout_secs, body_timeout_secs, handler_timeout_secs, \
                 provider_timeout_secs <= 600"
                    .into(),
            ));
        }
        if config.order_ttl_secs < 60 || config.wait_max_secs == 0 || config.wait_max_secs > 60 {
            return Err(ConfigError::Invalid(
                "order_ttl_secs >= 60 and 1 <= wait_max_secs <= 60".into(),
            ));
        }
        if let Some(t) = &config.metrics_token {
            if t.len() < 16 || t.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(ConfigError::Invalid(
                    "metrics_token: at least 16 characters, no spaces".into(),
                ));
            }
        }
        if config
            .metrics_bind
            .is_some_and(|m| m == config.bind && m.port() != 0)
        {
            return Err(ConfigError::Invalid(
                "metrics_bind must differ from bind (or use metrics_token)".into(),
            ));
        }
        if config
            .database_connections
            .is_some_and(|n| !(1..=256).contains(&n))
        {
            return Err(ConfigError::Invalid(
                "1 <= database_connections <= 256".into(),
            ));
        }
        Ok(())
    }
}

fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("server.toml");
        std::fs::write(&path, toml).expect("write");
        Config::load(Some(&path))
    }

    #[test]
    fn metrics_are_off_unless_chosen_and_the_token_is_checked() {
        let c = load("").unwrap();
        assert!(c.metrics_bind.is_none() && c.metrics_token.is_none());
        let c = load("metrics_bind = \"127.0.0.1:9187\"\nmetrics_token = \"0123456789abcdef\"")
            .unwrap();
        assert_eq!(c.metrics_bind, Some(([127, 0, 0, 1], 9187).into()));
        assert!(
            format!("{c:?}").contains("<set>") && !format!("{c:?}").contains("0123456789abcdef")
        );
        for bad in [
            "metrics_token = \"short\"",
            "metrics_token = \"0123456789 abcdef\"",
            "metrics_bind = \"127.0.0.1:8787\"",
            "metrics_bind = \"nope\"",
        ] {
            assert!(load(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_pool_size_is_checked() {
        assert_eq!(
            load("database_connections = 16")
                .unwrap()
                .database_connections,
            Some(16)
        );
        assert_eq!(load("").unwrap().database_connections, None);
        for bad in [
            "database_connections = 0",
            "database_connections = 1000",
            "database_connections = -1",
        ] {
            assert!(load(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_provider_call_timeout_is_ten_seconds_unless_set_and_is_bounded() {
        assert_eq!(load("").unwrap().provider_timeout_secs, 10);
        assert_eq!(
            load("provider_timeout_secs = 30")
                .unwrap()
                .provider_timeout_secs,
            30
        );
        for bad in [
            "provider_timeout_secs = 0",
            "provider_timeout_secs = 601",
            "provider_timeout_secs = -1",
        ] {
            assert!(load(bad).is_err(), "{bad}");
        }
    }
}
