// Interface preferences: language and theme. Kept in the webview's localStorage because they
// only shape the UI; anything the Rust side must know belongs in its own store.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { DEFAULT_LOCALE, isLocale, type Locale } from '../i18n'

export type Theme = 'light' | 'dark'
const STORAGE_KEY = 'inkstone.settings'

interface Saved {
  locale?: unknown
  theme?: unknown
}

function load(): Saved {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY)
    const parsed: unknown = raw ? JSON.parse(raw) : {}
    return typeof parsed === 'object' && parsed !== null ? (parsed as Saved) : {}
  } catch {
    // A corrupt entry must not keep the app from starting: fall back to defaults.
    return {}
  }
}

function systemTheme(): Theme {
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export const useSettingsStore = defineStore('settings', () => {
  const saved = load()
  const locale = ref<Locale>(isLocale(saved.locale) ? saved.locale : DEFAULT_LOCALE)
  const theme = ref<Theme>(saved.theme === 'dark' || saved.theme === 'light' ? saved.theme : systemTheme())

  watch([locale, theme], () => {
    try {
      globalThis.localStorage?.setItem(
        STORAGE_KEY,
        JSON.stringify({ locale: locale.value, theme: theme.value }),
      )
    } catch {
      // Storage full or disabled: the choice still applies for this session.
    }
  })

  function setLocale(next: Locale) {
    locale.value = next
  }
  function setTheme(next: Theme) {
    theme.value = next
  }
  function toggleTheme() {
    theme.value = theme.value === 'dark' ? 'light' : 'dark'
  }

  return { locale, theme, setLocale, setTheme, toggleTheme }
})
