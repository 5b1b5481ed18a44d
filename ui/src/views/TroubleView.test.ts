import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import ElementPlus from 'element-plus'
import { createAppI18n, type Locale } from '../i18n'
import TroubleView from './TroubleView.vue'
import type { TroubleView as Trouble } from '../api/backups'
import { page } from './troublePage'

let calls: Array<[string, Record<string, unknown>]> = []

function backend(trouble: Trouble, afterResolve: Trouble | null) {
  calls = []
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    switch (cmd) {
      case 'data_trouble':
        return trouble
      case 'data_trouble_resolve':
        return afterResolve
    }
    throw { kind: 'unknown_command', message: cmd }
  })
}

const latest = { name: 'inkstone-2026-11-28.db', path: '/d/backups/daily/inkstone-2026-11-28.db', taken_at: '2026-11-28T00:00:00Z', bytes: 9 }

async function mountIn(locale: Locale) {
  const wrapper = mount(TroubleView, { global: { plugins: [createAppI18n(locale), ElementPlus] } })
  await flushPromises()
  return wrapper
}

afterEach(() => {
  clearMocks()
  vi.restoreAllMocks()
})

describe('the database is not well', { timeout: 30_000 }, () => {
  it('says which trouble in Chinese and offers the latest backup', async () => {
    const corrupt: Trouble = { kind: 'corrupt', latest_backup: latest, upgrade_copy: null, data_dir: '/d', locale: 'zh-CN' }
    backend(corrupt, corrupt)
    const wrapper = await mountIn('zh-CN')
    expect(wrapper.text()).toContain('数据库无法使用')
    expect(wrapper.find('[data-testid="trouble-message"]').text()).toBe('墨砚的数据库文件已损坏，无法打开。')
    expect(wrapper.find('[data-testid="trouble-latest"]').text()).toContain('inkstone-2026-11-28.db')
    expect(wrapper.text()).toContain('不会删除任何文件')
    const restore = wrapper.find('[data-testid="trouble-restore-latest"]')
    expect(restore.attributes('disabled')).toBeUndefined()
    await restore.trigger('click')
    await flushPromises()
    expect(calls).toContainEqual(['data_trouble_resolve', { action: 'restore_latest' }])
    // Still broken: the page stays and says so.
    expect(wrapper.find('[data-testid="trouble-still"]').exists()).toBe(true)
  })

  it('in English for a locked or read-only database, with no backup to restore', async () => {
    const reload = vi.spyOn(page, 'reload').mockImplementation(() => undefined)
    for (const kind of ['locked', 'read_only'] as const) {
      backend({ kind, latest_backup: null, upgrade_copy: null, data_dir: '/d', locale: 'en' }, null)
      const wrapper = await mountIn('en')
      const text = wrapper.find('[data-testid="trouble-message"]').text()
      expect(text).toContain(kind === 'locked' ? 'Another program holds a lock' : 'read-only')
      expect(wrapper.find('[data-testid="trouble-restore-latest"]').attributes('disabled')).toBeDefined()
      await wrapper.find('[data-testid="trouble-retry"]').trigger('click')
      await flushPromises()
      expect(calls).toContainEqual(['data_trouble_resolve', { action: 'retry' }])
      wrapper.unmount()
    }
    // The database opened: the page starts over as a normal start.
    expect(reload).toHaveBeenCalledTimes(2)
  })

  it('after a failed upgrade names the copy and offers no older backup', async () => {
    vi.spyOn(page, 'reload').mockImplementation(() => undefined)
    backend(
      { kind: 'upgrade_failed', latest_backup: latest, upgrade_copy: '/d/backups/before-0.2.0', data_dir: '/d', locale: 'en' },
      null,
    )
    const wrapper = await mountIn('en')
    expect(wrapper.find('[data-testid="trouble-message"]').text()).toContain('nothing is lost')
    expect(wrapper.text()).toContain('/d/backups/before-0.2.0')
    expect(wrapper.find('[data-testid="trouble-restore-latest"]').attributes('disabled')).toBeDefined()
    await wrapper.find('[data-testid="trouble-start-fresh"]').trigger('click')
    await flushPromises()
    expect(calls).toContainEqual(['data_trouble_resolve', { action: 'start_fresh' }])
  })
})
