//! Tokens arrive faster than a writer reads. Sending each one to the webview
//! costs an IPC message (a script the web process compiles, a reply the shell
//! decodes) and a re-render; the coalescer gathers text and releases it at most
//! once per interval, and what waits is sent when the interval is up
//! (`due_at`), not only when the next token comes.

use std::time::{Duration, Instant};

pub struct Coalescer {
    pending: String,
    last_flush: Option<Instant>,
    interval: Duration,
}

impl Coalescer {
    /// 20 messages a second: the page renders no more often (MarkdownView's
    /// `STREAM_RENDER_MS`), and each message costs both processes a script.
    pub fn for_display() -> Self {
        Self::new(Duration::from_millis(50))
    }

    pub fn new(interval: Duration) -> Self {
        Coalescer {
            pending: String::new(),
            last_flush: None,
            interval,
        }
    }

    /// Adds text; returns what should be sent now, if the interval has passed.
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

    /// When the text that is waiting should be sent if no token comes first.
    pub fn due_at(&self) -> Option<Instant> {
        // Text waits only after a flush: the first push is sent at once.
        let at = self.last_flush?;
        (!self.pending.is_empty()).then_some(at + self.interval)
    }

    /// What is waiting, if its interval is up at `now`.
    pub fn flush_due(&mut self, now: Instant) -> Option<String> {
        let due = self.due_at().is_some_and(|at| now >= at);
        due.then(|| {
            self.last_flush = Some(now);
            std::mem::take(&mut self.pending)
        })
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

    #[test]
    fn text_left_waiting_is_due_one_interval_after_the_last_flush() {
        let mut c = Coalescer::new(Duration::from_millis(50));
        let t0 = Instant::now();
        assert_eq!(c.due_at(), None);
        assert_eq!(c.push("春", t0).as_deref(), Some("春"));
        assert_eq!(c.due_at(), None, "nothing waits");
        assert_eq!(c.push("天", t0 + Duration::from_millis(10)), None);
        assert_eq!(c.due_at(), Some(t0 + Duration::from_millis(50)));
        assert_eq!(c.flush_due(t0 + Duration::from_millis(49)), None);
        assert_eq!(
            c.flush_due(t0 + Duration::from_millis(50)).as_deref(),
            Some("天")
        );
        assert_eq!((c.due_at(), c.finish()), (None, None));
        // The next token after a flush waits for the interval from that flush.
        assert_eq!(c.push("来", t0 + Duration::from_millis(60)), None);
        assert_eq!(c.due_at(), Some(t0 + Duration::from_millis(100)));
    }
}
