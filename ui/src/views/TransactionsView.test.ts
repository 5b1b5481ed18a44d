import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'
import { formatTime } from '../i18n/format'

const T = '2026-11-29T10:13:34Z' // 18:13:34 in China

const ROWS = [
  { id: 5, profile_id: 1, kind: 'CONSUME', delta: 0, balance_after: 110, description: '', reason: 'generation', tool: 'article', order_no: null, package: null, generation_id: 9, refund_of: null, created_at: T },
  { id: 4, profile_id: 1, kind: 'REFUND', delta: 10, balance_after: 110, description: '', reason: 'refund_failed', tool: 'image', order_no: null, package: null, generation_id: 8, refund_of: 3, created_at: T },
  { id: 3, profile_id: 1, kind: 'CONSUME', delta: -10, balance_after: 100, description: '', reason: 'generation', tool: 'image', order_no: null, package: null, generation_id: 8, refund_of: null, created_at: T },
  { id: 2, profile_id: 1, kind: 'BONUS', delta: 10, balance_after: 110, description: '', reason: 'purchase_bonus', tool: null, order_no: 'IS1', package: { sku: 'credits_100', credits: 100, bonus_credits: 10 }, generation_id: null, refund_of: null, created_at: T },
  { id: 1, profile_id: 1, kind: 'EXPIRE', delta: -5, balance_after: 100, description: '', reason: 'bonus_expired', tool: null, order_no: null, package: null, generation_id: null, refund_of: null, created_at: T },
  { id: 0, profile_id: 1, kind: 'RECHARGE', delta: 5, balance_after: 105, description: 'old text', reason: null, tool: null, order_no: null, package: null, generation_id: null, refund_of: null, created_at: T },
]

function mockBackend() {
  mockIPC((cmd) => {
    switch (cmd) {
      case 'session_info':
        return { profile: { id: 1, username: 'w', is_admin: false, server_account_id: null, created_at: T }, demo: true }
      case 'credit_balance':
        return { profile_id: 1, credits: 110, is_member: true, member_until: '2026-12-31T15:59:59Z' }
      case 'credit_transactions':
        return { items: ROWS, next_before_id: null }
      case 'credit_orders':
        return [{ order_no: 'IS1', profile_id: 1, kind: 'credits', sku: 'credits_100', provider: 'sandbox', amount_fen: 1000, qr_payload: '', status: 'paid', expires_at: T, created_at: '2026-11-29T10:00:00Z', applied: true }]
      case 'membership_orders':
        return [{ order_no: 'IS2', profile_id: 1, kind: 'membership', sku: 'member_month', provider: 'sandbox', amount_fen: 990, qr_payload: '', status: 'expired', expires_at: T, created_at: '2026-11-29T11:00:00Z', applied: false }]
    }
    return null
  })
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

function texts(id: string): string[] {
  return [...document.querySelectorAll(`[data-testid="${id}"]`)].map((e) => (e.textContent ?? '').trim())
}

describe('transactions page', { timeout: 30_000 }, () => {
  it('shows type tags with text, local times, descriptions in zh-CN and member generations as free', async () => {
    mockBackend()
    await mountApp('/transactions')
    await useAccountStore().load()
    await flushPromises()
    // The header says until when the membership runs.
    expect(texts('member-until')[0]).toMatch(/^至 2026-12-3[01]$/)
    expect(texts('tx-kind-CONSUME')).toEqual(['消费', '消费'])
    expect(texts('tx-kind-EXPIRE')).toEqual(['过期'])
    expect(texts('tx-description')).toEqual([
      'AI写作（会员免费） · #9',
      '图片生成失败退款 · #8',
      '图片生成 · #8',
      '购买100 积分套餐赠送',
      '赠送积分过期',
      'old text',
    ])
    expect(texts('tx-amount')).toEqual(['会员免费', '+10', '-10', '+10', '-5', '+5'])
    const time = texts('tx-time')[0]
    expect(time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    expect(time).toBe(formatTime(T, 'zh-CN'))
  })

  it('lists credit and membership orders, newest first, under the transactions page', async () => {
    mockBackend()
    const { wrapper } = await mountApp('/transactions')
    await useAccountStore().load()
    await flushPromises()
    const tab = [...document.querySelectorAll('.el-tabs__item')].find((e) => e.textContent?.includes('订单')) as HTMLElement
    tab.click()
    await flushPromises()
    await flushPromises()
    expect(texts('order-kind')).toEqual(['会员', '积分充值'])
    expect(texts('order-status')).toEqual(['已过期', '已支付'])
    wrapper.unmount()
  })

  it('formats times per locale: zh-CN as 2026-11-29 18:13:34, en in words', () => {
    const zh = formatTime(T, 'zh-CN')
    expect(zh).toMatch(/^2026-11-29 \d{2}:13:34$/)
    expect(formatTime(T, 'en')).toMatch(/^Nov 29, 2026, \d{1,2}:13:34 [AP]M$/)
    expect(formatTime('nonsense', 'zh-CN')).toBe('—')
  })
})
