import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { useSettingsStore } from './settings'

// A stand-in for the Rust side: keeps what was saved, refuses a non-http custom region the way
// `Preferences::validate` does.
let saved: Record<string, unknown>
let calls: string[]
beforeEach(() => {
  setActivePinia(createPinia())
  saved = { locale: 'zh-CN', theme: 'light', region: { kind: 'beijing' } }
  calls = []
  mockIPC((cmd, args) => {
    calls.push(cmd)
    if (cmd === 'settings_get') return saved
    if (cmd === 'settings_set') {
      const p = (args as { preferences: Record<string, unknown> }).preferences
      const region = p.region as { kind: string; url?: string }
      if (region.kind === 'custom' && !/^https?:\/\//.test(region.url ?? '')) {
        throw { kind: 'invalid_input', message: 'base_url must be an http or https URL' }
      }
      saved = p
      return saved
    }
    throw new Error(`unexpected ${cmd}`)
  })
})
afterEach(() => clearMocks())

async function settle() {
  for (let i = 0; i < 5; i++) await nextTick()
  await new Promise((r) => setTimeout(r, 0))
}

describe('settings store', () => {
  it('starts in Simplified Chinese', () => {
    expect(useSettingsStore().locale).toBe('zh-CN')
  })

  it('loads what Rust stored without writing it back', async () => {
    saved = { locale: 'en', theme: 'dark', region: { kind: 'singapore' } }
    const store = useSettingsStore()
    await store.load()
    await settle()
    expect(store.locale).toBe('en')
    expect(store.theme).toBe('dark')
    expect(store.region).toEqual({ kind: 'singapore' })
    expect(calls).toEqual(['settings_get'])
  })

  it('saves a change through Rust, so it survives a restart', async () => {
    const store = useSettingsStore()
    await store.load()
    store.setLocale('en')
    store.setTheme('dark')
    await settle()
    expect(saved).toMatchObject({ locale: 'en', theme: 'dark' })
    setActivePinia(createPinia())
    const again = useSettingsStore()
    await again.load()
    expect(again.locale).toBe('en')
    expect(again.theme).toBe('dark')
  })

  it('reports a refused region by kind and keeps the stored one', async () => {
    const store = useSettingsStore()
    await store.load()
    store.setRegion({ kind: 'custom', url: 'ftp://example.com' })
    await settle()
    expect(store.saveError).toBe('invalid_input')
    expect(saved.region).toEqual({ kind: 'beijing' })
    expect(store.region).toEqual({ kind: 'beijing' })
    store.setLocale('en')
    await settle()
    expect(saved.locale).toBe('en')
  })

  it('ignores a foreign value from an older file', async () => {
    saved = { locale: 'fr', theme: 'neon', region: { kind: 'mars' } }
    const store = useSettingsStore()
    await store.load()
    expect(store.locale).toBe('zh-CN')
    expect(store.theme).toBe('light')
    expect(store.region).toEqual({ kind: 'beijing' })
  })

  it('toggles the theme', () => {
    const store = useSettingsStore()
    store.setTheme('light')
    store.toggleTheme()
    expect(store.theme).toBe('dark')
    store.toggleTheme()
    expect(store.theme).toBe('light')
  })
})
