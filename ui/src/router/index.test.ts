import { describe, expect, it } from 'vitest'
import { createAppRouter } from './index'

describe('createAppRouter: what a page needs before it is entered (issue 18)', () => {
  it('enters the login page without waiting for the rest of the app', async () => {
    const asked: string[] = []
    const router = createAppRouter({
      requireLogin: async () => true,
      beforeAppPage: async () => {
        asked.push('loaded')
      },
    })
    await router.push('/writing')
    expect(router.currentRoute.value.name).toBe('login')
    expect(asked).toEqual([])
  })

  it('waits for it before any other page, and stays put when it cannot be loaded', async () => {
    const asked: string[] = []
    const router = createAppRouter({
      requireLogin: async () => false,
      beforeAppPage: async () => {
        asked.push('loaded')
        throw new Error('chunk failed')
      },
    })
    await router.push('/login')
    await expect(router.push('/history')).rejects.toThrow('chunk failed')
    expect(asked).toEqual(['loaded'])
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('waits for it before the trouble page too', async () => {
    const asked: string[] = []
    const router = createAppRouter({
      trouble: true,
      beforeAppPage: async () => {
        asked.push('loaded')
        throw new Error('not yet')
      },
    })
    await expect(router.push('/writing')).rejects.toThrow('not yet')
    expect(asked).toEqual(['loaded'])
  })
})
