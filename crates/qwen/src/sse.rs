//! An incremental Server-Sent Events parser: bytes in, events out, any chunk
//! boundary (inside a line, inside a UTF-8 character, between CR and LF).
//! DashScope puts the HTTP status of an event in a comment
//! (`:HTTP_STATUS/429`), so comments are kept too.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    /// `event:` field; empty means the default `message`.
    pub event: String,
    pub data: String,
    /// The `:HTTP_STATUS/NNN` comment of this event, if any.
    pub http_status: Option<u16>,
}

#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    current: Event,
    has_data: bool,
    last_was_cr: bool,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; complete events are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        for &b in bytes {
            match b {
                b'\n' if self.last_was_cr => self.last_was_cr = false,
                b'\n' | b'\r' => {
                    self.last_was_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out);
                }
                _ => {
                    self.last_was_cr = false;
                    self.line.push(b);
                }
            }
        }
    }

    /// Ends the input: a final event without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        self.dispatch(out);
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        if self.has_data {
            out.push(std::mem::take(&mut self.current));
        } else {
            self.current = Event::default();
        }
        self.has_data = false;
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Event>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = String::from_utf8_lossy(line);
        if let Some(comment) = line.strip_prefix(':') {
            if let Some(code) = comment.trim().strip_prefix("HTTP_STATUS/") {
                self.current.http_status = code.trim().parse().ok();
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.current.event = value.to_string(),
            "id" => self.current.id = Some(value.to_string()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], size: usize) -> Vec<Event> {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for chunk in input.chunks(size) {
            p.feed(chunk, &mut out);
        }
        p.finish(&mut out);
        out
    }

    #[test]
    fn dashscope_frames_with_status_comments_at_any_chunk_size() {
        let input = "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"a\":\"春天\"}\n\nid:2\r\nevent:error\r\n:HTTP_STATUS/429\r\ndata:{\"code\":\"Throttling\"}\r\n\r\n";
        for size in 1..input.len() {
            let events = parse_in_chunks(input.as_bytes(), size);
            assert_eq!(events.len(), 2, "chunk size {size}");
            assert_eq!(events[0].data, "{\"a\":\"春天\"}");
            assert_eq!(
                (events[0].event.as_str(), events[0].http_status),
                ("result", Some(200))
            );
            assert_eq!(
                (events[1].event.as_str(), events[1].http_status),
                ("error", Some(429))
            );
            assert_eq!(events[1].id.as_deref(), Some("2"));
        }
    }

    #[test]
    fn openai_style_data_lines_and_multiline_data() {
        let events = parse_in_chunks(
            b"data: {\"x\":1}\n\ndata: a\ndata: b\n\ndata: [DONE]\n\n",
            3,
        );
        let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["{\"x\":1}", "a\nb", "[DONE]"]);
    }

    #[test]
    fn an_unterminated_last_event_still_counts() {
        assert_eq!(parse_in_chunks(b"data:end", 2)[0].data, "end");
        assert!(parse_in_chunks(b": keep-alive\n\n", 2).is_empty());
    }
}
