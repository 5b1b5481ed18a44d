// Language, theme and DashScope region. Rust keeps them (tauri-plugin-store, settings.json in the
// data folder) and checks them; this store mirrors them for the UI. `load()` runs before the app
// mounts so the first paint is already in the writer's language.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { DEFAULT_LOCALE, isLocale, type Locale } from '../i18n'
import { settingsGet, settingsSet, type Preferences, type Region, type Theme } from '../api/settings'
import { AppError } from '../api/core'

export type { Theme, Region }

function isRegion(value: unknown): value is Region {
  if (typeof value !== 'object' || value === null) return false
  const r = value as { kind?: unknown; url?: unknown }
  return r.kind === 'beijing' || r.kind === 'singapore' || (r.kind === 'custom' && typeof r.url === 'string')
}

export const useSettingsStore = defineStore('settings', () => {
  const locale = ref<Locale>(DEFAULT_LOCALE)
  const theme = ref<Theme>('light')
  const region = ref<Region>({ kind: 'beijing' })
  const checkUpdates = ref(true)
  /** The kind of the last failed save (e.g. `invalid_input` for a bad custom URL), or null. */
  const saveError = ref<string | null>(null)
  // What Rust holds now: values that arrive from Rust are not sent straight back.
  let stored = ''
  const snapshot = () =>
    JSON.stringify({ locale: locale.value, theme: theme.value, region: region.value, checkUpdates: checkUpdates.value })

  function apply(p: Preferences) {
    if (isLocale(p.locale)) locale.value = p.locale
    if (p.theme === 'light' || p.theme === 'dark') theme.value = p.theme
    if (isRegion(p.region) && JSON.stringify(p.region) !== JSON.stringify(region.value)) region.value = p.region
    if (typeof p.check_updates === 'boolean') checkUpdates.value = p.check_updates
    stored = snapshot()
  }

  async function load() {
    apply(await settingsGet())
  }

  async function save() {
    try {
      apply(
        await settingsSet({ locale: locale.value, theme: theme.value, region: region.value, check_updates: checkUpdates.value }),
      )
      saveError.value = null
    } catch (error) {
      // The page shows why it was not kept. A refused region goes back to the stored one, so
      // it cannot block saving other settings; anything else still applies for this session.
      saveError.value = error instanceof AppError ? error.kind : 'ipc'
      if (saveError.value === 'invalid_input') {
        region.value = (JSON.parse(stored) as Preferences).region
        stored = snapshot()
      }
    }
  }

  watch([locale, theme, region, checkUpdates], () => {
    if (snapshot() !== stored) void save()
  })

  function setLocale(next: Locale) {
    locale.value = next
  }
  function setTheme(next: Theme) {
    theme.value = next
  }
  function setRegion(next: Region) {
    region.value = next
  }
  function toggleTheme() {
    theme.value = theme.value === 'dark' ? 'light' : 'dark'
  }

  return { locale, theme, region, checkUpdates, saveError, load, save, setLocale, setTheme, setRegion, toggleTheme }
})
