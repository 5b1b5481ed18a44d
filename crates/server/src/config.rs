//! Configuration: a TOML file, then `INKSTONE_SERVER_*` environment
//! variables on top (secrets usually come from the environment).

use std::net::SocketAddr;
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
    /// Ed25519 receipt key, base64 of 32 bytes. If unset, `receipt_key_file`
    /// is read, or created with a fresh key on first start.
    pub receipt_key: Option<String>,
    pub receipt_key_file: Option<PathBuf>,
    /// HMAC secret of sandbox notifications; random per start when unset.
    pub sandbox_secret: Option<String>,
    /// Offer the sandbox provider (on by default when no merchant keys are configured).
    pub sandbox: bool,
    pub order_ttl_secs: i64,
    pub wait_max_secs: u64,
    /// Minimum seconds between two active queries of one order.
    pub query_interval_secs: i64,
    pub rate_per_minute_ip: u32,
    pub rate_per_minute_account: u32,
    pub body_limit_bytes: usize,
    /// WeChat Pay merchant settings; the provider is offered when set.
    pub wechat: Option<WechatConfig>,
    /// Alipay app settings; the provider is offered when set.
    pub alipay: Option<AlipayConfig>,
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
    pub seller_id: Option<String>,
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
            receipt_key_file: Some(PathBuf::from("receipt-key.b64")),
            sandbox_secret: None,
            sandbox: true,
            order_ttl_secs: 15 * 60,
            wait_max_secs: 30,
            query_interval_secs: 5,
            rate_per_minute_ip: 1200,
            rate_per_minute_account: 600,
            body_limit_bytes: 64 * 1024,
            wechat: None,
            alipay: None,
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
        if let Some(v) = env("SANDBOX_SECRET") {
            config.sandbox_secret = Some(v);
        }
        if let (Some(w), Some(k)) = (config.wechat.as_mut(), env("WECHAT_APIV3_KEY")) {
            w.apiv3_key = k;
        }
        config.public_url = config.public_url.trim_end_matches('/').to_string();
        if config.order_ttl_secs < 60 || config.wait_max_secs == 0 || config.wait_max_secs > 60 {
            return Err(ConfigError::Invalid(
                "order_ttl_secs >= 60 and 1 <= wait_max_secs <= 60".into(),
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
        Ok(config)
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
}
