/**
 * Markdown that grows while a model streams it, rendered part by part.
 *
 * Rendering the whole answer again for every token makes a new DOM for all of it dozens of
 * times a second; WebKit keeps the garbage's pages long after (issue 18). Here the text is cut
 * after blocks that nothing appended can change any more: each such part is rendered once and
 * kept, and only the open tail is rendered again. The cut rule is the CommonMark one that
 * holds for markdown-it: a blank line outside a fenced code block, followed by a complete line
 * that starts at column 0 and does not start a list item (a list item there could make the list
 * before it loose). A reference definition (`[x]: url`) anywhere can change any block, so its
 * presence turns cutting off. The whole answer is rendered once more when streaming ends.
 */

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
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/
const LIST_ITEM = /^(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))/
const BLANK = /^[ \t]*$/

/** Positions (line starts) after `from` where `source` can be cut; `from` is a line start outside a fence. */
export function cuts(source: string, from: number): number[] {
  const found: number[] = []
  // markdown-it also ends lines at a lone CR; a model never sends one, so no cut is simpler.
  if (source.includes('\r')) return found
  let fence: { char: string; length: number } | null = null
  let previousBlank = false
  let start = from
  while (start < source.length) {
    const newline = source.indexOf('\n', start)
    const complete = newline >= 0
    const line = source.slice(start, complete ? newline : source.length)
    if (fence) {
      const close = FENCE.exec(line)
      if (complete && close && close[1][0] === fence.char && close[1].length >= fence.length && BLANK.test(close[2])) fence = null
      previousBlank = false
    } else {
      // A line still being written decides once its first character does: "1" may become
      // "1. item", "-" may become "- item".
      const decided = complete || /^[^-+*\d]/.test(line)
      if (previousBlank && start > from && decided && !BLANK.test(line) && !/^[ \t]/.test(line) && !LIST_ITEM.test(line)) {
        found.push(start)
      }
      const open = FENCE.exec(line)
      if (open && !(open[1][0] === '`' && open[2].includes('`'))) fence = { char: open[1][0], length: open[1].length }
      previousBlank = BLANK.test(line)
    }
    if (!complete) break
    start = newline + 1
  }
  return found
}

/** Keeps the rendered parts of one streamed answer between updates. */
export class StreamedMarkdown {
  private parts: Part[] = []
  /** The source the parts were rendered from: everything before the tail. */
  private done = ''

  constructor(private readonly render: (source: string) => string) {}

  update(source: string): Shown {
    if (REFERENCE_DEFINITION.test(source)) {
      this.reset()
      return { parts: [], tail: this.render(source) }
    }
    if (!source.startsWith(this.done)) this.reset()
    let from = this.done.length
    for (const at of cuts(source, from)) {
      this.parts.push({ at: from, html: this.render(source.slice(from, at)) })
      from = at
    }
    this.done = source.slice(0, from)
    return { parts: [...this.parts], tail: this.render(source.slice(from)) }
  }

  private reset() {
    this.parts = []
    this.done = ''
  }
}
