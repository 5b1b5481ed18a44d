import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { EditorView } from '@codemirror/view'
import { syntaxTree } from '@codemirror/language'
import DocumentEditor from './DocumentEditor.vue'
import { countWords } from './wordCount'

function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('DocumentEditor', () => {
  it('property: the count kept change by change equals a full count', () => {
    const wrapper = mount(DocumentEditor, { props: { docKey: 1, initial: '春眠不觉晓\nspring sleep\n' }, attachTo: document.body })
    const view = EditorView.findFromDOM(wrapper.element.querySelector('.cm-content') as HTMLElement)!
    const r = rng(11)
    const pieces = ['春', '眠', 'ab', ' ', '\n', '，', 'x1', '晓\n鸟', '']
    for (let i = 0; i < 400; i++) {
      const len = view.state.doc.length
      const from = Math.floor(r() * (len + 1))
      const to = Math.min(len, from + Math.floor(r() * 4))
      const insert = pieces[Math.floor(r() * pieces.length)]
      // Mostly one change, sometimes two at once (the fallback path).
      const changes = r() < 0.8 || from === 0 ? [{ from, to, insert }] : [{ from: 0, to: 0, insert: 'z' }, { from, to, insert }]
      view.dispatch({ changes })
      const counts = wrapper.emitted('count') as number[][]
      expect(counts.at(-1)![0], JSON.stringify(view.state.doc.toString())).toBe(countWords(view.state.doc.toString()))
    }
    wrapper.unmount()
  })

  it("reads Markdown (one paragraph per line), and Enter continues a list as the writer expects", () => {
    const wrapper = mount(DocumentEditor, { props: { docKey: 2, initial: '# 标题\n第一段\n第二段\n> 引用\n- 列表' }, attachTo: document.body })
    const view = EditorView.findFromDOM(wrapper.element.querySelector('.cm-content') as HTMLElement)!
    const blocks: string[] = []
    for (let n = syntaxTree(view.state).topNode.firstChild; n; n = n.nextSibling) blocks.push(n.name)
    expect(blocks).toEqual(['ATXHeading1', 'Paragraph', 'Paragraph', 'Blockquote', 'BulletList'])
    view.dispatch({ selection: { anchor: view.state.doc.length } })
    const enter = new KeyboardEvent('keydown', { key: 'Enter', keyCode: 13, bubbles: true, cancelable: true })
    view.contentDOM.dispatchEvent(enter)
    expect(enter.defaultPrevented).toBe(true)
    expect(view.state.doc.toString()).toBe('# 标题\n第一段\n第二段\n> 引用\n- 列表\n- ')
    wrapper.unmount()
  })
})
