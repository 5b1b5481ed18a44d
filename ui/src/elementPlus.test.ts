import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createApp } from 'vue'
import { describe, expect, it } from 'vitest'
import { elementPlus } from './elementPlus'

function vueFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return vueFiles(path)
    return name.endsWith('.vue') ? [path] : []
  })
}

const pascal = (tag: string) => tag.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('')

describe('elementPlus (only the components the app uses)', () => {
  it('registers every <el-*> tag used in a template', () => {
    const tags = new Set<string>()
    for (const file of vueFiles(join(__dirname))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/<(el-[a-z-]+)/g)) tags.add(m[1])
    }
    // The scan found the app's templates (a broken scan would pass with nothing to check).
    expect(tags.has('el-button')).toBe(true)
    expect(tags.size).toBeGreaterThan(20)
    const app = createApp({})
    app.use(elementPlus)
    const missing = [...tags].filter((tag) => !app.component(pascal(tag)))
    expect(missing).toEqual([])
  })

  it('does not register what the app does not use', () => {
    const app = createApp({})
    app.use(elementPlus)
    expect(app.component('ElTree')).toBeUndefined()
    expect(app.component('ElUpload')).toBeUndefined()
  })
})
