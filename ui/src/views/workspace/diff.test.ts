import { describe, expect, it } from 'vitest'
import { diff, tokens } from './diff'

const side = (parts: ReturnType<typeof diff>, keep: 'del' | 'ins') =>
  parts.filter((p) => p.op === 'eq' || p.op === keep).map((p) => p.text).join('')

function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

describe('diff', () => {
  it('compares Chinese by character and other text by word', () => {
    expect(tokens('春天 spring19，好')).toEqual(['春', '天', ' ', 'spring19', '，', '好'])
    expect(diff('春眠不觉晓', '春眠不知晓')).toEqual([
      { op: 'eq', text: '春眠不' },
      { op: 'del', text: '觉' },
      { op: 'ins', text: '知' },
      { op: 'eq', text: '晓' },
    ])
    expect(diff('the quick fox', 'the slow fox')).toEqual([
      { op: 'eq', text: 'the ' },
      { op: 'del', text: 'quick' },
      { op: 'ins', text: 'slow' },
      { op: 'eq', text: ' fox' },
    ])
    expect(diff('', '新')).toEqual([{ op: 'ins', text: '新' }])
    expect(diff('旧', '')).toEqual([{ op: 'del', text: '旧' }])
  })

  it('property: the two sides rebuild the two texts', () => {
    const r = rng(3)
    const alphabet = [...'春眠不觉晓处闻啼鸟 ab cd，。\n']
    const gen = () => Array.from({ length: Math.floor(r() * 40) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('')
    for (let i = 0; i < 300; i++) {
      const a = gen()
      const b = gen()
      const parts = diff(a, b)
      expect(side(parts, 'del')).toBe(a)
      expect(side(parts, 'ins')).toBe(b)
    }
  })

  it('stays fast on long passages (falls back to a whole replacement past the bound)', () => {
    const a = '春眠不觉晓，处处闻啼鸟。'.repeat(500)
    const b = '夜来风雨声，花落知多少。'.repeat(500)
    const t = performance.now()
    const parts = diff(a, b)
    expect(performance.now() - t).toBeLessThan(2000)
    expect(side(parts, 'del')).toBe(a)
    expect(side(parts, 'ins')).toBe(b)
  })
})
