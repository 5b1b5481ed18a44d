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

  it('a download outlives the tab: shown again, the section shows its progress and starts no second one', async () => {
    let finish: (plan: unknown) => void = () => undefined
    calls = []
    mockIPC((cmd, args) => {
      calls.push(cmd)
      if (cmd === 'update_status') return offer
      if (cmd === 'update_install') {
        ;(args as { onProgress: Channel<Progress> }).onProgress.onmessage({ received: 50, total: 100 })
        return new Promise((resolve) => (finish = resolve))
      }
      throw { kind: 'unknown_command', message: cmd }
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    const show = async () => {
      const w = mount(UpdateSettings, { global: { plugins: [pinia, createAppI18n('en'), ElementPlus] } })
      await flushPromises()
      return w
    }
    const first = await show()
    await first.find('[data-testid="updates-install"]').trigger('click')
    await flushPromises()
    expect(first.find('[data-testid="updates-progress"]').exists()).toBe(true)
    first.unmount() // the writer opens another tab

    const again = await show()
    expect(again.find('[data-testid="updates-progress"]').text()).toContain('50%')
    await again.find('[data-testid="updates-install"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c === 'update_install')).toHaveLength(1)
    finish({ kind: 'restart', version: '0.2.0' })
    await flushPromises()
    expect(again.find('[data-testid="updates-done"]').text()).toContain('Restart Inkstone')
    again.unmount()
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
