//! Text search that finds Chinese: CJK runs are indexed as overlapping
//! bigrams plus the run's last character (the scheme of Lucene's CJK
//! analyzer), other text as unicode61 words. A query is turned into the same
//! tokens, so "春天", "春" and "spring" all hit the index, never a scan.

/// Han, kana, Hangul and CJK punctuation-free ideographs.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3134F) // Extensions B–G
}

fn push_run(out: &mut String, run: &[char]) {
    if run.is_empty() {
        return;
    }
    for pair in run.windows(2) {
        out.push(' ');
        out.extend(pair);
    }
    out.push(' ');
    out.push(run[run.len() - 1]);
    out.push(' ');
}

/// The text as the index stores it.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut run: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            run.push(c);
        } else {
            push_run(&mut out, &run);
            run.clear();
            out.push(c);
        }
    }
    push_run(&mut out, &run);
    out
}

fn quote(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// An FTS5 MATCH expression for what the user typed: every term must occur
/// (AND); a CJK term must occur as written; a word matches as a prefix.
/// `None` when the query holds nothing searchable.
pub fn match_query(query: &str) -> Option<String> {
    let mut terms = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, terms: &mut Vec<String>| {
        if !word.is_empty() {
            terms.push(format!("{}*", quote(&word.to_lowercase())));
            word.clear();
        }
    };
    let flush_run = |run: &mut Vec<char>, terms: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => terms.push(format!("{}*", quote(&run[0].to_string()))),
            _ => {
                let bigrams: Vec<String> = run.windows(2).map(|p| p.iter().collect()).collect();
                terms.push(quote(&bigrams.join(" ")));
            }
        }
        run.clear();
    };
    for c in query.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut terms);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut terms);
            word.push(c);
        } else {
            flush_word(&mut word, &mut terms);
            flush_run(&mut run, &mut terms);
        }
    }
    flush_word(&mut word, &mut terms);
    flush_run(&mut run, &mut terms);
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_runs_become_bigrams_and_a_last_character() {
        assert_eq!(
            index_text("春天来了")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["春天", "天来", "来了", "了"]
        );
        assert_eq!(
            index_text("写一首诗 about spring")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["写一", "一首", "首诗", "诗", "about", "spring"]
        );
    }

    #[test]
    fn queries_quote_everything_the_user_typed() {
        assert_eq!(match_query("春天").as_deref(), Some("\"春天\""));
        assert_eq!(match_query("春").as_deref(), Some("\"春\"*"));
        assert_eq!(
            match_query("春天来 Spring").as_deref(),
            Some("\"春天 天来\" AND \"spring\"*")
        );
        assert_eq!(
            match_query("\" OR * NEAR(").as_deref(),
            Some("\"or\"* AND \"near\"*")
        );
        assert_eq!(match_query("  !!! "), None);
    }
}
