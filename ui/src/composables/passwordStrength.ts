// A hint of how hard a new password is to guess, shown while the writer types it. Advice only:
// Rust decides what is accepted (at least 8 characters, at most 128).

export type Strength = 'tooShort' | 'weak' | 'fair' | 'strong'

export const MIN_PASSWORD_CHARS = 8

export function passwordStrength(password: string): Strength {
  const chars = [...password]
  if (chars.length < MIN_PASSWORD_CHARS) return 'tooShort'
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length
  const distinct = new Set(chars).size
  // Repeats and one kind of character are guessed first, whatever the length.
  if (distinct <= 3 || (classes === 1 && chars.length < 12)) return 'weak'
  if (chars.length >= 14 || (classes >= 3 && chars.length >= 10)) return 'strong'
  return 'fair'
}
