//! Tokens arrive faster than a screen repaints. Sending each one to the
//! webview costs an IPC message and a re-render; the coalescer gathers text
//! and releases it at most once per frame.

use std::time::{Duration, Instant};

pub struct Coalescer {
    pending: String,
    last_flush: Option<Instant>,
    interval: Duration,
}

impl Coalescer {
    /// One flush per ~60 Hz frame.
    pub fn per_frame() -> Self {
        Self::new(Duration::from_millis(16))
    }

    pub fn new(interval: Duration) -> Self {
        Coalescer {
            pending: String::new(),
            last_flush: None,
            interval,
        }
    }

    /// Adds text; returns what should be sent now, if a frame has passed.
    pub fn push(&mut self, text: &str, now: Instant) -> Option<String> {
        self.pending.push_str(text);
        let due = self
            .last_flush
            .is_none_or(|at| now.duration_since(at) >= self.interval);
        if due && !self.pending.is_empty() {
            self.last_flush = Some(now);
            Some(std::mem::take(&mut self.pending))
        } else {
            None
        }
    }

    /// What is left, at the end of the stream.
    pub fn finish(&mut self) -> Option<String> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_tokens_within_a_frame_and_loses_none() {
        let mut c = Coalescer::new(Duration::from_millis(16));
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for i in 0..100u64 {
            // A token every millisecond: ~1 flush per 16 tokens.
            if let Some(s) = c.push("字", t0 + Duration::from_millis(i)) {
                sent.push(s);
            }
        }
        sent.extend(c.finish());
        assert!(sent.len() <= 8, "{} flushes for 100 ms", sent.len());
        assert_eq!(sent.concat(), "字".repeat(100));
    }
}
