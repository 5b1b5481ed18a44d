// Work a keystroke causes but its own frame does not need (an autosave, the status bar's count)
// runs just after that frame is painted, in the quiet before the writer's next key; run inside
// the key's handling, or at a random moment, it held back a key's paint (README, typing).

/** Runs `fn` once the frame being prepared has been painted: a frame callback, then a task. */
export function afterNextPaint(fn: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(fn, 0))
  else setTimeout(fn, 0)
}
