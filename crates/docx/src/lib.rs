//! Word files for the writing workspace (issue 17, item 6).
//!
//! [`write`] turns a document's Markdown into a real `.docx` (Office Open XML): `#`…`######`
//! headings as Word's Heading 1–6 styles, `-`/`*`/`+` and `1.` list items as bulleted and
//! numbered paragraphs, `>` as the Quote style, `**bold**` and `*italic*` as run formatting;
//! every other line is a paragraph (Chinese prose puts each paragraph on its own line).
//! [`read`] does the reverse for a `.docx` from Word or LibreOffice, keeping the same
//! structure; it never reads more than [`MAX_XML_BYTES`] of XML, whatever the zip claims.
//!
//! ```
//! let bytes = inkstone_docx::write("# 春\n\n**春眠**不觉晓").unwrap();
//! assert_eq!(inkstone_docx::read(&bytes).unwrap(), "# 春\n**春眠**不觉晓");
//! ```
#![forbid(unsafe_code)]

use std::io::{Cursor, Read, Write};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

/// Most XML read from one part (a zip bomb stops here).
pub const MAX_XML_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    /// Occurs when the bytes are not a zip archive with a `word/document.xml` (not a .docx).
    #[error("not a Word (.docx) file")]
    NotDocx,
    /// Occurs when `word/document.xml` is larger than [`MAX_XML_BYTES`] unpacked.
    #[error("the Word file is too large")]
    TooLarge,
    /// Occurs when the document XML is malformed.
    #[error("the Word file is damaged: {0}")]
    Damaged(String),
    /// Occurs when writing the archive fails (only in memory, so practically never).
    #[error("cannot write the Word file: {0}")]
    Write(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Heading(u8),
    Bullet,
    Numbered,
    Quote,
    Paragraph,
}

/// Splits a Markdown line into its block kind and its inline text.
fn block_of(line: &str) -> (Block, &str) {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        return (Block::Heading(hashes as u8), line[hashes + 1..].trim());
    }
    for mark in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(mark) {
            return (Block::Bullet, rest.trim());
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) && line[digits..].starts_with(". ") {
        return (Block::Numbered, line[digits + 2..].trim());
    }
    if let Some(rest) = line.strip_prefix('>') {
        return (Block::Quote, rest.trim());
    }
    (Block::Paragraph, line.trim())
}

/// Inline runs: (text, bold, italic), from `**…**`, `*…*` and `_…_` marks. An unmatched mark
/// is kept as text.
fn runs(text: &str) -> Vec<(String, bool, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let closes = |from: usize, mark: &[char]| -> bool {
        (from..chars.len()).any(|i| chars[i..].starts_with(mark))
    };
    let mut out: Vec<(String, bool, bool)> = Vec::new();
    let (mut bold, mut italic) = (false, false);
    let mut cur = String::new();
    let mut i = 0;
    let flush = |cur: &mut String, out: &mut Vec<(String, bool, bool)>, b: bool, it: bool| {
        if !cur.is_empty() {
            out.push((std::mem::take(cur), b, it));
        }
    };
    while i < chars.len() {
        if chars[i..].starts_with(&['*', '*']) && (bold || closes(i + 2, &['*', '*'])) {
            flush(&mut cur, &mut out, bold, italic);
            bold = !bold;
            i += 2;
        } else if (chars[i] == '*' || chars[i] == '_') && (italic || closes(i + 1, &[chars[i]])) {
            flush(&mut cur, &mut out, bold, italic);
            italic = !italic;
            i += 1;
        } else {
            cur.push(chars[i]);
            i += 1;
        }
    }
    flush(&mut cur, &mut out, bold, italic);
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 cannot carry are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn paragraph_xml(block: Block, text: &str) -> String {
    let props = match block {
        Block::Heading(n) => format!("<w:pPr><w:pStyle w:val=\"Heading{n}\"/></w:pPr>"),
        Block::Bullet => "<w:pPr><w:pStyle w:val=\"ListBullet\"/><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr></w:pPr>".into(),
        Block::Numbered => "<w:pPr><w:pStyle w:val=\"ListNumber\"/><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"2\"/></w:numPr></w:pPr>".into(),
        Block::Quote => "<w:pPr><w:pStyle w:val=\"Quote\"/></w:pPr>".into(),
        Block::Paragraph => String::new(),
    };
    let mut xml = format!("<w:p>{props}");
    for (t, bold, italic) in runs(text) {
        xml.push_str("<w:r>");
        if bold || italic {
            xml.push_str("<w:rPr>");
            if bold {
                xml.push_str("<w:b/>");
            }
            if italic {
                xml.push_str("<w:i/>");
            }
            xml.push_str("</w:rPr>");
        }
        xml.push_str(&format!(
            "<w:t xml:space=\"preserve\">{}</w:t></w:r>",
            escape(&t)
        ));
    }
    xml.push_str("</w:p>");
    xml
}

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

fn styles_xml() -> String {
    let mut styles = String::from(
        "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/>\
         <w:rPr><w:rFonts w:eastAsia=\"SimSun\"/><w:sz w:val=\"24\"/></w:rPr></w:style>",
    );
    for (n, size) in [(1, 40), (2, 34), (3, 30), (4, 28), (5, 26), (6, 24)] {
        styles.push_str(&format!(
            "<w:style w:type=\"paragraph\" w:styleId=\"Heading{n}\"><w:name w:val=\"heading {n}\"/>\
             <w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>\
             <w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/><w:outlineLvl w:val=\"{}\"/></w:pPr>\
             <w:rPr><w:b/><w:sz w:val=\"{size}\"/></w:rPr></w:style>",
            n - 1
        ));
    }
    styles.push_str(
        "<w:style w:type=\"paragraph\" w:styleId=\"ListBullet\"><w:name w:val=\"List Bullet\"/><w:basedOn w:val=\"Normal\"/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"ListNumber\"><w:name w:val=\"List Number\"/><w:basedOn w:val=\"Normal\"/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Quote\"><w:name w:val=\"Quote\"/><w:basedOn w:val=\"Normal\"/>\
         <w:pPr><w:ind w:left=\"720\"/></w:pPr><w:rPr><w:i/></w:rPr></w:style>",
    );
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:styles xmlns:w=\"{W}\">{styles}</w:styles>")
}

fn numbering_xml() -> String {
    let level = |fmt: &str, text: &str| {
        format!(
            "<w:lvl w:ilvl=\"0\"><w:start w:val=\"1\"/><w:numFmt w:val=\"{fmt}\"/><w:lvlText w:val=\"{text}\"/>\
             <w:lvlJc w:val=\"left\"/><w:pPr><w:ind w:left=\"720\" w:hanging=\"360\"/></w:pPr></w:lvl>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:numbering xmlns:w=\"{W}\">\
         <w:abstractNum w:abstractNumId=\"0\">{}</w:abstractNum>\
         <w:abstractNum w:abstractNumId=\"1\">{}</w:abstractNum>\
         <w:num w:numId=\"1\"><w:abstractNumId w:val=\"0\"/></w:num>\
         <w:num w:numId=\"2\"><w:abstractNumId w:val=\"1\"/></w:num></w:numbering>",
        level("bullet", "•"),
        level("decimal", "%1.")
    )
}

/// `markdown` as a `.docx` file's bytes.
pub fn write(markdown: &str) -> Result<Vec<u8>, DocxError> {
    let mut body = String::new();
    for line in markdown.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (block, text) = block_of(line.trim_end());
        body.push_str(&paragraph_xml(block, text));
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"{W}\"><w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/>\
         <w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\"/></w:sectPr></w:body></w:document>"
    );
    let parts = [
        ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
          <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
          <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
          <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
          <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
          <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
          <Override PartName=\"/word/numbering.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml\"/>\
          </Types>".to_string()),
        ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
          <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
          <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
          </Relationships>".to_string()),
        ("word/_rels/document.xml.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
          <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
          <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
          <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering\" Target=\"numbering.xml\"/>\
          </Relationships>".to_string()),
        ("word/document.xml", document),
        ("word/styles.xml", styles_xml()),
        ("word/numbering.xml", numbering_xml()),
    ];
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, xml) in parts {
        zip.start_file(name, opts)
            .map_err(|e| DocxError::Write(e.to_string()))?;
        zip.write_all(xml.as_bytes())
            .map_err(|e| DocxError::Write(e.to_string()))?;
    }
    Ok(zip
        .finish()
        .map_err(|e| DocxError::Write(e.to_string()))?
        .into_inner())
}

/// `markdown` as plain text: marks gone, list items as "• " lines, one line per paragraph.
pub fn plain_text(markdown: &str) -> String {
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (block, text) = block_of(line.trim_end());
        let words: String = runs(text).into_iter().map(|(t, _, _)| t).collect();
        out.push(match block {
            Block::Bullet => format!("• {words}"),
            Block::Numbered => format!("{} {words}", line.trim().split(' ').next().unwrap_or("")),
            _ => words,
        });
    }
    out.join("\n")
}

/// One paragraph as read: its style and its runs.
#[derive(Default)]
struct Para {
    style: String,
    numbered: bool,
    text: String,
}

fn wrap(text: &str, bold: bool, italic: bool) -> String {
    // Marks go around the words, not around surrounding spaces (Markdown needs that).
    let core = text.trim();
    if core.is_empty() || !(bold || italic) {
        return text.to_string();
    }
    let lead = &text[..text.len() - text.trim_start().len()];
    let trail = &text[text.trim_end().len()..];
    let mark = match (bold, italic) {
        (true, true) => "***",
        (true, false) => "**",
        _ => "*",
    };
    format!("{lead}{mark}{core}{mark}{trail}")
}

fn finish(p: &Para) -> Option<String> {
    let text = p.text.trim();
    if text.is_empty() {
        return None;
    }
    let style = p.style.to_ascii_lowercase().replace(' ', "");
    let heading = style
        .strip_prefix("heading")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=6).contains(n));
    Some(match heading {
        Some(n) => format!("{} {text}", "#".repeat(n)),
        None if style.contains("quote") => format!("> {text}"),
        None if style.contains("listnumber") => format!("1. {text}"),
        None if p.numbered || style.contains("list") => format!("- {text}"),
        None => text.to_string(),
    })
}

/// The Markdown of a `.docx` file: one line per paragraph, headings, list items, quotes,
/// bold and italic kept; everything else (tables, images, comments) is left out.
pub fn read(bytes: &[u8]) -> Result<String, DocxError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| DocxError::NotDocx)?;
    let mut xml = String::new();
    {
        let part = archive
            .by_name("word/document.xml")
            .map_err(|_| DocxError::NotDocx)?;
        let read = part
            .take(MAX_XML_BYTES + 1)
            .read_to_string(&mut xml)
            .map_err(|_| DocxError::Damaged("word/document.xml is not readable UTF-8".into()))?;
        if read as u64 > MAX_XML_BYTES {
            return Err(DocxError::TooLarge);
        }
    }
    let mut reader = Reader::from_str(&xml);
    let mut lines = Vec::new();
    let mut para: Option<Para> = None;
    let (mut bold, mut italic, mut in_text, mut in_rpr) = (false, false, false, false);
    let mut run_text = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| DocxError::Damaged(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let on = |e: &quick_xml::events::BytesStart| {
                    // <w:b/> or <w:b w:val="true"/> is on; w:val="0"/"false" is off.
                    match e.try_get_attribute("w:val") {
                        Ok(Some(a)) => !matches!(a.value.as_ref(), "0" | "false" | "none"),
                        _ => true,
                    }
                };
                match e.name().as_ref() {
                    "w:p" => para = Some(Para::default()),
                    "w:pStyle" => {
                        if let (Some(p), Ok(Some(a))) =
                            (para.as_mut(), e.try_get_attribute("w:val"))
                        {
                            p.style = a.value.to_string();
                        }
                    }
                    "w:numPr" => {
                        if let Some(p) = para.as_mut() {
                            p.numbered = true;
                        }
                    }
                    "w:r" => {
                        bold = false;
                        italic = false;
                        run_text.clear();
                    }
                    "w:rPr" => in_rpr = true,
                    "w:b" if in_rpr => bold = on(&e),
                    "w:i" if in_rpr => italic = on(&e),
                    "w:t" => in_text = true,
                    "w:tab" => run_text.push('\t'),
                    "w:br" => run_text.push(' '),
                    _ => {}
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "w:p" => {
                    if let Some(p) = para.take() {
                        lines.extend(finish(&p));
                    }
                }
                "w:rPr" => in_rpr = false,
                "w:t" => in_text = false,
                "w:r" => {
                    if let Some(p) = para.as_mut() {
                        p.text.push_str(&wrap(&run_text, bold, italic));
                    }
                    run_text.clear();
                }
                _ => {}
            },
            Event::Text(t) if in_text => run_text.push_str(&t),
            Event::GeneralRef(r) if in_text => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                run_text.extend(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn structure_survives_a_round_trip() {
        let md = "# 第一章 春\n## 小节\n春眠**不觉**晓，*处处*闻啼鸟。\n- 列表一\n- 列表 **二**\n1. 第一\n> 引文 & <标签>\n普通 a*b 段落";
        let back = read(&write(md).unwrap()).unwrap();
        assert_eq!(
            back,
            "# 第一章 春\n## 小节\n春眠**不觉**晓，*处处*闻啼鸟。\n- 列表一\n- 列表 **二**\n1. 第一\n> 引文 & <标签>\n普通 a*b 段落"
        );
    }

    #[test]
    fn what_is_not_a_docx_is_refused() {
        assert!(matches!(read(b"plain text"), Err(DocxError::NotDocx)));
        assert!(matches!(read(b""), Err(DocxError::NotDocx)));
        // A zip without a Word document.
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("hello.txt", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hi").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert!(matches!(read(&bytes), Err(DocxError::NotDocx)));
    }

    #[test]
    fn plain_text_drops_the_marks() {
        assert_eq!(
            plain_text("# 标题\n\n**春眠**不觉晓\n- 一\n2. 二\n> 引"),
            "标题\n春眠不觉晓\n• 一\n2. 二\n引"
        );
    }

    proptest! {
        /// Random bytes: a typed error, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = read(&bytes);
        }

        /// A real .docx with bytes changed: read or refused, never a panic.
        #[test]
        fn a_mutated_docx_never_panics(
            text in "[春眠不觉晓 *#>\\-a-z\n]{0,80}",
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let mut bytes = write(&text).unwrap();
            let len = bytes.len();
            for (at, b) in flips {
                bytes[at % len] = b;
            }
            let _ = read(&bytes);
        }

        /// Any Markdown text writes, and plain lines come back as written.
        #[test]
        fn plain_lines_round_trip(lines in proptest::collection::vec("[春眠不觉晓处闻啼鸟a-z0-9，。 ]{1,30}", 0..10)) {
            let md: Vec<String> = lines.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
            let back = read(&write(&md.join("\n")).unwrap()).unwrap();
            prop_assert_eq!(back, md.join("\n"));
        }
    }
}
