// The page's start-up questions (issue 18): whether the database is well, the writer's
// settings and the signed-in account, asked at once rather than one after the other (each is
// an IPC round trip before the first paint). A question Rust cannot answer leaves the
// defaults: with the database not well only the first one can be answered.

export interface StartupQuestions<T> {
  trouble: () => Promise<T | null>
  settings: () => Promise<unknown>
  account: () => Promise<unknown>
}

/** Asks all three together; resolves with the data trouble (null when the database is well). */
export async function askAtStart<T>(ask: StartupQuestions<T>): Promise<T | null> {
  const [trouble] = await Promise.all([
    ask.trouble().catch(() => null),
    ask.settings().catch(() => undefined),
    ask.account().catch(() => undefined),
  ])
  return trouble
}

/**
 * `load` run at most once, every caller sharing its promise; after a failure the next call
 * tries again (a page that could not be entered is not refused for good).
 */
export function loadOnce(load: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | null = null
  return () => {
    if (!pending) {
      pending = load().catch((e: unknown) => {
        pending = null
        throw e
      })
    }
    return pending
  }
}

/**
 * Runs `work` a little after the next frame: after the first paint, and late enough not to
 * hold up the first screen's scripts (WebDriver's questions run on the same thread too).
 */
export function afterPaint(work: () => void, delayMs = 300): void {
  requestAnimationFrame(() => setTimeout(work, delayMs))
}
