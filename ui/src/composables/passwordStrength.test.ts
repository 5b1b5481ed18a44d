import { describe, expect, it } from 'vitest'
import { passwordStrength } from './passwordStrength'

describe('passwordStrength', () => {
  it('calls anything under 8 characters too short, counting characters not bytes', () => {
    expect(passwordStrength('')).toBe('tooShort')
    expect(passwordStrength('abc1234')).toBe('tooShort')
    expect(passwordStrength('墨砚墨砚墨砚墨')).toBe('tooShort')
    expect(passwordStrength('墨砚墨砚墨砚墨砚')).not.toBe('tooShort')
  })

  it('grades repeats and one kind of character weak, mixes and length stronger', () => {
    expect(passwordStrength('aaaaaaaaaaaa')).toBe('weak')
    expect(passwordStrength('password')).toBe('weak')
    expect(passwordStrength('passw0rd')).toBe('fair')
    expect(passwordStrength('Tr0ub4dor&3')).toBe('strong')
    expect(passwordStrength('correct horse battery')).toBe('strong')
  })
})
