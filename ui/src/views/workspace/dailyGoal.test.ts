import { describe, expect, it } from 'vitest'
import { loadProgress, localDay, parseGoal, record, wordsToday } from './dailyGoal'

describe('daily goal', () => {
  it('counts only what was written today, per document, from when it was first seen', () => {
    let s = record(null, '2031-05-01', 1, 5000) // an old long document opened
    expect(wordsToday(s)).toBe(0)
    s = record(s, '2031-05-01', 1, 5120)
    s = record(s, '2031-05-01', 2, 0)
    s = record(s, '2031-05-01', 2, 30)
    expect(wordsToday(s)).toBe(150)
    // Deleting in one document does not take away what was written in another.
    s = record(s, '2031-05-01', 2, 0)
    expect(wordsToday(s)).toBe(120)
  })

  it('starts again on a new day', () => {
    let s = record(null, '2031-05-01', 1, 10)
    s = record(s, '2031-05-01', 1, 60)
    s = record(s, '2031-05-02', 1, 60)
    expect(s.day).toBe('2031-05-02')
    expect(wordsToday(s)).toBe(0)
  })

  it('accepts a goal of 1 to 100,000 words only', () => {
    expect(parseGoal(' 1000 ')).toBe(1000)
    for (const bad of ['', '0', '-5', '1e3', '100001', '12.5', 'abc', '一千']) expect(parseGoal(bad)).toBeNull()
  })

  it('reads stored progress defensively and names the local day', () => {
    expect(loadProgress(null)).toBeNull()
    expect(loadProgress('{broken')).toBeNull()
    expect(loadProgress('{"day":1}')).toBeNull()
    expect(loadProgress('{"day":"2031-05-01","base":{},"last":{}}')?.day).toBe('2031-05-01')
    expect(localDay(new Date(2031, 0, 9, 23, 59))).toBe('2031-01-09')
  })
})
