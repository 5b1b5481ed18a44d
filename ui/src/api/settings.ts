// Typed wrappers of src-tauri/src/commands/settings.rs: non-secret settings kept by Rust in the
// tauri-plugin-store file (never the API key, which only the keychain holds).
import { call } from './core'
import type { Locale } from '../i18n'

export type Theme = 'light' | 'dark'
export type Region = { kind: 'beijing' } | { kind: 'singapore' } | { kind: 'custom'; url: string }
export interface Preferences {
  locale: Locale
  theme: Theme
  region: Region
  /** Check for a signed update at start and daily (on unless turned off). */
  check_updates: boolean
}

export const settingsGet = () => call<Preferences>('settings_get')
export const settingsSet = (preferences: Preferences) => call<Preferences>('settings_set', { preferences })
