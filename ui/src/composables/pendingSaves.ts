// Saves that must land before the writer leaves: the workspace registers its autosave here,
// and signing out (stores/account.ts) waits for every registered flush first.
type Flush = () => Promise<void>

const flushers = new Set<Flush>()

/** Registers `flush`; returns the function that unregisters it. */
export function registerPendingSave(flush: Flush): () => void {
  flushers.add(flush)
  return () => {
    flushers.delete(flush)
  }
}

/** Runs every registered flush; a failed one does not stop the others (each reports its own error). */
export async function flushPendingSaves(): Promise<void> {
  await Promise.allSettled([...flushers].map((flush) => flush()))
}
