import { describe, expect, it } from 'vitest'
import type { SaveState } from './autosave'
import { saveStateShown } from './saveStateShown'

function harness() {
  const shown: SaveState[] = []
  const frames: (() => void)[] = []
  const display = saveStateShown(
    (s) => shown.push(s),
    (fn) => frames.push(fn),
  )
  const paint = () => frames.splice(0).forEach((fn) => fn())
  return { shown, frames, display, paint }
}

describe('saveStateShown', () => {
  it('shows "unsaved" only after the frame of the key that caused it', () => {
    const { shown, display, paint } = harness()
    display.set('pending')
    expect(shown).toEqual([])
    paint()
    expect(shown).toEqual(['pending'])
  })

  it('asks for one frame however many keys come before it', () => {
    const { shown, frames, display, paint } = harness()
    display.set('pending')
    display.set('pending')
    display.set('pending')
    expect(frames).toHaveLength(1)
    paint()
    expect(shown).toEqual(['pending'])
  })

  it('shows saving, saved and a failure at once', () => {
    const { shown, frames, display } = harness()
    display.set('saving')
    display.set('saved')
    display.set('error')
    expect(shown).toEqual(['saving', 'saved', 'error'])
    expect(frames).toHaveLength(0)
  })

  it('never leaves "unsaved" over a state that came after it', () => {
    const { shown, display, paint } = harness()
    display.set('pending')
    display.set('saving')
    paint()
    expect(shown.at(-1)).toBe('saving')
    display.set('pending')
    display.set('saving')
    display.set('saved')
    paint()
    expect(shown.at(-1)).toBe('saved')
  })

  it('a document opened meanwhile shows its own state, not the last one\'s "unsaved"', () => {
    const { shown, display, paint } = harness()
    display.set('pending')
    display.reset('saved')
    paint()
    expect(shown).toEqual(['saved', 'saved'])
  })
})
