// The workspace's autosave: debounced while the writer types, but never more than `maxWaitMs`
// (700 ms) behind, so with the save's own few milliseconds a crash loses at most the last
// second; one save in flight at a time, each based on the revision the previous one returned;
// and `flush()` for blur, close, switching documents and signing out. The text is read only
// when a save starts, so a keystroke costs nothing here even in a long document.
//
// A save that falls due while the writer keeps typing starts just after a keystroke's frame is
// painted (`afterPaint`), or `dueGraceMs` later if no key comes: reading a long document out of
// the editor takes the page a few milliseconds, and started at a random moment it held back the
// paint of whichever key came next (the slowest 5% of keys in the typing bench).
import { afterNextPaint } from './afterPaint'

export type SaveState = 'saved' | 'pending' | 'saving' | 'error'

export interface AutosaveOptions {
  /** Stores `body` on top of `baseRevision`; resolves with the new revision. */
  save: (body: string, baseRevision: number) => Promise<{ revision: number }>
  /** The current text. */
  read: () => string
  /** Quiet time after the last change before saving. */
  debounceMs?: number
  /** Longest a change may wait while the writer keeps typing (then `dueGraceMs` at most). */
  maxWaitMs?: number
  /** How long a due save waits for the writer's next key before starting anyway. */
  dueGraceMs?: number
  /** Runs `fn` once the frame being prepared has been painted. */
  afterPaint?: (fn: () => void) => void
  onState?: (state: SaveState, error?: unknown) => void
}

export class Autosaver {
  private revision: number
  private dirty = false
  private dirtySince = 0
  private lastChange = 0
  /** The longest wait is over while the writer types: the next key's frame starts the save. */
  private due = false
  private timer: ReturnType<typeof setTimeout> | null = null
  private inFlight: Promise<void> | null = null
  private readonly debounceMs: number
  private readonly maxWaitMs: number
  private readonly dueGraceMs: number
  private readonly afterPaint: (fn: () => void) => void
  private state: SaveState = 'saved'
  private disposed = false

  constructor(
    revision: number,
    private readonly options: AutosaveOptions,
  ) {
    this.revision = revision
    this.debounceMs = options.debounceMs ?? 300
    this.maxWaitMs = options.maxWaitMs ?? 700
    this.dueGraceMs = options.dueGraceMs ?? 150
    this.afterPaint = options.afterPaint ?? afterNextPaint
  }

  get currentRevision(): number {
    return this.revision
  }

  get hasUnsavedChanges(): boolean {
    return this.dirty || this.inFlight !== null
  }

  private setState(state: SaveState, error?: unknown) {
    this.state = state
    this.options.onState?.(state, error)
  }

  /** The text changed: save after a pause, or at the latest `maxWaitMs` after the first change. */
  changed(): void {
    if (this.disposed) return
    const now = Date.now()
    if (!this.dirty) {
      this.dirty = true
      this.dirtySince = now
    }
    this.lastChange = now
    if (this.state !== 'saving') this.setState('pending')
    if (this.due) {
      this.due = false
      this.clearTimer()
      this.afterPaint(() => {
        if (!this.disposed) void this.run()
      })
      return
    }
    this.schedule(now)
  }

  private clearTimer() {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(now: number) {
    this.clearTimer()
    const untilMax = this.dirtySince + this.maxWaitMs - now
    const delay = Math.max(0, Math.min(this.debounceMs, untilMax))
    this.timer = setTimeout(() => {
      this.timer = null
      if (Date.now() - this.lastChange >= this.debounceMs) {
        void this.run()
        return
      }
      // Still typing: wait for the next key's frame, but not for long.
      this.due = true
      this.timer = setTimeout(() => {
        this.timer = null
        this.due = false
        void this.run()
      }, this.dueGraceMs)
    }, delay)
  }

  private async run(): Promise<void> {
    // One save at a time: the next one needs the revision this one returns.
    while (this.inFlight) await this.inFlight
    if (!this.dirty) return
    const body = this.options.read()
    this.dirty = false
    this.setState('saving')
    const attempt = this.options
      .save(body, this.revision)
      .then((saved) => {
        this.revision = saved.revision
        this.setState(this.dirty ? 'pending' : 'saved')
      })
      .catch((error: unknown) => {
        // Kept dirty: the next change or flush tries again, with the same revision.
        this.dirty = true
        this.setState('error', error)
        throw error
      })
    this.inFlight = attempt.then(
      () => undefined,
      () => undefined,
    )
    try {
      await attempt
    } finally {
      this.inFlight = null
    }
    if (this.dirty && !this.disposed) this.schedule(Date.now())
  }

  /** Saves now whatever is unsaved and waits for it; rejects if that save fails. */
  async flush(): Promise<void> {
    this.clearTimer()
    this.due = false
    if (this.inFlight) await this.inFlight
    if (this.dirty) await this.run()
  }

  /** Stops the timer; unsaved changes stay unsaved (flush first). */
  dispose(): void {
    this.disposed = true
    this.due = false
    this.clearTimer()
  }
}
