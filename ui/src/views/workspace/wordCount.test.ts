import { describe, expect, it } from 'vitest'
import { countWords } from './wordCount'

/** A small seeded generator, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const HAN = '春眠不觉晓处闻啼鸟夜来风雨声花落知多少〇々'
const LATIN = 'abcXYZ019éü'
const PUNCT = '，。！？、；：“”‘’（）《》…—·,.!?;:"\'()[]#*>-_ \n\t'

function pick(r: () => number, from: string) {
  const chars = [...from]
  return chars[Math.floor(r() * chars.length)]
}

describe('countWords', () => {
  it('counts Han characters one by one and Latin runs as words', () => {
    expect(countWords('')).toBe(0)
    expect(countWords('春眠不觉晓')).toBe(5)
    expect(countWords('春眠不觉晓，处处闻啼鸟。')).toBe(10)
    expect(countWords('hello world')).toBe(2)
    expect(countWords('我用 iPhone 15 写了 3000 字')).toBe(2 + 1 + 1 + 2 + 1 + 1)
    expect(countWords('abc中文def')).toBe(4)
    expect(countWords('# 第一章\n\n- **粗体** 和 *斜体*\n> 引文')).toBe(3 + 2 + 1 + 2 + 2)
    expect(countWords('，。！？……——')).toBe(0)
    expect(countWords('ひらがな カタカナ 한국어')).toBe(4 + 4 + 3)
    expect(countWords('naïve café')).toBe(2)
  })

  it('property: punctuation counts as a space', () => {
    const r = rng(17)
    for (let i = 0; i < 500; i++) {
      let text = ''
      const len = Math.floor(r() * 40)
      for (let j = 0; j < len; j++) text += pick(r, r() < 0.4 ? HAN : r() < 0.6 ? LATIN : PUNCT)
      const spaced = [...text].map((c) => (PUNCT.includes(c) ? ' ' : c)).join('')
      expect(countWords(text), JSON.stringify(text)).toBe(countWords(spaced))
    }
  })

  it('property: texts joined by punctuation add up, and n Han characters are n words', () => {
    const r = rng(42)
    for (let i = 0; i < 500; i++) {
      const gen = () => {
        let t = ''
        const len = Math.floor(r() * 30)
        for (let j = 0; j < len; j++) t += pick(r, r() < 0.5 ? HAN : r() < 0.5 ? LATIN : PUNCT)
        return t
      }
      const a = gen()
      const b = gen()
      expect(countWords(`${a}。${b}`)).toBe(countWords(a) + countWords(b))
      const n = Math.floor(r() * 50)
      let han = ''
      for (let j = 0; j < n; j++) han += pick(r, HAN)
      expect(countWords(han)).toBe(n)
    }
  })

  it('property: any string (lone surrogates too) gives a count no larger than its code points', () => {
    const r = rng(7)
    for (let i = 0; i < 500; i++) {
      let s = ''
      const len = Math.floor(r() * 60)
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(r() * 0xffff))
      const n = countWords(s)
      expect(n).toBeGreaterThanOrEqual(0)
      expect(n).toBeLessThanOrEqual([...s].length)
    }
  })

  it('is fast enough for a 200,000-character document', () => {
    const text = '春眠不觉晓，处处闻啼鸟。Spring sleep 1999. '.repeat(6000)
    const t = performance.now()
    expect(countWords(text)).toBe(6000 * (10 + 3))
    expect(performance.now() - t).toBeLessThan(500)
  })
})
