/**
 * Markdown that grows while a model streams it, rendered part by part.
 *
 * Rendering the whole answer again for every message makes the work per message grow with the
 * answer (markdown-it, DOMPurify and a new DOM for all of it). Here the text is cut before
 * blocks that nothing appended can change any more: each part before a cut is rendered once and
 * kept, and only the open tail is rendered again. A cut is at a line that starts a top-level
 * block after a blank line, at column 0, and is not a list item (one there could make the list
 * before it loose). A reference definition (`[x]: url`) anywhere can change any block, so its
 * presence turns cutting off. The whole answer is rendered once more when streaming ends.
 */

import type MarkdownIt from 'markdown-it'
import type { Token } from 'markdown-it'

export interface Part {
  /** Where the part starts in the source: its key. */
  at: number
  html: string
}

export interface Shown {
  parts: readonly Part[]
  tail: string
}

const REFERENCE_DEFINITION = /^ {0,3}\[[^\]\n]+\]:/m
const LIST_ITEM = /^(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))/
const BLANK = /^[ \t]*$/

/** A line where the text can be cut: its index in the text parsed, and where it starts. */
interface Cut {
  line: number
  offset: number
}

/**
 * markdown-it's parse of `text` (text that starts at a cut, or the whole answer), and where it
 * can be cut. Where blocks start is markdown-it's own answer (a fence can open inside a list
 * item or a quote and run on after it; a scan of fence lines got that wrong): a line qualifies
 * when it starts a top-level block, follows a blank line, and starts at column 0 with anything
 * but a list marker. What is before a cut cannot change what comes after it, so parsing from a
 * cut gives the blocks that parsing the whole would.
 */
function split(md: MarkdownIt, text: string): { tokens: Token[]; cuts: Cut[] } {
  const tokens = md.parse(text, {})
  const cuts: Cut[] = []
  // markdown-it also ends lines at a lone CR; a model never sends one, so no cut is simpler.
  if (text.includes('\r')) return { tokens, cuts }
  const starts = new Set<number>()
  for (const token of tokens) {
    if (token.level === 0 && token.nesting >= 0 && token.map) starts.add(token.map[0])
  }
  const lines = text.split('\n')
  let offset = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const complete = i < lines.length - 1
    // A line still being written decides once its first character does: "1" may become
    // "1. item", "-" may become "- item".
    const decided = complete || /^[^-+*\d]/.test(line)
    if (
      i > 0 &&
      starts.has(i) &&
      BLANK.test(lines[i - 1]) &&
      decided &&
      !BLANK.test(line) &&
      !/^[ \t]/.test(line) &&
      !LIST_ITEM.test(line)
    ) {
      cuts.push({ line: i, offset })
    }
    offset += line.length + 1
  }
  return { tokens, cuts }
}

/** Positions after `from` where `source` can be cut; `from` is itself a cut (or 0). */
export function cuts(md: MarkdownIt, source: string, from: number): number[] {
  return split(md, source.slice(from)).cuts.map((c) => from + c.offset)
}

/** Keeps the rendered parts of one streamed answer between updates. */
export class StreamedMarkdown {
  private parts: Part[] = []
  /** The source the parts were rendered from: everything before the tail. */
  private done = ''

  /** `md` parses and renders; `sanitize` cleans what it renders (MarkdownView: DOMPurify). */
  constructor(
    private readonly md: MarkdownIt,
    private readonly sanitize: (html: string) => string,
  ) {}

  update(source: string): Shown {
    if (REFERENCE_DEFINITION.test(source)) {
      this.reset()
      return { parts: [], tail: this.html(this.md.parse(source, {})) }
    }
    if (!source.startsWith(this.done)) this.reset()
    const from = this.done.length
    // One parse of the open text: its tokens are cut into the new parts and the tail.
    const { tokens, cuts } = split(this.md, source.slice(from))
    let [next, start, group] = [0, from, [] as Token[]]
    for (const token of tokens) {
      const cut = cuts[next]
      if (cut && token.level === 0 && token.nesting >= 0 && token.map?.[0] === cut.line) {
        this.parts.push({ at: start, html: this.html(group) })
        ;[next, start, group] = [next + 1, from + cut.offset, []]
      }
      group.push(token)
    }
    this.done = source.slice(0, start)
    return { parts: [...this.parts], tail: this.html(group) }
  }

  private html(tokens: Token[]): string {
    return tokens.length ? this.sanitize(this.md.renderer.render(tokens, this.md.options, {})) : ''
  }

  private reset() {
    this.parts = []
    this.done = ''
  }
}
