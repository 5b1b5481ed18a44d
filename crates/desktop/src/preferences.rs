//! Non-secret settings: language, theme and the DashScope region. The shell
//! keeps them in `tauri-plugin-store`'s file; this module decides what a valid
//! value is, so a hand-edited or older file can never start the app in a
//! broken state. Secrets never pass through here (they live in the keychain).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// Which DashScope host answers: the writer picks a region, or another of DashScope's own
/// hosts. The DashScope key goes with every request, so a custom host must be DashScope's
/// (`https://dashscope*.aliyuncs.com`); a proxy or a local server is an OpenAI-compatible
/// model with its own key instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", content = "url", rename_all = "lowercase")]
pub enum Region {
    #[default]
    Beijing,
    Singapore,
    Custom(String),
}

impl Region {
    /// The host URL; a custom one is checked (a DashScope host, https, no credentials).
    pub fn base_url(&self) -> Result<String, inkstone_qwen::QwenError> {
        match self {
            Region::Beijing => Ok(inkstone_qwen::BEIJING.to_string()),
            Region::Singapore => Ok(inkstone_qwen::SINGAPORE.to_string()),
            Region::Custom(url) => {
                let base = inkstone_qwen::validate::base_url(url)?;
                if !inkstone_qwen::validate::is_dashscope_host(&base) {
                    return Err(inkstone_qwen::QwenError::InvalidInput {
                        field: "region",
                        reason: "a custom region must be a DashScope host (https://dashscope….aliyuncs.com)".into(),
                    });
                }
                Ok(base)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub locale: Locale,
    pub theme: Theme,
    pub region: Region,
    /// Check for a signed update at start and daily. On unless the writer turns it off:
    /// fixes reach every writer.
    pub check_updates: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            locale: Locale::default(),
            theme: Theme::default(),
            region: Region::default(),
            check_updates: true,
        }
    }
}

impl Preferences {
    /// Reads what the store holds. Anything unreadable (missing, an older
    /// shape, a bad custom URL) falls back field by field to the default, so a
    /// damaged file costs a setting, never the start of the app.
    pub fn from_stored(value: Option<serde_json::Value>) -> Self {
        let Some(serde_json::Value::Object(map)) = value else {
            return Self::default();
        };
        fn field<T: serde::de::DeserializeOwned + Default>(
            map: &serde_json::Map<String, serde_json::Value>,
            key: &str,
        ) -> T {
            map.get(key)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        }
        let region: Region = field(&map, "region");
        Preferences {
            check_updates: map
                .get("check_updates")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true),
            locale: field(&map, "locale"),
            theme: field(&map, "theme"),
            region: if region.base_url().is_ok() {
                region
            } else {
                Region::default()
            },
        }
    }

    /// Checks a change coming from the UI before it is stored.
    pub fn validate(&self) -> Result<(), inkstone_qwen::QwenError> {
        self.region.base_url().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_to_chinese_light_beijing() {
        let p = Preferences::from_stored(None);
        assert_eq!(p.locale, Locale::ZhCn);
        assert_eq!(p.theme, Theme::Light);
        assert_eq!(p.region.base_url().unwrap(), inkstone_qwen::BEIJING);
        // Left out (an older file): updates are checked.
        assert!(p.check_updates);
        assert!(Preferences::from_stored(Some(json!({"locale": "en"}))).check_updates);
        assert!(!Preferences::from_stored(Some(json!({"check_updates": false}))).check_updates);
    }

    #[test]
    fn round_trips_through_json() {
        let p = Preferences {
            locale: Locale::En,
            theme: Theme::Dark,
            region: Region::Custom("https://dashscope-finance.aliyuncs.com/".into()),
            check_updates: false,
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            json!({"locale": "en", "theme": "dark", "region": {"kind": "custom", "url": "https://dashscope-finance.aliyuncs.com/"}, "check_updates": false})
        );
        assert_eq!(Preferences::from_stored(Some(v)), p);
        assert_eq!(
            p.region.base_url().unwrap(),
            "https://dashscope-finance.aliyuncs.com"
        );
    }

    #[test]
    fn a_damaged_file_costs_only_the_bad_fields() {
        let p = Preferences::from_stored(Some(json!({
            "locale": "fr", "theme": "dark", "region": {"kind": "custom", "url": "file:///etc/passwd"}
        })));
        assert_eq!(p.locale, Locale::ZhCn);
        assert_eq!(p.theme, Theme::Dark);
        assert_eq!(p.region, Region::Beijing);
        assert_eq!(
            Preferences::from_stored(Some(json!("nonsense"))),
            Preferences::default()
        );
    }

    #[test]
    fn rejects_a_custom_region_that_is_not_http() {
        for url in [
            "ftp://x",
            "javascript:alert(1)",
            "http://user:pw@host",
            "",
            // Not DashScope's: the key would go there.
            "http://127.0.0.1:8080/",
            "https://proxy.example.com",
            "http://dashscope.aliyuncs.com",
        ] {
            let p = Preferences {
                region: Region::Custom(url.into()),
                ..Default::default()
            };
            assert!(p.validate().is_err(), "{url}");
        }
    }
}
