import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Autosaver, type SaveState } from './autosave'

/** A store that behaves like document_save: refuses a save on a stale revision. */
function fakeStore(delayMs = 5) {
  const stored = { body: '', revision: 0 }
  const calls: { body: string; base: number; at: number }[] = []
  const save = vi.fn(async (body: string, base: number) => {
    calls.push({ body, base, at: Date.now() })
    await new Promise((r) => setTimeout(r, delayMs))
    if (base !== stored.revision) throw { kind: 'document_conflict', message: 'stale' }
    stored.body = body
    stored.revision += 1
    return { revision: stored.revision }
  })
  return { stored, calls, save }
}

describe('Autosaver', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('saves once after the writer pauses', async () => {
    const store = fakeStore()
    let text = ''
    const saver = new Autosaver(0, { save: store.save, read: () => text })
    for (const c of '春眠不觉晓') {
      text += c
      saver.changed()
      await vi.advanceTimersByTimeAsync(50)
    }
    expect(store.calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(400)
    expect(store.calls).toHaveLength(1)
    expect(store.stored.body).toBe('春眠不觉晓')
    expect(saver.hasUnsavedChanges).toBe(false)
  })

  it('never lets a change wait longer than maxWait while typing goes on', async () => {
    const store = fakeStore()
    let text = ''
    const saver = new Autosaver(0, { save: store.save, read: () => text, debounceMs: 300, maxWaitMs: 1000 })
    // Typing a character every 100 ms for 5 s: the debounce alone would never fire.
    for (let i = 0; i < 50; i++) {
      text += '字'
      saver.changed()
      await vi.advanceTimersByTimeAsync(100)
      // Whatever was typed more than ~1 s ago (plus the save's own time) is stored.
      const typedSecondAgo = Math.max(0, i + 1 - 11)
      expect(store.stored.body.length).toBeGreaterThanOrEqual(typedSecondAgo)
    }
    expect(store.calls.length).toBeGreaterThanOrEqual(4)
    expect(store.calls.length).toBeLessThanOrEqual(6)
    const done = saver.flush()
    await vi.advanceTimersByTimeAsync(50)
    await done
    expect(store.stored.body).toBe('字'.repeat(50))
  })

  it('keeps one save in flight, each on the revision the last returned', async () => {
    const store = fakeStore(200)
    let text = 'a'
    const saver = new Autosaver(0, { save: store.save, read: () => text, debounceMs: 10, maxWaitMs: 10 })
    saver.changed()
    await vi.advanceTimersByTimeAsync(20) // first save starts, takes 200 ms
    text = 'ab'
    saver.changed()
    await vi.advanceTimersByTimeAsync(20)
    expect(store.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(500)
    expect(store.calls.map((c) => c.base)).toEqual([0, 1])
    expect(store.stored).toEqual({ body: 'ab', revision: 2 })
    expect(saver.currentRevision).toBe(2)
  })

  it('flush saves at once and waits; nothing to save is no call', async () => {
    const store = fakeStore()
    let text = ''
    const saver = new Autosaver(0, { save: store.save, read: () => text })
    await saver.flush()
    expect(store.calls).toHaveLength(0)
    text = '落笔'
    saver.changed()
    const done = saver.flush()
    await vi.advanceTimersByTimeAsync(10)
    await done
    expect(store.stored.body).toBe('落笔')
    expect(store.calls).toHaveLength(1)
  })

  it('a failed save keeps the text unsaved, reports it, and the next flush retries', async () => {
    let fail = true
    const bodies: string[] = []
    const states: SaveState[] = []
    const saver = new Autosaver(3, {
      save: async (body, base) => {
        if (fail) throw { kind: 'database', message: 'disk full' }
        bodies.push(`${base}:${body}`)
        return { revision: base + 1 }
      },
      read: () => '正文',
      onState: (s) => states.push(s),
    })
    saver.changed()
    await expect(saver.flush()).rejects.toMatchObject({ kind: 'database' })
    expect(saver.hasUnsavedChanges).toBe(true)
    expect(states).toContain('error')
    fail = false
    await saver.flush()
    expect(bodies).toEqual(['3:正文'])
    expect(states.at(-1)).toBe('saved')
  })

  it('starts a save that falls due while typing right after a key, not between keys', async () => {
    const store = fakeStore()
    let text = ''
    const painted: number[] = []
    const saver = new Autosaver(0, {
      save: store.save,
      read: () => text,
      debounceMs: 300,
      maxWaitMs: 700,
      // The frame of the key just handled is painted 8 ms later.
      afterPaint: (fn) => {
        painted.push(Date.now())
        setTimeout(fn, 8)
      },
    })
    const keys: number[] = []
    for (let i = 0; i < 30; i++) {
      keys.push(Date.now())
      text += '字'
      saver.changed()
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(store.calls.length).toBeGreaterThanOrEqual(3)
    // Each save started 8 ms after a key: in the quiet between two keys.
    for (const call of store.calls) expect(keys).toContain(call.at - 8)
    expect(painted).toHaveLength(store.calls.length)
    // And none waited much past the longest wait: 700 ms, then the next key.
    let since = 0
    for (const call of store.calls) {
      expect(call.at - since).toBeLessThanOrEqual(700 + 100 + 8 + 10)
      since = call.at
    }
  })

  it('starts a due save after a short grace when no key comes', async () => {
    const store = fakeStore()
    let text = ''
    const afterPaint = vi.fn()
    const saver = new Autosaver(0, { save: store.save, read: () => text, debounceMs: 300, maxWaitMs: 700, dueGraceMs: 50, afterPaint })
    // A key every 280 ms: never a 300 ms pause, and the key after 700 ms comes at 840.
    for (let i = 0; i < 4; i++) {
      text += '字'
      saver.changed()
      await vi.advanceTimersByTimeAsync(280)
    }
    expect(store.calls.map((c) => c.at)).toEqual([750])
    expect(afterPaint).not.toHaveBeenCalled()
    expect(store.calls[0].body).toBe('字字字')
  })

  it('a save waiting for a frame is dropped by dispose, as a waiting timer is', async () => {
    const store = fakeStore()
    let pending: (() => void) | null = null
    const saver = new Autosaver(0, {
      save: store.save,
      read: () => 'text',
      debounceMs: 300,
      maxWaitMs: 100,
      afterPaint: (fn) => {
        pending = fn
      },
    })
    saver.changed()
    await vi.advanceTimersByTimeAsync(150)
    saver.changed()
    expect(pending).not.toBeNull()
    saver.dispose()
    pending!()
    await vi.advanceTimersByTimeAsync(1000)
    expect(store.calls).toHaveLength(0)
  })
})
