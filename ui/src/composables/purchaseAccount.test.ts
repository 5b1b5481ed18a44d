import { describe, expect, it } from 'vitest'
import { accountNameProblem, newPasswordProblem, recoveryCodeLooksRight, recoveryCodeSheet } from './purchaseAccount'

describe('purchase account form rules', () => {
  it('takes e-mail-shaped or free-text names of 1 to 64 characters', () => {
    expect(accountNameProblem('writer@example.com')).toBeNull()
    expect(accountNameProblem('  墨砚 作者  ')).toBeNull()
    expect(accountNameProblem('墨'.repeat(64))).toBeNull()
    expect(accountNameProblem('')).toBe('empty')
    expect(accountNameProblem('   ')).toBe('empty')
    expect(accountNameProblem('墨'.repeat(65))).toBe('tooLong')
    expect(accountNameProblem('a\u0007b')).toBe('control')
  })

  it('wants a new password of 8 to 128 characters, typed twice alike', () => {
    expect(newPasswordProblem('account-password', 'account-password')).toBeNull()
    expect(newPasswordProblem('short', 'short')).toBe('tooShort')
    expect(newPasswordProblem('x'.repeat(129), 'x'.repeat(129))).toBe('tooLong')
    expect(newPasswordProblem('account-password', 'account-passwort')).toBe('differ')
  })

  it('reads recovery codes the way they are printed, or typed loosely', () => {
    const code = '0123-4567-89AB-CDEF-0123-4567-89AB-CDEF'
    expect(recoveryCodeLooksRight(code)).toBe(true)
    expect(recoveryCodeLooksRight(code.toLowerCase().replace(/-/g, ' '))).toBe(true)
    expect(recoveryCodeLooksRight('')).toBe(false)
    expect(recoveryCodeLooksRight('1234')).toBe(false)
    expect(recoveryCodeLooksRight('G'.repeat(32))).toBe(false)
    expect(recoveryCodeLooksRight('A'.repeat(33))).toBe(false)
  })

  it('puts the account next to the code on the printed sheet', () => {
    const sheet = recoveryCodeSheet('0123-4567', 'writer@example.com', 'acc_1', 'Recovery code')
    expect(sheet.split('\n')[0]).toBe('Recovery code')
    expect(sheet).toContain('writer@example.com')
    expect(sheet).toContain('acc_1')
    expect(sheet.trim().endsWith('0123-4567')).toBe(true)
  })
})
