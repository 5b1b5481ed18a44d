// A word-level diff for the AI preview: Chinese is compared character by character, other
// text word by word, so a rewrite shows what changed the way a writer reads it. Longest
// common subsequence over tokens, bounded: past MAX_CELLS the whole passage is shown as
// replaced rather than spending seconds on the table.

export type DiffOp = 'eq' | 'del' | 'ins'
export interface DiffPart {
  op: DiffOp
  text: string
}

const MAX_CELLS = 4_000_000
const TOKEN = /\p{Script=Han}|[\p{L}\p{N}\p{M}]+|\s+|./gsu

export function tokens(text: string): string[] {
  return text.match(TOKEN) ?? []
}

function push(out: DiffPart[], op: DiffOp, text: string) {
  const last = out[out.length - 1]
  if (last && last.op === op) last.text += text
  else out.push({ op, text })
}

/** The parts that turn `before` into `after`: joining eq+del gives `before`, eq+ins `after`. */
export function diff(before: string, after: string): DiffPart[] {
  const a = tokens(before)
  const b = tokens(after)
  // Common head and tail cost nothing and shrink the table.
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const x = a.slice(head, a.length - tail)
  const y = b.slice(head, b.length - tail)
  const out: DiffPart[] = []
  if (head) push(out, 'eq', a.slice(0, head).join(''))
  if (x.length * y.length > MAX_CELLS) {
    if (x.length) push(out, 'del', x.join(''))
    if (y.length) push(out, 'ins', y.join(''))
  } else {
    const n = x.length
    const m = y.length
    // lcs[i][j]: common length of x[i..] and y[j..], in one flat array.
    const w = m + 1
    const lcs = new Uint32Array((n + 1) * w)
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
    let i = 0
    let j = 0
    while (i < n && j < m) {
      if (x[i] === y[j]) {
        push(out, 'eq', x[i])
        i++
        j++
      } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) push(out, 'del', x[i++])
      else push(out, 'ins', y[j++])
    }
    while (i < n) push(out, 'del', x[i++])
    while (j < m) push(out, 'ins', y[j++])
  }
  if (tail) push(out, 'eq', a.slice(a.length - tail).join(''))
  return out
}
