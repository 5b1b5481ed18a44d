import { afterEach, describe, expect, it } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { AppError, call, toAppError } from './core'
import { appVersion } from './app'

afterEach(() => clearMocks())

describe('call', () => {
  it('passes the command name and arguments and returns the answer', async () => {
    const seen: Array<[string, unknown]> = []
    mockIPC((cmd, args) => {
      seen.push([cmd, args])
      return { echoed: (args as { n: number }).n + 1 }
    })
    await expect(call('echo', { n: 41 })).resolves.toEqual({ echoed: 42 })
    expect(seen).toEqual([['echo', { n: 41 }]])
  })

  it('turns the Rust error shape into an AppError with its kind', async () => {
    mockIPC(() => {
      throw { kind: 'insufficient_credits', message: 'not enough credits: 10 needed, 3 missing' }
    })
    const error = await call('credit_balance').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).kind).toBe('insufficient_credits')
    expect((error as AppError).message).toContain('3 missing')
  })

  it('reports a string rejection (unknown or forbidden command) as kind ipc', async () => {
    mockIPC(() => {
      throw 'Command nope not allowed by ACL'
    })
    const error = await call('nope').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect((error as AppError).kind).toBe('ipc')
  })
})

describe('toAppError', () => {
  it('does not accept a half-shaped payload as a typed error', () => {
    expect(toAppError({ kind: 7, message: 'x' }).kind).toBe('ipc')
    expect(toAppError({ kind: 'database' }).kind).toBe('ipc')
    expect(toAppError(new Error('boom'))).toMatchObject({ kind: 'ipc', message: 'boom' })
    expect(toAppError(null).kind).toBe('ipc')
  })
})

describe('appVersion', () => {
  it('calls app_version without arguments', async () => {
    let called = ''
    mockIPC((cmd) => {
      called = cmd
      return '0.1.0'
    })
    await expect(appVersion()).resolves.toBe('0.1.0')
    expect(called).toBe('app_version')
  })
})
