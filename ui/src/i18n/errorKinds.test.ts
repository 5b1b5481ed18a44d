// Every error kind Rust can return (exported from Rust into errorKinds.generated.ts) has a text
// in both languages, so the writer never sees a bare kind.
import { describe, expect, it } from 'vitest'
import { ERROR_KINDS } from './errorKinds.generated'
import zhCN from './zh-CN'
import en from './en'

describe('error texts', () => {
  it('lists the kinds Rust exports', () => {
    expect(ERROR_KINDS.length).toBeGreaterThan(40)
    expect(ERROR_KINDS).toContain('task_failed')
  })
  for (const [name, messages] of [['zh-CN', zhCN], ['en', en]] as const) {
    it(`${name} has a text for every kind`, () => {
      const errors = messages.errors as Record<string, string>
      const missing = ERROR_KINDS.filter((kind) => typeof errors[kind] !== 'string' || errors[kind].trim() === '')
      expect(missing).toEqual([])
    })
  }
})
