//! Opens written decks with software we did not write. Run by
//! scripts/checks/40-pptx-libreoffice.sh, which installs LibreOffice.

use std::path::Path;
use std::process::Command;

use inkstone_pptx::{parse_outline, write_pptx};

const OUTLINE: &str = "# 墨砚写作工具发布会\n2026 年冬季新品\n\n## 第1页：为什么要做\n- 写作者需要可靠的 AI 助手\n- 离线也能找回每一篇作品\n\n## 核心功能\n1. 流式生成，随时停止\n2. 积分与会员，失败自动退款\n3. <script>alert(1)</script> & 特殊字符\n\n## 路线图\n- 图片、视频、PPT\n- 多模型支持\n";

fn write_deck(dir: &Path) -> std::path::PathBuf {
    let deck = parse_outline(OUTLINE, "#C0392B").expect("outline");
    assert_eq!(deck.slide_count(), 4);
    let path = dir.join("deck.pptx");
    let file = std::fs::File::create(&path).expect("create");
    write_pptx(&deck, file).expect("write");
    path
}

/// Pages of a PDF, counted from its page objects.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type/Page")
        .filter(|(i, _)| !text[i + 10..].starts_with('s'))
        .count()
        + text
            .match_indices("/Type /Page")
            .filter(|(i, _)| !text[i + 11..].starts_with('s'))
            .count()
}

#[test]
#[ignore = "needs LibreOffice; run by scripts/checks/40-pptx-libreoffice.sh"]
fn libreoffice_converts_the_deck_to_a_pdf_with_one_page_per_slide() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pptx = write_deck(dir.path());
    let out = Command::new("soffice")
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&pptx)
        .env("HOME", dir.path())
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = std::fs::read(dir.path().join("deck.pdf")).expect("LibreOffice wrote no PDF");
    assert_eq!(pdf_pages(&pdf), 4, "one PDF page per slide");
    if let Ok(keep) = std::env::var("PPTX_KEEP_DIR") {
        let _ = std::fs::copy(&pptx, Path::new(&keep).join("deck.pptx"));
        let _ = std::fs::copy(
            dir.path().join("deck.pdf"),
            Path::new(&keep).join("deck.pdf"),
        );
    }
}

#[test]
#[ignore = "needs python-pptx; run by scripts/checks/40-pptx-libreoffice.sh"]
fn python_pptx_reads_every_slide_and_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pptx = write_deck(dir.path());
    let python = std::env::var("PPTX_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys\nfrom pptx import Presentation\np = Presentation(sys.argv[1])\nfor s in p.slides:\n    print('|'.join(sh.text_frame.text.replace('\\n', '/') for sh in s.shapes if sh.has_text_frame))\n";
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&pptx)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python-pptx failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "墨砚写作工具发布会|2026 年冬季新品");
    assert_eq!(
        lines[1],
        "为什么要做|写作者需要可靠的 AI 助手/离线也能找回每一篇作品"
    );
    assert!(
        lines[2].contains("<script>alert(1)</script> & 特殊字符"),
        "{}",
        lines[2]
    );
}
