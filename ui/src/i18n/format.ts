// Times and ledger rows as the writer reads them, in the UI's language. Rust stores codes and
// numbers (a reason, a tool, a package); the words are chosen here, once.
import type { Transaction } from '../api/flows'

type T = (key: string, values?: Record<string, unknown>) => string
type Te = (key: string) => boolean

const pad = (n: number) => String(n).padStart(2, '0')

/** zh-CN: `2026-11-29 18:13:34`; en: `Nov 29, 2026, 6:13:34 PM` (local time). */
export function formatTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  if (locale === 'zh-CN') {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  }
  return d.toLocaleString('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' })
}

/** The date alone, for "member until". */
export function formatDate(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  if (locale === 'zh-CN') return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
  return d.toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' })
}

/** A member's charge of 0: said in words, never shown as `+0`. */
export function isMemberFree(row: Pick<Transaction, 'kind' | 'delta'>): boolean {
  return row.kind === 'CONSUME' && row.delta === 0
}

/** The description column: from the row's reason, tool and package; stored text only for old rows of unknown origin. */
export function txDescription(row: Transaction, t: T, te: Te): string {
  if (!row.reason) return row.description
  const tool = row.tool && te(`tools.${row.tool}`) ? t(`tools.${row.tool}`) : (row.tool ?? '')
  const pkg = row.package ? t('txReason.package', { credits: row.package.credits }) : ''
  const key = row.reason === 'generation' && isMemberFree(row) ? 'txReason.generation_free' : `txReason.${row.reason}`
  const text = te(key) ? t(key, { tool, package: pkg }) : row.reason
  return row.generation_id !== null ? `${text} · #${row.generation_id}` : text
}
