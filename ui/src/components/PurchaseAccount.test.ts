import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { createAppI18n } from '../i18n'
import PurchaseAccount from './PurchaseAccount.vue'
import type { AccountStatus } from '../api/purchaseAccount'

const CODE = '0123-4567-89AB-CDEF-0123-4567-89AB-CDEF'
let calls: Array<[string, Record<string, unknown>]>
let refuse: Record<string, Record<string, unknown>>
let status: AccountStatus

const none = (): AccountStatus => ({
  account_id: null, signed_in: false, reachable: false, token_refused: false, login_name: null, has_credentials: false, purchases: 0,
})
const named = (): AccountStatus => ({
  account_id: 'acc_42', signed_in: true, reachable: true, token_refused: false, login_name: 'writer@example.com', has_credentials: true, purchases: 2,
})

beforeEach(() => {
  calls = []
  refuse = {}
  status = none()
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    if (refuse[cmd]) throw refuse[cmd]
    switch (cmd) {
      case 'purchase_account_status':
        return status
      case 'account_set_credentials':
        status = { ...named(), login_name: String((args as { loginName: string }).loginName).toLowerCase() }
        return CODE
      case 'account_sign_in':
        status = named()
        return 'acc_42'
      case 'purchase_account_sign_out_everywhere':
        status = { ...named(), signed_in: false, login_name: null, reachable: false }
        return null
    }
    throw { kind: 'unknown_command', message: cmd }
  })
})
afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

async function mountIt(locale: 'zh-CN' | 'en' = 'zh-CN') {
  setActivePinia(createPinia())
  const wrapper = mount(PurchaseAccount, { attachTo: document.body, global: { plugins: [createAppI18n(locale), ElementPlus] } })
  await flushPromises()
  return wrapper
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
async function submit(testid: string) {
  $(testid)!.closest('form')!.dispatchEvent(new Event('submit'))
  await flushPromises()
}
async function click(testid: string) {
  $(testid)!.click()
  await flushPromises()
}
const sent = (cmd: string) => calls.filter(([c]) => c === cmd)

describe('purchase account section', { timeout: 30_000 }, () => {
  it('sets a name and password and shows the recovery code once', async () => {
    await mountIt('en')
    expect($('pa-none')).not.toBeNull()
    await type('pa-set-name', '  Writer@Example.com ')
    await type('pa-set-password', 'account-password')
    await type('pa-set-password2', 'account-password')
    await submit('pa-set-submit')
    expect(sent('account_set_credentials')).toEqual([['account_set_credentials', { loginName: 'Writer@Example.com', password: 'account-password' }]])
    expect($('pa-recovery-code')!.textContent).toBe(CODE)
    expect($('pa-account-id')!.textContent).toBe('acc_42')
    expect($('pa-login-name')!.textContent!.trim()).toBe('writer@example.com')
    // The passwords are not kept in the form; the code goes once it is kept.
    const password = $('pa-set-password')!
    expect(((password.matches('input') ? password : password.querySelector('input')) as HTMLInputElement).value).toBe('')
    await click('pa-recovery-kept')
    expect($('pa-recovery-code')).toBeNull()
  })

  it('says what is wrong before sending anything, in the writer\'s language', async () => {
    await mountIt('zh-CN')
    await type('pa-set-name', '   ')
    await type('pa-set-password', 'account-password')
    await type('pa-set-password2', 'account-password')
    await submit('pa-set-submit')
    expect($('pa-error')!.textContent).toContain('请输入账户名')
    await type('pa-set-name', 'writer')
    await type('pa-set-password', 'short')
    await type('pa-set-password2', 'short')
    await submit('pa-set-submit')
    expect($('pa-error')!.textContent).toContain('至少需要 8 个字符')
    await type('pa-set-password', 'account-password')
    await type('pa-set-password2', 'account-passwort')
    await submit('pa-set-submit')
    expect($('pa-error')!.textContent).toContain('不一致')
    await click('pa-signin-with-code')
    await type('pa-signin-code', '1234')
    await submit('pa-signin-submit')
    expect($('pa-error')!.textContent).toContain('恢复码')
    expect(sent('account_set_credentials')).toHaveLength(0)
    expect(sent('account_sign_in')).toHaveLength(0)
  })

  it('shows the server\'s refusals by kind: a taken name, a wrong password, the wait after too many', async () => {
    await mountIt('en')
    refuse.account_set_credentials = { kind: 'account_name_taken', message: 'x' }
    await type('pa-set-name', 'taken')
    await type('pa-set-password', 'account-password')
    await type('pa-set-password2', 'account-password')
    await submit('pa-set-submit')
    expect($('pa-error')!.textContent).toContain('This account name is taken.')
    expect($('pa-recovery')).toBeNull()

    refuse.account_sign_in = { kind: 'account_bad_credentials', message: 'x' }
    await type('pa-signin-name', 'writer')
    await type('pa-signin-password', 'wrong-password')
    await submit('pa-signin-submit')
    expect($('pa-error')!.textContent).toContain('Wrong purchase account name or password.')
    refuse.account_sign_in = { kind: 'account_too_many_attempts', message: 'x', retry_after_secs: 30 }
    await submit('pa-signin-submit')
    expect($('pa-error')!.textContent).toContain('try again in 30 s')
    expect(sent('account_sign_in').at(-1)).toEqual(['account_sign_in', { loginName: 'writer', password: 'wrong-password' }])
    expect($('pa-none')).not.toBeNull()
  })

  it('signs in with the recovery code, and signs out everywhere only when confirmed', async () => {
    const wrapper = await mountIt('en')
    await click('pa-signin-with-code')
    await type('pa-signin-code', CODE.toLowerCase())
    await submit('pa-signin-submit')
    expect(sent('account_sign_in')).toEqual([['account_sign_in', { recoveryCode: CODE.toLowerCase() }]])
    expect(wrapper.emitted('signedIn')).toHaveLength(1)
    expect($('pa-account-id')!.textContent).toBe('acc_42')
    expect($('pa-signin-submit')).toBeNull()

    await click('pa-sign-out-everywhere')
    expect(sent('purchase_account_sign_out_everywhere')).toHaveLength(0)
    await click('pa-sign-out-confirm')
    expect(sent('purchase_account_sign_out_everywhere')).toHaveLength(1)
    expect($('pa-notice')!.textContent).toContain('Signed out everywhere.')
    expect($('pa-not-signed-in')).not.toBeNull()
    expect($('pa-signin-submit')).not.toBeNull()
  })
})
