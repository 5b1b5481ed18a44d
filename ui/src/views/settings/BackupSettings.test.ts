import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import ElementPlus from 'element-plus'
import { createPinia, setActivePinia } from 'pinia'
import { useAccountStore } from '../../stores/account'
import { createAppI18n, type Locale } from '../../i18n'
import BackupSettings from './BackupSettings.vue'

let calls: Array<[string, Record<string, unknown>]> = []

const daily = [
  { name: 'inkstone-2026-11-29.db', path: '/data/backups/daily/inkstone-2026-11-29.db', taken_at: '2026-11-29T00:00:00Z', bytes: 204800 },
  { name: 'inkstone-2026-11-28.db', path: '/data/backups/daily/inkstone-2026-11-28.db', taken_at: '2026-11-28T00:00:00Z', bytes: 200000 },
]

function backend(restoreFails: string | null = null) {
  calls = []
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    switch (cmd) {
      case 'backups_list':
        return daily
      case 'backup_now': {
        const folder = (args as { folder: string }).folder
        if (folder === '/nope') throw { kind: 'backup_io', message: 'No such file or directory' }
        return { name: 'inkstone-backup-1.db', path: `${folder}/inkstone-backup-1.db`, taken_at: '2026-11-29T10:00:00Z', bytes: 1 }
      }
      case 'export_everything':
        return { path: `${(args as { folder: string }).folder}/inkstone-export-1.zip`, generations: 3, files: 1 }
      case 'import_everything':
        if ((args as { file: string }).file.endsWith('.txt')) throw { kind: 'export_not_archive', message: 'not a zip' }
        return { imported: 2, skipped: 1, files: 1 }
      case 'backup_restore':
        if (restoreFails) throw { kind: restoreFails, message: 'refused' }
        return { schema_version: 20, profiles: 2, generations: 7 }
    }
    throw { kind: 'unknown_command', message: cmd }
  })
}

async function mountIn(locale: Locale, isAdmin = true) {
  const pinia = createPinia()
  setActivePinia(pinia)
  useAccountStore().profile = {
    id: 1,
    username: 'owner',
    is_admin: isAdmin,
    server_account_id: null,
    created_at: '2026-01-01T00:00:00Z',
  }
  const wrapper = mount(BackupSettings, {
    attachTo: document.body,
    global: { plugins: [pinia, createAppI18n(locale), ElementPlus] },
  })
  await flushPromises()
  return wrapper
}

async function confirmDialog() {
  for (let i = 0; i < 20 && !document.querySelector('.el-message-box__btns .el-button--primary'); i++) {
    await new Promise((r) => setTimeout(r, 20))
  }
  const button = document.querySelector<HTMLButtonElement>('.el-message-box__btns .el-button--primary')
  expect(button).not.toBeNull()
  button?.click()
  await flushPromises()
  await new Promise((r) => setTimeout(r, 50))
  await flushPromises()
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

describe('Settings → Backups', { timeout: 30_000 }, () => {
  it('lists the daily backups newest first and backs up now into the folder typed', async () => {
    backend()
    const wrapper = await mountIn('zh-CN')
    const rows = wrapper.findAll('[data-testid="backups-table"] .el-table__body tr')
    expect(rows.map((r) => r.text())).toEqual([
      expect.stringContaining('inkstone-2026-11-29.db'),
      expect.stringContaining('inkstone-2026-11-28.db'),
    ])
    expect(rows[0].text()).toContain('2026-11-29')
    expect(rows[0].text()).toContain('200 KB')
    await wrapper.find('input[data-testid="backup-folder"], [data-testid="backup-folder"] input').setValue('/home/me/备份')
    await wrapper.find('[data-testid="backup-now"]').trigger('click')
    await flushPromises()
    expect(calls).toContainEqual(['backup_now', { folder: '/home/me/备份' }])
    expect(wrapper.find('[data-testid="backup-written"]').text()).toBe('已备份到：/home/me/备份/inkstone-backup-1.db')
  })

  it('says why a backup could not be written, in the writer\'s language', async () => {
    backend()
    const wrapper = await mountIn('en')
    await wrapper.find('input[data-testid="backup-folder"], [data-testid="backup-folder"] input').setValue('/nope')
    await wrapper.find('[data-testid="backup-now"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="backup-error"]').text()).toContain('cannot be read or written')
  })

  it('restores only after the writer confirms, then says the app restarts', async () => {
    backend()
    const wrapper = await mountIn('en')
    await wrapper.findAll('[data-testid="backup-row-restore"]')[1].trigger('click')
    await confirmDialog()
    expect(calls.filter(([c]) => c === 'backup_restore')).toEqual([
      ['backup_restore', { file: '/data/backups/daily/inkstone-2026-11-28.db' }],
    ])
    expect(wrapper.find('[data-testid="backup-restarting"]').text()).toContain('2 profiles, 7 generations')
  })

  it('a refused file shows the reason and restarts nothing', async () => {
    backend('backup_newer')
    const wrapper = await mountIn('zh-CN')
    await wrapper.find('input[data-testid="backup-file"], [data-testid="backup-file"] input').setValue('/tmp/newer.db')
    await wrapper.find('[data-testid="backup-restore-file"]').trigger('click')
    await confirmDialog()
    expect(calls).toContainEqual(['backup_restore', { file: '/tmp/newer.db' }])
    expect(wrapper.find('[data-testid="backup-error"]').text()).toContain('更新版本')
    expect(wrapper.find('[data-testid="backup-restarting"]').exists()).toBe(false)
  })

  it('exports everything into a folder and imports history back, saying how much', async () => {
    backend()
    const wrapper = await mountIn('zh-CN')
    await wrapper.find('input[data-testid="export-folder"], [data-testid="export-folder"] input').setValue('/home/me')
    await wrapper.find('[data-testid="export-now"]').trigger('click')
    await flushPromises()
    expect(calls).toContainEqual(['export_everything', { folder: '/home/me' }])
    expect(wrapper.find('[data-testid="export-written"]').text()).toBe('已导出 3 条记录、1 个文件到：/home/me/inkstone-export-1.zip')
    await wrapper.find('input[data-testid="import-file"], [data-testid="import-file"] input').setValue('/home/me/a.zip')
    await wrapper.find('[data-testid="import-now"]').trigger('click')
    await flushPromises()
    expect(calls).toContainEqual(['import_everything', { file: '/home/me/a.zip' }])
    expect(wrapper.find('[data-testid="import-done"]').text()).toContain('已导入 2 条记录（1 条已存在')
    await wrapper.find('input[data-testid="import-file"], [data-testid="import-file"] input').setValue('/home/me/a.txt')
    await wrapper.find('[data-testid="import-now"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="backup-error"]').text()).toContain('不是墨砚导出的 zip')
  })

  it('another profile sees export and import only, and why', async () => {
    backend()
    const wrapper = await mountIn('en', false)
    expect(wrapper.find('[data-testid="backups-owner-only"]').text()).toContain('owner')
    expect(wrapper.find('[data-testid="backup-now"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="backup-restore-file"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="export-now"]').exists()).toBe(true)
    expect(calls.map(([c]) => c)).not.toContain('backups_list')
  })
})
