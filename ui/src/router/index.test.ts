import { describe, expect, it } from 'vitest'
import { createAppRouter } from './index'

/** A `beforeAppPage` that records each call and then fails with `failure`, if given. */
function loader(failure?: string) {
  const asked: string[] = []
  const load = async () => {
    asked.push('loaded')
    if (failure) throw new Error(failure)
  }
  return { asked, load }
}

describe('createAppRouter: what a page needs before it is entered (issue 18)', () => {
  it('enters the login page without waiting for the rest of the app', async () => {
    const { asked, load } = loader()
    const router = createAppRouter({ requireLogin: async () => true, beforeAppPage: load })
    await router.push('/writing')
    expect(router.currentRoute.value.name).toBe('login')
    expect(asked).toEqual([])
  })

  it('waits for it before any other page, and stays put when it cannot be loaded', async () => {
    const { asked, load } = loader('chunk failed')
    const router = createAppRouter({ requireLogin: async () => false, beforeAppPage: load })
    await router.push('/login')
    await expect(router.push('/history')).rejects.toThrow('chunk failed')
    expect(asked).toEqual(['loaded'])
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('waits for it before the trouble page too', async () => {
    const { asked, load } = loader('not yet')
    const router = createAppRouter({ trouble: true, beforeAppPage: load })
    await expect(router.push('/writing')).rejects.toThrow('not yet')
    expect(asked).toEqual(['loaded'])
  })

  it('reports the refusal to its error handlers, where main.ts tells the writer', async () => {
    const { load } = loader('chunk failed')
    const router = createAppRouter({ requireLogin: async () => false, beforeAppPage: load })
    const seen: string[] = []
    router.onError((e) => seen.push(String(e)))
    await router.push('/login')
    await router.push('/history').catch(() => undefined)
    expect(seen).toEqual(['Error: chunk failed'])
  })
})
