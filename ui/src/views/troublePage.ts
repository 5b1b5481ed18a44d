// The page starts over once the database opens (a normal start, settings and sign-in loaded
// again). An object so that a test can see the reload instead of jsdom refusing it.
export const page = {
  reload: () => window.location.reload(),
}
