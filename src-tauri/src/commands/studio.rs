//! Generations: every tool streams its updates over a `Channel` and can be stopped.

use std::path::{Path, PathBuf};

use base64::Engine;
use inkstone_core::generations::{self, Generation, HistoryFilter, HistoryPage};
use inkstone_core::ledger::PageRequest;
use inkstone_studio::{MediaKind, Update, WriteRequest};
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

#[derive(serde::Deserialize)]
pub struct WritingInput {
    pub tool: String,
    pub input: String,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub regenerated_from: Option<i64>,
    #[serde(default)]
    pub model_id: Option<i64>,
}

#[tauri::command]
#[tracing::instrument(skip_all, fields(tool = %input.tool), err)]
pub async fn generate_writing(
    state: State<'_, AppState>,
    input: WritingInput,
    on_event: Channel<Update>,
) -> CommandResult<Generation> {
    let request = WriteRequest {
        profile_id: state.profile()?,
        tool: input.tool,
        input: input.input,
        params: input.params,
        regenerated_from: input.regenerated_from,
        inputs: Vec::new(),
    };
    let mut sink = forward(on_event);
    Ok(state
        .services
        .write(request, input.model_id, &mut sink)
        .await?)
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
    let request = WriteRequest {
        profile_id: state.profile()?,
        tool: "vision".into(),
        input: input.input,
        params: input.params,
        regenerated_from: None,
        inputs: Vec::new(),
    };
    let mut sink = forward(on_event);
    Ok(state
        .services
        .write_about_image(request, image, &file_name, &mut sink)
        .await?)
}

#[tauri::command]
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
pub fn cancel_generation(state: State<'_, AppState>, generation_id: i64) -> bool {
    state.services.studio.cancel(generation_id)
}

#[tauri::command]
pub async fn history_list(
    state: State<'_, AppState>,
    filter: HistoryFilter,
    page: PageRequest,
) -> CommandResult<HistoryPage> {
    Ok(generations::history(&state.db, state.profile()?, &filter, page).await?)
}

#[tauri::command]
pub async fn history_get(state: State<'_, AppState>, id: i64) -> CommandResult<Generation> {
    Ok(generations::get(&state.db, state.profile()?, id).await?)
}

#[tauri::command]
pub async fn history_delete(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    Ok(generations::delete(&state.db, state.profile()?, id).await?)
}

/// Markdown (`md`) or plain text (`txt`) of one generation.
#[tauri::command]
pub async fn history_export(
    state: State<'_, AppState>,
    id: i64,
    format: String,
) -> CommandResult<String> {
    let g = generations::get(&state.db, state.profile()?, id).await?;
    match format.as_str() {
        "md" => Ok(generations::export_markdown(&g)),
        "txt" => Ok(generations::export_text(&g)),
        _ => Err(AppError::InvalidArgument {
            field: "format",
            reason: "md or txt",
        }),
    }
}

/// Writes the Markdown (`md`) or text (`txt`) export of one generation under
/// `<data dir>/exports/` and returns the path written: the file itself, or — when the
/// generation made files (images, video, a deck) — a folder holding the export and a copy of
/// each file.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_export_to(
    state: State<'_, AppState>,
    id: i64,
    format: String,
) -> CommandResult<String> {
    let format = ExportFormat::parse(&format)?;
    let g = generations::get(&state.db, state.profile()?, id).await?;
    let exports = state.data_dir.join("exports");
    let files_root = state.data_dir.join("files");
    let now = state.services.now();
    let written =
        tokio::task::spawn_blocking(move || write_export(&exports, &files_root, &g, format, now))
            .await
            .map_err(|_| AppError::Export("the export was interrupted"))?
            .map_err(|error| {
                // The path and the OS error stay in the log.
                tracing::error!(%error, "cannot write the export");
                AppError::Export("cannot write to the exports folder")
            })?;
    Ok(written.to_string_lossy().into_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Markdown,
    Text,
}

impl ExportFormat {
    fn parse(format: &str) -> CommandResult<Self> {
        match format {
            "md" => Ok(Self::Markdown),
            "txt" => Ok(Self::Text),
            _ => Err(AppError::InvalidArgument {
                field: "format",
                reason: "md or txt",
            }),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Text => "txt",
        }
    }
}

/// The export of `g` under `exports`; files are copied only from under `files_root` (the
/// app's own output), and the export names the copies, not the originals.
fn write_export(
    exports: &Path,
    files_root: &Path,
    g: &Generation,
    format: ExportFormat,
    now: chrono::DateTime<chrono::Utc>,
) -> std::io::Result<PathBuf> {
    use std::io::Write;

    std::fs::create_dir_all(exports)?;
    let stem = format!(
        "inkstone-{}-{}-{}",
        g.tool,
        g.id,
        now.format("%Y%m%d-%H%M%S")
    );
    let render = |g: &Generation| match format {
        ExportFormat::Markdown => generations::export_markdown(g),
        ExportFormat::Text => generations::export_text(g),
    };
    // A fresh name each time: an earlier export is never overwritten.
    let fresh = |ext: String| {
        (1..1000).map(move |n| {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!("-{n}")
            };
            format!("{suffix}{ext}")
        })
    };
    if g.files.is_empty() && g.inputs.is_empty() {
        for suffix in fresh(format!(".{}", format.extension())) {
            let path = exports.join(format!("{stem}{suffix}"));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(render(g).as_bytes())?;
                    file.sync_all()?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let mut folder = None;
    for suffix in fresh(String::new()) {
        let path = exports.join(format!("{stem}{suffix}"));
        match std::fs::create_dir(&path) {
            Ok(()) => {
                folder = Some(path);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    let folder = folder.ok_or(std::io::ErrorKind::AlreadyExists)?;
    let root = files_root.canonicalize().ok();
    let mut copied: Vec<String> = Vec::new();
    // Copies one of the app's files into the folder under `name` (made unique); None for a
    // file that is gone or not the app's own.
    let mut copy_in = |file: &str, name: String, n: usize| -> std::io::Result<Option<String>> {
        let Ok(source) = Path::new(file).canonicalize() else {
            return Ok(None);
        };
        if !root.as_ref().is_some_and(|r| source.starts_with(r)) || !source.is_file() {
            return Ok(None);
        }
        let name = if copied.contains(&name) {
            format!("{n}-{name}")
        } else {
            name
        };
        std::fs::copy(&source, folder.join(&name))?;
        copied.push(name.clone());
        Ok(Some(name))
    };
    let mut inputs = Vec::new();
    for (i, input) in g.inputs.iter().enumerate() {
        // The writer's name for it, without any folder part.
        let name = Path::new(&input.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("input-{}", i + 1));
        if let Some(name) = copy_in(&input.path, name, i + 1)? {
            inputs.push(generations::InputFile {
                path: name,
                name: input.name.clone(),
            });
        }
    }
    let mut files = Vec::new();
    for (i, file) in g.files.iter().enumerate() {
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("file-{}", i + 1));
        if let Some(name) = copy_in(file, name, i + 1)? {
            files.push(name);
        }
    }
    let listed = Generation {
        files,
        inputs,
        ..g.clone()
    };
    std::fs::write(
        folder.join(format!("{stem}.{}", format.extension())),
        render(&listed),
    )?;
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_now() -> chrono::DateTime<chrono::Utc> {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 8, 0, 0).unwrap()
    }
    use base64::engine::general_purpose::STANDARD;
    use inkstone_core::generations::{Status, Usage};

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

    fn generation(tool: &str, files: Vec<String>) -> Generation {
        Generation {
            id: 7,
            profile_id: 1,
            tool: tool.into(),
            model: "qwen-plus".into(),
            prompt: "写一首诗".into(),
            params: serde_json::json!({}),
            status: Status::Succeeded,
            output_text: "床前明月光".into(),
            files,
            inputs: Vec::new(),
            usage: Usage::default(),
            cost: 10,
            refunded: false,
            consume_id: None,
            error_kind: None,
            error_message: None,
            regenerated_from: None,
            created_at: fixed_now(),
            finished_at: None,
        }
    }

    #[test]
    fn export_formats_are_md_or_txt() {
        assert_eq!(ExportFormat::parse("md").unwrap(), ExportFormat::Markdown);
        assert_eq!(ExportFormat::parse("txt").unwrap(), ExportFormat::Text);
        for bad in ["pdf", "MD", "", "../md"] {
            assert_eq!(
                ExportFormat::parse(bad).unwrap_err().kind(),
                "invalid_argument"
            );
        }
    }

    #[test]
    fn a_text_generation_exports_to_one_new_file_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let exports = dir.path().join("exports");
        let g = generation("article", Vec::new());
        let now = fixed_now();
        let files = dir.path().join("files");
        let export = |format| write_export(&exports, &files, &g, format, now).unwrap();
        let md = export(ExportFormat::Markdown);
        assert!(
            md.starts_with(&exports) && md.extension().unwrap() == "md",
            "{md:?}"
        );
        let text = std::fs::read_to_string(&md).unwrap();
        assert!(
            text.contains("> 写一首诗") && text.contains("床前明月光"),
            "{text}"
        );
        let again = export(ExportFormat::Markdown);
        assert_ne!(md, again, "an earlier export is not overwritten");
        let txt = export(ExportFormat::Text);
        assert_eq!(std::fs::read_to_string(txt).unwrap(), "床前明月光");
    }

    fn markdown_export(exports: &Path, files: &Path, g: &Generation) -> PathBuf {
        write_export(exports, files, g, ExportFormat::Markdown, fixed_now()).unwrap()
    }

    #[test]
    fn a_media_generation_exports_a_folder_with_copies_of_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("files");
        std::fs::create_dir_all(files.join("7")).unwrap();
        let image = files.join("7").join("image-1.png");
        std::fs::write(&image, PNG).unwrap();
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "not the app's").unwrap();
        let g = generation(
            "image",
            vec![
                image.to_string_lossy().into_owned(),
                outside.to_string_lossy().into_owned(),
                files.join("7/missing.png").to_string_lossy().into_owned(),
            ],
        );
        let exports = dir.path().join("exports");
        let folder = markdown_export(&exports, &files, &g);
        assert!(
            folder.is_dir() && folder.starts_with(&exports),
            "{folder:?}"
        );
        assert_eq!(std::fs::read(folder.join("image-1.png")).unwrap(), PNG);
        assert!(!folder.join("secret.txt").exists());
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        let md = names.iter().find(|n| n.ends_with(".md")).unwrap();
        let text = std::fs::read_to_string(folder.join(md)).unwrap();
        assert!(text.contains("- image-1.png"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn a_vision_generation_exports_its_picture_under_the_writers_name() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("files");
        std::fs::create_dir_all(files.join("inputs")).unwrap();
        let kept = files.join("inputs").join("0a1b.png");
        std::fs::write(&kept, PNG).unwrap();
        let g = Generation {
            inputs: vec![
                generations::InputFile {
                    path: kept.to_string_lossy().into_owned(),
                    // A name with a folder part exports under its last part only.
                    name: "../../猫 [1].png".into(),
                },
                generations::InputFile {
                    path: dir
                        .path()
                        .join("elsewhere.png")
                        .to_string_lossy()
                        .into_owned(),
                    name: "elsewhere.png".into(),
                },
            ],
            ..generation("vision", Vec::new())
        };
        let exports = dir.path().join("exports");
        let folder = markdown_export(&exports, &files, &g);
        assert_eq!(std::fs::read(folder.join("猫 [1].png")).unwrap(), PNG);
        assert!(
            !folder.join("elsewhere.png").exists(),
            "only the app's own files"
        );
        let md = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "md"))
            .unwrap();
        let text = std::fs::read_to_string(md).unwrap();
        assert!(
            text.contains("> ![../../猫 \\[1\\].png](<猫 [1].png>)"),
            "the picture sits with the question, linked to its copy: {text}"
        );
    }
}
