//! Generated files as the webview loads them: through the app's `inkfile:` protocol, by
//! generation id and index (never by path), only for a generation of the signed-in profile,
//! in byte ranges so a long video is never read whole into memory or sent over IPC.

use std::path::{Path, PathBuf};

use inkstone_core::{generations, CoreError, Database};
use inkstone_domain::{GenerationId, ProfileId};

/// The protocol's scheme (CSP: `img-src`/`media-src` allow only this one for files).
pub const SCHEME: &str = "inkfile";
/// The most bytes one answer carries; a player asks for the rest with further ranges.
pub const MAX_CHUNK: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    /// Occurs when the URL is not `g/<id>/f/<n>` or `g/<id>/i/<n>`.
    #[error("malformed file address")]
    BadAddress,
    /// Occurs when no profile is signed in, or the generation is not the signed-in profile's,
    /// or it has no such file, or the file lies outside the app's files folder.
    #[error("no such file")]
    NotFound,
    /// Occurs when a `Range` header cannot be read or lies beyond the file.
    #[error("unsatisfiable range")]
    BadRange,
}

/// Which file of a generation: one it produced, or one the writer gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRef {
    Output(usize),
    Input(usize),
}

/// The address of a file inside the protocol (the part after the scheme and host).
pub fn address(generation_id: GenerationId, file: FileRef) -> String {
    match file {
        FileRef::Output(n) => format!("g/{generation_id}/f/{n}"),
        FileRef::Input(n) => format!("g/{generation_id}/i/{n}"),
    }
}

/// Reads `g/<id>/f/<n>` or `g/<id>/i/<n>` (percent-encoded slashes allowed, as
/// `convertFileSrc` writes them).
pub fn parse_address(path: &str) -> Result<(GenerationId, FileRef), MediaError> {
    if path.len() > 64 {
        return Err(MediaError::BadAddress);
    }
    let decoded = path
        .trim_start_matches('/')
        .replace("%2F", "/")
        .replace("%2f", "/");
    let parts: Vec<&str> = decoded.split('/').collect();
    let number = |s: &str| -> Result<u64, MediaError> {
        if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MediaError::BadAddress);
        }
        s.parse().map_err(|_| MediaError::BadAddress)
    };
    match parts.as_slice() {
        ["g", id, which, n] => {
            let id = i64::try_from(number(id)?).map_err(|_| MediaError::BadAddress)?;
            let id = GenerationId::new(id);
            let n = usize::try_from(number(n)?).map_err(|_| MediaError::BadAddress)?;
            match *which {
                "f" => Ok((id, FileRef::Output(n))),
                "i" => Ok((id, FileRef::Input(n))),
                _ => Err(MediaError::BadAddress),
            }
        }
        _ => Err(MediaError::BadAddress),
    }
}

/// The bytes to send: `start..=end` of a file of `len` bytes, at most [`MAX_CHUNK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
    /// Whether the answer is partial (206 with `Content-Range`).
    pub partial: bool,
}

/// Reads a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`; one range only) against a
/// file of `len` bytes. No header: the whole file (a partial first chunk if it is large).
pub fn span(range: Option<&str>, len: u64) -> Result<Span, MediaError> {
    let Some(range) = range else {
        if len == 0 {
            return Ok(Span {
                start: 0,
                end: 0,
                partial: false,
            });
        }
        let end = (len - 1).min(MAX_CHUNK - 1);
        return Ok(Span {
            start: 0,
            end,
            partial: end + 1 < len,
        });
    };
    let spec = range
        .trim()
        .strip_prefix("bytes=")
        .ok_or(MediaError::BadRange)?;
    if spec.contains(',') || len == 0 {
        return Err(MediaError::BadRange);
    }
    let (a, b) = spec.split_once('-').ok_or(MediaError::BadRange)?;
    let num = |s: &str| -> Result<u64, MediaError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MediaError::BadRange);
        }
        s.parse().map_err(|_| MediaError::BadRange)
    };
    let (start, end) = if a.trim().is_empty() {
        // The last n bytes.
        let n = num(b)?;
        if n == 0 {
            return Err(MediaError::BadRange);
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start = num(a)?;
        let end = if b.trim().is_empty() {
            len - 1
        } else {
            num(b)?.min(len - 1)
        };
        (start, end)
    };
    if start >= len || end < start {
        return Err(MediaError::BadRange);
    }
    let end = end.min(start.saturating_add(MAX_CHUNK - 1));
    Ok(Span {
        start,
        end,
        partial: true,
    })
}

/// The MIME type of a generated file, by its extension.
pub fn mime_of(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("bmp") => "image/bmp",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// The file behind an address, if it belongs to a generation of `profile_id` and lies in the
/// app's files folder (`files_root`). Everything else is `NotFound`, whoever asks.
pub async fn resolve(
    db: &Database,
    files_root: &Path,
    profile_id: Option<ProfileId>,
    address: &str,
) -> Result<PathBuf, MediaError> {
    let (generation_id, file) = parse_address(address)?;
    let profile_id = profile_id.ok_or(MediaError::NotFound)?;
    let generation = match generations::get(db, profile_id, generation_id).await {
        Ok(g) => g,
        Err(CoreError::UnknownGeneration(_)) => return Err(MediaError::NotFound),
        Err(error) => {
            tracing::warn!(%error, "a generated file could not be looked up");
            return Err(MediaError::NotFound);
        }
    };
    let stored = match file {
        FileRef::Output(n) => generation.files.get(n).cloned(),
        FileRef::Input(n) => generation.inputs.get(n).map(|i| i.path.clone()),
    }
    .ok_or(MediaError::NotFound)?;
    // A stored path is the app's own, but a database edited by hand must not reach beyond it.
    let root = files_root
        .canonicalize()
        .map_err(|_| MediaError::NotFound)?;
    let path = Path::new(&stored)
        .canonicalize()
        .map_err(|_| MediaError::NotFound)?;
    if !path.starts_with(&root) {
        return Err(MediaError::NotFound);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_round_trip_and_bad_ones_are_refused() {
        for file in [FileRef::Output(0), FileRef::Input(3)] {
            let id = GenerationId::new(42);
            assert_eq!(parse_address(&address(id, file)), Ok((id, file)));
        }
        assert_eq!(
            parse_address("g%2F7%2Ff%2F1"),
            Ok((GenerationId::new(7), FileRef::Output(1)))
        );
        for bad in [
            "",
            "g/1/f",
            "g/1/x/0",
            "g/-1/f/0",
            "g/1/f/0/..",
            "../etc/passwd",
            "g/99999999999999999999/f/0",
            "g/1/f/+0",
        ] {
            assert_eq!(parse_address(bad), Err(MediaError::BadAddress), "{bad}");
        }
    }

    #[test]
    fn ranges_follow_rfc_7233_and_are_capped() {
        let whole = |len| span(None, len).unwrap();
        assert_eq!(
            whole(10),
            Span {
                start: 0,
                end: 9,
                partial: false
            }
        );
        assert_eq!(whole(MAX_CHUNK * 3).end, MAX_CHUNK - 1);
        assert!(whole(MAX_CHUNK * 3).partial);
        assert_eq!(
            span(Some("bytes=0-"), 100).unwrap(),
            Span {
                start: 0,
                end: 99,
                partial: true
            }
        );
        assert_eq!(
            span(Some("bytes=10-19"), 100).unwrap(),
            Span {
                start: 10,
                end: 19,
                partial: true
            }
        );
        assert_eq!(
            span(Some("bytes=90-500"), 100).unwrap(),
            Span {
                start: 90,
                end: 99,
                partial: true
            }
        );
        assert_eq!(
            span(Some("bytes=-10"), 100).unwrap(),
            Span {
                start: 90,
                end: 99,
                partial: true
            }
        );
        assert_eq!(
            span(Some("bytes=0-"), MAX_CHUNK * 2).unwrap().end,
            MAX_CHUNK - 1
        );
        for bad in [
            "bytes=100-",
            "bytes=5-2",
            "bytes=-0",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert_eq!(span(Some(bad), 100), Err(MediaError::BadRange), "{bad}");
        }
    }

    /// A file of one profile's generation is refused to another profile, to nobody signed
    /// in, and by an index it does not have; a path outside the files folder is refused too.
    #[tokio::test]
    async fn only_the_owner_gets_a_generated_file() {
        use chrono::TimeZone;
        use inkstone_core::generations::{NewGeneration, Outcome, Usage};
        use inkstone_core::ledger::{add_credits, Grant, GrantKind};
        use inkstone_core::profiles::create_profile;

        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        std::fs::create_dir_all(root.join("1")).unwrap();
        let image = root.join("1").join("image-1.png");
        std::fs::write(&image, b"png").unwrap();
        let outside = dir.path().join("secret.png");
        std::fs::write(&outside, b"secret").unwrap();
        let db = inkstone_core::open_in_memory().await.unwrap();
        let owner = create_profile(&db, "owner", "password123", false, now)
            .await
            .unwrap()
            .id;
        let other = create_profile(&db, "other", "password123", false, now)
            .await
            .unwrap()
            .id;
        let grant = Grant {
            kind: GrantKind::Recharge,
            credits: inkstone_domain::Credits::new(100),
            description: String::new(),
            order_no: None,
            expires_at: None,
        };
        add_credits(&db, owner, &grant, now).await.unwrap();
        let mut ids = Vec::new();
        for file in [&image, &outside] {
            let new = NewGeneration {
                profile_id: owner,
                tool: inkstone_domain::Tool::Image,
                model: "wanx".into(),
                prompt: "猫".into(),
                params: serde_json::Value::Null,
                regenerated_from: None,
                inputs: Vec::new(),
            };
            let started = generations::start(&db, &new, now).await.unwrap();
            let outcome = Outcome::Succeeded {
                output_text: String::new(),
                files: vec![file.to_string_lossy().into_owned()],
                usage: Usage::default(),
            };
            generations::finish(&db, started.generation_id, outcome, now)
                .await
                .unwrap();
            ids.push(started.generation_id);
        }
        let at = |id| address(id, FileRef::Output(0));
        assert_eq!(
            resolve(&db, &root, Some(owner), &at(ids[0])).await,
            Ok(image.canonicalize().unwrap())
        );
        assert_eq!(
            resolve(&db, &root, Some(other), &at(ids[0])).await,
            Err(MediaError::NotFound)
        );
        assert_eq!(
            resolve(&db, &root, None, &at(ids[0])).await,
            Err(MediaError::NotFound)
        );
        let missing = address(ids[0], FileRef::Output(1));
        assert_eq!(
            resolve(&db, &root, Some(owner), &missing).await,
            Err(MediaError::NotFound)
        );
        assert_eq!(
            resolve(&db, &root, Some(owner), &at(ids[1])).await,
            Err(MediaError::NotFound)
        );
    }

    proptest! {
        #[test]
        fn any_range_header_is_answered_within_the_file(header in ".{0,40}", len in 0u64..u64::MAX / 2) {
            if let Ok(s) = span(Some(&header), len) {
                prop_assert!(s.start <= s.end && s.end < len && s.end - s.start < MAX_CHUNK);
            }
        }

        #[test]
        fn mutated_ranges_never_panic(a in any::<u64>(), b in any::<u64>(), len in 1u64..1u64 << 40, form in 0u8..4) {
            let header = match form {
                0 => format!("bytes={a}-{b}"),
                1 => format!("bytes={a}-"),
                2 => format!("bytes=-{b}"),
                _ => format!("bytes={a}-{b},{b}-"),
            };
            if let Ok(s) = span(Some(&header), len) {
                prop_assert!(s.start <= s.end && s.end < len);
            }
        }

        #[test]
        fn any_address_is_parsed_or_refused(path in ".{0,80}") {
            let _ = parse_address(&path);
        }
    }
}
