//! Checks made before any request, so a bad key, URL, model name or image
//! is a clear error and never a confusing answer from the service.

use crate::error::QwenError;

fn bad(field: &'static str, reason: &str) -> QwenError {
    QwenError::InvalidInput {
        field,
        reason: reason.into(),
    }
}

pub fn api_key(key: &str) -> Result<(), QwenError> {
    if key.is_empty() {
        return Err(bad("api_key", "empty"));
    }
    if key.len() > 256
        || key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(bad(
            "api_key",
            "malformed (spaces, control or non-ASCII characters)",
        ));
    }
    Ok(())
}

/// An http(s) base URL without a trailing slash.
pub fn base_url(url: &str) -> Result<String, QwenError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad("base_url", "not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("base_url", "must be an http or https URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some() {
        return Err(bad("base_url", "must not carry credentials or a query"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

pub fn model_name(model: &str) -> Result<(), QwenError> {
    if model.trim().is_empty() || model.len() > 100 {
        return Err(bad("model", "empty or longer than 100 characters"));
    }
    if model.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("model", "contains spaces or control characters"));
    }
    Ok(())
}

pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// The MIME type of an image the vision models accept, from its first bytes.
pub fn image_mime(bytes: &[u8]) -> Result<&'static str, QwenError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(bad("image", "larger than 10 MB"));
    }
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.starts_with(b"BM") && bytes.len() > 26 {
        "image/bmp"
    } else {
        return Err(bad("image", "not a PNG, JPEG, WebP, GIF or BMP image"));
    };
    Ok(mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_urls_models_and_images_are_checked() {
        assert!(api_key("sk-abc123").is_ok());
        for k in ["", "sk abc", "sk-\n", "sk-密钥"] {
            assert!(api_key(k).is_err(), "{k:?}");
        }
        assert_eq!(
            base_url("https://dashscope.aliyuncs.com/").unwrap(),
            "https://dashscope.aliyuncs.com"
        );
        for u in [
            "ftp://x",
            "file:///etc/passwd",
            "dashscope.aliyuncs.com",
            "javascript:alert(1)",
            "http://u:p@h",
        ] {
            assert!(base_url(u).is_err(), "{u}");
        }
        assert!(model_name("qwen-plus").is_ok());
        assert!(model_name("qwen\u{0}plus").is_err() && model_name("").is_err());
        assert_eq!(image_mime(b"\x89PNG\r\n\x1a\nrest").unwrap(), "image/png");
        assert!(image_mime(b"%PDF-1.7").is_err());
        assert!(image_mime(&vec![0xFF; MAX_IMAGE_BYTES + 1]).is_err());
    }

    #[test]
    fn image_input_from_bytes_is_typed_before_any_request() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let image = crate::ImageInput::from_bytes(png.clone()).unwrap();
        assert_eq!((image.mime, image.bytes), ("image/png", png));
        let jpeg = crate::ImageInput::from_bytes(vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).unwrap();
        assert_eq!(jpeg.mime, "image/jpeg");

        let kind_and_field = |bytes: Vec<u8>| match crate::ImageInput::from_bytes(bytes) {
            Err(e @ QwenError::InvalidInput { field, .. }) => (e.kind(), field),
            other => panic!("expected a typed invalid_input, got {other:?}"),
        };
        // Not an image (a PDF, plain text, nothing at all).
        for bytes in [b"%PDF-1.7".to_vec(), b"hello".to_vec(), Vec::new()] {
            assert_eq!(kind_and_field(bytes), ("invalid_input", "image"));
        }
        // Too large, even when the header says PNG.
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(kind_and_field(big), ("invalid_input", "image"));
        // Exactly at the limit is still accepted.
        let mut edge = b"\x89PNG\r\n\x1a\n".to_vec();
        edge.resize(MAX_IMAGE_BYTES, 0);
        assert!(crate::ImageInput::from_bytes(edge).is_ok());
    }
}
