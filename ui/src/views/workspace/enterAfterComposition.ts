// An Enter right after a Chinese input method's composition, on WebKitGTK.
//
// CodeMirror leaves an Enter that comes within 100 ms after a composition ends to the browser:
// on macOS Safari that Enter is the input method's own confirm key, sent after compositionend.
// WebKitGTK sends the keys an input method handles as keyCode 229 *before* the composition
// ends, so an Enter (13) after compositionend is the writer's own; left to the browser, whose
// Enter in CodeMirror's plaintext-only content gave two line breaks instead of one. Here that
// Enter runs the editor's own Enter binding (a list or quote continues), as any later Enter does.
import type { Extension } from '@codemirror/state'
import { ViewPlugin, runScopeHandlers } from '@codemirror/view'
import { insertNewlineAndIndent } from '@codemirror/commands'

/** CodeMirror's own window for "this Enter belongs to the composition". */
export const COMPOSITION_ENTER_MS = 100

/** WebKitGTK: WebKit (Safari's engine, which CodeMirror treats as Safari) on Linux. */
export function isLinuxWebKit(nav: Pick<Navigator, 'userAgent' | 'vendor' | 'platform'> = navigator): boolean {
  return /Apple Computer/.test(nav.vendor) && /Linux/.test(nav.platform || nav.userAgent)
}

export function enterAfterComposition(enabled: boolean = isLinuxWebKit(), now: () => number = () => performance.now()): Extension {
  if (!enabled) return []
  return ViewPlugin.define((view) => {
    let endedAt = -Infinity
    const ended = () => {
      endedAt = now()
    }
    const keydown = (event: KeyboardEvent) => {
      if (
        event.keyCode !== 13 ||
        event.isComposing ||
        event.shiftKey ||
        event.ctrlKey ||
        event.altKey ||
        event.metaKey ||
        now() - endedAt >= COMPOSITION_ENTER_MS
      )
        return
      // Captured on the editor's outer element, so CodeMirror's own handler (which would
      // ignore it) and the browser's default never see it.
      event.preventDefault()
      event.stopPropagation()
      endedAt = -Infinity
      // The editor's keymap (Markdown's Enter continues a list); a bare editor has none.
      if (!runScopeHandlers(view, event, 'editor')) insertNewlineAndIndent(view)
    }
    view.dom.addEventListener('compositionend', ended, true)
    view.dom.addEventListener('keydown', keydown, true)
    return {
      destroy() {
        view.dom.removeEventListener('compositionend', ended, true)
        view.dom.removeEventListener('keydown', keydown, true)
      },
    }
  })
}
