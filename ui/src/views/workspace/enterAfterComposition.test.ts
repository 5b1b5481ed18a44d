import { afterEach, describe, expect, it } from 'vitest'
import { EditorState, Prec, type Extension } from '@codemirror/state'
import { EditorView, keymap } from '@codemirror/view'
import { markdownKeymap, markdownLanguage } from '@codemirror/lang-markdown'
import { COMPOSITION_ENTER_MS, enterAfterComposition, isLinuxWebKit } from './enterAfterComposition'

const views: EditorView[] = []
afterEach(() => {
  // Destroyed before CodeMirror's measuring frame: jsdom has no layout to measure.
  views.splice(0).forEach((v) => v.destroy())
  document.body.innerHTML = ''
})

function editor(doc: string, clock: { t: number }, enabled = true, more: Extension[] = []) {
  const parent = document.createElement('div')
  document.body.appendChild(parent)
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc, selection: { anchor: doc.length }, extensions: [enterAfterComposition(enabled, () => clock.t), ...more] }),
  })
  views.push(view)
  return view
}

function enter(view: EditorView, init: KeyboardEventInit = {}) {
  const event = new KeyboardEvent('keydown', { key: 'Enter', keyCode: 13, bubbles: true, cancelable: true, ...init } as KeyboardEventInit)
  view.contentDOM.dispatchEvent(event)
  return event
}

describe('enterAfterComposition (WebKitGTK)', () => {
  it('an Enter right after a composition is one line break, and the browser never sees it', () => {
    const clock = { t: 1000 }
    const view = editor('段落不觉', clock)
    view.contentDOM.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '不觉' }))
    clock.t += COMPOSITION_ENTER_MS - 1
    const event = enter(view)
    expect(event.defaultPrevented).toBe(true)
    expect(view.state.doc.toString()).toBe('段落不觉\n')
  })

  it("runs the editor's own Enter binding: in a Markdown list the list continues", () => {
    const clock = { t: 1000 }
    const view = editor('- 春眠', clock, true, [markdownLanguage, Prec.high(keymap.of(markdownKeymap))])
    view.contentDOM.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '春眠' }))
    expect(enter(view).defaultPrevented).toBe(true)
    expect(view.state.doc.toString()).toBe('- 春眠\n- ')
  })

  it('leaves other keys, later Enters, modified Enters and keys during a composition to CodeMirror', () => {
    const clock = { t: 1000 }
    const view = editor('段落', clock)
    view.contentDOM.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '段落' }))
    expect(enter(view, { shiftKey: true }).defaultPrevented).toBe(false)
    expect(enter(view, { isComposing: true }).defaultPrevented).toBe(false)
    expect(enter(view, { key: 'a', keyCode: 65 }).defaultPrevented).toBe(false)
    clock.t += COMPOSITION_ENTER_MS
    expect(enter(view).defaultPrevented).toBe(false)
    expect(view.state.doc.toString()).toBe('段落')
  })

  it('takes only the first Enter after a composition', () => {
    const clock = { t: 1000 }
    const view = editor('字', clock)
    view.contentDOM.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '字' }))
    expect(enter(view).defaultPrevented).toBe(true)
    expect(enter(view).defaultPrevented).toBe(false)
    expect(view.state.doc.toString()).toBe('字\n')
  })

  it('does nothing off WebKitGTK', () => {
    const clock = { t: 1000 }
    const view = editor('字', clock, false)
    view.contentDOM.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '字' }))
    expect(enter(view).defaultPrevented).toBe(false)
    expect(view.state.doc.toString()).toBe('字')
  })

  it('knows WebKitGTK from Safari and from Chromium', () => {
    const gtk = { vendor: 'Apple Computer, Inc.', platform: 'Linux x86_64', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko)' }
    const safari = { vendor: 'Apple Computer, Inc.', platform: 'MacIntel', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15' }
    const webview2 = { vendor: 'Google Inc.', platform: 'Win32', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120' }
    expect(isLinuxWebKit(gtk)).toBe(true)
    expect(isLinuxWebKit(safari)).toBe(false)
    expect(isLinuxWebKit(webview2)).toBe(false)
  })
})
