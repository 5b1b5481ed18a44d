//! Issue 14, item 4: a new user, as a release runs (no `--demo`), against the real payment
//! endpoint binary (sandbox enabled explicitly, its keys pinned with `--payment-keys`, test
//! money allowed with the debug-only `--sandbox-payments`). Buys credits and a membership
//! by reading the QR code, names the purchase account and keeps its recovery code; a second
//! installation (empty data folder, so a new keychain namespace too) signs in and restores:
//! the membership follows, the credits are not credited twice and the page says where they
//! went. Then sign out everywhere, sign in with the recovery code, and five wrong passwords
//! slow the next attempt, said in the writer's language.

use fantoccini::Client;

use super::{
    balance, click, confirm_payment, ensure_eq, free_port, open_settings, recorded,
    release_session, scan, shot, signed_in_as, text_of, type_into, wait_css, wait_text, Endpoint,
    Notifications, R,
};

const ACCOUNT_NAME: &str = "writer@example.com";
const ACCOUNT_PASSWORD: &str = "purchase-Passw0rd";

async fn first_profile(c: &Client, name: &str) -> R<()> {
    wait_css(c, "[data-testid=welcome-title]").await?;
    type_into(c, "[data-testid=login-username]", name).await?;
    type_into(c, "[data-testid=login-password]", "Tr0ub4dor&3").await?;
    type_into(c, "[data-testid=login-password2]", "Tr0ub4dor&3").await?;
    click(c, "[data-testid=login-submit]").await?;
    signed_in_as(c, name).await?;
    balance(c, "0").await
}

/// A screenshot for a person to look at, with `css` in view, once the window has painted
/// what the DOM already holds (WebKitGTK under Xvfb repaints a little after a change).
async fn look(c: &Client, css: &str, name: &str) -> R<()> {
    c.execute(
        "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'})",
        vec![serde_json::json!(css)],
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    shot(c, name).await?;
    Ok(())
}

async fn pay_by_qr(c: &Client, shot_name: &str) -> R<()> {
    let url = scan(c, shot_name).await?;
    confirm_payment(&url).await?;
    wait_css(c, "[data-testid=pay-success]").await?;
    Ok(())
}

async fn sign_in_with_password(c: &Client, password: &str) -> R<()> {
    click(c, "[data-testid=pa-signin-with-password]").await?;
    type_into(c, "[data-testid=pa-signin-name]", ACCOUNT_NAME).await?;
    type_into(c, "[data-testid=pa-signin-password]", password).await?;
    click(c, "[data-testid=pa-signin-submit]").await
}

/// The text of an error alert that appeared since the last call. Each attempt takes the
/// alert away and shows a new one (the same text for the same refusal), so the one read is
/// marked and only an unmarked one counts.
async fn next_error(c: &Client) -> R<String> {
    for _ in 0..300 {
        let read = c
            .execute(
                "const e = document.querySelector('[data-testid=pa-error]:not([data-seen])'); \
                 if (!e || !e.innerText.trim()) return null; \
                 e.setAttribute('data-seen', '1'); return e.innerText.trim()",
                vec![],
            )
            .await?;
        if let Some(text) = read.as_str() {
            return Ok(text.to_owned());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err("no new error alert".into())
}

#[tokio::test]
#[ignore = "needs a display, tauri-driver, the built app and server: scripts/checks/50-e2e.sh"]
async fn a_new_user_buys_names_the_purchase_account_and_restores_it_on_a_second_installation(
) -> R<()> {
    let server_dir = tempfile::tempdir()?;
    let endpoint = Endpoint::start(server_dir.path(), free_port()?)?;
    endpoint.ready().await?;
    let args = vec![
        "--payment-server".to_string(),
        endpoint.url(),
        "--payment-keys".to_string(),
        endpoint.pinned_keys().await?,
        "--sandbox-payments".to_string(),
    ];
    Notifications::get()?.take();

    // The first installation: a new user buys credits and a month, then names the account.
    let first = tempfile::tempdir()?;
    let c = release_session(first.path(), &args).await?;
    let mut code = String::new();
    let mut account_id = String::new();
    let outcome = recorded(&c, "pa-first", || async {
        first_profile(&c, "writer").await?;
        click(&c, "[data-testid=nav-recharge]").await?;
        click(&c, "[data-testid=package-credits_100]").await?;
        click(&c, "[data-testid=provider-sandbox]").await?;
        click(&c, "[data-testid=buy]").await?;
        pay_by_qr(&c, "70-pa-credits-qr").await?;
        balance(&c, "110").await?;
        // Offered at the first purchase: the account has no name and password yet.
        wait_css(&c, "[data-testid=pa-offer]").await?;
        look(&c, "[data-testid=pa-offer]", "71-pa-offered").await?;
        click(&c, "[data-testid=nav-membership]").await?;
        click(&c, "[data-testid=plan-member_month]").await?;
        click(&c, "[data-testid=provider-sandbox]").await?;
        click(&c, "[data-testid=buy-member]").await?;
        pay_by_qr(&c, "72-pa-member-qr").await?;
        wait_text(&c, "[data-testid=member-status]", |t| {
            t.contains("会员有效期至")
        })
        .await?;

        open_settings(&c, "account").await?;
        type_into(&c, "[data-testid=pa-set-name]", ACCOUNT_NAME).await?;
        type_into(&c, "[data-testid=pa-set-password]", ACCOUNT_PASSWORD).await?;
        type_into(&c, "[data-testid=pa-set-password2]", ACCOUNT_PASSWORD).await?;
        click(&c, "[data-testid=pa-set-submit]").await?;
        // Shown once: the writer notes it down.
        code = wait_text(&c, "[data-testid=pa-recovery-code]", |t| t.len() == 39).await?;
        wait_text(&c, "[data-testid=pa-login-name]", |t| t == ACCOUNT_NAME).await?;
        account_id = wait_text(&c, "[data-testid=pa-account-id]", |t| !t.is_empty()).await?;
        look(&c, "[data-testid=pa-recovery]", "73-pa-recovery-code").await?;
        click(&c, "[data-testid=pa-recovery-kept]").await?;
        ensure_eq(
            text_of(&c, "[data-testid=pa-recovery-code]").await?,
            None,
            "the recovery code after it was kept",
        )?;
        Ok(())
    })
    .await;
    c.close().await?;
    outcome?;

    // The second installation: an empty data folder (and so its own keychain namespace).
    let second = tempfile::tempdir()?;
    let c = release_session(second.path(), &args).await?;
    let outcome = recorded(&c, "pa-second", || async {
        first_profile(&c, "writer").await?;
        click(&c, "[data-testid=nav-recharge]").await?;
        // No purchase account here yet: restoring asks to sign in to it first.
        click(&c, "[data-testid=restore-purchases]").await?;
        wait_css(&c, "[data-testid=pa-signin-submit]").await?;
        sign_in_with_password(&c, ACCOUNT_PASSWORD).await?;
        // Signed in, the restore runs: the month arrives, the credits were credited on the
        // first computer and are listed, not credited again.
        let listed = wait_text(&c, "[data-testid=purchases-elsewhere]", |t| {
            t.contains("在另一台电脑上到账")
        })
        .await?;
        if !listed.contains("110 积分") {
            return Err(format!("the package listed: {listed:?}").into());
        }
        look(
            &c,
            "[data-testid=purchases-elsewhere]",
            "74-pa-restored-elsewhere",
        )
        .await?;
        balance(&c, "0").await?;
        // Restoring again credits nothing either.
        click(&c, "[data-testid=restore-purchases]").await?;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        balance(&c, "0").await?;
        click(&c, "[data-testid=nav-membership]").await?;
        wait_text(&c, "[data-testid=member-status]", |t| {
            t.contains("会员有效期至")
        })
        .await?;

        // Sign out everywhere, then back in with the recovery code.
        open_settings(&c, "account").await?;
        wait_text(&c, "[data-testid=pa-account-id]", |t| t == account_id).await?;
        click(&c, "[data-testid=pa-sign-out-everywhere]").await?;
        click(&c, "[data-testid=pa-sign-out-confirm]").await?;
        wait_css(&c, "[data-testid=pa-not-signed-in]").await?;
        click(&c, "[data-testid=pa-signin-with-code]").await?;
        type_into(&c, "[data-testid=pa-signin-code]", &code).await?;
        click(&c, "[data-testid=pa-signin-submit]").await?;
        wait_text(&c, "[data-testid=pa-notice]", |t| {
            t.contains("已登录购买账户")
        })
        .await?;
        wait_text(&c, "[data-testid=pa-login-name]", |t| t == ACCOUNT_NAME).await?;
        ensure_eq(
            text_of(&c, "[data-testid=pa-account-id]").await?,
            Some(account_id.clone()),
            "the account signed in to with the recovery code",
        )?;
        look(&c, "[data-testid=pa-account-id]", "75-pa-recovery-sign-in").await?;

        // Five wrong passwords: the sixth attempt waits, and the page says for how long.
        click(&c, "[data-testid=pa-sign-out-everywhere]").await?;
        click(&c, "[data-testid=pa-sign-out-confirm]").await?;
        wait_css(&c, "[data-testid=pa-not-signed-in]").await?;
        for attempt in 1..=5 {
            sign_in_with_password(&c, &format!("wrong-password-{attempt}")).await?;
            let error = next_error(&c).await?;
            if !error.contains("购买账户名或密码错误") {
                return Err(format!("attempt {attempt}: {error:?}").into());
            }
        }
        sign_in_with_password(&c, ACCOUNT_PASSWORD).await?;
        let slowed = next_error(&c).await?;
        if !(slowed.contains("失败次数过多") && slowed.contains("秒后再试")) {
            return Err(format!("the sixth attempt: {slowed:?}").into());
        }
        look(&c, "[data-testid=pa-error]", "76-pa-slowed").await?;
        Ok(())
    })
    .await;
    c.close().await?;
    Notifications::get()?.take();
    outcome
}
