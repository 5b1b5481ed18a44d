// The purchases page and the purchase account (issue 14): restoring on a new computer asks to
// sign in first, and credit packages credited on another computer are listed, not credited.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'
import type { AccountStatus, PurchaseElsewhere } from '../api/purchaseAccount'

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

const ELSEWHERE: PurchaseElsewhere = {
  order_no: 'IK20261129080000ABCDEFGHJK', profile_id: 1, sku: 'credits_100', credits: 100, bonus_credits: 10,
  amount_fen: 1000, provider: 'wechat', paid_at: '2026-11-28T08:00:00Z', claimed_at: '2026-11-28T12:00:00Z',
}

function $(testid: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
}
async function type(testid: string, value: string) {
  const root = $(testid)!
  const input = root.matches('input') ? (root as HTMLInputElement) : root.querySelector<HTMLInputElement>('input')!
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('purchases page and the purchase account', { timeout: 30_000 }, () => {
  it('asks to sign in when restoring needs it, then restores and lists what another computer credited', async () => {
    const calls: string[] = []
    let signedIn = false
    const status = (): AccountStatus => ({
      account_id: signedIn ? 'acc_42' : null, signed_in: signedIn, reachable: signedIn, token_refused: false,
      login_name: signedIn ? 'writer@example.com' : null, has_credentials: signedIn, purchases: signedIn ? 2 : 0,
    })
    mockIPC((cmd) => {
      calls.push(cmd)
      switch (cmd) {
        case 'session_info':
          return { profile: { id: 1, username: 'writer', is_admin: true, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }, demo: false, has_profiles: true }
        case 'credit_balance':
          return { profile_id: 1, credits: 0, is_member: signedIn, member_until: null }
        case 'credit_prices':
          return { catalog: { credit_packages: [{ sku: 'credits_100', credits: 100, bonus_credits: 10, price_fen: 1000 }], membership_plans: [] }, fetched_at: null }
        case 'payment_info':
          return { server_url: 'https://pay.example.com', sandbox: false, providers: ['wechat'] }
        case 'purchase_account_status':
          return status()
        case 'purchases_elsewhere':
          return signedIn ? [ELSEWHERE] : []
        case 'restore_purchases':
          if (!signedIn) throw { kind: 'account_sign_in_needed', message: 'x' }
          return { applied: 1, elsewhere: 1, failures: [] }
        case 'account_sign_in':
          signedIn = true
          return 'acc_42'
      }
      throw { kind: 'unknown_command', message: cmd }
    })
    const { wrapper } = await mountApp('/recharge')
    await useAccountStore().load()
    await flushPromises()
    expect($('purchases-elsewhere')).toBeNull()
    await wrapper.find('[data-testid=restore-purchases]').trigger('click')
    await vi.waitFor(() => expect($('pa-signin-submit')).not.toBeNull())
    await type('pa-signin-name', 'writer@example.com')
    await type('pa-signin-password', 'account-password')
    $('pa-signin-submit')!.closest('form')!.dispatchEvent(new Event('submit'))
    await flushPromises()
    // Signed in, the restore runs again by itself.
    await vi.waitFor(() => expect(calls.filter((c) => c === 'restore_purchases')).toHaveLength(2))
    await vi.waitFor(() => expect($('purchases-elsewhere')).not.toBeNull())
    const row = $(`elsewhere-${ELSEWHERE.order_no}`)!.textContent!
    expect(row).toContain('110 积分')
    expect(row).toContain('2026-11-28')
    expect(row).toContain('在另一台电脑上到账')
    await vi.waitFor(() => expect(document.body.textContent).toContain('有 1 个积分包已在另一台电脑上到账'))
    wrapper.unmount()
  })

  it('says so when an order being paid was credited on another computer first', async () => {
    const order = {
      order_no: ELSEWHERE.order_no, profile_id: 1, kind: 'credits', sku: 'credits_100', provider: 'wechat', amount_fen: 1000,
      qr_payload: 'weixin://wxpay/bizpayurl?pr=x', status: 'paid', expires_at: new Date(Date.now() + 600_000).toISOString(),
      created_at: new Date().toISOString(), updated_at: new Date().toISOString(), applied: false,
    }
    mockIPC((cmd) => {
      switch (cmd) {
        case 'session_info':
          return { profile: { id: 1, username: 'writer', is_admin: true, server_account_id: 'acc_42', created_at: '2026-01-01T00:00:00Z' }, demo: false, has_profiles: true }
        case 'credit_balance':
          return { profile_id: 1, credits: 0, is_member: false, member_until: null }
        case 'credit_prices':
          return { catalog: { credit_packages: [{ sku: 'credits_100', credits: 100, bonus_credits: 10, price_fen: 1000 }], membership_plans: [] }, fetched_at: null }
        case 'payment_info':
          return { server_url: 'https://pay.example.com', sandbox: false, providers: ['wechat'] }
        case 'purchases_elsewhere':
          return []
        case 'order_create':
          return { order: { ...order, status: 'pending' }, qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>', sandbox: false }
        case 'order_wait':
          return { state: 'elsewhere', order, check_failed: false, claimed_at: ELSEWHERE.claimed_at }
      }
      throw { kind: 'unknown_command', message: cmd }
    })
    const { wrapper } = await mountApp('/recharge')
    await useAccountStore().load()
    await vi.waitFor(() => expect(wrapper.find('[data-testid=provider-wechat]').exists()).toBe(true))
    await wrapper.find('[data-testid=buy]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=pay-error]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=pay-error]').text()).toContain('这笔购买已于 2026-11-28 在另一台电脑上到账')
    expect(wrapper.find('[data-testid=pay-success]').exists()).toBe(false)
    wrapper.unmount()
  })
})
