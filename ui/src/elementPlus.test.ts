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

  it('renders every select, dropdown and colour picker panel only while it is open', () => {
    // Element Plus keeps a closed popup's whole panel in the page by default (`persistent`):
    // every option of every select, a menu per document in the workspace's tree. Rendered only
    // while open, the writing page's web heap fell from 34 to 29 MiB (issue 18, README).
    const popups = /<(el-select|el-dropdown|el-color-picker)(?![-\w])((?:=>|[^>])*)>/g
    const found: string[] = []
    const kept: string[] = []
    for (const file of vueFiles(join(__dirname))) {
      for (const m of readFileSync(file, 'utf8').matchAll(popups)) {
        found.push(m[1])
        if (!/\s:persistent="false"/.test(m[2])) kept.push(`${file}: <${m[1]}`)
      }
    }
    expect(new Set(found)).toEqual(new Set(['el-select', 'el-dropdown', 'el-color-picker']))
    expect(kept).toEqual([])
  })
})
