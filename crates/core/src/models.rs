//! AI model configurations: list, add, edit, activate, delete (the report's
//! "AI模型管理"). One active model per kind. No key is ever stored here.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::{invalid, CoreError, CoreResult};
use crate::Database;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub id: i64,
    pub name: String,
    /// `dashscope` or `openai`.
    pub provider: String,
    pub model_id: String,
    /// `text`, `vision`, `image` or `video`.
    pub kind: String,
    pub base_url: Option<String>,
    pub params: serde_json::Value,
    pub is_active: bool,
    pub builtin: bool,
}

/// What the writer types in the model form.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelInput {
    pub name: String,
    pub provider: String,
    pub model_id: String,
    pub kind: String,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub params: serde_json::Value,
}

fn validate(m: &ModelInput) -> CoreResult<String> {
    let text_ok = |s: &str, max: usize| {
        !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    if !text_ok(&m.name, 60) {
        return Err(invalid("name", "1 to 60 characters, no control characters"));
    }
    if !text_ok(&m.model_id, 100) || m.model_id.chars().any(char::is_whitespace) {
        return Err(invalid(
            "model_id",
            "1 to 100 characters, no spaces or control characters",
        ));
    }
    if !matches!(m.provider.as_str(), "dashscope" | "openai") {
        return Err(invalid("provider", "dashscope or openai"));
    }
    if !matches!(m.kind.as_str(), "text" | "vision" | "image" | "video") {
        return Err(invalid("kind", "text, vision, image or video"));
    }
    if m.provider == "openai" && !matches!(m.kind.as_str(), "text" | "vision") {
        return Err(invalid(
            "kind",
            "OpenAI-compatible endpoints do text and vision only",
        ));
    }
    if let Some(url) = &m.base_url {
        let lower = url.trim().to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://"))
            || url.len() > 300
            || url.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(invalid("base_url", "must be an http(s) URL"));
        }
    }
    let params = match &m.params {
        serde_json::Value::Null => "{}".to_string(),
        v @ serde_json::Value::Object(_) => v.to_string(),
        _ => return Err(invalid("params", "must be a JSON object")),
    };
    if params.len() > 4096 {
        return Err(invalid("params", "too large"));
    }
    Ok(params)
}

fn row_to_model(r: &sqlx::sqlite::SqliteRow) -> CoreResult<ModelConfig> {
    Ok(ModelConfig {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        provider: r.try_get("provider")?,
        model_id: r.try_get("model_id")?,
        kind: r.try_get("kind")?,
        base_url: r.try_get("base_url")?,
        params: serde_json::from_str(r.try_get("params_json")?)
            .map_err(|e| CoreError::Corrupt(e.to_string()))?,
        is_active: r.try_get("is_active")?,
        builtin: r.try_get("builtin")?,
    })
}

const COLUMNS: &str =
    "id, name, provider, model_id, kind, base_url, params_json, is_active, builtin";

pub async fn list_models(db: &Database) -> CoreResult<Vec<ModelConfig>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM ai_models ORDER BY kind, builtin DESC, id"
    ))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_model).collect()
}

pub async fn get_model(db: &Database, id: i64) -> CoreResult<ModelConfig> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} FROM ai_models WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(invalid("model", "unknown model"))?;
    row_to_model(&r)
}

/// The active model of a kind.
pub async fn active_model(db: &Database, kind: &str) -> CoreResult<Option<ModelConfig>> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM ai_models WHERE kind = ? AND is_active = 1"
    ))
    .bind(kind)
    .fetch_optional(db)
    .await?;
    r.as_ref().map(row_to_model).transpose()
}

fn duplicate(e: sqlx::Error) -> CoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            invalid("model_id", "this model is already configured")
        }
        _ => e.into(),
    }
}

pub async fn add_model(db: &Database, m: &ModelInput, now_ms: i64) -> CoreResult<ModelConfig> {
    let params = validate(m)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ai_models (name, provider, model_id, kind, base_url, params_json, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.name.trim())
    .bind(&m.provider)
    .bind(m.model_id.trim())
    .bind(&m.kind)
    .bind(m.base_url.as_deref().map(str::trim))
    .bind(params)
    .bind(now_ms)
    .fetch_one(db)
    .await
    .map_err(duplicate)?;
    get_model(db, id).await
}

pub async fn update_model(db: &Database, id: i64, m: &ModelInput) -> CoreResult<ModelConfig> {
    let params = validate(m)?;
    let current = get_model(db, id).await?;
    if current.kind != m.kind && current.is_active {
        return Err(invalid(
            "kind",
            "deactivate the model before changing its kind",
        ));
    }
    sqlx::query("UPDATE ai_models SET name = ?, provider = ?, model_id = ?, kind = ?, base_url = ?, params_json = ? WHERE id = ?")
        .bind(m.name.trim())
        .bind(&m.provider)
        .bind(m.model_id.trim())
        .bind(&m.kind)
        .bind(m.base_url.as_deref().map(str::trim))
        .bind(params)
        .bind(id)
        .execute(db)
        .await
        .map_err(duplicate)?;
    get_model(db, id).await
}

/// Makes `id` the active model of its kind (the previous one steps down).
pub async fn activate_model(db: &Database, id: i64) -> CoreResult<ModelConfig> {
    let m = get_model(db, id).await?;
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("UPDATE ai_models SET is_active = 0 WHERE kind = ? AND is_active = 1")
        .bind(&m.kind)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE ai_models SET is_active = 1 WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get_model(db, id).await
}

/// Deletes a model the writer added; built-in and active ones stay.
pub async fn delete_model(db: &Database, id: i64) -> CoreResult<()> {
    let m = get_model(db, id).await?;
    if m.builtin {
        return Err(invalid("model", "built-in models cannot be deleted"));
    }
    if m.is_active {
        return Err(invalid("model", "activate another model first"));
    }
    sqlx::query("DELETE FROM ai_models WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(model_id: &str) -> ModelInput {
        ModelInput {
            name: "我的模型".into(),
            provider: "openai".into(),
            model_id: model_id.into(),
            kind: "text".into(),
            base_url: Some("http://127.0.0.1:11434/v1".into()),
            params: serde_json::json!({"temperature": 0.7}),
        }
    }

    #[tokio::test]
    async fn seeded_models_add_edit_activate_delete() {
        let db = crate::open_in_memory().await.unwrap();
        let all = list_models(&db).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|m| m.model_id.as_str()).collect();
        for seeded in [
            "qwen-turbo",
            "qwen-plus",
            "qwen-max",
            "qwen-vl-plus",
            "wanx2.1-t2i-turbo",
            "wanx2.1-t2v-turbo",
        ] {
            assert!(ids.contains(&seeded), "{seeded}");
        }
        assert_eq!(
            active_model(&db, "text").await.unwrap().unwrap().model_id,
            "qwen-plus"
        );
        let mine = add_model(&db, &input("qwen2.5:7b"), 1).await.unwrap();
        assert_eq!(
            add_model(&db, &input("qwen2.5:7b"), 1)
                .await
                .unwrap_err()
                .kind(),
            "invalid_input",
            "duplicate"
        );
        activate_model(&db, mine.id).await.unwrap();
        assert_eq!(
            active_model(&db, "text").await.unwrap().unwrap().id,
            mine.id
        );
        assert_eq!(
            list_models(&db)
                .await
                .unwrap()
                .iter()
                .filter(|m| m.kind == "text" && m.is_active)
                .count(),
            1
        );
        assert!(delete_model(&db, mine.id).await.is_err(), "active");
        let edited = update_model(
            &db,
            mine.id,
            &ModelInput {
                name: "本地千问".into(),
                ..input("qwen2.5:14b")
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (edited.name.as_str(), edited.model_id.as_str()),
            ("本地千问", "qwen2.5:14b")
        );
        let plus = all.iter().find(|m| m.model_id == "qwen-plus").unwrap();
        activate_model(&db, plus.id).await.unwrap();
        delete_model(&db, mine.id).await.unwrap();
        assert!(delete_model(&db, plus.id).await.is_err(), "built-in");
    }

    #[tokio::test]
    async fn bad_model_input_is_refused() {
        let db = crate::open_in_memory().await.unwrap();
        let before = list_models(&db).await.unwrap();
        for bad in [
            ModelInput {
                model_id: "qwen\u{0}".into(),
                ..input("x")
            },
            ModelInput {
                model_id: "has space".into(),
                ..input("x")
            },
            ModelInput {
                name: "".into(),
                ..input("x")
            },
            ModelInput {
                provider: "skynet".into(),
                ..input("x")
            },
            ModelInput {
                base_url: Some("file:///etc/passwd".into()),
                ..input("x")
            },
            ModelInput {
                kind: "image".into(),
                ..input("x")
            },
            ModelInput {
                params: serde_json::json!([1]),
                ..input("x")
            },
        ] {
            assert_eq!(
                add_model(&db, &bad, 1).await.unwrap_err().kind(),
                "invalid_input",
                "{bad:?}"
            );
        }
        assert_eq!(list_models(&db).await.unwrap(), before);
    }
}
