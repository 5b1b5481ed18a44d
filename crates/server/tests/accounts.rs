//! Signing back in to a purchase account and claiming credit receipts per installation
//! (issue 14), over HTTP. SQLite by default; PostgreSQL when DATABASE_URL is set
//! (scripts/checks/20-server-postgres.sh).

use inkstone_server::{start, Config, RunningServer};
use serde_json::{json, Value};

mod support;
use support::{database_url, register, Client};

/// A name no other test uses: on PostgreSQL every test shares one database.
fn uniq(base: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{base}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn server() -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_url(dir.path());
    let config = Config {
        bind: ([127, 0, 0, 1], 0).into(),
        public_url: String::new(),
        database_url,
        receipt_key_file: Some(dir.path().join("key.b64")),
        sandbox_secret: Some("test-sandbox-secret".into()),
        sandbox: true,
        ..Config::default()
    };
    (start(config).await.unwrap(), dir)
}

/// `POST /v1/sessions` without a token.
async fn sign_in(s: &RunningServer, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/sessions", s.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

impl Client {
    fn with_token(&self, token: &str) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token: token.into(),
            account_id: self.account_id.clone(),
        }
    }
    async fn set_credentials(&self, name: &str, password: &str) -> (u16, Value) {
        self.put(
            "/v1/account/credentials",
            json!({"login_name": name, "password": password}),
        )
        .await
    }
    /// Buys `sku` in the sandbox and returns its order number once paid.
    async fn buy(&self, sku: &str) -> String {
        let (status, order) = self
            .post("/v1/orders", json!({"sku": sku, "provider": "sandbox"}))
            .await;
        assert_eq!(status, 201, "{order}");
        let qr = order["qr_payload"].as_str().unwrap();
        let r = reqwest::Client::new()
            .post(format!("{qr}/confirm"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        order["order_no"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn an_account_with_a_name_and_password_can_be_signed_back_in_to() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let mail = uniq("writer") + "@example.com";
    let (status, account) = c.get("/v1/account").await;
    assert_eq!(status, 200);
    assert_eq!(account["account_id"], json!(c.account_id));
    assert_eq!(account["has_credentials"], json!(false));
    assert_eq!(account["purchases"], json!(0));

    let (status, set) = c
        .set_credentials(&format!("  {} ", mail.to_uppercase()), "correct horse")
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["login_name"], json!(mail));
    let code = set["recovery_code"].as_str().unwrap().to_string();

    // Another computer: the name (any case) and password give a fresh token of the same account.
    let (status, session) = sign_in(
        &s,
        json!({"login_name": mail.to_uppercase(), "password": "correct horse"}),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["account_id"], json!(c.account_id));
    let other = c.with_token(session["token"].as_str().unwrap());
    assert_ne!(other.token, c.token);
    let (_, seen) = other.get("/v1/account").await;
    assert_eq!(seen["account_id"], json!(c.account_id));
    assert_eq!(seen["login_name"], json!(mail));

    // The recovery code signs in once.
    let (status, by_code) = sign_in(&s, json!({"recovery_code": code.to_lowercase()})).await;
    assert_eq!(status, 201, "{by_code}");
    assert_eq!(by_code["account_id"], json!(c.account_id));
    let (status, again) = sign_in(&s, json!({"recovery_code": code})).await;
    assert_eq!(
        (status, again["kind"].as_str()),
        (401, Some("bad_credentials"))
    );
    // The server keeps no password or code in clear: only an argon2id hash shows in answers.
    assert!(!set.to_string().contains("correct horse"));
}

#[tokio::test]
async fn bad_credentials_and_taken_names_are_typed_errors_that_change_nothing() {
    let (s, _dir) = server().await;
    let writer = uniq("writer");
    let a = register(&s).await;
    let b = register(&s).await;
    assert_eq!(a.set_credentials(&writer, "password-a").await.0, 200);
    let (status, taken) = b
        .set_credentials(&writer.to_uppercase(), "password-b")
        .await;
    assert_eq!((status, taken["kind"].as_str()), (409, Some("name_taken")));
    for (name, password) in [
        ("", "password-b"),
        ("ok-name", "short"),
        (&"x".repeat(65) as &str, "password-b"),
    ] {
        let (status, bad) = b.set_credentials(name, password).await;
        assert_eq!(
            (status, bad["kind"].as_str()),
            (400, Some("bad_request")),
            "{name}"
        );
    }
    let (_, b_account) = b.get("/v1/account").await;
    assert_eq!(b_account["has_credentials"], json!(false));
    // A's password still works, B's never did.
    assert_eq!(
        sign_in(&s, json!({"login_name": writer, "password": "password-a"}))
            .await
            .0,
        201
    );
    assert_eq!(
        sign_in(&s, json!({"login_name": writer, "password": "password-b"}))
            .await
            .0,
        401
    );
    assert_eq!(
        sign_in(
            &s,
            json!({"login_name": uniq("nobody"), "password": "password-b"})
        )
        .await
        .0,
        401
    );
    assert_eq!(sign_in(&s, json!({"login_name": writer})).await.0, 400);
    assert_eq!(b.with_token("not-a-token").get("/v1/account").await.0, 401);
}

#[tokio::test]
async fn five_wrong_passwords_make_the_next_attempt_wait_even_with_the_right_one() {
    let (s, _dir) = server().await;
    let writer = uniq("writer");
    let c = register(&s).await;
    c.set_credentials(&writer, "the-right-one").await;
    for _ in 0..5 {
        let (status, _) = sign_in(&s, json!({"login_name": writer, "password": "wrong-one"})).await;
        assert_eq!(status, 401);
    }
    let (status, wait) = sign_in(
        &s,
        json!({"login_name": writer, "password": "the-right-one"}),
    )
    .await;
    assert_eq!(
        (status, wait["kind"].as_str()),
        (429, Some("too_many_attempts"))
    );
    let secs = wait["retry_after_secs"].as_i64().unwrap();
    assert!((1..=30).contains(&secs), "{secs}");
    // Another account's name from the same address is not locked by these five.
    let other = register(&s).await;
    let other_name = uniq("other-writer");
    other.set_credentials(&other_name, "other-password").await;
    let (status, _) = sign_in(
        &s,
        json!({"login_name": other_name, "password": "other-password"}),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn signing_out_everywhere_revokes_every_token_of_the_account() {
    let (s, _dir) = server().await;
    let writer = uniq("writer");
    let c = register(&s).await;
    let bystander = register(&s).await;
    c.set_credentials(&writer, "password-1").await;
    let (_, session) = sign_in(&s, json!({"login_name": writer, "password": "password-1"})).await;
    let second = c.with_token(session["token"].as_str().unwrap());
    assert_eq!(second.post("/v1/sessions/revoke", json!({})).await.0, 204);
    assert_eq!(c.get("/v1/account").await.0, 401);
    assert_eq!(second.get("/v1/account").await.0, 401);
    assert_eq!(bystander.get("/v1/account").await.0, 200);
    // Signing in again works and sees the same account.
    let (_, fresh) = sign_in(&s, json!({"login_name": writer, "password": "password-1"})).await;
    assert_eq!(fresh["account_id"], json!(c.account_id));
}

#[tokio::test]
async fn a_credit_receipt_is_claimed_by_one_installation_and_memberships_are_never_claimed() {
    let (s, _dir) = server().await;
    let c = register(&s).await;
    let credits = c.buy("credits_100").await;
    let membership = c.buy("member_month").await;
    let (_, account) = c.get("/v1/account").await;
    assert_eq!(account["purchases"], json!(2));

    let claim = |who: &'static str, no: String| {
        let c = c.with_token(&c.token);
        async move {
            c.post(
                &format!("/v1/receipts/{no}/claim"),
                json!({"installation_id": who}),
            )
            .await
        }
    };
    let (status, first) = claim("install-first-0001", credits.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["claimed_here"], json!(true));
    // Idempotent for the same installation, at the same time as first recorded.
    let (_, again) = claim("install-first-0001", credits.clone()).await;
    assert_eq!(again, first);
    // Another installation is told where it went, and when.
    let (_, elsewhere) = claim("install-second-02", credits.clone()).await;
    assert_eq!(elsewhere["claimed_here"], json!(false));
    assert_eq!(elsewhere["claimed_at_ms"], first["claimed_at_ms"]);

    let (status, refused) = claim("install-first-0001", membership).await;
    assert_eq!(
        (status, refused["kind"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, _) = claim("bad id", credits.clone()).await;
    assert_eq!(status, 400);
    // Another account cannot claim (or learn of) this receipt.
    let stranger = register(&s).await;
    let (status, _) = stranger
        .post(
            &format!("/v1/receipts/{credits}/claim"),
            json!({"installation_id": "install-third-003"}),
        )
        .await;
    assert_eq!(status, 404);
}
