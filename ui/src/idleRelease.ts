// Memory back while nobody types (issue 18). WebKit keeps what each page once needed until it
// is short of memory; the app's web-process extension (crates/webext) gives this page a
// function that makes WebKit release it now. A release holds the page for 60-100 ms and drops
// compiled code (the next keys run slower for a few seconds), so it is asked only when nobody
// is using the page and no command (a generation streaming, a save, a payment being waited
// for) is in flight:
// - after IDLE_MS without keyboard or mouse: once per quiet spell, re-armed by the next input;
// - once a newly opened page has settled (SETTLE_MS), unless the writer does something first.
//   What the page left behind is garbage then; released page by page it does not pile up (a
//   session's growth +19 MiB instead of +26 over 10 generations: README, eighth pass). A
//   lighter call, a full collection that kept the compiled code, gave nothing back: what a page
//   leaves is mostly code.

/** Quiet time before the page asks for a release. */
export const IDLE_MS = 30_000

/** After a page change, how long the new page must be quiet (no input, nothing in flight). */
export const SETTLE_MS = 500

/** What counts as the writer being there. */
export const INPUT_EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const

declare global {
  interface Window {
    /** Present when the web-process extension is loaded (Linux, lever `idle-release`). */
    __inkstoneReleaseMemory?: () => boolean
    /** The watcher, when there is one: how many releases it asked, what keeps it waiting. */
    __inkstoneIdle?: { asked: () => number; commands: () => string[] }
  }
}

/** Commands in flight, and when the last one ended (api/core.ts `call` reports both). */
export class Activity {
  /** Commands in flight by name (a name may be in flight more than once). */
  private readonly inFlight = new Map<string, number>()
  private lastEnd: number

  constructor(private readonly now: () => number) {
    this.lastEnd = now()
  }

  begin(command: string): void {
    this.inFlight.set(command, (this.inFlight.get(command) ?? 0) + 1)
  }

  end(command: string): void {
    const left = (this.inFlight.get(command) ?? 0) - 1
    if (left > 0) this.inFlight.set(command, left)
    else this.inFlight.delete(command)
    this.lastEnd = this.now()
  }

  busy(): boolean {
    return this.inFlight.size > 0
  }

  /** What is in flight now (the bench and the E2E read it through `window.__inkstoneIdle`). */
  commands(): string[] {
    return [...this.inFlight.keys()].sort()
  }

  lastEnded(): number {
    return this.lastEnd
  }
}

/** The clock and timers the watcher runs on (the page's, or a test's). */
export interface IdleClock {
  now: () => number
  setTimeout: (run: () => void, ms: number) => unknown
}

export class IdleRelease {
  private lastInput: number
  private armed = false
  /** Releases asked so far (tests, and the E2E through the page). */
  asked = 0

  constructor(
    private readonly clock: IdleClock,
    private readonly activity: Activity,
    private readonly release: () => void,
  ) {
    this.lastInput = clock.now()
    this.arm(IDLE_MS)
  }

  /** When the page last changed, while its release is still to ask; null once asked or given up. */
  private pageAt: number | null = null

  /** The writer did something: count the quiet from now, and watch again after a release. */
  input(): void {
    this.lastInput = this.clock.now()
    // Busy on the new page already: its release would land under the writer's hand.
    this.pageAt = null
    if (!this.armed) this.arm(IDLE_MS)
  }

  /** Another page is open: ask once it has settled, unless input comes first. */
  pageChanged(): void {
    const at = this.clock.now()
    this.pageAt = at
    this.settle(at, SETTLE_MS)
  }

  private settle(at: number, ms: number): void {
    this.clock.setTimeout(() => {
      // A later page, or the writer's input, took over.
      if (this.pageAt !== at) return
      const wait = this.waitLeft(at, SETTLE_MS)
      if (wait > 0) {
        this.settle(at, wait)
        return
      }
      this.pageAt = null
      this.asked += 1
      this.release()
    }, ms)
  }

  private arm(ms: number): void {
    this.armed = true
    this.clock.setTimeout(() => this.check(), ms)
  }

  private check(): void {
    this.armed = false
    const wait = this.waitLeft(this.lastInput, IDLE_MS)
    if (wait > 0) {
      this.arm(wait)
      return
    }
    this.asked += 1
    this.release()
  }

  /**
   * How much longer to wait before a release, for a quiet of `need` ms since `since`: the whole
   * `need` again while a command is in flight, what is left of it when the last command ended
   * later than `since`, 0 when it has passed.
   */
  private waitLeft(since: number, need: number): number {
    if (this.activity.busy()) return need
    const quiet = this.clock.now() - Math.max(since, this.activity.lastEnded())
    return quiet < need ? need - quiet : 0
  }
}

/** The page's one activity record; `call` in api/core.ts brackets every command with it. */
export const activity = new Activity(() => performance.now())

/**
 * Starts watching (main.ts). Without the extension (another platform, the lever off) there is
 * nothing to call and nothing is watched.
 */
export function watchIdle(target: Window = window): IdleRelease | null {
  const release = target.__inkstoneReleaseMemory
  if (typeof release !== 'function') return null
  const watcher = new IdleRelease(
    { now: () => performance.now(), setTimeout: (run, ms) => target.setTimeout(run, ms) },
    activity,
    () => {
      release.call(target)
    },
  )
  const onInput = () => watcher.input()
  for (const name of INPUT_EVENTS) target.addEventListener(name, onInput, { capture: true, passive: true })
  target.__inkstoneIdle = { asked: () => watcher.asked, commands: () => activity.commands() }
  return watcher
}

/** What [`releaseOnPageChange`] needs of the router. */
export interface PageChanges {
  afterEach: (hook: (to: { path: string }, from: { path: string; matched: unknown[] }) => void) => unknown
}

/** Tells the watcher each time another page opens (not the first page: nothing was left). */
export function releaseOnPageChange(router: PageChanges, watcher: IdleRelease | null): void {
  if (!watcher) return
  router.afterEach((to, from) => {
    if (from.matched.length > 0 && to.path !== from.path) watcher.pageChanged()
  })
}
