import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'

const writer = { id: 1, username: 'writer', is_admin: true, server_account_id: null, created_at: '2026-11-29T00:00:00Z' }
let calls: Array<[string, Record<string, unknown>]> = []

function mockBackend(hasProfiles: boolean, loginError?: Record<string, unknown>) {
  calls = []
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    switch (cmd) {
      case 'session_info':
        return { profile: null, demo: false, has_profiles: hasProfiles }
      case 'register_profile':
        return writer
      case 'login':
        if (loginError) throw loginError
        return writer
      case 'credit_balance':
        return { profile_id: 1, credits: 0, is_member: false, member_until: null }
    }
    return null
  })
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

async function open(hasProfiles: boolean, loginError?: Record<string, unknown>) {
  mockBackend(hasProfiles, loginError)
  const app = await mountApp('/login')
  await useAccountStore().load()
  await flushPromises()
  return app
}

async function fill(wrapper: Awaited<ReturnType<typeof mountApp>>['wrapper'], testid: string, value: string) {
  // Element Plus puts the attribute on the <input> itself.
  const el = wrapper.find(`[data-testid="${testid}"]`)
  await (el.element.tagName === 'INPUT' ? el : el.find('input')).setValue(value)
}

describe('welcome and sign-in page', { timeout: 30_000 }, () => {
  it('welcomes a computer with no profile and creates the first one, kept signed in by default', async () => {
    const { wrapper, router } = await open(false)
    expect(wrapper.find('[data-testid="welcome-title"]').exists()).toBe(true)
    await fill(wrapper, 'login-username', 'writer')
    await fill(wrapper, 'login-password', 'abc')
    expect(wrapper.find('[data-testid="password-strength"]').text()).toContain('太短')
    await fill(wrapper, 'login-password', 'Tr0ub4dor&3')
    expect(wrapper.find('[data-testid="password-strength"]').text()).toContain('强')
    await fill(wrapper, 'login-password2', 'Tr0ub4dor&3')
    await wrapper.find('[data-testid="login-submit"]').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/writing'), { timeout: 10_000 })
    const registered = calls.find(([c]) => c === 'register_profile')
    expect(registered?.[1]).toMatchObject({ username: 'writer', password: 'Tr0ub4dor&3', remember: true })
    wrapper.unmount()
  })

  it('refuses two different passwords before asking Rust', async () => {
    const { wrapper } = await open(false)
    await fill(wrapper, 'login-username', 'writer')
    await fill(wrapper, 'login-password', 'password-one')
    await fill(wrapper, 'login-password2', 'password-two')
    await wrapper.find('[data-testid="login-submit"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="login-error"]').text()).toContain('两次输入的密码不一致')
    expect(calls.some(([c]) => c === 'register_profile')).toBe(false)
    wrapper.unmount()
  })

  it('signs in without remembering when the box is unticked', async () => {
    const { wrapper, router } = await open(true)
    expect(wrapper.find('[data-testid="welcome-title"]').exists()).toBe(false)
    await fill(wrapper, 'login-username', 'writer')
    await fill(wrapper, 'login-password', 'password123')
    const box = wrapper.find('[data-testid="login-remember"]')
    await (box.element.tagName === 'INPUT' ? box : box.find('input')).setValue(false)
    await wrapper.find('[data-testid="login-submit"]').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/writing'), { timeout: 10_000 })
    expect(calls.find(([c]) => c === 'login')?.[1]).toMatchObject({ username: 'writer', remember: false })
    wrapper.unmount()
  })

  it('says how long to wait after too many failures, in the writer\'s language', async () => {
    const { wrapper } = await open(true, { kind: 'too_many_attempts', message: 'x', retry_after_secs: 30 })
    await fill(wrapper, 'login-username', 'writer')
    await fill(wrapper, 'login-password', 'password123')
    await wrapper.find('[data-testid="login-submit"]').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[data-testid="login-error"]').text()).toContain('30 秒')
    wrapper.unmount()
  })
})
