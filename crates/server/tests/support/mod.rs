//! What the endpoint's HTTP tests share: the database they run on and a signed-in client.
// Each test file uses some of these, never all.
#![allow(dead_code)]

use inkstone_server::RunningServer;
use serde_json::Value;

/// SQLite in `dir` by default; the PostgreSQL of `DATABASE_URL` when it is set
/// (scripts/checks/20-server-postgres.sh).
pub fn database_url(dir: &std::path::Path) -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.join("server.db").display()))
}

/// A desktop's account at the endpoint: every request carries its bearer token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub account_id: String,
}

/// Registers a new account.
pub async fn register(s: &RunningServer) -> Client {
    let http = reqwest::Client::new();
    let r: Value = http
        .post(format!("{}/v1/accounts", s.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Client {
        http,
        base: s.base_url.clone(),
        token: r["token"].as_str().unwrap().into(),
        account_id: r["account_id"].as_str().unwrap().into(),
    }
}

impl Client {
    /// Sends with the token; the status and the JSON answer (`Null` when there is none).
    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.bearer_auth(&self.token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(&body))
            .await
    }
}
