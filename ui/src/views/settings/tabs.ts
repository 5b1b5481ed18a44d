// The settings page's sections, one tab each, in the order shown; the first is shown when the
// address names none (or one that is not a tab).
export const SETTINGS_TABS = ['general', 'account', 'ai', 'backups', 'about'] as const
export type SettingsTab = (typeof SETTINGS_TABS)[number]

export function settingsTab(query: unknown): SettingsTab {
  const name = Array.isArray(query) ? query[0] : query
  return (SETTINGS_TABS as readonly unknown[]).includes(name) ? (name as SettingsTab) : 'general'
}
