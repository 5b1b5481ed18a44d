import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { styleNonce } from './styleNonce'
import DocumentEditor from './views/workspace/DocumentEditor.vue'

afterEach(() => {
  document.head.querySelectorAll('#style-nonce').forEach((e) => e.remove())
  document.body.innerHTML = ''
})

function carrier(tag: string, nonce: string) {
  const e = document.createElement(tag)
  e.id = 'style-nonce'
  e.setAttribute('nonce', nonce)
  document.head.appendChild(e)
}

describe('styleNonce', () => {
  it('reads the nonce Tauri put on the carrier <style>', () => {
    carrier('style', '4242')
    expect(styleNonce()).toBe('4242')
  })

  it('is empty without a carrier, or when the id is on something else', () => {
    expect(styleNonce()).toBe('')
    carrier('div', '4242')
    expect(styleNonce()).toBe('')
  })

  it("is what CodeMirror's style element carries once the editor is mounted", () => {
    carrier('style', '777')
    mount(DocumentEditor, { props: { docKey: 1, initial: '春眠' }, attachTo: document.body })
    const cm = [...document.head.querySelectorAll('style')].filter((s) => s.id !== 'style-nonce' && (s.textContent ?? '').includes('.cm-'))
    expect(cm.length).toBeGreaterThan(0)
    expect(cm.every((s) => s.getAttribute('nonce') === '777')).toBe(true)
  })
})
