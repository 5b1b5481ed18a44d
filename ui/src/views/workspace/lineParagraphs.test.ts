import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { EditorState } from '@codemirror/state'
import { EditorView } from '@codemirror/view'
import { markdown, markdownLanguage } from '@codemirror/lang-markdown'
import { ensureSyntaxTree, forceParsing, syntaxTree } from '@codemirror/language'
// @codemirror/language's own parser interfaces (a dependency of it, always installed).
import { TreeFragment, type Input } from '@lezer/common'
import DocumentEditor from './DocumentEditor.vue'
import { lineParagraphs } from './lineParagraphs'

afterEach(() => {
  document.body.innerHTML = ''
})

/** The top-level block names of `text` as the editor parses it. */
function blocks(text: string): string[] {
  const state = EditorState.create({ doc: text, extensions: [markdown({ base: markdownLanguage, extensions: lineParagraphs })] })
  const tree = ensureSyntaxTree(state, state.doc.length, 5000)!
  const names: string[] = []
  const top = tree.topNode.firstChild
  for (let n = top; n; n = n.nextSibling) names.push(n.name)
  return names
}

describe('lineParagraphs', () => {
  it('makes each line its own paragraph, as the exports read it', () => {
    expect(blocks('春眠不觉晓\n处处闻啼鸟\n夜来风雨声')).toEqual(['Paragraph', 'Paragraph', 'Paragraph'])
  })

  it('keeps headings, lists, quotes and inline marks', () => {
    expect(blocks('# 标题\n段落**粗体**\n- 列表\n- 二\n> 引用\n\n1. 一')).toEqual([
      'ATXHeading1',
      'Paragraph',
      'BulletList',
      'Blockquote',
      'OrderedList',
    ])
    const state = EditorState.create({ doc: '段落**粗体**', extensions: [markdown({ base: markdownLanguage, extensions: lineParagraphs })] })
    const names: string[] = []
    ensureSyntaxTree(state, state.doc.length, 5000)!.iterate({ enter: (n) => void names.push(n.name) })
    expect(names).toContain('StrongEmphasis')
  })

  it('an emphasis mark never reaches into the next line', () => {
    const state = EditorState.create({ doc: '一*二\n三*四', extensions: [markdown({ base: markdownLanguage, extensions: lineParagraphs })] })
    const names: string[] = []
    ensureSyntaxTree(state, state.doc.length, 5000)!.iterate({ enter: (n) => void names.push(n.name) })
    expect(names).not.toContain('Emphasis')
  })

  it('a keystroke in a 200,000-character document re-reads its line, not the document', () => {
    // 2,000 lines of 100 characters with single line breaks (an imported .txt) and bold runs.
    // As one CommonMark paragraph a keystroke re-read (and re-parsed inline) all 200,000
    // characters; per line, the parser reuses the rest of the tree and reads a few lines.
    const line = [...'春眠不觉晓，处处闻**啼鸟**。夜来风雨声，花落知多少。'.repeat(5)].slice(0, 100).join('')
    const before = Array(2000).fill(line).join('\n')
    const at = 100_050
    const after = before.slice(0, at) + 'a' + before.slice(at)
    const read = (extensions: object[]) => {
      const parser = markdown({ base: markdownLanguage, extensions }).language.parser
      const first = parser.parse(new CountingInput(before))
      const fragments = TreeFragment.applyChanges(TreeFragment.addTree(first), [{ fromA: at, toA: at, fromB: at, toB: at + 1 }])
      const input = new CountingInput(after)
      const tree = parser.parse(input, fragments)
      expect(tree.length).toBe(after.length)
      return { chars: input.chars, paragraphs: tree.topNode.getChildren('Paragraph').length }
    }
    const perLine = read([lineParagraphs])
    expect(perLine.paragraphs).toBe(2000)
    expect(perLine.chars).toBeLessThan(2_000)
    // What it was before: the whole document, every key.
    const commonMark = read([])
    expect(commonMark.paragraphs).toBe(1)
    expect(commonMark.chars).toBeGreaterThan(200_000)
  })

  it('the editor parses a long document line by line', () => {
    const wrapper = mount(DocumentEditor, { props: { docKey: 1, initial: '甲\n乙\n丙' }, attachTo: document.body })
    const view = EditorView.findFromDOM(wrapper.element.querySelector('.cm-content') as HTMLElement)!
    forceParsing(view, view.state.doc.length, 5000)
    expect(syntaxTree(view.state).topNode.getChildren('Paragraph').length).toBe(3)
    wrapper.unmount()
  })
})

/** A parser input over a string that counts the characters the parser asks for. */
class CountingInput implements Input {
  chars = 0
  readonly lineChunks = true
  constructor(private readonly text: string) {}
  get length() {
    return this.text.length
  }
  chunk(from: number): string {
    const end = this.text.indexOf('\n', from)
    const piece = this.text.slice(from, end < 0 ? this.text.length : end + 1)
    this.chars += piece.length
    return piece
  }
  read(from: number, to: number): string {
    this.chars += to - from
    return this.text.slice(from, to)
  }
}
