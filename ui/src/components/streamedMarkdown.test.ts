import { describe, expect, it } from 'vitest'
import MarkdownIt from 'markdown-it'
import { cuts, StreamedMarkdown } from './streamedMarkdown'

const md = new MarkdownIt({ html: false, linkify: true, breaks: true })
const render = (s: string) => md.render(s)
/** No sanitiser: the parts are compared with markdown-it's own rendering. */
const same = (html: string) => html
const joined = (shown: { parts: readonly { html: string }[]; tail: string }) => shown.parts.map((p) => p.html).join('') + shown.tail

/** Lines a model writes, and the ones that make block boundaries hard. */
const LINES = [
  '',
  '',
  '   ',
  '春天来了，**桃花**开了。',
  'A paragraph with *emphasis that',
  'continues* on the next line.',
  '# 标题',
  '## Heading',
  'Setext',
  '===',
  '---',
  '- item',
  '* item',
  '+ item',
  '-',
  '1. first',
  '2) second',
  '12. twelfth',
  '1',
  '  indented continuation',
  '    code or continuation',
  '\tcode',
  '> quote',
  '>',
  '```',
  '```js',
  '~~~',
  '````',
  '``` a`b',
  '| a | b |',
  '| --- | --- |',
  '| 1 | 2 |',
  'see https://example.com/x and [link](https://example.com)',
  '[ref]: https://example.com/ref',
  'a [ref] use',
  '<div>raw html</div>',
  '-foo',
  '***',
  'trailing two spaces  ',
  'x\\',
  '  - nested item',
  '   ```',
  '    ```',
  '- ```',
  '> ```',
  '1. a',
  'b',
  'carriage\rreturn',
]

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function document(random: () => number): string {
  const n = 1 + Math.floor(random() * 24)
  const lines: string[] = []
  for (let i = 0; i < n; i++) lines.push(LINES[Math.floor(random() * LINES.length)])
  return lines.join('\n') + (random() < 0.5 ? '\n' : '')
}

describe('StreamedMarkdown', () => {
  it('renders every prefix of a streamed answer exactly as rendering it whole would', () => {
    const random = rng(20261201)
    for (let doc = 0; doc < 600; doc++) {
      const source = document(random)
      const streamed = new StreamedMarkdown(md, same)
      let at = 0
      while (at < source.length) {
        at = Math.min(source.length, at + 1 + Math.floor(random() * 6))
        const prefix = source.slice(0, at)
        expect(joined(streamed.update(prefix)), JSON.stringify(prefix)).toBe(render(prefix))
      }
    }
  })

  it('starts again when the source is replaced rather than grown', () => {
    const random = rng(7)
    for (let doc = 0; doc < 100; doc++) {
      const streamed = new StreamedMarkdown(md, same)
      const a = document(random)
      const b = document(random)
      streamed.update(a)
      expect(joined(streamed.update(b))).toBe(render(b))
    }
  })

  it('renders each finished block once, and only the tail again', () => {
    const rendered: string[] = []
    const streamed = new StreamedMarkdown(md, (html) => {
      rendered.push(html)
      return html
    })
    const text = '第一段。\n\n第二段。\n\n第三'
    const cutAt = text.indexOf('第二') + 1
    for (let i = 1; i < cutAt; i++) streamed.update(text.slice(0, i))
    const before = rendered.length
    for (let i = cutAt; i <= text.length; i++) streamed.update(text.slice(0, i))
    const shown = streamed.update(text)
    expect(shown.parts.map((p) => p.at)).toEqual([0, 6])
    // Once cut, the first paragraph is rendered once more (as its part), never again.
    expect(rendered.slice(before).filter((s) => s.includes('第一段'))).toEqual(['<p>第一段。</p>\n'])
    expect(shown.tail).toBe(render('第三'))
  })

  it('does not cut inside a fence, before a list item, an indented line or a line whose start is not known yet', () => {
    expect(cuts(md, '```\na\n\nb\n```\n\nc\n', 0)).toEqual([14])
    expect(cuts(md, '- a\n\n- b\n\n1. c\n\n  d\n\ne\n', 0)).toEqual([21])
    expect(cuts(md, 'a\n\nb', 0)).toEqual([3])
    expect(cuts(md, 'a\n\n1', 0)).toEqual([])
    expect(cuts(md, 'a\n\n-', 0)).toEqual([])
    expect(cuts(md, 'a\n\n  ', 0)).toEqual([])
    expect(cuts(md, 'a\n\nb\r\n\nc\n', 0)).toEqual([])
    // A fence opened inside a list item ends with it; the quote's fence ends with the quote; so
    // the line of four backticks opens a fence of its own that runs to the end (a scan of fence
    // lines alone took it for the closing one and cut before "a").
    const nested = '2) x\n   ```\n> ```\n````\ny\n\na\n'
    expect(cuts(md, nested, 0)).toEqual([])
    expect(joined(new StreamedMarkdown(md, same).update(nested))).toBe(render(nested))
    expect(cuts(md, 'a\n\nb\n\nc\n', 3)).toEqual([6])
  })

  it('does not cut at all while a reference definition can change any block', () => {
    const streamed = new StreamedMarkdown(md, same)
    expect(streamed.update('a [x]\n\nb\n\nc').parts.length).toBe(2)
    const shown = streamed.update('a [x]\n\nb\n\nc\n\n[x]: https://example.com\n')
    expect(shown.parts).toEqual([])
    expect(shown.tail).toBe(render('a [x]\n\nb\n\nc\n\n[x]: https://example.com\n'))
  })
})
