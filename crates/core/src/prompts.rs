//! The writing tools as prompt templates (the seed report's `tool_type`),
//! plus the parameters of the image, video and slide tools, validated before
//! any credit is charged or any request is made.

use inkstone_domain::Tool;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

fn msg(role: &str, content: String) -> Message {
    Message {
        role: role.into(),
        content,
    }
}

/// The writing tools (labels and names: `inkstone_domain::Tool`, defined once).
pub const WRITING_TOOLS: [Tool; 9] = Tool::WRITING;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Professional,
    Casual,
    Warm,
    Humorous,
    Persuasive,
    Academic,
}

impl Tone {
    fn describe(self) -> &'static str {
        match self {
            Tone::Professional => "专业、严谨",
            Tone::Casual => "轻松、口语化",
            Tone::Warm => "温暖、真诚",
            Tone::Humorous => "幽默、风趣",
            Tone::Persuasive => "有说服力、号召性强",
            Tone::Academic => "学术、客观",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    Short,
    Medium,
    Long,
}

impl Length {
    fn describe(self) -> &'static str {
        match self {
            Length::Short => "约300字",
            Length::Medium => "约800字",
            Length::Long => "约1500字",
        }
    }
}

/// Parameters of every writing tool; unknown fields are refused so a typo
/// in the UI shows up as an error, not as a silently ignored option.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WritingParams {
    #[serde(default)]
    pub tone: Option<Tone>,
    #[serde(default)]
    pub length: Option<Length>,
    /// Language of the output, e.g. `zh-CN`, `en`, `ja`.
    #[serde(default)]
    pub language: Option<String>,
}

fn language_name(code: &str) -> CoreResult<&'static str> {
    Ok(match code {
        "zh-CN" | "zh" => "简体中文",
        "zh-TW" => "繁體中文",
        "en" | "en-US" | "en-GB" => "English",
        "ja" => "日本語",
        "ko" => "한국어",
        "fr" => "Français",
        "de" => "Deutsch",
        "es" => "Español",
        "ru" => "Русский",
        _ => return Err(invalid("language", "unsupported language")),
    })
}

fn check_input(input: &str) -> CoreResult<()> {
    if input.trim().is_empty() {
        return Err(invalid("prompt", "must not be empty"));
    }
    if input.chars().count() > 20_000 {
        return Err(invalid("prompt", "too long (at most 20000 characters)"));
    }
    Ok(())
}

/// Parses tool parameters sent by the UI.
pub fn writing_params(params: &serde_json::Value) -> CoreResult<WritingParams> {
    if params.is_null() {
        return Ok(WritingParams::default());
    }
    let p: WritingParams = serde_json::from_value(params.clone())
        .map_err(|_| invalid("params", "unknown or malformed writing parameter"))?;
    if let Some(lang) = &p.language {
        language_name(lang)?;
    }
    Ok(p)
}

/// The chat messages for a writing tool.
pub fn writing_messages(
    tool: Tool,
    input: &str,
    params: &WritingParams,
) -> CoreResult<Vec<Message>> {
    check_input(input)?;
    let language = language_name(p_lang(params))?;
    let tone = params.tone.map(Tone::describe).unwrap_or("自然、清晰");
    let length = params.length.map(Length::describe).unwrap_or("篇幅适中");
    let task = match tool {
        Tool::Article => format!("请根据以下主题或要求写一篇完整的文章，结构清晰、有标题。语气：{tone}；篇幅：{length}。"),
        Tool::Continue => format!("请自然地续写以下文字，保持原有的风格、人物和语气，不要重复原文。篇幅：{length}。"),
        Tool::Rewrite => format!("请改写并润色以下文字：保留原意，让表达更流畅准确。语气：{tone}。只输出改写后的文字。"),
        Tool::Expand => format!("请扩写以下文字，补充细节、例子和描写，保持原意。语气：{tone}；篇幅：{length}。"),
        Tool::Summarize => "请为以下文字写一段简明的摘要，提炼要点，不添加原文没有的信息。".to_string(),
        Tool::Translate => format!("请把以下文字准确、地道地翻译成{language}。只输出译文。"),
        Tool::Titles => format!("请为以下内容想出10个吸引人的标题，每行一个，编号列出。风格：{tone}。"),
        Tool::Outline => "请为以下主题写一份层次分明的写作大纲，使用Markdown标题和列表。".to_string(),
        Tool::Marketing => format!("请为以下产品或活动写一段营销文案，突出卖点，结尾有行动号召。语气：{tone}；篇幅：{length}。"),
        // Image understanding: the picture travels with the user message (qwen-vl).
        Tool::Vision => format!("请仔细观察用户提供的图片，按照用户的要求回答问题或进行写作。语气：{tone}；篇幅：{length}。"),
        Tool::Image | Tool::Video | Tool::Ppt | Tool::Document => {
            return Err(invalid("tool", "not a writing tool"))
        }
    };
    let system = format!(
        "你是一位经验丰富的中文写作助手。{task}使用{language}输出，使用Markdown格式，不要输出HTML。"
    );
    Ok(vec![msg("system", system), msg("user", input.to_string())])
}

fn p_lang(params: &WritingParams) -> &str {
    params.language.as_deref().unwrap_or("zh-CN")
}

/// Asking Qwen for a slide outline the `inkstone-pptx` parser reads.
pub fn slide_outline_messages(
    topic: &str,
    slides: u32,
    language: &str,
) -> CoreResult<Vec<Message>> {
    check_input(topic)?;
    if !(3..=20).contains(&slides) {
        return Err(invalid("slides", "must be 3 to 20"));
    }
    let language = language_name(language)?;
    let system = format!(
        "你是演示文稿策划。请为用户的主题写一份{slides}页的幻灯片大纲，使用{language}。\
         格式严格如下：第一行 `# 演示标题`，第二行一句副标题；之后每页一个 `## 页面标题`，\
         下面3到5个 `- 要点`，每个要点不超过30字。不要输出其他内容。"
    );
    Ok(vec![msg("system", system), msg("user", topic.to_string())])
}

/// Parameters of the image tool (wanx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageParams {
    /// `W*H`, one of [`IMAGE_SIZES`].
    pub size: String,
    /// 1 to 4 images.
    pub n: u32,
    #[serde(default)]
    pub style: Option<String>,
    #[serde(default)]
    pub negative_prompt: Option<String>,
}

pub const IMAGE_SIZES: &[&str] = &["1024*1024", "720*1280", "1280*720", "768*1152"];
pub const IMAGE_STYLES: &[&str] = &[
    "<auto>",
    "<photography>",
    "<portrait>",
    "<3d cartoon>",
    "<anime>",
    "<oil painting>",
    "<watercolor>",
    "<sketch>",
    "<chinese painting>",
    "<flat illustration>",
];

pub fn image_params(params: &serde_json::Value) -> CoreResult<ImageParams> {
    let p: ImageParams = serde_json::from_value(params.clone())
        .map_err(|_| invalid("params", "unknown or malformed image parameter"))?;
    if !IMAGE_SIZES.contains(&p.size.as_str()) {
        return Err(invalid("size", "unsupported image size"));
    }
    if !(1..=4).contains(&p.n) {
        return Err(invalid("n", "1 to 4 images"));
    }
    if let Some(style) = &p.style {
        if !IMAGE_STYLES.contains(&style.as_str()) {
            return Err(invalid("style", "unknown style"));
        }
    }
    if p.negative_prompt
        .as_ref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        return Err(invalid("negative_prompt", "too long"));
    }
    Ok(p)
}

/// Parameters of the video tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoParams {
    /// `W*H`, one of [`VIDEO_SIZES`].
    pub size: String,
}

pub const VIDEO_SIZES: &[&str] = &["1280*720", "720*1280", "960*960"];

pub fn video_params(params: &serde_json::Value) -> CoreResult<VideoParams> {
    let p: VideoParams = serde_json::from_value(params.clone())
        .map_err(|_| invalid("params", "unknown or malformed video parameter"))?;
    if !VIDEO_SIZES.contains(&p.size.as_str()) {
        return Err(invalid("size", "unsupported video size"));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_writing_tool_has_a_template_and_a_price() {
        for tool in WRITING_TOOLS {
            let m = writing_messages(tool, "春天", &WritingParams::default()).unwrap();
            assert_eq!(m.len(), 2);
            assert_eq!(m[1].content, "春天");
        }
        // Every tool has a price, writing or not.
        for tool in Tool::ALL {
            assert!(
                crate::ledger::cost_of(tool).is_positive(),
                "{tool} has no price"
            );
        }
    }

    #[test]
    fn image_understanding_has_a_template_and_a_price() {
        let m =
            writing_messages(Tool::Vision, "这张图里有什么？", &WritingParams::default()).unwrap();
        assert!(m[0].content.contains("图片"));
        assert_eq!(m[1].content, "这张图里有什么？");
        assert!(crate::ledger::cost_of(Tool::Vision).is_positive());
    }

    #[test]
    fn parameters_shape_the_prompt() {
        let p = writing_params(&json!({"tone": "humorous", "length": "long", "language": "en"}))
            .unwrap();
        let m = writing_messages(Tool::Article, "cats", &p).unwrap();
        assert!(
            m[0].content.contains("幽默")
                && m[0].content.contains("1500")
                && m[0].content.contains("English")
        );
        let t = writing_messages(
            Tool::Translate,
            "你好",
            &writing_params(&json!({"language": "ja"})).unwrap(),
        )
        .unwrap();
        assert!(t[0].content.contains("日本語"));
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        for bad in [
            json!({"tone": "angry"}),
            json!({"colour": "red"}),
            json!({"language": "xx"}),
            json!([1]),
        ] {
            assert_eq!(
                writing_params(&bad).unwrap_err().kind(),
                "invalid_input",
                "{bad}"
            );
        }
        assert!(writing_messages(Tool::Article, "   ", &WritingParams::default()).is_err());
        assert!(writing_messages(Tool::Image, "x", &WritingParams::default()).is_err());
        assert!(slide_outline_messages("x", 2, "zh-CN").is_err());
        assert!(slide_outline_messages("x", 8, "zh-CN").is_ok());
        assert!(image_params(&json!({"size": "1024*1024", "n": 5})).is_err());
        assert!(image_params(&json!({"size": "999*1", "n": 1})).is_err());
        assert!(image_params(&json!({"size": "1024*1024", "n": 2, "style": "<anime>"})).is_ok());
        assert!(video_params(&json!({"size": "1280*720"})).is_ok());
        assert!(video_params(&json!({"size": "1280*720", "fps": 60})).is_err());
    }
}
