//! A .docx written by this crate, opened by readers we did not write: LibreOffice converts it
//! to text, and python-docx reads its paragraph styles and its bold and italic runs. Run by
//! scripts/checks/41-docx-libreoffice.sh (`#[ignore]`d in plain `cargo test`).

use std::process::Command;

/// A paragraph as python-docx reads it: style name, text, runs (text, bold, italic).
type Paragraph = (String, String, Vec<(String, bool, bool)>);

const MARKDOWN: &str =
    "# 第一章 春\n## 小节\n春眠**不觉**晓，*处处*闻啼鸟。\n- 列表一\n- 列表二\n1. 第一步\n> 引文";

#[test]
#[ignore = "needs LibreOffice Writer and python-docx: scripts/checks/41-docx-libreoffice.sh"]
fn libreoffice_and_python_docx_read_what_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chapter.docx");
    std::fs::write(&path, inkstone_docx::write(MARKDOWN).unwrap()).unwrap();

    let converted = Command::new("soffice")
        .args([
            "--headless",
            "--convert-to",
            "txt:Text (encoded):UTF8",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&path)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(converted.status.success(), "{converted:?}");
    let text = std::fs::read_to_string(dir.path().join("chapter.txt")).unwrap();
    for expected in [
        "第一章 春",
        "春眠不觉晓，处处闻啼鸟。",
        "列表一",
        "第一步",
        "引文",
    ] {
        assert!(text.contains(expected), "LibreOffice read {text:?}");
    }

    let python = std::env::var("DOCX_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import docx, json, sys\n\
        d = docx.Document(sys.argv[1])\n\
        print(json.dumps([[p.style.name, p.text, [[r.text, bool(r.bold), bool(r.italic)] for r in p.runs]] for p in d.paragraphs], ensure_ascii=False))";
    let read = Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(read.status.success(), "{read:?}");
    let paragraphs: Vec<Paragraph> = serde_json::from_slice(&read.stdout).unwrap();
    let styles: Vec<(&str, &str)> = paragraphs
        .iter()
        .map(|(s, t, _)| (s.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        styles,
        [
            ("Heading 1", "第一章 春"),
            ("Heading 2", "小节"),
            ("Normal", "春眠不觉晓，处处闻啼鸟。"),
            ("List Bullet", "列表一"),
            ("List Bullet", "列表二"),
            ("List Number", "第一步"),
            ("Quote", "引文"),
        ]
    );
    let runs = &paragraphs[2].2;
    assert!(runs.contains(&("不觉".into(), true, false)), "{runs:?}");
    assert!(runs.contains(&("处处".into(), false, true)), "{runs:?}");
}
