import { describe, expect, it, vi } from 'vitest'
import { Activity, IDLE_MS, IdleRelease, SETTLE_MS, releaseOnPageChange, watchIdle } from './idleRelease'

/** A clock and timers the test moves by hand. */
function fakeClock() {
  let now = 0
  let timers: { at: number; run: () => void }[] = []
  return {
    clock: {
      now: () => now,
      setTimeout: (run: () => void, ms: number) => {
        timers.push({ at: now + ms, run })
      },
    },
    advance(ms: number) {
      const end = now + ms
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
        if (!due) break
        timers = timers.filter((t) => t !== due)
        now = due.at
        due.run()
      }
      now = end
    },
    pending: () => timers.length,
  }
}

describe('idle release', () => {
  it('asks once after the quiet time, and again only after the writer came back', () => {
    const t = fakeClock()
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), release)
    t.advance(IDLE_MS - 1)
    expect(release).not.toHaveBeenCalled()
    t.advance(1)
    expect(release).toHaveBeenCalledTimes(1)
    // Nobody back: no second release, and nothing left running.
    t.advance(IDLE_MS * 10)
    expect(release).toHaveBeenCalledTimes(1)
    expect(t.pending()).toBe(0)
    watcher.input()
    t.advance(IDLE_MS)
    expect(release).toHaveBeenCalledTimes(2)
    expect(watcher.asked).toBe(2)
  })

  it('never while the writer types, however long the session', () => {
    const t = fakeClock()
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), release)
    for (let i = 0; i < 2000; i++) {
      t.advance(IDLE_MS / 4)
      watcher.input()
    }
    expect(release).not.toHaveBeenCalled()
    // One timer at a time, not one per key.
    expect(t.pending()).toBe(1)
    t.advance(IDLE_MS)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('waits for commands in flight, and counts the quiet from when the last one ended', () => {
    const t = fakeClock()
    const activity = new Activity(t.clock.now)
    const release = vi.fn()
    new IdleRelease(t.clock, activity, release)
    activity.begin('generate_writing') // a generation streams for two minutes
    t.advance(IDLE_MS * 4)
    expect(release).not.toHaveBeenCalled()
    expect(activity.commands()).toEqual(['generate_writing'])
    activity.end('generate_writing')
    t.advance(IDLE_MS - 1)
    expect(release).not.toHaveBeenCalled()
    t.advance(IDLE_MS)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('counts each command by name, and an extra end is not a command below zero', () => {
    const t = fakeClock()
    const activity = new Activity(t.clock.now)
    activity.end('document_save')
    activity.begin('document_save')
    activity.begin('document_save')
    activity.begin('credit_balance')
    activity.end('document_save')
    expect(activity.commands()).toEqual(['credit_balance', 'document_save'])
    activity.end('document_save')
    activity.end('credit_balance')
    expect(activity.busy()).toBe(false)
    expect(activity.commands()).toEqual([])
  })

  it('asks once a new page has settled, and the quiet spell still asks later', () => {
    const t = fakeClock()
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), release)
    t.advance(1_000)
    watcher.pageChanged()
    t.advance(SETTLE_MS - 1)
    expect(release).not.toHaveBeenCalled()
    t.advance(1)
    expect(release).toHaveBeenCalledTimes(1)
    // One per page change.
    t.advance(SETTLE_MS * 10)
    expect(release).toHaveBeenCalledTimes(1)
    t.advance(IDLE_MS)
    expect(release).toHaveBeenCalledTimes(2)
    expect(watcher.asked).toBe(2)
  })

  it('a writer busy on the new page gets no page-change release', () => {
    const t = fakeClock()
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), release)
    watcher.pageChanged()
    t.advance(SETTLE_MS / 2)
    watcher.input() // the writer clicks into the editor and types
    for (let i = 0; i < 100; i++) {
      t.advance(SETTLE_MS * 2)
      watcher.input()
    }
    expect(release).not.toHaveBeenCalled()
  })

  it('waits for the new page to load what it shows, and counts the quiet from then', () => {
    const t = fakeClock()
    const activity = new Activity(t.clock.now)
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, activity, release)
    watcher.pageChanged()
    activity.begin('history_page')
    t.advance(SETTLE_MS * 3)
    expect(release).not.toHaveBeenCalled()
    activity.end('history_page')
    t.advance(SETTLE_MS - 1)
    expect(release).not.toHaveBeenCalled()
    t.advance(SETTLE_MS)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('pages changed in a row ask once, for the last', () => {
    const t = fakeClock()
    const release = vi.fn()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), release)
    for (let i = 0; i < 5; i++) {
      watcher.pageChanged()
      t.advance(SETTLE_MS / 5)
    }
    expect(release).not.toHaveBeenCalled()
    t.advance(SETTLE_MS)
    expect(release).toHaveBeenCalledTimes(1)
    t.advance(SETTLE_MS * 10)
    expect(release).toHaveBeenCalledTimes(1)
  })

  it('tells the watcher of page changes, not of the first page or the same one', () => {
    const hooks: ((to: { path: string }, from: { path: string; matched: unknown[] }) => void)[] = []
    const router = { afterEach: (hook: (typeof hooks)[number]) => hooks.push(hook) }
    const t = fakeClock()
    const watcher = new IdleRelease(t.clock, new Activity(t.clock.now), vi.fn())
    const changed = vi.spyOn(watcher, 'pageChanged')
    releaseOnPageChange(router, watcher)
    const [hook] = hooks
    hook({ path: '/writing' }, { path: '/', matched: [] })
    hook({ path: '/writing' }, { path: '/writing', matched: [{}] })
    expect(changed).not.toHaveBeenCalled()
    hook({ path: '/history' }, { path: '/writing', matched: [{}] })
    expect(changed).toHaveBeenCalledTimes(1)
    releaseOnPageChange(router, null)
    expect(hooks).toHaveLength(1)
  })

  it('watches nothing without the extension, and listens to input with it', () => {
    expect(watchIdle(window)).toBeNull()
    const release = vi.fn(() => true)
    window.__inkstoneReleaseMemory = release
    try {
      const watcher = watchIdle(window)
      expect(watcher).not.toBeNull()
      const spy = vi.spyOn(watcher as IdleRelease, 'input')
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }))
      expect(spy).toHaveBeenCalledTimes(1)
    } finally {
      delete window.__inkstoneReleaseMemory
    }
  })
})
