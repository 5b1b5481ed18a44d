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

/**
 * Tells the writer that part of the interface could not be loaded (the rest of Element Plus,
 * needed by every page but the login page), in plain DOM: the library that shows messages is
 * what failed. One box, updated on each failure; the navigation itself stays refused.
 */
export function showLoadFailure(text: string, doc: Document = document): HTMLElement {
  let box = doc.querySelector<HTMLElement>('[data-testid=app-load-failed]')
  if (!box) {
    box = doc.createElement('div')
    box.setAttribute('role', 'alert')
    box.dataset.testid = 'app-load-failed'
    // Through the CSSOM: the CSP refuses style attributes written as text.
    Object.assign(box.style, {
      position: 'fixed',
      top: '16px',
      left: '50%',
      transform: 'translateX(-50%)',
      maxWidth: '36em',
      padding: '10px 16px',
      background: '#fef0f0',
      color: '#c45656',
      border: '1px solid #fbc4c4',
      borderRadius: '4px',
      zIndex: '3000',
    })
    doc.body.appendChild(box)
  }
  box.textContent = text
  return box
}
