//! Generations: every tool streams its updates over a `Channel` and can be stopped.

use base64::Engine;
use inkstone_desktop::history::{Generation, HistoryFilter, HistoryPage, PageRequest};
use inkstone_desktop::studio::{MediaKind, Update, WriteRequest};
use inkstone_domain::{GenerationId, Tool};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{AppError, CommandResult};
use crate::state::AppState;

/// Sends a run's updates to the page. A page that went away is not an error: the run goes on
/// to its end (and its refund rules) whether anyone watches or not.
fn forward(channel: Channel<Update>) -> impl FnMut(Update) + Send {
    move |u| {
        let _ = channel.send(u);
    }
}

/// A writing request as the page sends it, and the model to answer it. The profile is never
/// the page's to say: it is the signed-in one; nor are the input files (the shell keeps them).
#[derive(serde::Deserialize)]
pub struct WritingInput {
    /// The tool's name, parsed by [`WritingInput::tool`] so an unknown one is a typed
    /// `invalid_argument`, not a call that failed to decode.
    pub tool: String,
    pub input: String,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub regenerated_from: Option<GenerationId>,
    #[serde(default)]
    pub model_id: Option<i64>,
}

impl WritingInput {
    /// The tool the page named, parsed once here.
    fn tool(&self) -> CommandResult<Tool> {
        self.tool.parse().map_err(|_| AppError::InvalidArgument {
            field: "tool",
            reason: "unknown tool",
        })
    }

    /// The request to run with `tool` for the signed-in `profile_id`.
    fn request(self, profile_id: inkstone_domain::ProfileId, tool: Tool) -> WriteRequest {
        WriteRequest {
            profile_id,
            tool,
            input: self.input,
            params: self.params,
            regenerated_from: self.regenerated_from,
            inputs: Vec::new(),
        }
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(tool = %input.tool), err)]
pub async fn generate_writing(
    state: State<'_, AppState>,
    input: WritingInput,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let tool = input.tool()?;
    let model_id = input.model_id;
    let request = input.request(state.profile()?, tool);
    let mut sink = forward(on_event);
    Ok(state.services.write(request, model_id, &mut sink).await?)
}

/// Largest image the vision models take (`inkstone_qwen::validate::MAX_IMAGE_BYTES`, 10 MB).
/// Checked on the base64 text before decoding, so an oversized upload is refused without
/// allocating it twice; the exact checks (size, PNG/JPEG/WebP/GIF/BMP) are inkstone_qwen's.
const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// Decodes the image the webview read from an `<input type=file>` (plain base64, no
/// `data:` prefix). Bad base64, an empty or oversized image, or a bad file name are
/// `invalid_argument`; whether the bytes are an image is checked by inkstone_qwen.
fn decode_image(image_base64: &str, file_name: &str) -> CommandResult<Vec<u8>> {
    if file_name.trim().is_empty()
        || file_name.chars().count() > 255
        || file_name.chars().any(char::is_control)
    {
        return Err(AppError::InvalidArgument {
            field: "file_name",
            reason: "1 to 255 characters, no control characters",
        });
    }
    let encoded = image_base64.trim();
    if encoded.len() > MAX_IMAGE_BYTES.div_ceil(3) * 4 {
        return Err(AppError::InvalidArgument {
            field: "image_base64",
            reason: "the image is larger than 10 MB",
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| AppError::InvalidArgument {
            field: "image_base64",
            reason: "not valid base64",
        })?;
    if bytes.is_empty() {
        return Err(AppError::InvalidArgument {
            field: "image_base64",
            reason: "the image is empty",
        });
    }
    Ok(bytes)
}

/// Image understanding (qwen-vl): the writer's question or request about one image.
#[tauri::command]
#[tracing::instrument(skip(state, input, image_base64, on_event), err)]
pub async fn generate_vision(
    state: State<'_, AppState>,
    input: WritingInput,
    image_base64: String,
    file_name: String,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let image = decode_image(&image_base64, &file_name)?;
    drop(image_base64);
    // Always image understanding, whatever the page named; never a regeneration.
    let request = WriteRequest {
        regenerated_from: None,
        ..input.request(state.profile()?, Tool::Vision)
    };
    let mut sink = forward(on_event);
    Ok(state
        .services
        .write_about_image(request, image, &file_name, &mut sink)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, topic, on_event), err)]
pub async fn generate_slides(
    state: State<'_, AppState>,
    topic: String,
    slides: u32,
    language: String,
    accent: String,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let profile = state.profile()?;
    let mut sink = forward(on_event);
    Ok(state
        .services
        .slides(profile, topic, slides, language, accent, &mut sink)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, prompt, params, on_event), err)]
pub async fn generate_media(
    state: State<'_, AppState>,
    kind: String,
    prompt: String,
    params: serde_json::Value,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let kind = match kind.as_str() {
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        _ => {
            return Err(AppError::InvalidArgument {
                field: "kind",
                reason: "image or video",
            })
        }
    };
    let profile = state.profile()?;
    let mut sink = forward(on_event);
    Ok(state
        .services
        .media(profile, kind, prompt, params, &mut sink)
        .await?)
}

/// The stop button. False when the run already ended.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub fn cancel_generation(state: State<'_, AppState>, generation_id: GenerationId) -> bool {
    state.services.stop_generation(generation_id)
}

#[tauri::command]
// The search words are the writer's: not in the log.
#[tracing::instrument(skip(state, filter), err)]
pub async fn history_list(
    state: State<'_, AppState>,
    filter: HistoryFilter,
    page: PageRequest,
) -> CommandResult<HistoryPage> {
    Ok(state
        .services
        .history(state.profile()?, &filter, page)
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_get(
    state: State<'_, AppState>,
    id: GenerationId,
) -> CommandResult<Generation> {
    Ok(state.services.generation(state.profile()?, id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_delete(state: State<'_, AppState>, id: GenerationId) -> CommandResult<()> {
    Ok(state
        .services
        .delete_generation(state.profile()?, id)
        .await?)
}

/// Markdown (`md`) or plain text (`txt`) of one generation.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_export(
    state: State<'_, AppState>,
    id: GenerationId,
    format: String,
) -> CommandResult<String> {
    Ok(state
        .services
        .export_generation_text(state.profile()?, id, &format)
        .await?)
}

/// Writes the export of one generation under `<data dir>/exports/`; returns the path written.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_export_to(
    state: State<'_, AppState>,
    id: GenerationId,
    format: String,
) -> CommandResult<String> {
    let written = state
        .services
        .export_generation(state.profile()?, id, &format)
        .await?;
    Ok(written.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::engine::general_purpose::STANDARD;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn kind_field(e: AppError) -> (&'static str, &'static str) {
        match e {
            AppError::InvalidArgument { field, .. } => ("invalid_argument", field),
            other => (other.kind(), ""),
        }
    }

    #[test]
    fn vision_image_arrives_as_base64_and_bad_input_is_typed() {
        assert_eq!(decode_image(&STANDARD.encode(PNG), "cat.png").unwrap(), PNG);
        // Surrounding whitespace (a trailing newline) is tolerated.
        assert_eq!(
            decode_image(&format!(" {}\n", STANDARD.encode(PNG)), "猫.png").unwrap(),
            PNG
        );
        for bad in [
            "not base64!",
            "iVBORw0KGgo",
            "data:image/png;base64,iVBORw0KGgo=",
        ] {
            assert_eq!(
                kind_field(decode_image(bad, "x.png").unwrap_err()),
                ("invalid_argument", "image_base64"),
                "{bad}"
            );
        }
        assert_eq!(
            kind_field(decode_image("", "x.png").unwrap_err()),
            ("invalid_argument", "image_base64")
        );
        // Over 10 MB once decoded: refused before decoding.
        let big = STANDARD.encode(vec![0u8; MAX_IMAGE_BYTES + 3]);
        assert_eq!(
            kind_field(decode_image(&big, "big.png").unwrap_err()),
            ("invalid_argument", "image_base64")
        );
        // Exactly 10 MB decodes (whether it is an image is inkstone_qwen's check).
        let edge = STANDARD.encode(vec![0u8; MAX_IMAGE_BYTES]);
        assert_eq!(
            decode_image(&edge, "edge.png").unwrap().len(),
            MAX_IMAGE_BYTES
        );
        for name in ["", "  ", "a\nb.png"] {
            assert_eq!(
                kind_field(decode_image(&STANDARD.encode(PNG), name).unwrap_err()),
                ("invalid_argument", "file_name"),
                "{name:?}"
            );
        }
        assert!(decode_image(&STANDARD.encode(PNG), &"a".repeat(256)).is_err());
    }

    #[test]
    fn the_page_sends_the_request_but_never_chooses_the_profile() {
        let input: WritingInput = serde_json::from_value(serde_json::json!({
            "tool": "article", "input": "春天", "params": {"tone": "warm"},
            "regenerated_from": 4, "model_id": 3, "profile_id": 7, "inputs": [{"path": "/etc/passwd", "name": "x"}]
        }))
        .unwrap();
        assert_eq!(input.model_id, Some(3));
        let tool = input.tool().unwrap();
        let request = input.request(inkstone_domain::ProfileId::new(1), tool);
        assert_eq!(request.profile_id, inkstone_domain::ProfileId::new(1));
        assert!(request.inputs.is_empty());
        assert_eq!(
            (
                request.tool,
                request.input.as_str(),
                request.regenerated_from,
            ),
            (Tool::Article, "春天", Some(GenerationId::new(4)))
        );
        assert!(
            serde_json::from_value::<WritingInput>(serde_json::json!({"input": "no tool"}))
                .is_err()
        );
    }

    #[test]
    fn an_unknown_tool_is_a_typed_error_and_the_wire_names_stay() {
        for bad in ["painting", "Article", "", "article\n"] {
            let input: WritingInput =
                serde_json::from_value(serde_json::json!({"tool": bad, "input": "x"})).unwrap();
            assert_eq!(
                kind_field(input.tool().unwrap_err()),
                ("invalid_argument", "tool"),
                "{bad:?}"
            );
        }
        // Every tool the UI sends is the name it sent before.
        for tool in Tool::ALL {
            let input: WritingInput =
                serde_json::from_value(serde_json::json!({"tool": tool.as_str(), "input": "x"}))
                    .unwrap();
            assert_eq!(input.tool().unwrap(), tool);
        }
    }
}
