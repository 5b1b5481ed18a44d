//! "Export everything" and its import (issue 19, item 5): one zip with every generation as
//! Markdown, the generated images and videos, the transactions as CSV, and `history.json`,
//! the machine-readable history the import reads back.
//!
//! ```text
//! manifest.json              {"format": "inkstone-export", "version": 1, …}
//! history.json               [ArchivedGeneration, …]
//! generations/0001-article.md
//! files/0001/image-1.png     files of generation 1 (the archive's own numbering)
//! transactions.csv
//! ```
//!
//! The import takes history back, never credits or memberships (those come only from signed
//! receipts): `transactions.csv` is for the writer to read and is not imported. An archive is
//! outside bytes: every size is bounded before it is read, every path inside it is checked,
//! and a bad archive is refused before anything is written.

use std::io::{Read, Seek, Write};
use std::path::Path;

use inkstone_core::history_import::{self, ArchivedGeneration};
use inkstone_core::profile_export;
use inkstone_domain::ProfileId;
use serde::{Deserialize, Serialize};

use crate::{DesktopError, DesktopResult, Services};

pub const FORMAT: &str = "inkstone-export";
pub const VERSION: u32 = 1;
/// Entries in an archive (a generation has at most 16 files).
pub const MAX_ENTRIES: usize = 200_000;
/// `history.json` and `manifest.json`, uncompressed.
pub const MAX_HISTORY_BYTES: u64 = 256 * 1024 * 1024;
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
/// One generated file (a video), uncompressed.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;
/// Generations in one archive.
pub const MAX_GENERATIONS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Occurs when the file is not a zip, or not one this app wrote.
    #[error("not an Inkstone export: {0}")]
    NotAnExport(String),
    /// Occurs when the archive is of a newer format than this app reads.
    #[error("the export is of a newer format ({0})")]
    NewerFormat(u32),
    /// Occurs when a size or count in the archive is beyond the limits.
    #[error("the export is too large: {0}")]
    TooLarge(&'static str),
    /// Occurs when the archive's history or a path in it is malformed.
    #[error("the export is damaged: {0}")]
    Damaged(String),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl ArchiveError {
    pub const KINDS: &'static [&'static str] = &[
        "export_not_archive",
        "export_newer",
        "export_too_large",
        "export_damaged",
        "export_io",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotAnExport(_) => "export_not_archive",
            Self::NewerFormat(_) => "export_newer",
            Self::TooLarge(_) => "export_too_large",
            Self::Damaged(_) => "export_damaged",
            Self::Io(_) => "export_io",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub generations: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub path: String,
    pub generations: usize,
    pub files: usize,
}

/// What an import took back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub imported: usize,
    /// Already in this profile's history.
    pub skipped: usize,
    pub files: usize,
}

/// A checked archive: its history, and for each generation the archive entries of its files.
#[derive(Debug)]
pub struct ParsedArchive {
    pub manifest: Manifest,
    pub history: Vec<ArchivedGeneration>,
}

fn zip_err(e: zip::result::ZipError) -> ArchiveError {
    match e {
        zip::result::ZipError::Io(io) => ArchiveError::Io(io),
        other => ArchiveError::NotAnExport(other.to_string()),
    }
}

/// Reads entry `name` whole, refusing more than `max` bytes.
fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, ArchiveError> {
    let entry = zip.by_name(name).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => ArchiveError::NotAnExport(format!("no {name}")),
        other => zip_err(other),
    })?;
    if entry.size() > max {
        return Err(ArchiveError::TooLarge("history"));
    }
    let mut out = Vec::new();
    // The declared size can lie: the read is capped, not trusted.
    entry
        .take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    if out.len() as u64 > max {
        return Err(ArchiveError::TooLarge("history"));
    }
    Ok(out)
}

/// A path inside the archive the import may read: `files/<n>/<name>`, nothing that climbs
/// out, no absolute path, no odd characters.
pub fn safe_entry_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3
        && parts[0] == "files"
        && !parts[1].is_empty()
        && parts[1].chars().all(|c| c.is_ascii_digit())
        && parts[1].len() <= 9
        && !parts[2].is_empty()
        && parts[2].len() <= 200
        && parts[2] != "."
        && parts[2] != ".."
        && !parts[2].starts_with('.')
        && parts[2]
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
}

/// Opens and checks an archive (manifest, history, every file path named there exists)
/// without writing anything.
pub fn parse_archive<R: Read + Seek>(
    reader: R,
) -> Result<(ParsedArchive, zip::ZipArchive<R>), ArchiveError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(zip_err)?;
    if zip.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooLarge("entries"));
    }
    let manifest: Manifest =
        serde_json::from_slice(&read_entry(&mut zip, "manifest.json", MAX_MANIFEST_BYTES)?)
            .map_err(|e| ArchiveError::NotAnExport(format!("manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(ArchiveError::NotAnExport("another format".into()));
    }
    if manifest.version > VERSION {
        return Err(ArchiveError::NewerFormat(manifest.version));
    }
    let history: Vec<ArchivedGeneration> =
        serde_json::from_slice(&read_entry(&mut zip, "history.json", MAX_HISTORY_BYTES)?)
            .map_err(|e| ArchiveError::Damaged(format!("history: {e}")))?;
    if history.len() > MAX_GENERATIONS {
        return Err(ArchiveError::TooLarge("generations"));
    }
    for (n, g) in history.iter().enumerate() {
        g.validate()
            .map_err(|e| ArchiveError::Damaged(format!("generation {n}: {e}")))?;
        for file in &g.files {
            if !safe_entry_path(file) {
                return Err(ArchiveError::Damaged(format!(
                    "generation {n}: a file path"
                )));
            }
            let entry = zip.by_name(file).map_err(|e| match e {
                zip::result::ZipError::FileNotFound => {
                    ArchiveError::Damaged(format!("generation {n}: a file is missing"))
                }
                other => zip_err(other),
            })?;
            if entry.size() > MAX_FILE_BYTES {
                return Err(ArchiveError::TooLarge("file"));
            }
        }
    }
    Ok((ParsedArchive { manifest, history }, zip))
}

/// Copies entry `name` to `dest` (new file), at most [`MAX_FILE_BYTES`].
fn extract<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    dest: &Path,
) -> Result<(), ArchiveError> {
    let entry = zip.by_name(name).map_err(zip_err)?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)?;
    let copied = std::io::copy(&mut entry.take(MAX_FILE_BYTES + 1), &mut out)
        .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    if copied > MAX_FILE_BYTES {
        drop(out);
        let _ = std::fs::remove_file(dest);
        return Err(ArchiveError::TooLarge("file"));
    }
    out.sync_all()?;
    Ok(())
}

/// The file name a stored file keeps in the archive (letters, digits, `-_. `).
fn archive_name(stored: &str, n: usize) -> String {
    let base = Path::new(stored)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(100)
        .collect();
    let clean = clean.trim_start_matches('.');
    if clean.is_empty() {
        format!("file-{n}")
    } else {
        format!("{n}-{clean}")
    }
}

impl Services {
    /// "Export everything" of `profile_id` into `folder` (an existing folder the writer
    /// picked): a new zip, never overwriting.
    pub async fn export_everything(
        &self,
        profile_id: ProfileId,
        folder: &Path,
    ) -> DesktopResult<ExportReport> {
        if !folder.is_absolute() || !folder.is_dir() {
            return Err(inkstone_core::CoreError::InvalidInput {
                field: "folder",
                reason: "an existing folder",
            }
            .into());
        }
        let generations = history_import::generations_of(&self.db, profile_id).await?;
        let ledger = profile_export::export_profile(&self.db, profile_id).await?;
        let now = self.now();
        let files_root = self.options.data_dir.join("files");
        let dest = folder.join(format!(
            "inkstone-export-{}.zip",
            now.format("%Y%m%d-%H%M%S")
        ));
        let report = tokio::task::spawn_blocking(move || {
            write_zip(&dest, &files_root, &generations, &ledger.ledger_csv, now)
        })
        .await
        .map_err(|_| DesktopError::Export("the export was interrupted"))?
        .map_err(|error| {
            tracing::error!(%error, "cannot write the export");
            DesktopError::Archive(error)
        })?;
        Ok(report)
    }

    /// Takes the history of an export back into `profile_id` (see the module text).
    pub async fn import_everything(
        &self,
        profile_id: ProfileId,
        file: &Path,
    ) -> DesktopResult<ImportReport> {
        let reader = std::fs::File::open(file).map_err(ArchiveError::from)?;
        let (parsed, mut zip) = parse_archive(std::io::BufReader::new(reader))?;
        let target = self
            .options
            .data_dir
            .join("files")
            .join("imported")
            .join(self.now().format("%Y%m%d-%H%M%S%3f").to_string());
        let mut report = ImportReport {
            imported: 0,
            skipped: 0,
            files: 0,
        };
        for (n, g) in parsed.history.iter().enumerate() {
            if history_import::already_there(&self.db, profile_id, g).await? {
                report.skipped += 1;
                continue;
            }
            let mut stored = Vec::new();
            if !g.files.is_empty() {
                let dir = target.join(format!("{n}"));
                std::fs::create_dir_all(&dir).map_err(ArchiveError::from)?;
                for file in &g.files {
                    let name = file.rsplit('/').next().unwrap_or("file");
                    let dest = dir.join(name);
                    extract(&mut zip, file, &dest)?;
                    stored.push(dest.to_string_lossy().into_owned());
                    report.files += 1;
                }
            }
            match history_import::import_generation(&self.db, profile_id, g, &stored).await? {
                Some(_) => report.imported += 1,
                None => report.skipped += 1,
            }
        }
        Ok(report)
    }
}

fn write_zip(
    dest: &Path,
    files_root: &Path,
    generations: &[inkstone_core::generations::Generation],
    ledger_csv: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ExportReport, ArchiveError> {
    let partial = dest.with_extension("partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)?;
    let result = (|| {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        // Images and videos are compressed already.
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        let root = files_root.canonicalize().ok();
        let mut history = Vec::with_capacity(generations.len());
        let mut file_count = 0;
        for (i, g) in generations.iter().enumerate() {
            let n = i + 1;
            let mut names = Vec::new();
            for (k, path) in g.files.iter().enumerate() {
                // Only the app's own files: a hand-edited path never pulls another file in.
                let Ok(real) = Path::new(path).canonicalize() else {
                    continue;
                };
                if !root.as_ref().is_some_and(|r| real.starts_with(r)) {
                    continue;
                }
                let name = format!("files/{n:04}/{}", archive_name(path, k + 1));
                zip.start_file(name.as_str(), stored).map_err(zip_err)?;
                let mut src = std::fs::File::open(&real)?;
                std::io::copy(&mut src, &mut zip)?;
                names.push(name);
                file_count += 1;
            }
            zip.start_file(format!("generations/{n:04}-{}.md", g.tool), deflated)
                .map_err(zip_err)?;
            zip.write_all(inkstone_core::generations::export_markdown(g).as_bytes())?;
            history.push(ArchivedGeneration::from_generation(g, names));
        }
        zip.start_file("history.json", deflated).map_err(zip_err)?;
        serde_json::to_writer(&mut zip, &history)
            .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        zip.start_file("transactions.csv", deflated)
            .map_err(zip_err)?;
        // A BOM so spreadsheet programs read the Chinese descriptions as UTF-8.
        zip.write_all("\u{feff}".as_bytes())?;
        zip.write_all(ledger_csv.as_bytes())?;
        zip.start_file("manifest.json", deflated).map_err(zip_err)?;
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            exported_at: now,
            generations: generations.len(),
        };
        serde_json::to_writer_pretty(&mut zip, &manifest)
            .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        let out = zip.finish().map_err(zip_err)?;
        out.into_inner()
            .map_err(|e| ArchiveError::Io(e.into_error()))?
            .sync_all()?;
        Ok::<_, ArchiveError>(file_count)
    })();
    match result {
        Ok(files) => {
            if dest.exists() {
                let _ = std::fs::remove_file(&partial);
                return Err(ArchiveError::Io(std::io::ErrorKind::AlreadyExists.into()));
            }
            std::fs::rename(&partial, dest)?;
            Ok(ExportReport {
                path: dest.to_string_lossy().into_owned(),
                generations: generations.len(),
                files,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_paths_inside_files_are_read() {
        for ok in [
            "files/0001/1-image-1.png",
            "files/12/clip.mp4",
            "files/1/图 1.png",
        ] {
            assert!(safe_entry_path(ok), "{ok}");
        }
        for bad in [
            "files/../etc/passwd",
            "/etc/passwd",
            "files/1/../../x",
            "files/1/..",
            "files/1/.hidden",
            "files/x/a.png",
            "history.json",
            "files/1/a/b.png",
            "files//a.png",
            "files/1/a\\..\\b.png",
            "files/1/",
        ] {
            assert!(!safe_entry_path(bad), "{bad}");
        }
    }
}
