// The workspace's autosave: debounced while the writer types, but never more than `maxWaitMs`
// (700 ms) behind, so with the save's own few milliseconds a crash loses at most the last
// second; one save in flight at a time, each based on the revision the previous one returned;
// and `flush()` for blur, close, switching documents and signing out. The text is read only
// when a save starts, so a keystroke costs nothing here even in a long document.
export type SaveState = 'saved' | 'pending' | 'saving' | 'error'

export interface AutosaveOptions {
  /** Stores `body` on top of `baseRevision`; resolves with the new revision. */
  save: (body: string, baseRevision: number) => Promise<{ revision: number }>
  /** The current text. */
  read: () => string
  /** Quiet time after the last change before saving. */
  debounceMs?: number
  /** Longest a change may wait while the writer keeps typing. */
  maxWaitMs?: number
  onState?: (state: SaveState, error?: unknown) => void
}

export class Autosaver {
  private revision: number
  private dirty = false
  private dirtySince = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private inFlight: Promise<void> | null = null
  private readonly debounceMs: number
  private readonly maxWaitMs: number
  private state: SaveState = 'saved'
  private disposed = false

  constructor(
    revision: number,
    private readonly options: AutosaveOptions,
  ) {
    this.revision = revision
    this.debounceMs = options.debounceMs ?? 300
    this.maxWaitMs = options.maxWaitMs ?? 700
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
    if (this.state !== 'saving') this.setState('pending')
    this.schedule(now)
  }

  private schedule(now: number) {
    if (this.timer !== null) clearTimeout(this.timer)
    const untilMax = this.dirtySince + this.maxWaitMs - now
    const delay = Math.max(0, Math.min(this.debounceMs, untilMax))
    this.timer = setTimeout(() => {
      this.timer = null
      void this.run()
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
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.inFlight) await this.inFlight
    if (this.dirty) await this.run()
  }

  /** Stops the timer; unsaved changes stay unsaved (flush first). */
  dispose(): void {
    this.disposed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
