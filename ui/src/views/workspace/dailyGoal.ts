// The optional daily goal: words written today, counted per document from the first time it
// was seen today (so opening a long document does not count its old text), never below zero
// for a document (deleting is editing, not unwriting the day). Kept on this computer only.

export interface DayProgress {
  /** Local date, YYYY-MM-DD. */
  day: string
  /** Each document's word count when first seen today. */
  base: Record<string, number>
  /** Its latest count. */
  last: Record<string, number>
}

/** The progress after seeing `count` words in document `docId` on `day`. */
export function record(state: DayProgress | null, day: string, docId: number, count: number): DayProgress {
  const next: DayProgress = state && state.day === day ? { day, base: { ...state.base }, last: { ...state.last } } : { day, base: {}, last: {} }
  const key = String(docId)
  if (next.base[key] === undefined) next.base[key] = count
  next.last[key] = count
  return next
}

/** Words written on the state's day. */
export function wordsToday(state: DayProgress | null): number {
  if (!state) return 0
  let total = 0
  for (const [key, base] of Object.entries(state.base)) total += Math.max(0, (state.last[key] ?? base) - base)
  return total
}

/** A goal as typed: a whole number of words from 1 to 100,000; anything else is null. */
export function parseGoal(text: string): number | null {
  const trimmed = text.trim()
  if (!/^\d{1,6}$/.test(trimmed)) return null
  const n = Number(trimmed)
  return n >= 1 && n <= 100_000 ? n : null
}

/** The local date of `at` as YYYY-MM-DD. */
export function localDay(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`
}

/** Reads the stored progress; anything unreadable is no progress. */
export function loadProgress(raw: string | null): DayProgress | null {
  if (!raw) return null
  try {
    const v = JSON.parse(raw) as DayProgress
    if (typeof v?.day !== 'string' || typeof v.base !== 'object' || typeof v.last !== 'object' || !v.base || !v.last) return null
    return v
  } catch {
    return null
  }
}
