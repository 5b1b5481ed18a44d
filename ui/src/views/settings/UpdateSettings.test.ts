import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { createAppI18n, type Locale } from '../../i18n'
import UpdateSettings from './UpdateSettings.vue'
import type { Progress } from '../../api/updates'

const offer = { version: '0.2.0', notes: '修复了备份\nfixes', pub_date: null, url: 'https://x/a.AppImage', signature: 's' }
let calls: string[] = []

function backend(install: 'restart' | 'run_command' | 'bad_signature', automatic: typeof offer | null = null) {
  calls = []
  mockIPC((cmd, args) => {
    calls.push(cmd)
    switch (cmd) {
      case 'update_status':
        return automatic
      case 'update_check':
        return offer
      case 'update_install': {
        const channel = (args as { onProgress: Channel<Progress> }).onProgress
        channel.onmessage({ received: 50, total: 100 })
        if (install === 'bad_signature') throw { kind: 'update_bad_signature', message: 'bad' }
        if (install === 'restart') return { kind: 'restart', version: '0.2.0' }
        return { kind: 'run_command', version: '0.2.0', command: "sudo apt install '/d/updates/inkstone.deb'" }
      }
    }
    throw { kind: 'unknown_command', message: cmd }
  })
}

async function mountIn(locale: Locale) {
  setActivePinia(createPinia())
  const wrapper = mount(UpdateSettings, { global: { plugins: [createAppI18n(locale), ElementPlus] } })
  await flushPromises()
  return wrapper
}

afterEach(() => clearMocks())

describe('updates', { timeout: 30_000 }, () => {
  it('shows the version and notes found, installs and says to restart', async () => {
    backend('restart')
    const wrapper = await mountIn('en')
    expect(wrapper.find('[data-testid="updates-offer"]').exists()).toBe(false)
    await wrapper.find('[data-testid="updates-check"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="updates-offer"]').text()).toContain('A new version is available: 0.2.0')
    expect(wrapper.find('[data-testid="updates-notes"]').text()).toContain('修复了备份')
    await wrapper.find('[data-testid="updates-install"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="updates-done"]').text()).toContain('Restart Inkstone')
  })

  it('an offer found at start shows at once; a .deb says what to run, in Chinese', async () => {
    backend('run_command', offer)
    const wrapper = await mountIn('zh-CN')
    expect(wrapper.find('[data-testid="updates-offer"]').text()).toContain('有新版本：0.2.0')
    await wrapper.find('[data-testid="updates-install"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="updates-done"]').text()).toContain("sudo apt install '/d/updates/inkstone.deb'")
  })

  it('a bad signature is refused with a clear message and the app keeps running', async () => {
    backend('bad_signature', offer)
    const wrapper = await mountIn('en')
    await wrapper.find('[data-testid="updates-install"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="updates-error"]').text()).toContain('signature is not valid')
    expect(wrapper.find('[data-testid="updates-done"]').exists()).toBe(false)
    expect(calls).toContain('update_install')
  })
})
