//! AI on a document's text (issue 17, item 3): what the writer asked — continue from the
//! cursor, polish, expand, shorten, change the tone, translate, or a free instruction — as
//! the chat messages of an ordinary generation (tool [`TOOL`], charged and refunded by the
//! one runner), with the document and the place it changes recorded in its parameters so
//! history links back to it.

use serde::{Deserialize, Serialize};

use crate::error::{invalid, CoreResult};
use crate::prompts::{Message, Tone};

/// The generation tool of every run on a document (one price, in `ledger::TOOL_COSTS`).
pub const TOOL: inkstone_domain::Tool = inkstone_domain::Tool::Document;
/// Most text a rewrite takes (a selection).
pub const MAX_SELECTION_CHARS: usize = 20_000;
/// Most text before the cursor a continuation reads; older text is left out.
pub const MAX_CONTEXT_CHARS: usize = 6_000;
/// Longest free instruction.
pub const MAX_INSTRUCTION_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Writes on from the text before the cursor.
    Continue,
    Polish,
    Expand,
    Shorten,
    Tone {
        tone: Tone,
    },
    Translate {
        language: String,
    },
    /// The writer's own instruction, applied to the selection.
    Instruct {
        instruction: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Continue => "continue",
            Action::Polish => "polish",
            Action::Expand => "expand",
            Action::Shorten => "shorten",
            Action::Tone { .. } => "tone",
            Action::Translate { .. } => "translate",
            Action::Instruct { .. } => "instruct",
        }
    }

    /// True when the answer replaces the selection (a rewrite, shown as a diff); false when
    /// it is inserted at the cursor (continue).
    pub fn rewrites(&self) -> bool {
        !matches!(self, Action::Continue)
    }
}

/// What the writer asked of one document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub document_id: i64,
    pub action: Action,
    /// The selection (a rewrite) or the text before the cursor (continue).
    pub text: String,
    /// Where in the document, in characters: the selection, or `from == to` at the cursor.
    pub from: u32,
    pub to: u32,
    /// "Retry": the run this one replaces (charged again).
    #[serde(default)]
    pub regenerated_from: Option<inkstone_domain::GenerationId>,
    /// The project notes attached to the run (item 5): they go into its system message.
    #[serde(default)]
    pub notes: Vec<i64>,
}

fn tone_text(tone: Tone) -> &'static str {
    match tone {
        Tone::Professional => "专业、严谨",
        Tone::Casual => "轻松、口语化",
        Tone::Warm => "温暖、真诚",
        Tone::Humorous => "幽默、风趣",
        Tone::Persuasive => "有说服力",
        Tone::Academic => "学术、客观",
    }
}

fn language_text(code: &str) -> CoreResult<&'static str> {
    Ok(match code {
        "zh-CN" => "简体中文",
        "zh-TW" => "繁體中文",
        "en" => "English",
        "ja" => "日本語",
        "ko" => "한국어",
        "fr" => "Français",
        "de" => "Deutsch",
        "es" => "Español",
        "ru" => "Русский",
        _ => return Err(invalid("language", "unsupported language")),
    })
}

/// The text the model gets: a continuation reads at most the last [`MAX_CONTEXT_CHARS`]
/// characters before the cursor; a rewrite takes the selection whole, up to
/// [`MAX_SELECTION_CHARS`].
pub fn prepared_text(request: &Request) -> CoreResult<String> {
    if request.from > request.to {
        return Err(invalid("range", "from after to"));
    }
    if request.text.trim().is_empty() {
        return Err(invalid(
            "text",
            if request.action.rewrites() {
                "select some text first"
            } else {
                "nothing before the cursor to continue from"
            },
        ));
    }
    let chars = request.text.chars().count();
    if request.action.rewrites() {
        if chars > MAX_SELECTION_CHARS {
            return Err(invalid(
                "text",
                "the selection is too long (at most 20000 characters)",
            ));
        }
        Ok(request.text.clone())
    } else {
        Ok(request
            .text
            .chars()
            .skip(chars.saturating_sub(MAX_CONTEXT_CHARS))
            .collect())
    }
}

/// The chat messages for `request` (after [`prepared_text`]); `context` (the attached notes,
/// [`crate::notes::context_block`]) ends the system message.
pub fn messages(action: &Action, text: &str, context: &str) -> CoreResult<Vec<Message>> {
    let task = match action {
        Action::Continue => "请接着下面的文字自然地往下写一段，保持原有的风格、人物、语气和格式；\
             只输出新写的部分，不要重复原文。"
            .to_string(),
        Action::Polish => "请润色下面的文字：保留原意和格式，让表达更流畅、准确、生动。只输出润色后的文字。".to_string(),
        Action::Expand => "请扩写下面的文字：补充细节和描写，保留原意、语气和格式。只输出扩写后的文字。".to_string(),
        Action::Shorten => "请缩写下面的文字：保留要点和原有语气，删去冗余，篇幅约为原文的一半。只输出缩写后的文字。".to_string(),
        Action::Tone { tone } => format!(
            "请把下面的文字改写成{}的语气，保留原意和格式。只输出改写后的文字。",
            tone_text(*tone)
        ),
        Action::Translate { language } => format!(
            "请把下面的文字准确、地道地翻译成{}，保留格式。只输出译文。",
            language_text(language)?
        ),
        Action::Instruct { instruction } => {
            let instruction = instruction.trim();
            if instruction.is_empty() {
                return Err(invalid("instruction", "must not be empty"));
            }
            if instruction.chars().count() > MAX_INSTRUCTION_CHARS {
                return Err(invalid("instruction", "too long (at most 500 characters)"));
            }
            if instruction.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid("instruction", "contains control characters"));
            }
            format!("请按照作者的要求修改下面的文字。作者的要求：{instruction}\n只输出修改后的文字。")
        }
    };
    let system = format!(
        "你是一位经验丰富的写作编辑，正在帮助作者修改文稿。{task}\
         文稿使用Markdown格式；不要输出HTML，不要加解释或引号。{context}"
    );
    Ok(vec![
        Message {
            role: "system".into(),
            content: system,
        },
        Message {
            role: "user".into(),
            content: text.to_string(),
        },
    ])
}

/// The generation's parameters: the action, the document and the place it changes.
pub fn params(request: &Request) -> serde_json::Value {
    let mut p = serde_json::json!({
        "action": request.action.name(),
        "document_id": request.document_id,
        "from": request.from,
        "to": request.to,
    });
    match &request.action {
        Action::Tone { tone } => p["tone"] = serde_json::json!(tone),
        Action::Translate { language } => p["language"] = serde_json::json!(language),
        Action::Instruct { instruction } => {
            p["instruction"] = serde_json::json!(instruction.trim())
        }
        _ => {}
    }
    if !request.notes.is_empty() {
        p["notes"] = serde_json::json!(request.notes);
    }
    p
}

/// Most of a document an outline reads (its beginning).
pub const MAX_OUTLINE_SOURCE_CHARS: usize = MAX_SELECTION_CHARS;

/// The text an outline is made from: the document's first
/// [`MAX_OUTLINE_SOURCE_CHARS`] characters; an empty document is refused.
pub fn outline_source(body: &str) -> CoreResult<String> {
    if body.trim().is_empty() {
        return Err(invalid(
            "text",
            "the document is empty: write something first",
        ));
    }
    Ok(body.chars().take(MAX_OUTLINE_SOURCE_CHARS).collect())
}

/// The messages of an outline run (item 5): the model outlines the document, and the answer
/// becomes an outline note the writer edits.
pub fn outline_messages(title: &str, text: &str, context: &str) -> Vec<Message> {
    let system = format!(
        "你是一位经验丰富的写作编辑。请为作者的文稿《{title}》整理一份大纲：按章节或情节顺序，\
         用Markdown列表列出主要情节、人物和转折，每条一句话。只输出大纲，不要加解释。{context}"
    );
    vec![
        Message {
            role: "system".into(),
            content: system,
        },
        Message {
            role: "user".into(),
            content: text.to_string(),
        },
    ]
}

/// The outline run's parameters.
pub fn outline_params(document_id: i64) -> serde_json::Value {
    serde_json::json!({"action": "outline", "document_id": document_id})
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(action: Action, text: &str) -> Request {
        Request {
            document_id: 1,
            action,
            text: text.into(),
            from: 0,
            to: text.chars().count() as u32,
            regenerated_from: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn each_action_asks_for_its_own_change_and_sends_the_text_as_is() {
        for (action, needle) in [
            (Action::Continue, "往下写"),
            (Action::Polish, "润色"),
            (Action::Expand, "扩写"),
            (Action::Shorten, "缩写"),
            (
                Action::Tone {
                    tone: Tone::Humorous,
                },
                "幽默",
            ),
            (
                Action::Translate {
                    language: "en".into(),
                },
                "English",
            ),
            (
                Action::Instruct {
                    instruction: " 改成第一人称 ".into(),
                },
                "改成第一人称",
            ),
        ] {
            let m = messages(&action, "春眠不觉晓", "").unwrap();
            assert!(
                m[0].content.contains(needle),
                "{action:?}: {}",
                m[0].content
            );
            assert_eq!(m[1].content, "春眠不觉晓");
        }
    }

    #[test]
    fn bad_requests_are_refused_before_anything_runs() {
        assert!(prepared_text(&request(Action::Polish, "  ")).is_err());
        assert!(prepared_text(&request(Action::Continue, "")).is_err());
        let mut backwards = request(Action::Polish, "字");
        backwards.from = 5;
        backwards.to = 1;
        assert!(prepared_text(&backwards).is_err());
        let long = "字".repeat(MAX_SELECTION_CHARS + 1);
        assert!(prepared_text(&request(Action::Polish, &long)).is_err());
        assert!(messages(
            &Action::Translate {
                language: "xx".into()
            },
            "a",
            ""
        )
        .is_err());
        assert!(messages(
            &Action::Instruct {
                instruction: " ".into()
            },
            "a",
            ""
        )
        .is_err());
        assert!(messages(
            &Action::Instruct {
                instruction: "a\u{7}".into()
            },
            "a",
            ""
        )
        .is_err());
        let huge = "改".repeat(MAX_INSTRUCTION_CHARS + 1);
        assert!(messages(&Action::Instruct { instruction: huge }, "a", "").is_err());
        // Unknown fields and actions are refused when the request is read.
        assert!(serde_json::from_value::<Request>(serde_json::json!({
            "document_id": 1, "action": {"kind": "delete_everything"}, "text": "a", "from": 0, "to": 1
        }))
        .is_err());
    }

    #[test]
    fn a_continuation_reads_only_the_last_part_before_the_cursor() {
        let text = format!(
            "{}{}",
            "旧".repeat(10_000),
            "新".repeat(MAX_CONTEXT_CHARS - 1)
        );
        let kept = prepared_text(&request(Action::Continue, &text)).unwrap();
        assert_eq!(kept.chars().count(), MAX_CONTEXT_CHARS);
        assert!(kept.starts_with('旧') && kept.ends_with('新'));
        assert_eq!(kept.chars().filter(|c| *c == '旧').count(), 1);
    }

    #[test]
    fn params_name_the_document_and_the_place() {
        let mut r = request(Action::Tone { tone: Tone::Warm }, "abc");
        r.document_id = 42;
        r.from = 3;
        r.to = 6;
        assert_eq!(
            params(&r),
            serde_json::json!({"action": "tone", "document_id": 42, "from": 3, "to": 6, "tone": "warm"})
        );
    }

    #[test]
    fn attached_notes_end_the_system_message_and_are_named_in_params() {
        let m = messages(&Action::Polish, "字", "\n\n【人物：黛玉】\n葬花").unwrap();
        assert!(m[0].content.ends_with("【人物：黛玉】\n葬花"));
        assert_eq!(m[1].content, "字");
        let mut r = request(Action::Polish, "字");
        r.notes = vec![3, 4];
        assert_eq!(params(&r)["notes"], serde_json::json!([3, 4]));
        let o = outline_messages("第一章", "正文", "【风格规则：短句】");
        assert!(o[0].content.contains("大纲") && o[0].content.contains("《第一章》"));
        assert!(o[0].content.ends_with("【风格规则：短句】"));
        assert!(outline_source(" \n").is_err());
        let long = "字".repeat(MAX_OUTLINE_SOURCE_CHARS + 10);
        assert_eq!(
            outline_source(&long).unwrap().chars().count(),
            MAX_OUTLINE_SOURCE_CHARS
        );
    }

    proptest! {
        /// Any request JSON: reading it and preparing it never panics.
        #[test]
        fn any_request_is_read_without_panicking(
            kind in "[a-z_]{0,12}", text in any::<String>(), from in any::<u32>(), to in any::<u32>(),
            extra in proptest::option::of(any::<String>()),
        ) {
            let mut action = serde_json::json!({"kind": kind});
            if let Some(extra) = extra {
                action["instruction"] = serde_json::json!(extra.clone());
                action["language"] = serde_json::json!(extra);
            }
            let value = serde_json::json!({"document_id": 1, "action": action, "text": text, "from": from, "to": to});
            if let Ok(r) = serde_json::from_value::<Request>(value) {
                if let Ok(t) = prepared_text(&r) {
                    prop_assert!(t.chars().count() <= MAX_SELECTION_CHARS);
                    let _ = messages(&r.action, &t, "");
                }
            }
        }
    }
}
