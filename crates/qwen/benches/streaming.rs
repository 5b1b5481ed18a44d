//! Streaming benchmarks (issue 4). Prints `| area | measurement | value | target |`.
//! 1. SSE parsing throughput on a large recorded DashScope stream, next to the
//!    `eventsource-stream` crate on the same bytes.
//! 2. Added latency from a frame leaving a loopback server to its event
//!    reaching the caller of `chat_stream`, p50/p99.
//! 3. Resident memory while streaming 100,000 tokens from the fake.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use inkstone_qwen::sse::Parser;
use inkstone_qwen::{ChatEvent, ChatMessage, ChatParams, ChatProvider, DashScope, Settings};

fn row(measurement: &str, value: String, target: &str) {
    println!("| qwen | {measurement} | {value} | {target} |");
}

fn recorded_stream(frames: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 1..=frames {
        out.push_str(&format!(
            "id:{i}\nevent:result\n:HTTP_STATUS/200\ndata:{{\"output\":{{\"choices\":[{{\"message\":{{\"content\":\"春天来了\",\"role\":\"assistant\"}},\"finish_reason\":\"null\"}}]}},\"usage\":{{\"total_tokens\":{},\"output_tokens\":{i},\"input_tokens\":26}},\"request_id\":\"d30a0d5e-8c6e-9d6b-a5b5-3b1a1a1a1a1a\"}}\n\n",
            26 + i
        ));
    }
    out.into_bytes()
}

async fn parse_throughput() {
    let bytes = recorded_stream(100_000);
    let mb = bytes.len() as f64 / 1e6;
    let chunks: Vec<bytes::Bytes> = bytes
        .chunks(1460)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut parser = Parser::new();
        let mut events = Vec::new();
        let mut count = 0usize;
        for c in &chunks {
            parser.feed(c, &mut events);
            count += events.len();
            events.clear();
        }
        parser.finish(&mut events);
        count += events.len();
        assert_eq!(count, 100_000);
        ours.push(start.elapsed());

        use eventsource_stream::Eventsource;
        let start = Instant::now();
        let stream =
            futures_util::stream::iter(chunks.iter().cloned().map(Ok::<_, std::io::Error>));
        let count = stream
            .eventsource()
            .fold(0usize, |n, e| async move { n + usize::from(e.is_ok()) })
            .await;
        assert_eq!(count, 100_000);
        theirs.push(start.elapsed());
    }
    ours.sort();
    theirs.sort();
    let (o, t) = (ours[2].as_secs_f64(), theirs[2].as_secs_f64());
    row(
        "SSE parse, 100k DashScope frames: inkstone (median of 5)",
        format!("{:.0} MB/s", mb / o),
        "-",
    );
    row(
        "SSE parse, same bytes: eventsource-stream 0.2",
        format!("{:.0} MB/s", mb / t),
        "-",
    );
    row(
        "SSE parse speed, inkstone / eventsource-stream",
        format!("{:.2}x", t / o),
        ">= 1.0x",
    );
}

/// A loopback server that stamps each frame with the time it was written.
async fn latency() {
    use axum::body::Body;
    use axum::routing::post;
    let base = Instant::now();
    let app = axum::Router::new().route(
        "/api/v1/services/aigc/text-generation/generation",
        post(move || async move {
            let stream = futures_util::stream::unfold(0u32, move |i| async move {
                if i > 2000 {
                    return None;
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
                let (content, finish) = if i == 2000 { (String::new(), "stop") } else { (format!("{}", base.elapsed().as_nanos()), "null") };
                let frame = format!(
                    "id:{i}\nevent:result\n:HTTP_STATUS/200\ndata:{{\"output\":{{\"choices\":[{{\"message\":{{\"content\":\"{content}\",\"role\":\"assistant\"}},\"finish_reason\":\"{finish}\"}}]}},\"usage\":{{\"output_tokens\":{i},\"input_tokens\":1}}}}\n\n"
                );
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(frame)), i + 1))
            });
            Body::from_stream(stream)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = DashScope::new(&url, "sk-bench", Settings::default()).expect("client");
    let mut stream = client.chat_stream(
        "qwen-plus",
        &[ChatMessage::new("user", "x")],
        &ChatParams::default(),
    );
    let mut lat = Vec::new();
    while let Some(Ok(event)) = stream.next().await {
        if let ChatEvent::Delta(t) = event {
            if let Ok(sent) = t.parse::<u128>() {
                lat.push(base.elapsed().as_nanos().saturating_sub(sent));
            }
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1e6;
    row(
        "frame written → event delivered, loopback, 2000 frames: p50",
        format!("{:.3} ms", pct(0.5)),
        "-",
    );
    row(
        "frame written → event delivered, loopback, 2000 frames: p99",
        format!("{:.3} ms", pct(0.99)),
        "< 1 ms",
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn memory() {
    let fake = inkstone_fake_dashscope::spawn(inkstone_fake_dashscope::FakeConfig {
        reply_tokens: 100_000,
        ..Default::default()
    })
    .await
    .expect("fake");
    let client = DashScope::new(
        &fake.base_url,
        inkstone_fake_dashscope::DEFAULT_KEY,
        Settings::default(),
    )
    .expect("client");
    let mut stream = client.chat_stream(
        "qwen-plus",
        &[ChatMessage::new("user", "长篇")],
        &ChatParams::default(),
    );
    let (mut n, mut at_10k) = (0usize, 0u64);
    let before = rss_kib();
    while let Some(Ok(event)) = stream.next().await {
        if matches!(event, ChatEvent::Delta(_)) {
            n += 1;
            if n == 10_000 {
                at_10k = rss_kib();
            }
        }
    }
    let after = rss_kib();
    row(
        &format!("RSS streaming {n} tokens: start / at 10k / at end"),
        format!(
            "{} / {} / {} MiB",
            before / 1024,
            at_10k / 1024,
            after / 1024
        ),
        "flat",
    );
}

#[tokio::main]
async fn main() {
    parse_throughput().await;
    latency().await;
    memory().await;
}
