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

/// A result link from a finished task (an OSS object): http(s), a host, no credentials.
/// The signed query (`Expires`, `OSSAccessKeyId`, `Signature`) is what makes it work, so a
/// query is expected here, unlike in a base URL.
pub fn result_url(url: &str) -> Result<reqwest::Url, QwenError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad("result_url", "not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad(
            "result_url",
            "must be an http or https URL with a host",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("result_url", "must not carry credentials"));
    }
    Ok(parsed)
}

/// Whether `host` is the machine itself (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback_host(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `url` is one of Alibaba's DashScope endpoints (`https://dashscope*.aliyuncs.com`,
/// e.g. Beijing, Singapore): the only hosts the DashScope key may be sent to.
pub fn is_dashscope_host(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return false;
    };
    // The URL parser lower-cases domain names.
    let Some(host) = parsed.host_str() else {
        return false;
    };
    parsed.scheme() == "https"
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && host
            .strip_suffix(".aliyuncs.com")
            .is_some_and(|name| name.starts_with("dashscope") && !name.contains('.'))
}

/// The base URL of an OpenAI-compatible endpoint: [`base_url`], and https unless the host is
/// the machine itself (a local server), so its key never crosses a network in clear.
pub fn openai_base_url(url: &str) -> Result<String, QwenError> {
    let base = base_url(url)?;
    let parsed = reqwest::Url::parse(&base).map_err(|_| bad("base_url", "not a URL"))?;
    if parsed.scheme() != "https" && !is_loopback_host(&parsed) {
        return Err(bad(
            "base_url",
            "must be https unless the server runs on this machine (localhost)",
        ));
    }
    Ok(base)
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
        // A result link is checked by its own rule: the signed query is fine.
        let oss = "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/a.png?Expires=1761123456&OSSAccessKeyId=LTAI5t&Signature=abc%2Bdef%3D";
        assert!(base_url(oss).is_err(), "a base URL takes no query");
        assert_eq!(result_url(oss).unwrap().as_str(), oss);
        for u in [
            "ftp://x/a.png",
            "file:///etc/passwd",
            "http://u:p@h/a.png?Expires=1",
            "https://user@h/a.png",
            "data:image/png;base64,AAAA",
            "/files/a.png",
        ] {
            assert!(result_url(u).is_err(), "{u}");
        }
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

    #[test]
    fn the_dashscope_key_goes_only_to_dashscope_hosts() {
        for u in [
            crate::BEIJING,
            crate::SINGAPORE,
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "https://DashScope-intl.aliyuncs.com",
        ] {
            assert!(is_dashscope_host(u), "{u}");
        }
        for u in [
            "http://dashscope.aliyuncs.com",
            "https://dashscope.aliyuncs.com.evil.example",
            "https://evil.example/dashscope.aliyuncs.com",
            "https://evil.dashscope.aliyuncs.com",
            "https://oss-cn-beijing.aliyuncs.com",
            "https://u:p@dashscope.aliyuncs.com",
            "http://127.0.0.1:8080",
            "https://api.openai.com/v1",
            "not a url",
        ] {
            assert!(!is_dashscope_host(u), "{u}");
        }
    }

    #[test]
    fn an_openai_compatible_endpoint_needs_https_unless_it_is_local() {
        for u in [
            "https://api.example.com/v1",
            "http://127.0.0.1:11434/v1",
            "http://localhost:8000/v1",
            "http://[::1]:8000/v1",
        ] {
            assert!(openai_base_url(u).is_ok(), "{u}");
        }
        for u in [
            "http://api.example.com/v1",
            "http://192.168.1.10:11434/v1",
            "http://localhost.evil.example/v1",
            "ftp://localhost/v1",
        ] {
            assert!(openai_base_url(u).is_err(), "{u}");
        }
    }
}
