//! Provider message verification cost (issue 6). Prints
//! `| area | measurement | value | target |`. Run with
//! `cargo bench -p inkstone-pay --features testkit`.

use std::time::Instant;

use inkstone_pay::alipay::App;
use inkstone_pay::receipt::{Credits, Fen, Purchase, Receipt, ReceiptSigner, TrustedKeys};
use inkstone_pay::testkit::*;
use inkstone_pay::wechat::Merchant;

fn row(measurement: &str, value: String, target: &str) {
    println!("| pay | {measurement} | {value} | {target} |");
}

fn rate(n: usize, f: impl Fn(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut m = Merchant::new(
        WECHAT_MCHID,
        WECHAT_APPID,
        "S",
        WECHAT_MERCHANT_PRIVATE,
        WECHAT_APIV3_KEY,
    )
    .expect("merchant");
    m.add_platform_public_key(WECHAT_PUB_KEY_ID, WECHAT_PLATFORM_PUBLIC)
        .expect("key");
    let now = 1_795_000_000;
    let (h, body) = WechatPlatform::default().notification(
        &wechat_transaction("IK20261125BENCH001", Fen::new(1000).expect("positive")),
        now,
    );
    let r = rate(5_000, |_| {
        let t = m.notification(&h, &body, now).expect("verify");
        m.paid(&t).expect("paid");
    });
    row(
        "WeChat notification: verify RSA + decrypt AES-GCM + parse, one core",
        format!("{r:.0}/s"),
        ">= 2000/s",
    );

    let mut app = App::new(ALIPAY_APP_ID, ALIPAY_APP_PRIVATE, ALIPAY_PLATFORM_PUBLIC).expect("app");
    // Notifications must name our seller (2d6ce65); without it every one is refused.
    app.seller_id = Some(ALIPAY_SELLER_ID.into());
    let form =
        AlipayPlatform::default().notify_body(&alipay_paid_params("IK20261125BENCH002", "10.00"));
    let r = rate(5_000, |_| {
        let n = app.verify_notify(&form).expect("verify");
        app.paid_from_notify(&n).expect("paid");
    });
    row(
        "Alipay notification: decode form + verify RSA + parse, one core",
        format!("{r:.0}/s"),
        ">= 2000/s",
    );

    let signer = ReceiptSigner::from_secret_bytes([3; 32]);
    let keys = TrustedKeys::new([signer.public_key()]);
    let receipt = Receipt {
        order_no: "IK20261125BENCH003".parse().expect("order number"),
        account_id: "acct_bench".into(),
        purchase: Purchase::Credits {
            sku: "credits_100".into(),
            credits: Credits::new(100),
            bonus_credits: Credits::new(10),
        },
        amount_fen: Fen::new(1000).expect("positive"),
        currency: "CNY".into(),
        provider: "wechat".into(),
        provider_txn_id: "4200000000".into(),
        paid_at: chrono::DateTime::from_timestamp(now, 0).expect("time"),
    };
    let r = rate(20_000, |_| {
        signer.sign(receipt.clone()).expect("sign");
    });
    row("Ed25519 receipt signing", format!("{r:.0}/s"), "-");
    let signed = signer.sign(receipt).expect("sign");
    let r = rate(20_000, |_| {
        keys.verify(&signed).expect("verify");
    });
    row("Ed25519 receipt verification", format!("{r:.0}/s"), "-");
}
