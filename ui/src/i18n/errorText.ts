// A failed command in the writer's language, chosen by `AppError.kind` (never by the message,
// which is English text for logs). A view passes `overrides` where a kind means something
// specific there (e.g. `invalid_input` when deleting a built-in model).
import { useI18n } from 'vue-i18n'
import { toAppError } from '../api/core'

export type ErrorOverrides = Partial<Record<string, string>>

export function useErrorText() {
  const { t, te } = useI18n()
  return (error: unknown, overrides: ErrorOverrides = {}): string => {
    const e = toAppError(error)
    const override = overrides[e.kind]
    if (override !== undefined) return override
    if (e.kind === 'ipc') return t('errors.ipc', { message: e.message })
    const key = `errors.${e.kind}`
    // `te` looks in the current locale only; zh-CN and en have the same keys.
    if (te(key)) return t(key)
    return t('errors.unknown', { message: e.kind })
  }
}

/** Why a finished run failed, in the writer's language (by `error_kind`; the stored message only for a kind without a text). */
export function useFailureText() {
  const { t, te } = useI18n()
  return (g: { status: string; error_kind: string | null; error_message: string | null }): string => {
    if (g.status !== 'failed') return ''
    if (g.error_kind && te(`errors.${g.error_kind}`)) return t(`errors.${g.error_kind}`)
    return g.error_message ?? ''
  }
}
