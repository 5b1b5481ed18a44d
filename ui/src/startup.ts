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
