//! Import and export of workspace documents (issue 17, item 6): `.docx`, `.md` and `.txt` in;
//! `.docx` (a real Word file), `.md` and `.txt` out, to a folder the writer picked (checked
//! here: [`Services::export_folder`]) or, without one, under `<data dir>/exports/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use inkstone_core::workspace::{self, Document, WorkspaceError};
use inkstone_domain::ProfileId;

use crate::{DesktopError, DesktopResult, Services};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Docx,
    Md,
    Txt,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Docx => "docx",
            ExportFormat::Md => "md",
            ExportFormat::Txt => "txt",
        }
    }

    fn render(self, markdown: &str) -> Result<Vec<u8>, inkstone_docx::DocxError> {
        Ok(match self {
            ExportFormat::Docx => inkstone_docx::write(markdown)?,
            ExportFormat::Md => markdown.as_bytes().to_vec(),
            ExportFormat::Txt => inkstone_docx::plain_text(markdown).into_bytes(),
        })
    }
}

/// A file-name-safe form of a title: no path separators or characters Windows refuses, at
/// most 60 characters.
fn safe_name(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .take(60)
        .collect();
    let name = name.trim().trim_matches('.').to_string();
    if name.is_empty() {
        "document".into()
    } else {
        name
    }
}

/// Writes `bytes` to a new file `<dir>/<stem><n>.<ext>`: never over an earlier export.
fn write_new(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = dir.join(format!("{stem}{suffix}.{ext}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(bytes)?;
                file.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::ErrorKind::AlreadyExists.into())
}

/// Why a folder the writer picked cannot take an export. Nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ExportFolderError {
    /// Occurs when the path is not absolute, does not exist or is not a folder.
    #[error("not an existing folder")]
    Missing,
    /// Occurs when the folder is the app's own data folder or inside it (where the database
    /// and backups live), other than its `exports` folder.
    #[error("the app's data folder cannot take exports")]
    InAppData,
    /// Occurs when a file cannot be created in the folder (read-only, no permission).
    #[error("the folder cannot be written to")]
    NotWritable,
}

impl ExportFolderError {
    pub const KINDS: &'static [&'static str] = &[
        "export_folder_missing",
        "export_folder_in_app_data",
        "export_folder_not_writable",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing => "export_folder_missing",
            Self::InAppData => "export_folder_in_app_data",
            Self::NotWritable => "export_folder_not_writable",
        }
    }
}

/// `picked` as a folder an export may go to: absolute, an existing folder (links resolved),
/// outside `data_dir` unless within its `exports` folder, and writable (a probe file is
/// created and removed).
fn check_export_folder(data_dir: &Path, picked: &Path) -> Result<PathBuf, ExportFolderError> {
    if !picked.is_absolute() {
        return Err(ExportFolderError::Missing);
    }
    let folder = std::fs::canonicalize(picked).map_err(|_| ExportFolderError::Missing)?;
    if !folder.is_dir() {
        return Err(ExportFolderError::Missing);
    }
    // The data folder may not exist yet in odd set-ups; then nothing can be inside it.
    if let Ok(data) = std::fs::canonicalize(data_dir) {
        let exports = data.join("exports");
        if folder.starts_with(&data) && !folder.starts_with(&exports) {
            return Err(ExportFolderError::InAppData);
        }
    }
    let probe = folder.join(format!(".inkstone-write-check-{}", uuid::Uuid::new_v4()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(folder)
        }
        Err(error) => {
            tracing::info!(%error, "the picked export folder is not writable");
            Err(ExportFolderError::NotWritable)
        }
    }
}

fn export_failed(error: std::io::Error) -> DesktopError {
    // The path and the OS error stay in the log.
    tracing::error!(%error, "cannot write the export");
    DesktopError::Export("cannot write to the exports folder")
}

impl Services {
    fn exports_dir(&self) -> PathBuf {
        self.options.data_dir.join("exports")
    }

    /// Where an export goes: `picked` once checked ([`ExportFolderError`] says why not, and
    /// nothing is written), or `<data dir>/exports/` when the writer picked none.
    pub fn export_folder(&self, picked: Option<&Path>) -> DesktopResult<PathBuf> {
        match picked {
            None => Ok(self.exports_dir()),
            Some(picked) => Ok(check_export_folder(&self.options.data_dir, picked)?),
        }
    }

    /// A new document in `project_id` from a `.txt`, `.md` or `.docx` file the writer picked
    /// (its bytes; the webview has no paths). A file that is not what its name says, too
    /// large, or with an unusable name is a typed error and nothing is created.
    pub async fn document_import(
        &self,
        profile_id: ProfileId,
        project_id: i64,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> DesktopResult<Document> {
        let (title, ext) = workspace::split_file_name(file_name)?;
        let body = if ext == "docx" {
            if bytes.len() > workspace::MAX_IMPORT_BYTES {
                return Err(WorkspaceError::TooLarge {
                    chars: bytes.len(),
                    max: workspace::MAX_BODY_CHARS,
                }
                .into());
            }
            let read = tokio::task::spawn_blocking(move || inkstone_docx::read(&bytes))
                .await
                .map_err(|_| WorkspaceError::ImportUnreadable("the import was interrupted"))?;
            match read {
                Ok(text) => text,
                Err(inkstone_docx::DocxError::TooLarge) => {
                    return Err(WorkspaceError::TooLarge {
                        chars: workspace::MAX_BODY_CHARS + 1,
                        max: workspace::MAX_BODY_CHARS,
                    }
                    .into())
                }
                Err(_) => return Err(WorkspaceError::ImportUnreadable("not a Word file").into()),
            }
        } else {
            workspace::text_from_bytes(&bytes)?
        };
        Ok(
            workspace::create_document(&self.db, profile_id, project_id, &title, &body, self.now())
                .await?,
        )
    }

    /// Writes one document as `.docx`, `.md` or `.txt` into the folder the writer picked
    /// (checked: [`Services::export_folder`]), or under `<data dir>/exports/` when none;
    /// returns the file written. Never over an existing file.
    pub async fn document_export(
        &self,
        profile_id: ProfileId,
        id: i64,
        format: ExportFormat,
        folder: Option<&Path>,
    ) -> DesktopResult<PathBuf> {
        let dir = self.export_folder(folder)?;
        let doc = workspace::get_document(&self.db, profile_id, id).await?;
        let stem = format!(
            "{}-{}",
            safe_name(&doc.meta.title),
            self.now().format("%Y%m%d-%H%M%S")
        );
        tokio::task::spawn_blocking(move || {
            let bytes = format
                .render(&doc.body)
                .map_err(|_| DesktopError::Export("cannot write the Word file"))?;
            write_new(&dir, &stem, format.extension(), &bytes).map_err(export_failed)
        })
        .await
        .map_err(|_| DesktopError::Export("the export was interrupted"))?
    }

    /// Writes every document of a project (not those in the trash) into a new folder inside
    /// the folder the writer picked (checked: [`Services::export_folder`]), or under
    /// `<data dir>/exports/` when none; returns the new folder.
    pub async fn project_export(
        &self,
        profile_id: ProfileId,
        project_id: i64,
        format: ExportFormat,
        folder: Option<&Path>,
    ) -> DesktopResult<PathBuf> {
        let parent = self.export_folder(folder)?;
        let project = workspace::get_project(&self.db, profile_id, project_id).await?;
        let tree = workspace::tree(&self.db, profile_id, self.now()).await?;
        let metas = tree
            .projects
            .into_iter()
            .find(|p| p.project.id == project_id)
            .map(|p| p.documents)
            .unwrap_or_default();
        let mut docs = Vec::with_capacity(metas.len());
        for m in metas {
            docs.push(workspace::get_document(&self.db, profile_id, m.id).await?);
        }
        let folder = parent.join(format!(
            "{}-{}",
            safe_name(&project.name),
            self.now().format("%Y%m%d-%H%M%S")
        ));
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&folder).map_err(export_failed)?;
            for doc in &docs {
                let bytes = format
                    .render(&doc.body)
                    .map_err(|_| DesktopError::Export("cannot write the Word file"))?;
                write_new(
                    &folder,
                    &safe_name(&doc.meta.title),
                    format.extension(),
                    &bytes,
                )
                .map_err(export_failed)?;
            }
            Ok(folder)
        })
        .await
        .map_err(|_| DesktopError::Export("the export was interrupted"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_never_overwrite() {
        assert_eq!(safe_name("第一章: 春/夏?"), "第一章_ 春_夏_");
        assert_eq!(safe_name(".."), "document");
        assert_eq!(safe_name(&"字".repeat(100)).chars().count(), 60);
        let dir = tempfile::tempdir().unwrap();
        let a = write_new(dir.path(), "x", "md", b"1").unwrap();
        let b = write_new(dir.path(), "x", "md", b"2").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(a).unwrap(), b"1");
    }
}
