// The purchase account's form rules, checked before anything is sent. Rust and the payment
// server check again and decide; these only say what is wrong in the writer's words sooner.

/** Why an account name cannot be used, or null (1–64 characters after trimming, no control characters). */
export function accountNameProblem(name: string): 'empty' | 'tooLong' | 'control' | null {
  const trimmed = name.trim()
  const chars = Array.from(trimmed)
  if (chars.length === 0) return 'empty'
  if (chars.length > 64) return 'tooLong'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return 'control'
  return null
}

/** Why a new purchase account password cannot be used, or null (8–128 characters, typed twice alike). */
export function newPasswordProblem(password: string, again: string): 'tooShort' | 'tooLong' | 'differ' | null {
  const n = Array.from(password).length
  if (n < 8) return 'tooShort'
  if (n > 128) return 'tooLong'
  if (password !== again) return 'differ'
  return null
}

/** A recovery code as printed (8 groups of 4 hexadecimal digits), dashes, spaces and case aside. */
export function recoveryCodeLooksRight(code: string): boolean {
  if (code.length > 100) return false
  const digits = code.replace(/[-\s]/g, '')
  return /^[0-9a-fA-F]{32}$/.test(digits)
}

/** The text copied or printed with the recovery code: enough to know what it is for later. */
export function recoveryCodeSheet(code: string, accountName: string, accountId: string | null, title: string): string {
  return `${title}\n${accountName}${accountId ? ` (${accountId})` : ''}\n\n${code}\n`
}
