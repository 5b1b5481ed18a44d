// The one door into Rust. Components and stores never call `invoke` themselves: they call the
// typed wrappers in this folder, which all go through `call`, so every failure arrives as an
// `AppError` whose `kind` the UI can branch on (never on the message text).
import { invoke, type InvokeArgs } from '@tauri-apps/api/core'
import { activity } from '../idleRelease'

/** The shape every Rust command rejects with (src-tauri/src/error.rs). */
export interface ErrorPayload {
  kind: string
  message: string
  /** `insufficient_credits` only: how many credits are missing. */
  missing?: number
  /** `too_many_attempts` only: seconds until the next attempt may come. */
  retry_after_secs?: number
}

/** A failed command. `kind` is stable; `message` is for logs and developers. */
export class AppError extends Error {
  readonly kind: string
  /** `insufficient_credits` only: how many credits are missing. */
  readonly missing: number | null
  /** `too_many_attempts` only: seconds until the next attempt may come. */
  readonly retryAfterSecs: number | null

  constructor(kind: string, message: string, missing: number | null = null, retryAfterSecs: number | null = null) {
    super(message)
    this.name = 'AppError'
    this.kind = kind
    this.missing = missing
    this.retryAfterSecs = retryAfterSecs
  }
}

function isErrorPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorPayload).kind === 'string' &&
    typeof (value as ErrorPayload).message === 'string'
  )
}

/** Turns anything a command can reject with into an `AppError`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  if (isErrorPayload(error)) {
    return new AppError(
      error.kind,
      error.message,
      typeof error.missing === 'number' ? error.missing : null,
      typeof error.retry_after_secs === 'number' ? error.retry_after_secs : null,
    )
  }
  // Tauri itself rejects with a plain string when a command is unknown or not allowed.
  if (typeof error === 'string') return new AppError('ipc', error)
  if (error instanceof Error) return new AppError('ipc', error.message)
  return new AppError('ipc', String(error))
}

/** Calls a Rust command; rejects only with `AppError`. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  // A command in flight (a generation streaming, a save) is not a writer gone idle.
  activity.begin(command)
  try {
    return await invoke<T>(command, args)
  } catch (error) {
    throw toAppError(error)
  } finally {
    activity.end(command)
  }
}
