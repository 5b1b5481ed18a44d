import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'
import { settingsTab } from './settings/tabs'

// Every command the page asked Rust for: a section not shown must not have asked anything.
let asked: string[] = []

beforeEach(() => {
  asked = []
  mockIPC((cmd) => {
    asked.push(cmd)
    if (cmd === 'app_version') return '9.8.7'
    throw { kind: 'unknown_command', message: cmd }
  })
})
afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

const SECTION_MODULES = [
  () => import('../components/AiSettings.vue'),
  () => import('../components/ProfileSettings.vue'),
  () => import('../components/PurchaseAccount.vue'),
  () => import('./settings/BackupSettings.vue'),
  () => import('./settings/UpdateSettings.vue'),
]
const FOLDER = 'input[data-testid="backup-folder"], [data-testid="backup-folder"] input'
const SECTIONS = ['purchase-account', 'key-input', 'backups-section', 'updates-section']
const present = (root: Element) => SECTIONS.filter((id) => root.querySelector(`[data-testid="${id}"]`))

describe('settings page', () => {
  it('opens on the general tab and builds no other section', async () => {
    const { wrapper } = await mountApp('/settings')
    // Time for every section's code to load: a section built without its tab shows by now.
    await Promise.all(SECTION_MODULES.map((load) => load()))
    await flushPromises()
    expect(wrapper.find('[data-testid="locale-switch"]').exists()).toBe(true)
    expect(present(wrapper.element)).toEqual([])
    // Not even the version: it is the About tab's.
    expect(asked).toEqual([])
    wrapper.unmount()
  })

  it('builds a section only while its tab is shown, and puts the tab in the address', async () => {
    const { wrapper, router } = await mountApp('/settings')
    // The owner of this computer: the backup form is theirs.
    useAccountStore().profile = { id: 1, username: 'owner', is_admin: true, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }
    await wrapper.find('[data-testid="settings-tab-backups"]').trigger('click')
    await vi.waitFor(() => expect(present(wrapper.element)).toEqual(['backups-section']))
    await flushPromises()
    expect(router.currentRoute.value.query.tab).toBe('backups')
    await wrapper.find(FOLDER).setValue('/srv/backups')

    await wrapper.find('[data-testid="settings-tab-general"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.query.tab).toBe('general')
    // Taken down when left: what it holds does not stay in the page.
    expect(present(wrapper.element)).toEqual([])
    await wrapper.find('[data-testid="settings-tab-backups"]').trigger('click')
    await vi.waitFor(() => expect(present(wrapper.element)).toEqual(['backups-section']))
    await flushPromises()
    expect((wrapper.find(FOLDER).element as HTMLInputElement).value).toBe('')
    wrapper.unmount()
  })

  it('opens the tab the address names', async () => {
    const { wrapper } = await mountApp('/settings?tab=ai')
    await vi.waitFor(() => expect(present(wrapper.element)).toEqual(['key-input']))
    wrapper.unmount()
  })

  it('reads the tab from the address, the general tab when it names none', () => {
    expect(settingsTab('account')).toBe('account')
    expect(settingsTab(['backups', 'ai'])).toBe('backups')
    expect(settingsTab(undefined)).toBe('general')
    expect(settingsTab('toString')).toBe('general')
    expect(settingsTab('')).toBe('general')
    expect(settingsTab(null)).toBe('general')
  })
})
