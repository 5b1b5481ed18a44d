//! The shipped binary refuses launch options it cannot honour before it opens a window or
//! touches a data folder: a writer who mistypes a flag gets one clear line and exit code 2.
//!
//! (This file also makes `cargo test --workspace` build the app binary with the workspace's
//! features, so the E2E suite drives that very binary instead of compiling the shell again.)

use std::process::Command;

fn app() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_inkstone-app"));
    // Nothing from the developer's environment may change what is tested here.
    for var in [
        "INKSTONE_DATA_DIR",
        "INKSTONE_PAYMENT_SERVER_URL",
        "INKSTONE_PAYMENT_SERVER_KEYS",
        "INKSTONE_DEMO",
    ] {
        command.env_remove(var);
    }
    command
}

#[test]
fn a_payment_server_without_pinned_keys_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = app()
        .args(["--data-dir", data.to_str().unwrap()])
        .args(["--payment-server", "https://pay.example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INKSTONE_PAYMENT_SERVER_KEYS"), "{stderr}");
    assert!(
        !data.exists(),
        "no data folder is created for a refused launch"
    );
}

#[test]
fn malformed_receipt_keys_and_an_empty_data_folder_are_refused() {
    for args in [
        vec![
            "--payment-server",
            "https://pay.example.com",
            "--payment-keys",
            "no-colon",
        ],
        vec!["--data-dir", ""],
        vec!["--data-dir"],
    ] {
        let out = app().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("inkstone: "),
            "{args:?}: {out:?}"
        );
    }
}
