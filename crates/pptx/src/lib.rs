//! The PPT tool's file side: Qwen writes a slide outline in Markdown, this
//! crate turns it into a [`Deck`] and writes a real `.pptx` — title slide and
//! content slides, in the writer's theme colour — that PowerPoint, Keynote,
//! WPS and LibreOffice open.
//!
//! ```
//! let deck = inkstone_pptx::parse_outline("# 春天\n## 花\n- 桃花\n- 杏花\n", "#C0392B").unwrap();
//! let mut bytes = std::io::Cursor::new(Vec::new());
//! inkstone_pptx::write_pptx(&deck, &mut bytes).unwrap();
//! assert_eq!(deck.slides.len(), 1);
//! ```
#![forbid(unsafe_code)]

mod outline;
mod xml;

use std::io::{Seek, Write};

pub use outline::parse_outline;
use serde::{Deserialize, Serialize};

pub const MAX_SLIDES: usize = 100;
pub const MAX_BULLETS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum PptxError {
    /// Occurs when the outline has no title and no slide.
    #[error("the outline holds no slides")]
    EmptyOutline,
    /// Occurs when the outline asks for more slides than a deck may have.
    #[error("too many slides (at most {MAX_SLIDES})")]
    TooManySlides,
    /// Occurs when the theme colour is not `#RRGGBB`.
    #[error("theme colour must look like #RRGGBB")]
    BadColour,
    /// Occurs when writing the file fails.
    #[error("cannot write the deck: {0}")]
    Io(#[from] std::io::Error),
    /// Occurs when the zip container cannot be written.
    #[error("cannot write the deck: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// A colour as six hex digits, without `#`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgb(String);

impl Rgb {
    pub fn parse(text: &str) -> Result<Self, PptxError> {
        let hex = text.trim().trim_start_matches('#');
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Rgb(hex.to_ascii_uppercase()))
        } else {
            Err(PptxError::BadColour)
        }
    }

    pub fn hex(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slide {
    pub title: String,
    pub bullets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deck {
    pub title: String,
    pub subtitle: Option<String>,
    /// Content slides; the title slide is made from `title` and `subtitle`.
    pub slides: Vec<Slide>,
    pub accent: Rgb,
}

impl Deck {
    /// Slides in the written file: the title slide plus the content slides.
    pub fn slide_count(&self) -> usize {
        self.slides.len() + 1
    }
}

/// Writes `deck` as an Office Open XML presentation.
pub fn write_pptx<W: Write + Seek>(deck: &Deck, out: W) -> Result<(), PptxError> {
    if deck.slides.len() + 1 > MAX_SLIDES {
        return Err(PptxError::TooManySlides);
    }
    xml::write(deck, out)
}
