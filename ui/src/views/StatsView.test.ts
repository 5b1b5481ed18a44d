import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'

function profile(isAdmin: boolean) {
  return { id: isAdmin ? 2 : 1, username: isAdmin ? 'admin' : 'test_user', is_admin: isAdmin, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }
}

let calls: Array<[string, Record<string, unknown>]> = []

function mockBackend(isAdmin: boolean) {
  calls = []
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    switch (cmd) {
      case 'session_info':
        return { profile: profile(isAdmin), demo: true, has_profiles: true }
      case 'credit_balance':
        return { profile_id: 1, credits: 100, is_member: isAdmin, member_until: null }
      case 'credit_statistics':
        if (!isAdmin && (args as { allProfiles: boolean }).allProfiles) throw { kind: 'owner_only', message: 'only the owner' }
        return {
          totals: [
            { kind: 'CONSUME', count: 3, credits: -30 },
            { kind: 'RECHARGE', count: 1, credits: 500 },
          ],
          daily: [
            { day: '2026-03-01', kind: 'RECHARGE', count: 1, credits: 500 },
            { day: '2026-03-02', kind: 'CONSUME', count: 3, credits: -30 },
          ],
        }
      case 'membership_statistics':
        if (!isAdmin) throw { kind: 'owner_only', message: 'only the owner' }
        return { active_members: 4, orders: 6, revenue_fen: 12_340, by_plan: [{ plan: 'month', orders: 6, revenue_fen: 12_340 }] }
    }
    throw { kind: 'unknown_command', message: cmd }
  })
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

async function signedIn(isAdmin: boolean) {
  mockBackend(isAdmin)
  const app = await mountApp('/writing')
  await useAccountStore().load()
  await flushPromises()
  return app
}

describe('admin statistics', { timeout: 30_000 }, () => {
  it('shows the statistics nav item to an admin, with totals per type, per day and membership', async () => {
    const { wrapper, router } = await signedIn(true)
    const nav = wrapper.find('[data-testid="nav-stats"]')
    expect(nav.exists()).toBe(true)
    expect(nav.text()).toBe('统计')
    await nav.trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('stats'))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="stats-active-members"]').exists()).toBe(true))
    expect(calls.find(([c]) => c === 'credit_statistics')?.[1]).toEqual({ from: null, to: null, allProfiles: true })
    expect(wrapper.find('[data-testid="stats-totals"]').text()).toContain('消费')
    expect(wrapper.find('[data-testid="stats-totals"]').text()).toContain('-30')
    expect(wrapper.find('[data-testid="stats-daily"]').text()).toContain('2026-03-02')
    expect(wrapper.find('[data-testid="stats-active-members"]').text()).toBe('4')
    expect(wrapper.find('[data-testid="stats-revenue"]').text()).toBe('123.40')
    expect(wrapper.find('[data-testid="stats-plans"]').text()).toContain('月卡')
    wrapper.unmount()
  })

  it('shows any other profile its own credit statistics only, and never asks for everyone\'s', async () => {
    const { wrapper, router } = await signedIn(false)
    expect(wrapper.find('[data-testid="nav-stats"]').exists()).toBe(true)
    await router.push('/stats')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="stats-totals"]').text()).toContain('-30'))
    expect(wrapper.find('[data-testid="stats-own"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="stats-membership"]').exists()).toBe(false)
    const asked = calls.filter(([c]) => c === 'credit_statistics')
    expect(asked.length).toBeGreaterThan(0)
    expect(asked.every(([, a]) => a.allProfiles === false)).toBe(true)
    expect(calls.some(([c]) => c === 'membership_statistics')).toBe(false)
    wrapper.unmount()
  })

  it('hides the nav item when nobody is signed in', async () => {
    mockBackend(false)
    const { wrapper } = await mountApp('/writing')
    expect(wrapper.find('[data-testid="nav-stats"]').exists()).toBe(false)
    wrapper.unmount()
  })
})
