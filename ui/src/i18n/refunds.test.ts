// A refunded purchase's take-back row (issue 13: ledger reason `purchase_refunded`, an EXPIRE
// row carrying the refunded order and its package) reads as such in both languages.
import { describe, expect, it } from 'vitest'
import { createAppI18n } from './index'
import { txDescription } from './format'
import type { Transaction } from '../api/flows'

const row = {
  id: 7, profile_id: 1, kind: 'EXPIRE', delta: -110, balance_after: 0, description: '', reason: 'purchase_refunded',
  tool: null, order_no: 'IK20261125120000ABCDEFGHJK', package: { sku: 'credits_100', credits: 100, bonus_credits: 10 },
  generation_id: null, refund_of: null, created_at: '2026-11-29T10:13:34Z',
} as unknown as Transaction

describe('refunded purchases in the ledger', () => {
  it('say so, with the package, in Chinese and English', () => {
    const zh = createAppI18n('zh-CN').global
    expect(txDescription(row, zh.t, zh.te)).toBe('购买100 积分套餐已退款，积分收回')
    const en = createAppI18n('en').global
    expect(txDescription(row, en.t, en.te)).toBe('The 100-credit package was refunded: credits taken back')
  })
})
