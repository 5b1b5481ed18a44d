import { afterEach, describe, expect, it } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { createPinia, setActivePinia } from 'pinia'
import { useUpdatesStore } from './updates'

const offer = (version: string) => ({ version, notes: '', pub_date: null, url: 'https://x/a.AppImage', signature: 's' })

function backend(status: unknown, check: unknown) {
  mockIPC((cmd) => {
    if (cmd === 'update_status') return status
    if (cmd === 'update_check') return check
    throw { kind: 'unknown_command', message: cmd }
  })
}

afterEach(() => clearMocks())

describe('updates store', () => {
  it('shows what the automatic check found', async () => {
    setActivePinia(createPinia())
    backend(offer('0.3.0'), null)
    const updates = useUpdatesStore()
    await updates.load()
    expect(updates.offer?.version).toBe('0.3.0')
  })

  it('keeps what a check by hand found when the automatic one has nothing', async () => {
    setActivePinia(createPinia())
    backend(null, offer('0.2.0'))
    const updates = useUpdatesStore()
    await updates.check()
    await updates.load()
    expect(updates.offer?.version).toBe('0.2.0')
  })

  it('shows a version the daily check found after a check by hand found none', async () => {
    setActivePinia(createPinia())
    backend(offer('0.4.0'), null)
    const updates = useUpdatesStore()
    await updates.check()
    expect(updates.offer).toBeNull()
    await updates.load()
    expect(updates.offer?.version).toBe('0.4.0')
  })
})
