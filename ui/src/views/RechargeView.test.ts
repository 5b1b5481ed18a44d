import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

describe('recharge: restore purchases', { timeout: 30_000 }, () => {
  it('applies missing receipts through Rust and shows the new balance', async () => {
    const calls: string[] = []
    let credits = 100
    mockIPC((cmd) => {
      calls.push(cmd)
      switch (cmd) {
        case 'session_info':
          return { profile: { id: 1, username: 'test_user', is_admin: false, server_account_id: 'acc', created_at: '2026-01-01T00:00:00Z' }, demo: true }
        case 'credit_balance':
          return { profile_id: 1, credits, is_member: false, member_until: null }
        case 'credit_prices':
          return { catalog: { credit_packages: [{ sku: 'credits_100', credits: 100, bonus_credits: 10, price_fen: 1000 }], membership_plans: [] }, fetched_at: null }
        case 'payment_info':
          return { server_url: 'http://127.0.0.1:1', sandbox: true, providers: ['sandbox'] }
        case 'restore_purchases':
          credits = 210
          return { applied: 1, failures: [] }
      }
      throw { kind: 'unknown_command', message: cmd }
    })
    const { wrapper } = await mountApp('/recharge')
    await useAccountStore().load()
    await flushPromises()
    await wrapper.find('[data-testid=restore-purchases]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=balance-value]').text()).toBe('210'))
    expect(calls).toContain('restore_purchases')
    await vi.waitFor(() => expect(document.body.textContent).toContain('已恢复 1 笔购买'))
    wrapper.unmount()
  })
})

describe('recharge: ways to pay', { timeout: 30_000 }, () => {
  function backend(providers: string[] | null) {
    mockIPC((cmd) => {
      switch (cmd) {
        case 'session_info':
          return { profile: { id: 1, username: 'test_user', is_admin: false, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }, demo: false }
        case 'credit_balance':
          return { profile_id: 1, credits: 100, is_member: false, member_until: null }
        case 'credit_prices':
          return { catalog: { credit_packages: [{ sku: 'credits_100', credits: 100, bonus_credits: 10, price_fen: 1000 }], membership_plans: [] }, fetched_at: null }
        case 'payment_info':
          return { server_url: 'https://pay.example.com', sandbox: false, providers }
      }
      throw { kind: 'unknown_command', message: cmd }
    })
  }

  it('offers only what the endpoint offers, the first one chosen', async () => {
    backend(['alipay'])
    const { wrapper } = await mountApp('/recharge')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=provider-alipay]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=provider-wechat]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=provider-sandbox]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=provider-alipay] input').element).toHaveProperty('checked', true)
    expect(wrapper.find('[data-testid=buy]').attributes('disabled')).toBeUndefined()
    wrapper.unmount()
  })

  it('offers WeChat Pay and Alipay when the endpoint could not be asked', async () => {
    backend(null)
    const { wrapper } = await mountApp('/recharge')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=provider-wechat]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=provider-alipay]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=provider-sandbox]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('says so and cannot buy when no way to pay is offered', async () => {
    backend([])
    const { wrapper } = await mountApp('/recharge')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=no-providers]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=no-providers]').text()).toContain('没有开通任何支付方式')
    expect(wrapper.find('[data-testid=buy]').attributes('disabled')).toBeDefined()
    wrapper.unmount()
  })
})

describe('recharge: a real way to pay first, and a wait that never gives up', { timeout: 30_000 }, () => {
  const order = {
    order_no: 'IK20261129000000ABCDEFGHJK', profile_id: 1, kind: 'credits', sku: 'credits_100', provider: 'wechat',
    amount_fen: 1000, qr_payload: 'weixin://wxpay/bizpayurl?pr=x', status: 'pending',
    expires_at: new Date(Date.now() + 900_000).toISOString(), created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(), applied: false,
  }
  function backend(providers: string[], wait: () => unknown, restore?: () => unknown) {
    mockIPC((cmd) => {
      switch (cmd) {
        case 'session_info':
          return { profile: { id: 1, username: 'test_user', is_admin: false, server_account_id: 'a', created_at: '2026-01-01T00:00:00Z' }, demo: true }
        case 'credit_balance':
          return { profile_id: 1, credits: 100, is_member: false, member_until: null }
        case 'credit_prices':
          return { catalog: { credit_packages: [{ sku: 'credits_100', credits: 100, bonus_credits: 10, price_fen: 1000 }], membership_plans: [] }, fetched_at: null }
        case 'payment_info':
          return { server_url: 'https://pay.example.com', sandbox: true, providers }
        case 'order_create':
          return { order, qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', sandbox: false }
        case 'order_wait':
          return wait()
        case 'restore_purchases':
          return restore?.()
      }
      throw { kind: 'unknown_command', message: cmd }
    })
  }

  it('never preselects the sandbox when a real provider is offered', async () => {
    backend(['sandbox', 'alipay'], () => new Promise(() => {}))
    const { wrapper } = await mountApp('/recharge')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=provider-alipay]').exists()).toBe(true))
    await flushPromises()
    expect(wrapper.find('[data-testid=provider-alipay] input').element).toHaveProperty('checked', true)
    expect(wrapper.find('[data-testid=provider-sandbox] input').element).toHaveProperty('checked', false)
    wrapper.unmount()
  })

  it('keeps the QR code and says that checking failed while it still waits', async () => {
    let n = 0
    backend(['wechat'], () => {
      n += 1
      if (n === 1) return { state: 'pending', order, check_failed: true }
      throw { kind: 'provider_unavailable', message: 'x' }
    })
    const { wrapper } = await mountApp('/recharge')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=provider-wechat]').exists()).toBe(true))
    await wrapper.find('[data-testid=buy]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=check-failed]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=qr-code]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=check-failed]').text()).toContain('仍在等待支付')
    // A failing call keeps it so too: no error page, the code stays.
    await vi.waitFor(() => expect(n).toBeGreaterThan(1))
    await flushPromises()
    expect(wrapper.find('[data-testid=pay-error]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=qr-code]').exists()).toBe(true)
    wrapper.unmount()
  })

  it('names each purchase that could not be restored, by its reason', async () => {
    backend(['wechat'], () => new Promise(() => {}), () => ({ applied: 1, failures: [{ order_no: 'IK-SANDBOX-1', kind: 'sandbox_refused' }] }))
    const { wrapper } = await mountApp('/recharge')
    await flushPromises()
    await wrapper.find('[data-testid=restore-purchases]').trigger('click')
    await vi.waitFor(() => expect(document.body.textContent).toContain('已恢复 1 笔购买'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('订单 IK-SANDBOX-1 未能恢复：这是沙箱（测试）支付'))
    wrapper.unmount()
  })
})
