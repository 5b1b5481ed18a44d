// Memory back while nobody types (issue 18). WebKit keeps what each page once needed until it
// is short of memory; the app's web-process extension (crates/webext) gives this page a
// function that makes WebKit release it now. Releasing drops compiled code too, so it is asked
// only when the writer has been away from the keyboard and mouse for IDLE_MS and no command
// (a generation streaming, a save, a payment being waited for) has been in flight meanwhile:
// once per quiet spell, re-armed by the next input.

/** Quiet time before the page asks for a release. */
export const IDLE_MS = 30_000

/** What counts as the writer being there. */
export const INPUT_EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const

declare global {
  interface Window {
    /** Present when the web-process extension is loaded (Linux, lever `idle-release`). */
    __inkstoneReleaseMemory?: () => boolean
  }
}

/** Commands in flight, and when the last one ended (api/core.ts `call` reports both). */
export class Activity {
  private inFlight = 0
  private lastEnd: number

  constructor(private readonly now: () => number) {
    this.lastEnd = now()
  }

  begin(): void {
    this.inFlight += 1
  }

  end(): void {
    this.inFlight = Math.max(0, this.inFlight - 1)
    this.lastEnd = this.now()
  }

  busy(): boolean {
    return this.inFlight > 0
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

  /** The writer did something: count the quiet from now, and watch again after a release. */
  input(): void {
    this.lastInput = this.clock.now()
    if (!this.armed) this.arm(IDLE_MS)
  }

  private arm(ms: number): void {
    this.armed = true
    this.clock.setTimeout(() => this.check(), ms)
  }

  private check(): void {
    this.armed = false
    if (this.activity.busy()) {
      this.arm(IDLE_MS)
      return
    }
    const quiet = this.clock.now() - Math.max(this.lastInput, this.activity.lastEnded())
    if (quiet < IDLE_MS) {
      this.arm(IDLE_MS - quiet)
      return
    }
    this.asked += 1
    this.release()
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
  return watcher
}
