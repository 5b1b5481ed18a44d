import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useSettingsStore } from '../stores/settings'

const ZH_NAV = ['写作', '文稿', '图片', '视频', 'PPT', '历史', '积分充值', '会员', '交易记录', '设置']

beforeEach(() => {
  localStorage.clear()
  document.documentElement.className = ''
  mockIPC((cmd) => {
    if (cmd === 'app_version') return '9.8.7'
    throw { kind: 'unknown_command', message: cmd }
  })
})
afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

function navLabels(root: ParentNode) {
  return Array.from(root.querySelectorAll('[data-testid^="nav-"]')).map((el) =>
    (el.textContent ?? '').trim(),
  )
}

describe('MainLayout', () => {
  it('shows every navigation item in Chinese by default', async () => {
    const { wrapper } = await mountApp()
    expect(navLabels(wrapper.element)).toEqual(ZH_NAV)
    expect(wrapper.find('[data-testid="brand"]').text()).toContain('墨砚')
    wrapper.unmount()
  })

  it('navigates when a menu item is clicked', async () => {
    const { wrapper, router } = await mountApp('/writing')
    await wrapper.find('[data-testid="nav-transactions"]').trigger('click')
    // The view is a lazily imported chunk: wait for the navigation to settle.
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('transactions'))
    await flushPromises()
    await vi.waitFor(() =>
      expect(wrapper.find('[data-testid="page-title"]').text()).toBe('交易记录'),
    )
    wrapper.unmount()
  })

  it('switches to English from the settings page and shows the version from Rust', async () => {
    const { wrapper } = await mountApp('/settings?tab=about')
    await vi.waitFor(() => expect(wrapper.find('[data-testid="app-version"]').text()).toBe('9.8.7'))
    await wrapper.find('[data-testid="settings-tab-general"]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-testid="locale-en"] input').setValue(true)
    await flushPromises()
    expect(useSettingsStore().locale).toBe('en')
    expect(navLabels(wrapper.element)).toEqual([
      'Writing',
      'Documents',
      'Image',
      'Video',
      'Slides',
      'History',
      'Buy credits',
      'Membership',
      'Transactions',
      'Settings',
    ])
    expect(document.documentElement.lang).toBe('en')
    wrapper.unmount()
  })

  it('shows the error kind when the version command fails', async () => {
    mockIPC(() => {
      throw { kind: 'database', message: 'disk I/O error' }
    })
    const { wrapper } = await mountApp('/settings?tab=about')
    await vi.waitFor(() =>
      expect(wrapper.find('[data-testid="app-version-error"]').text()).toContain('database'),
    )
    expect(wrapper.find('[data-testid="app-version"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('toggles dark mode on the document from the header', async () => {
    const { wrapper } = await mountApp()
    useSettingsStore().setTheme('light')
    await flushPromises()
    expect(document.documentElement.classList.contains('dark')).toBe(false)
    await wrapper.find('[data-testid="theme-toggle"]').trigger('click')
    await flushPromises()
    expect(document.documentElement.classList.contains('dark')).toBe(true)
    wrapper.unmount()
  })
})
