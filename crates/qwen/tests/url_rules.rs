//! The URL rules see strings from outside (task results, the model form, settings): random
//! and mutated input never panics, and what they accept keeps its promises.

use inkstone_qwen::validate::{base_url, is_dashscope_host, openai_base_url, result_url};
use proptest::prelude::*;

const OSS: &str = "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/a.png?Expires=1761123456&OSSAccessKeyId=LTAI5t&Signature=abc%2Bdef%3D";

fn mutate(base: &str, at: usize, insert: &str) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let at = at % (chars.len() + 1);
    chars.splice(at..at, insert.chars());
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn random_strings_never_panic(s in "\\PC{0,200}") {
        let _ = result_url(&s);
        let _ = is_dashscope_host(&s);
        let _ = openai_base_url(&s);
        let _ = base_url(&s);
    }

    #[test]
    fn mutated_links_keep_the_rules(at in 0usize..200, insert in "[a-z@:/?#.\\[\\]%0-9-]{0,12}") {
        let s = mutate(OSS, at, &insert);
        if let Ok(url) = result_url(&s) {
            prop_assert!(matches!(url.scheme(), "http" | "https"));
            prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
            prop_assert!(url.username().is_empty() && url.password().is_none());
        }
        let host = mutate("https://dashscope.aliyuncs.com/api/v1", at, &insert);
        if is_dashscope_host(&host) {
            let url = reqwest::Url::parse(host.trim()).unwrap();
            prop_assert_eq!(url.scheme(), "https");
            let name = url.host_str().unwrap_or("");
            prop_assert!(name.ends_with(".aliyuncs.com") && name.starts_with("dashscope"), "{}", name);
        }
        let local = mutate("http://127.0.0.1:11434/v1", at, &insert);
        if let Ok(ok) = openai_base_url(&local) {
            let url = reqwest::Url::parse(&ok).unwrap();
            let host = url.host_str().unwrap_or("").trim_matches(['[', ']']).to_string();
            let loopback = host == "localhost"
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            prop_assert!(url.scheme() == "https" || loopback, "{}", ok);
        }
    }
}
