import { describe, expect, it } from 'vitest'
import { askAtStart, loadOnce, showLoadFailure } from './startup'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('askAtStart', () => {
  it('asks all three questions before any is answered', async () => {
    const asked: string[] = []
    const trouble = deferred<null>()
    const settings = deferred<void>()
    const account = deferred<void>()
    const done = askAtStart({
      trouble: () => (asked.push('trouble'), trouble.promise),
      settings: () => (asked.push('settings'), settings.promise),
      account: () => (asked.push('account'), account.promise),
    })
    expect(asked).toEqual(['trouble', 'settings', 'account'])
    let settled = false
    void done.then(() => (settled = true))
    account.resolve()
    trouble.resolve(null)
    await Promise.resolve()
    expect(settled).toBe(false)
    settings.resolve()
    await expect(done).resolves.toBeNull()
  })

  it('returns the trouble and tolerates the questions a database not well cannot answer', async () => {
    const found = { kind: 'corrupt', locale: 'en' }
    await expect(
      askAtStart({
        trouble: () => Promise.resolve(found),
        settings: () => Promise.reject(new Error('no state')),
        account: () => Promise.reject(new Error('no state')),
      }),
    ).resolves.toBe(found)
  })

  it('treats a trouble question that fails as no trouble', async () => {
    await expect(
      askAtStart({
        trouble: () => Promise.reject(new Error('ipc')),
        settings: () => Promise.resolve(),
        account: () => Promise.resolve(),
      }),
    ).resolves.toBeNull()
  })
})

describe('loadOnce', () => {
  it('runs the load once for every caller, and again only after a failure', async () => {
    let runs = 0
    let fail = true
    const load = loadOnce(async () => {
      runs += 1
      if (fail) throw new Error('chunk failed')
    })
    const [a, b] = [load(), load()]
    await expect(a).rejects.toThrow('chunk failed')
    await expect(b).rejects.toThrow('chunk failed')
    expect(runs).toBe(1)
    fail = false
    await load()
    await load()
    expect(runs).toBe(2)
  })
})

describe('showLoadFailure', () => {
  it('shows one alert, with the latest text, in plain DOM', () => {
    showLoadFailure('第一次')
    const box = showLoadFailure('第二次')
    const boxes = document.querySelectorAll('[data-testid=app-load-failed]')
    expect(boxes.length).toBe(1)
    expect(boxes[0]).toBe(box)
    expect(box.getAttribute('role')).toBe('alert')
    expect(box.textContent).toBe('第二次')
    expect(box.style.position).toBe('fixed')
    box.remove()
  })
})
