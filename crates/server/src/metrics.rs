//! `/metrics` in the Prometheus text format (issue 13, item 4).
//!
//! Off unless chosen: served on its own address (`metrics_bind`, only `/metrics` there,
//! meant for a private interface) and/or on the main address behind a bearer token
//! (`metrics_token`, at least 16 characters). With neither set there is no route at all.
//!
//! Counters are per instance since its start (Prometheus sums instances); gauges of
//! orders and refunds by status are read from the shared database at each scrape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::app::AppState;

/// Upper bounds (seconds) of the provider-call latency histogram.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every counter, with its help text: listed even before its first event.
const COUNTERS: [(&str, &str); 5] = [
    (
        "inkstone_orders_created_total",
        "Orders created, by provider.",
    ),
    (
        "inkstone_orders_paid_total",
        "Orders this instance made paid (a receipt issued), by provider.",
    ),
    (
        "inkstone_orders_expired_total",
        "Pending orders this instance expired.",
    ),
    (
        "inkstone_notifications_accepted_total",
        "Provider notifications verified and taken (duplicates included), by provider.",
    ),
    (
        "inkstone_notifications_refused_total",
        "Provider notifications refused, by provider and reason (docs/server.md, runbook).",
    ),
];

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// `{k="v",…}` with the values escaped as the text format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .chars()
                .take(64)
                .flat_map(|c| match c {
                    '\\' => vec!['\\', '\\'],
                    '"' => vec!['\\', '"'],
                    '\n' => vec!['\\', 'n'],
                    c => vec![c],
                })
                .collect();
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A refused notification's reason, from its error text, as one of a fixed set of
/// labels (never the text itself: unbounded label values would be a memory leak).
pub fn refusal_reason(error_text: &str) -> &'static str {
    const REASONS: [(&str, &str); 17] = [
        ("missing header", "missing_header"),
        ("5-minute window", "stale"),
        ("stale or future timestamp", "stale"),
        ("bad timestamp", "stale"),
        ("probe signature", "probe"),
        ("no platform key with serial", "unknown_serial"),
        ("bad signature", "bad_signature"),
        ("cannot decrypt", "decrypt"),
        ("does not match this", "wrong_merchant"),
        ("unknown order", "unknown_order"),
        ("provider does not match the order", "provider_mismatch"),
        ("amount or currency does not match", "amount_mismatch"),
        ("provider transaction already used", "transaction_reused"),
        ("the sandbox is off", "sandbox_off"),
        ("not paid", "not_paid"),
        ("malformed", "malformed"),
        ("bad paid_at", "malformed"),
    ];
    REASONS
        .iter()
        .find(|(needle, _)| error_text.contains(needle))
        .map(|(_, label)| *label)
        .unwrap_or("other")
}

impl Metrics {
    pub fn inc(&self, name: &'static str, pairs: &[(&str, &str)]) {
        if let Ok(mut c) = self.counters.lock() {
            *c.entry((name, labels(pairs))).or_default() += 1;
        }
    }

    /// A counter's value (tests, and the log).
    pub fn get(&self, name: &'static str, pairs: &[(&str, &str)]) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|c| c.get(&(name, labels(pairs))).copied())
            .unwrap_or(0)
    }

    /// One call to a provider took `secs`.
    pub fn provider_call(&self, provider: &str, call: &str, secs: f64) {
        if let Ok(mut l) = self.latency.lock() {
            let h = l
                .entry(labels(&[("provider", provider), ("call", call)]))
                .or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.buckets[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// The text exposition: counters, the latency histogram, waiters, and the
    /// database's orders and refunds by status.
    pub async fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        let counters = self.counters.lock().map(|c| c.clone()).unwrap_or_default();
        for (name, help) in COUNTERS {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((n, l), v) in &counters {
                if *n == name {
                    let _ = writeln!(out, "{name}{l} {v}");
                }
            }
        }
        let name = "inkstone_provider_call_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Calls to WeChat Pay and Alipay, by provider and call.\n# TYPE {name} histogram"
        );
        let latency = self.latency.lock().map(|l| l.clone()).unwrap_or_default();
        for (l, h) in &latency {
            // `{provider="…",call="…"}` → add `le` inside the braces.
            let inner = l.trim_start_matches('{').trim_end_matches('}');
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{inner},le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(out, "{name}_bucket{{{inner},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{l} {}", h.sum);
            let _ = writeln!(out, "{name}_count{l} {}", h.count);
        }
        let _ = writeln!(
            out,
            "# HELP inkstone_waiters Long-polls waiting on this instance.\n# TYPE inkstone_waiters gauge\ninkstone_waiters {}",
            state.waiters()
        );
        let gauges = [
            (
                "inkstone_orders",
                "Orders in the database, by status.",
                "SELECT LOWER(status), COUNT(*) FROM orders GROUP BY status",
            ),
            (
                "inkstone_refunds",
                "Refunds in the database, by status.",
                "SELECT LOWER(status), COUNT(*) FROM refunds GROUP BY status",
            ),
        ];
        for (name, help, sql) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            match sqlx::query_as::<_, (String, i64)>(sql)
                .fetch_all(&state.db)
                .await
            {
                Ok(rows) => {
                    for (status, n) in rows {
                        let _ = writeln!(out, "{name}{} {n}", labels(&[("status", &status)]));
                    }
                }
                Err(error) => tracing::warn!(%error, "metrics: cannot count {name}"),
            }
        }
        out
    }
}

fn exposition(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `/metrics` on the main address: only with the configured bearer token.
async fn with_token(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = s.config.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests: the time taken says nothing about the token.
    if Sha256::digest(given.trim().as_bytes()) != Sha256::digest(token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    exposition(s.metrics.render(&s).await)
}

async fn open(State(s): State<AppState>) -> Response {
    exposition(s.metrics.render(&s).await)
}

/// The route on the main address, mounted only when a token is configured.
pub fn routes(state: &AppState) -> Router<AppState> {
    if state.config.metrics_token.is_some() {
        Router::new().route("/metrics", get(with_token))
    } else {
        Router::new()
    }
}

/// The router of the separate metrics address: `/metrics` and nothing else.
pub fn own_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(open)).with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_reasons_are_a_fixed_set() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), "{a=\"x\\\"y\\\\z\\nw\"}");
        assert_eq!(labels(&[]), "");
        assert_eq!(
            refusal_reason("notification rejected: timestamp outside the 5-minute window"),
            "stale"
        );
        assert_eq!(
            refusal_reason("notification rejected: bad signature"),
            "bad_signature"
        );
        assert_eq!(
            refusal_reason("notification rejected: amount or currency does not match the order"),
            "amount_mismatch"
        );
        assert_eq!(refusal_reason("something new"), "other");
    }

    #[test]
    fn counters_and_the_histogram_count() {
        let m = Metrics::default();
        m.inc("inkstone_orders_paid_total", &[("provider", "wechat")]);
        m.inc("inkstone_orders_paid_total", &[("provider", "wechat")]);
        assert_eq!(
            m.get("inkstone_orders_paid_total", &[("provider", "wechat")]),
            2
        );
        assert_eq!(
            m.get("inkstone_orders_paid_total", &[("provider", "alipay")]),
            0
        );
        m.provider_call("wechat", "query", 0.03);
        let l = m.latency.lock().unwrap();
        let h = l.values().next().unwrap();
        assert_eq!((h.count, h.buckets[2], h.buckets[3]), (1, 0, 1));
    }
}
