// One line is one paragraph. CommonMark joins consecutive lines into one paragraph until a
// blank line; Chinese manuscripts (and every .txt imported) put each paragraph on its own line
// with no blank line between, so a whole chapter, or a 200,000-character book, became ONE
// Markdown paragraph, and every keystroke re-parsed all of it, inline marks included (about
// 30 ms per key without marks, 700 ms with a few **bold** runs, in Node). Ending a paragraph at
// each line break makes a keystroke re-parse its own line and reuse the rest of the tree, and
// it is how the exports read the text already (crates/docx: each line is a paragraph).
// What it gives up: setext headings (a line of === under text) and pipe tables, which the
// exports do not know either.

/** A `@lezer/markdown` extension (passed to `markdown({ extensions })`). */
export const lineParagraphs = {
  parseBlock: [
    {
      name: 'LineParagraph',
      // Called for each line after the first while a paragraph is open: always end it.
      endLeaf: () => true,
    },
  ],
}
