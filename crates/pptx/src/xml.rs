//! The Office Open XML parts of a presentation: one master, one blank
//! layout, one theme, and slides drawn with explicit shapes (no placeholders,
//! so every viewer lays them out the same).

use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::{Deck, PptxError};

const NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;
const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const SLIDE_W: i64 = 12_192_000;
const SLIDE_H: i64 = 6_858_000;
const EMPTY_GROUP: &str = r#"<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#;

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && !matches!(c, '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn rels(entries: &[(String, &str, String)]) -> String {
    let mut out = format!(
        r#"{HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
    );
    for (id, kind, target) in entries {
        out.push_str(&format!(
            r#"<Relationship Id="{id}" Type="{kind}" Target="{target}"/>"#
        ));
    }
    out.push_str("</Relationships>");
    out
}

struct Text<'a> {
    text: &'a str,
    size: u32,
    bold: bool,
    colour: &'a str,
}

fn run(t: &Text) -> String {
    format!(
        r#"<a:r><a:rPr lang="zh-CN" sz="{}" b="{}" dirty="0"><a:solidFill><a:srgbClr val="{}"/></a:solidFill><a:latin typeface="Arial"/><a:ea typeface="Microsoft YaHei"/></a:rPr><a:t>{}</a:t></a:r>"#,
        t.size,
        u8::from(t.bold),
        t.colour,
        escape(t.text)
    )
}

#[allow(clippy::too_many_arguments)]
fn shape(
    id: u32,
    name: &str,
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    fill: Option<&str>,
    anchor: &str,
    paragraphs: &str,
) -> String {
    let fill = match fill {
        Some(hex) => format!(r#"<a:solidFill><a:srgbClr val="{hex}"/></a:solidFill>"#),
        None => "<a:noFill/>".into(),
    };
    format!(
        r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="{name}"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{w}" cy="{h}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>{fill}</p:spPr><p:txBody><a:bodyPr wrap="square" lIns="457200" tIns="91440" rIns="457200" bIns="91440" anchor="{anchor}"><a:normAutofit/></a:bodyPr><a:lstStyle/>{paragraphs}</p:txBody></p:sp>"#
    )
}

fn slide_xml(shapes: &str) -> String {
    format!(
        r#"{HEAD}<p:sld {NS}><p:cSld><p:spTree>{EMPTY_GROUP}{shapes}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"#
    )
}

fn title_slide(deck: &Deck) -> String {
    let accent = deck.accent.hex();
    let title = format!(
        "<a:p><a:pPr algn=\"ctr\"/>{}</a:p>",
        run(&Text {
            text: &deck.title,
            size: 4400,
            bold: true,
            colour: "FFFFFF"
        })
    );
    let mut shapes = shape(
        2,
        "Title",
        0,
        0,
        SLIDE_W,
        SLIDE_H * 3 / 5,
        Some(accent),
        "ctr",
        &title,
    );
    if let Some(sub) = &deck.subtitle {
        let p = format!(
            "<a:p><a:pPr algn=\"ctr\"/>{}</a:p>",
            run(&Text {
                text: sub,
                size: 2400,
                bold: false,
                colour: "404040"
            })
        );
        shapes.push_str(&shape(
            3,
            "Subtitle",
            0,
            SLIDE_H * 3 / 5,
            SLIDE_W,
            SLIDE_H * 2 / 5,
            None,
            "ctr",
            &p,
        ));
    }
    slide_xml(&shapes)
}

fn content_slide(deck: &Deck, index: usize) -> String {
    let slide = &deck.slides[index];
    let accent = deck.accent.hex();
    let title = format!(
        "<a:p>{}</a:p>",
        run(&Text {
            text: &slide.title,
            size: 3200,
            bold: true,
            colour: "FFFFFF"
        })
    );
    let mut shapes = shape(
        2,
        "Title",
        0,
        0,
        SLIDE_W,
        1_143_000,
        Some(accent),
        "ctr",
        &title,
    );
    let mut body = String::new();
    for b in &slide.bullets {
        body.push_str(&format!(
            r#"<a:p><a:pPr marL="342900" indent="-342900"><a:spcBef><a:spcPts val="1200"/></a:spcBef><a:buClr><a:srgbClr val="{accent}"/></a:buClr><a:buFont typeface="Arial"/><a:buChar char="&#8226;"/></a:pPr>{}</a:p>"#,
            run(&Text { text: b, size: 2400, bold: false, colour: "262626" })
        ));
    }
    if body.is_empty() {
        body.push_str("<a:p><a:endParaRPr lang=\"zh-CN\"/></a:p>");
    }
    shapes.push_str(&shape(
        3,
        "Content",
        0,
        1_371_600,
        SLIDE_W,
        SLIDE_H - 1_371_600 - 457_200,
        None,
        "t",
        &body,
    ));
    slide_xml(&shapes)
}

fn presentation(deck: &Deck) -> String {
    let ids: String = (0..deck.slide_count())
        .map(|i| format!(r#"<p:sldId id="{}" r:id="rId{}"/>"#, 256 + i, 3 + i))
        .collect();
    format!(
        r#"{HEAD}<p:presentation {NS} saveSubsetFonts="1"><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst>{ids}</p:sldIdLst><p:sldSz cx="{SLIDE_W}" cy="{SLIDE_H}"/><p:notesSz cx="6858000" cy="9144000"/><p:defaultTextStyle><a:defPPr><a:defRPr lang="zh-CN"/></a:defPPr></p:defaultTextStyle></p:presentation>"#
    )
}

fn content_types(deck: &Deck) -> String {
    let slides: String = (1..=deck.slide_count())
        .map(|n| format!(r#"<Override PartName="/ppt/slides/slide{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>"#))
        .collect();
    format!(
        r#"{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/><Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml"/><Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml"/><Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>{slides}<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#
    )
}

fn theme(accent: &str) -> String {
    let fill3 = r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#.repeat(3);
    let line =
        r#"<a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>"#.repeat(3);
    let effect = "<a:effectStyle><a:effectLst/></a:effectStyle>".repeat(3);
    format!(
        r#"{HEAD}<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Inkstone"><a:themeElements><a:clrScheme name="Inkstone"><a:dk1><a:srgbClr val="000000"/></a:dk1><a:lt1><a:srgbClr val="FFFFFF"/></a:lt1><a:dk2><a:srgbClr val="262626"/></a:dk2><a:lt2><a:srgbClr val="F2F2F2"/></a:lt2><a:accent1><a:srgbClr val="{accent}"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4><a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme><a:fontScheme name="Inkstone"><a:majorFont><a:latin typeface="Arial"/><a:ea typeface="Microsoft YaHei"/><a:cs typeface=""/></a:majorFont><a:minorFont><a:latin typeface="Arial"/><a:ea typeface="Microsoft YaHei"/><a:cs typeface=""/></a:minorFont></a:fontScheme><a:fmtScheme name="Inkstone"><a:fillStyleLst>{fill3}</a:fillStyleLst><a:lnStyleLst>{line}</a:lnStyleLst><a:effectStyleLst>{effect}</a:effectStyleLst><a:bgFillStyleLst>{fill3}</a:bgFillStyleLst></a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>"#
    )
}

fn master() -> String {
    format!(
        r#"{HEAD}<p:sldMaster {NS}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg><p:spTree>{EMPTY_GROUP}</p:spTree></p:cSld><p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>"#
    )
}

fn layout() -> String {
    format!(
        r#"{HEAD}<p:sldLayout {NS} type="blank" preserve="1"><p:cSld name="Blank"><p:spTree>{EMPTY_GROUP}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"#
    )
}

pub(crate) fn write<W: Write + Seek>(deck: &Deck, out: W) -> Result<(), PptxError> {
    let mut zip = ZipWriter::new(out);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let part = |zip: &mut ZipWriter<W>, name: &str, body: String| -> Result<(), PptxError> {
        zip.start_file(name, opts)?;
        zip.write_all(body.as_bytes())?;
        Ok(())
    };
    // [Content_Types].xml first, as Office writes it.
    part(&mut zip, "[Content_Types].xml", content_types(deck))?;
    part(
        &mut zip,
        "_rels/.rels",
        rels(&[
            ("rId1".into(), &format!("{REL}/officeDocument"), "ppt/presentation.xml".into()),
            (
                "rId2".into(),
                "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
                "docProps/core.xml".into(),
            ),
            ("rId3".into(), &format!("{REL}/extended-properties"), "docProps/app.xml".into()),
        ]),
    )?;
    part(
        &mut zip,
        "docProps/core.xml",
        format!(
            r#"{HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>Inkstone</dc:creator></cp:coreProperties>"#,
            escape(&deck.title)
        ),
    )?;
    part(
        &mut zip,
        "docProps/app.xml",
        format!(
            r#"{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Inkstone</Application><Slides>{}</Slides></Properties>"#,
            deck.slide_count()
        ),
    )?;
    part(&mut zip, "ppt/presentation.xml", presentation(deck))?;
    let mut pres_rels = vec![
        (
            "rId1".to_string(),
            format!("{REL}/slideMaster"),
            "slideMasters/slideMaster1.xml".to_string(),
        ),
        (
            "rId2".to_string(),
            format!("{REL}/theme"),
            "theme/theme1.xml".to_string(),
        ),
    ];
    for n in 1..=deck.slide_count() {
        pres_rels.push((
            format!("rId{}", n + 2),
            format!("{REL}/slide"),
            format!("slides/slide{n}.xml"),
        ));
    }
    let pres_rels: Vec<(String, &str, String)> = pres_rels
        .iter()
        .map(|(a, b, c)| (a.clone(), b.as_str(), c.clone()))
        .collect();
    part(
        &mut zip,
        "ppt/_rels/presentation.xml.rels",
        rels(&pres_rels),
    )?;
    part(&mut zip, "ppt/theme/theme1.xml", theme(deck.accent.hex()))?;
    part(&mut zip, "ppt/slideMasters/slideMaster1.xml", master())?;
    part(
        &mut zip,
        "ppt/slideMasters/_rels/slideMaster1.xml.rels",
        rels(&[
            (
                "rId1".into(),
                &format!("{REL}/slideLayout"),
                "../slideLayouts/slideLayout1.xml".into(),
            ),
            (
                "rId2".into(),
                &format!("{REL}/theme"),
                "../theme/theme1.xml".into(),
            ),
        ]),
    )?;
    part(&mut zip, "ppt/slideLayouts/slideLayout1.xml", layout())?;
    part(
        &mut zip,
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels",
        rels(&[(
            "rId1".into(),
            &format!("{REL}/slideMaster"),
            "../slideMasters/slideMaster1.xml".into(),
        )]),
    )?;
    let layout_rel = rels(&[(
        "rId1".into(),
        &format!("{REL}/slideLayout"),
        "../slideLayouts/slideLayout1.xml".into(),
    )]);
    part(&mut zip, "ppt/slides/slide1.xml", title_slide(deck))?;
    part(
        &mut zip,
        "ppt/slides/_rels/slide1.xml.rels",
        layout_rel.clone(),
    )?;
    for i in 0..deck.slides.len() {
        let n = i + 2;
        part(
            &mut zip,
            &format!("ppt/slides/slide{n}.xml"),
            content_slide(deck, i),
        )?;
        part(
            &mut zip,
            &format!("ppt/slides/_rels/slide{n}.xml.rels"),
            layout_rel.clone(),
        )?;
    }
    zip.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("<b>&\"'\u{1}x"), "&lt;b&gt;&amp;&quot;&apos;x");
    }
}
