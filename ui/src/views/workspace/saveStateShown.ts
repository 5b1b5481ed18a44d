// What the status bar shows of the autosave. "Unsaved" is what the first key after a save
// causes, and set inside that key it re-rendered the status bar before the key's own paint
// (about one key in twelve, the long document's slow tail); it now appears once that key's
// frame is painted. "Saving", "saved" and a failure show at once: no key is waiting on them.
import { afterNextPaint } from './afterPaint'
import type { SaveState } from './autosave'

export interface SaveStateShown {
  /** The autosave's new state. */
  set(state: SaveState): void
  /** Another document is open: its state, at once, whatever was waiting for a frame. */
  reset(state: SaveState): void
}

export function saveStateShown(
  show: (state: SaveState) => void,
  afterPaint: (fn: () => void) => void = afterNextPaint,
): SaveStateShown {
  let latest: SaveState = 'saved'
  let waiting = false
  return {
    set(state) {
      latest = state
      if (state !== 'pending') {
        show(state)
        return
      }
      if (waiting) return
      waiting = true
      afterPaint(() => {
        waiting = false
        // Whatever came since wins: a save may have started or ended meanwhile.
        show(latest)
      })
    },
    reset(state) {
      latest = state
      show(state)
    },
  }
}
