import { beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { useSettingsStore } from './settings'

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('settings store', () => {
  it('starts in Simplified Chinese', () => {
    expect(useSettingsStore().locale).toBe('zh-CN')
  })

  it('remembers language and theme across restarts', async () => {
    const store = useSettingsStore()
    store.setLocale('en')
    store.setTheme('dark')
    await nextTick()
    setActivePinia(createPinia())
    const again = useSettingsStore()
    expect(again.locale).toBe('en')
    expect(again.theme).toBe('dark')
  })

  it('ignores a corrupt or foreign saved value', () => {
    localStorage.setItem('inkstone.settings', '{not json')
    expect(useSettingsStore().locale).toBe('zh-CN')
    setActivePinia(createPinia())
    localStorage.setItem('inkstone.settings', JSON.stringify({ locale: 'fr', theme: 'neon' }))
    const store = useSettingsStore()
    expect(store.locale).toBe('zh-CN')
    expect(['light', 'dark']).toContain(store.theme)
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
