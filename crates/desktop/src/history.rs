//! The writer's history: list, read, delete and export generations of the signed-in
//! profile. An export is written under `<data dir>/exports/` and never overwrites an earlier
//! one; it copies only the app's own files (from `<data dir>/files/`), whatever a stored path
//! says.

use std::path::{Path, PathBuf};

use inkstone_core::generations;
pub use inkstone_core::generations::{Generation, HistoryFilter, HistoryPage};
pub use inkstone_core::ledger::PageRequest;
use inkstone_domain::{GenerationId, ProfileId};

use crate::{DesktopError, DesktopResult, Services};

impl Services {
    pub async fn history(
        &self,
        profile: ProfileId,
        filter: &HistoryFilter,
        page: PageRequest,
    ) -> DesktopResult<HistoryPage> {
        Ok(generations::history(&self.db, profile, filter, page).await?)
    }

    pub async fn generation(
        &self,
        profile: ProfileId,
        id: GenerationId,
    ) -> DesktopResult<Generation> {
        Ok(generations::get(&self.db, profile, id).await?)
    }

    /// Deletes a generation; its text goes everywhere (the ledger keeps only its id).
    pub async fn delete_generation(
        &self,
        profile: ProfileId,
        id: GenerationId,
    ) -> DesktopResult<()> {
        Ok(generations::delete(&self.db, profile, id).await?)
    }

    /// The Markdown (`md`) or plain text (`txt`) of one generation.
    pub async fn export_generation_text(
        &self,
        profile: ProfileId,
        id: GenerationId,
        format: &str,
    ) -> DesktopResult<String> {
        let format = ExportFormat::parse(format)?;
        let g = generations::get(&self.db, profile, id).await?;
        Ok(render(&g, format))
    }

    /// Writes the export of one generation under `<data dir>/exports/`; returns the file, or
    /// the folder holding the export and a copy of each of its files.
    #[tracing::instrument(skip(self), err)]
    pub async fn export_generation(
        &self,
        profile: ProfileId,
        id: GenerationId,
        format: &str,
    ) -> DesktopResult<PathBuf> {
        let format = ExportFormat::parse(format)?;
        let g = generations::get(&self.db, profile, id).await?;
        let exports = self.options.data_dir.join("exports");
        let files_root = self.options.data_dir.join("files");
        let now = self.now();
        tokio::task::spawn_blocking(move || write_export(&exports, &files_root, &g, format, now))
            .await
            .map_err(|_| DesktopError::Export("the export was interrupted"))?
            .map_err(|error| {
                // The path and the OS error stay in the log.
                tracing::error!(%error, "cannot write the export");
                DesktopError::Export("cannot write to the exports folder")
            })
    }
}

fn render(g: &Generation, format: ExportFormat) -> String {
    match format {
        ExportFormat::Markdown => generations::export_markdown(g),
        ExportFormat::Text => generations::export_text(g),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Text,
}

impl ExportFormat {
    pub fn parse(format: &str) -> DesktopResult<Self> {
        match format {
            "md" => Ok(Self::Markdown),
            "txt" => Ok(Self::Text),
            _ => Err(DesktopError::InvalidArgument {
                field: "format",
                reason: "md or txt",
            }),
        }
    }

    pub fn extension(self) -> &'static str {
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
    let render = |g: &Generation| render(g, format);
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
    use inkstone_core::generations::{Status, Usage};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn fixed_now() -> chrono::DateTime<chrono::Utc> {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 8, 0, 0).unwrap()
    }

    fn generation(tool: &str, files: Vec<String>) -> Generation {
        Generation {
            id: GenerationId::new(7),
            profile_id: ProfileId::new(1),
            tool: tool.parse().unwrap(),
            model: "qwen-plus".into(),
            prompt: "写一首诗".into(),
            params: serde_json::json!({}),
            status: Status::Succeeded,
            output_text: "床前明月光".into(),
            files,
            inputs: Vec::new(),
            usage: Usage::default(),
            cost: inkstone_domain::Credits::new(10),
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
                "invalid_argument",
                "{bad}"
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
