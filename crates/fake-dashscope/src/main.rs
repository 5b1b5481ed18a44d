//! `fake-dashscope --port 8765 [--key sk-…] [--tokens-per-second 50]`: the
//! fake as a process, for the Python SDK check and manual runs.

use std::time::Duration;

use inkstone_fake_dashscope::{spawn_on, FakeConfig};

#[tokio::main]
async fn main() {
    let mut config = FakeConfig::default();
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().unwrap_or(0),
            "--key" => config.api_key = value,
            "--tokens-per-second" => config.tokens_per_second = value.parse().unwrap_or(0.0),
            "--first-token-ms" => {
                config.first_token_latency = Duration::from_millis(value.parse().unwrap_or(0))
            }
            _ => {
                eprintln!("usage: fake-dashscope --port N [--key K] [--tokens-per-second R] [--first-token-ms MS]");
                std::process::exit(2);
            }
        }
    }
    match spawn_on(config, ([127, 0, 0, 1], port).into()).await {
        Ok(handle) => {
            println!("{}", handle.base_url);
            let _ = tokio::signal::ctrl_c().await;
        }
        Err(e) => {
            eprintln!("cannot start: {e}");
            std::process::exit(1);
        }
    }
}
