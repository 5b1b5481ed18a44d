//! Reading the outline a model writes. Models are loose with Markdown, so
//! this accepts `#`/`##`/`###` headings, `Slide 3:`/`第3页：` lines, and
//! `-`, `*`, `+`, `•` and `1.` bullets, and ignores code fences and noise.

use crate::{Deck, PptxError, Rgb, Slide, MAX_BULLETS, MAX_SLIDES};

fn strip_emphasis(text: &str) -> String {
    text.replace("**", "")
        .replace("__", "")
        .replace('`', "")
        .trim()
        .to_string()
}

fn bullet(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ ", "• ", "· "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest);
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &line[digits..];
        for sep in [". ", ") ", "、", "．"] {
            if let Some(rest) = rest.strip_prefix(sep) {
                return Some(rest);
            }
        }
    }
    None
}

/// `Slide 3: 标题`, `第3页：标题`, `幻灯片3 - 标题` → `标题`.
fn slide_label(line: &str) -> Option<&str> {
    let lower = line.to_lowercase();
    let rest = if lower.starts_with("slide") {
        &line["slide".len()..]
    } else if let Some(r) = line.strip_prefix("幻灯片") {
        r
    } else if let Some(r) = line.strip_prefix('第') {
        let end = r.find(['页', '张'])?;
        &r[end + '页'.len_utf8()..]
    } else {
        return None;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace());
    let rest = rest.trim_start_matches([':', '：', '-', '—', '.', ' ']);
    (!rest.trim().is_empty()).then_some(rest.trim())
}

fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

pub fn parse_outline(markdown: &str, accent: &str) -> Result<Deck, PptxError> {
    let accent = Rgb::parse(accent)?;
    let mut title: Option<String> = None;
    let mut subtitle: Option<String> = None;
    let mut slides: Vec<Slide> = Vec::new();
    let mut in_fence = false;
    for raw in markdown.lines() {
        let line = raw.trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || line.is_empty() || line.chars().all(|c| matches!(c, '-' | '=' | '*' | '_')) {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if hashes > 0 {
            let text = strip_emphasis(line[hashes..].trim());
            if text.is_empty() {
                continue;
            }
            let text = slide_label(&text).map(str::to_string).unwrap_or(text);
            if hashes == 1 && title.is_none() && slides.is_empty() {
                title = Some(clip(&text, 200));
            } else {
                slides.push(Slide {
                    title: clip(&text, 200),
                    bullets: Vec::new(),
                });
            }
            continue;
        }
        if let Some(label) = slide_label(line) {
            slides.push(Slide {
                title: clip(&strip_emphasis(label), 200),
                bullets: Vec::new(),
            });
            continue;
        }
        let text = strip_emphasis(bullet(line).unwrap_or(line));
        if text.is_empty() {
            continue;
        }
        match slides.last_mut() {
            Some(slide) if slide.bullets.len() < MAX_BULLETS => {
                slide.bullets.push(clip(&text, 500))
            }
            Some(_) => {}
            // Text between the deck title and the first slide is its subtitle.
            None if title.is_some() && subtitle.is_none() => subtitle = Some(clip(&text, 300)),
            None => {}
        }
    }
    if slides.len() + 1 > MAX_SLIDES {
        return Err(PptxError::TooManySlides);
    }
    let title = match (title, slides.is_empty()) {
        (Some(t), _) => t,
        (None, false) => slides[0].title.clone(),
        (None, true) => return Err(PptxError::EmptyOutline),
    };
    Ok(Deck {
        title,
        subtitle,
        slides,
        accent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_model_outline() {
        let md = "# 新产品发布\n面向2027年的写作工具\n\n## 第1页：市场背景\n- 写作需求增长\n- **AI** 普及\n\n## 产品亮点\n1. 流式生成\n2. 离线历史\n";
        let deck = parse_outline(md, "#1a73e8").unwrap();
        assert_eq!(deck.title, "新产品发布");
        assert_eq!(deck.subtitle.as_deref(), Some("面向2027年的写作工具"));
        assert_eq!(deck.slides.len(), 2);
        assert_eq!(deck.slides[0].title, "市场背景");
        assert_eq!(deck.slides[0].bullets, vec!["写作需求增长", "AI 普及"]);
        assert_eq!(deck.slides[1].bullets, vec!["流式生成", "离线历史"]);
        assert_eq!(deck.accent.hex(), "1A73E8");
        assert_eq!(deck.slide_count(), 3);
    }

    #[test]
    fn accepts_slide_lines_without_headings() {
        let deck = parse_outline("Slide 1: Intro\n- a\nSlide 2: Plan\n* b\n", "C0392B").unwrap();
        assert_eq!(deck.title, "Intro");
        assert_eq!(
            deck.slides
                .iter()
                .map(|s| s.title.as_str())
                .collect::<Vec<_>>(),
            ["Intro", "Plan"]
        );
    }

    #[test]
    fn rejects_what_cannot_become_a_deck() {
        assert!(matches!(
            parse_outline("", "#000000"),
            Err(PptxError::EmptyOutline)
        ));
        assert!(matches!(
            parse_outline("just words", "#000000"),
            Err(PptxError::EmptyOutline)
        ));
        assert!(matches!(
            parse_outline("# t", "red"),
            Err(PptxError::BadColour)
        ));
        let many: String = (0..150).map(|i| format!("## s{i}\n")).collect();
        assert!(matches!(
            parse_outline(&many, "#000000"),
            Err(PptxError::TooManySlides)
        ));
    }
}
