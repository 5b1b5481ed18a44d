import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { EditorView } from '@codemirror/view'
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
})
