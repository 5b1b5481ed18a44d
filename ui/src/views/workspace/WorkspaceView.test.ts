import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'
import type { Update } from '../../api/flows'
import { mountApp } from '../../test/mountApp'
import { flushPendingSaves } from '../../composables/pendingSaves'

/** An in-memory workspace that answers like commands/workspace.rs (revisions, trash, kinds). */
// jsdom measures no layout; CodeMirror asks when it scrolls a change into view.
Range.prototype.getClientRects = () => ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as unknown as DOMRectList
Range.prototype.getBoundingClientRect = () => new DOMRect()

/** What the folder picker answers (null: the writer cancelled). */
let pickedFolder: string | null = null

/** What document_ai answers: the streamed pieces and the final status. */
let aiAnswer: { pieces: string[]; status: string; refunded?: boolean } = { pieces: ['春眠', '不知晓'], status: 'succeeded' }

function fakeWorkspace() {
  const now = '2031-05-01T08:00:00Z'
  const projects: { id: number; name: string; archived: boolean; deleted_at: string | null }[] = []
  const docs: { id: number; project_id: number; title: string; body: string; revision: number; archived: boolean; deleted_at: string | null }[] = []
  const calls: [string, Record<string, unknown>][] = []
  const versions: { documentId: number; body: string; generationId: number }[] = []
  const notes: { id: number; project_id: number; kind: string; name: string; body: string; tokens: number; created_at: string; updated_at: string }[] = []
  let next = 1
  const meta = (d: (typeof docs)[number]) => ({ ...d, chars: [...d.body].length, created_at: now, updated_at: now })
  const project = (p: (typeof projects)[number]) => ({ ...p, created_at: now, updated_at: now })
  const badName = (n: unknown) => typeof n !== 'string' || n.trim() === '' || /\p{Cc}/u.test(n)
  mockIPC((cmd, raw) => {
    const a = (raw ?? {}) as Record<string, unknown>
    calls.push([cmd, { ...a }])
    const doc = () => {
      const d = docs.find((d) => d.id === a.id)
      if (!d) throw { kind: 'unknown_document', message: 'unknown' }
      return d
    }
    switch (cmd) {
      case 'session_info':
        return { profile: { id: 1, username: 'writer', is_admin: false }, demo: false, has_profiles: true, media_base: null }
      case 'credit_balance':
        return { credits: 100, is_member: false, member_until: null }
      case 'workspace_tree': {
        const node = (p: (typeof projects)[number], trashed: boolean) => ({
          ...project(p),
          documents: docs.filter((d) => d.project_id === p.id && (trashed || d.deleted_at === null)).map(meta),
        })
        return {
          projects: projects.filter((p) => !p.deleted_at).map((p) => node(p, false)),
          trash: {
            projects: projects.filter((p) => p.deleted_at).map((p) => node(p, true)),
            documents: docs.filter((d) => d.deleted_at && !projects.find((p) => p.id === d.project_id)?.deleted_at).map(meta),
            keep_days: 30,
          },
        }
      }
      case 'project_create': {
        if (badName(a.name)) throw { kind: 'invalid_name', message: 'bad' }
        const p = { id: next++, name: String(a.name).trim(), archived: false, deleted_at: null }
        projects.push(p)
        return project(p)
      }
      case 'document_create': {
        const d = { id: next++, project_id: Number(a.projectId), title: String(a.title), body: '', revision: 0, archived: false, deleted_at: null }
        docs.push(d)
        return meta(d)
      }
      case 'note_list':
        return notes.filter((n) => n.project_id === a.projectId)
      case 'note_create': {
        if (badName(a.name)) throw { kind: 'invalid_name', message: 'bad' }
        // The core's estimate stands in here as one token per character.
        const n = { id: next++, project_id: Number(a.projectId), kind: String(a.kind), name: String(a.name).trim(), body: String(a.body), tokens: [...String(a.body)].length, created_at: now, updated_at: now }
        notes.push(n)
        return n
      }
      case 'note_update': {
        const n = notes.find((n) => n.id === a.id)
        if (!n) throw { kind: 'unknown_note', message: 'unknown' }
        Object.assign(n, { name: String(a.name).trim(), body: String(a.body), tokens: [...String(a.body)].length })
        return n
      }
      case 'outline_generate': {
        ;(a.onEvent as Channel<Update>).onmessage({ type: 'started', generation_id: 78, charged: 10, balance_after: 80, member: false })
        const n = { id: next++, project_id: docs.find((d) => d.id === a.documentId)!.project_id, kind: 'outline', name: '大纲 · 未命名', body: '- 开端', tokens: 4, created_at: now, updated_at: now }
        notes.push(n)
        return { generation: { id: 78, status: 'succeeded', output_text: n.body, refunded: false }, note: n }
      }
      case 'document_ai': {
        // The Rust side refuses (before any charge) what would not fit the model.
        const attached = ((a.request as { notes?: number[] }).notes ?? []).map((id) => notes.find((n) => n.id === id)!)
        if (attached.reduce((sum, n) => sum + n.tokens, 0) > 1000) throw { kind: 'context_too_long', message: 'too long' }
        const send = (u: Update) => (a.onEvent as Channel<Update>).onmessage(u)
        send({ type: 'started', generation_id: 77, charged: 10, balance_after: 90, member: false })
        for (const text of aiAnswer.pieces) send({ type: 'text', text })
        const output = aiAnswer.pieces.join('')
        return {
          id: 77, profile_id: 1, tool: 'document', model: 'qwen-plus', prompt: '', params: (a.request as Record<string, unknown>),
          status: aiAnswer.status, output_text: output, files: [], inputs: [], usage: { input_tokens: null, output_tokens: null },
          cost: 10, refunded: aiAnswer.refunded ?? false, error_kind: aiAnswer.status === 'failed' ? 'provider_unavailable' : null,
          error_message: null, created_at: now, finished_at: now,
        }
      }
      case 'document_import': {
        if (!String(a.fileName).endsWith('.md')) throw { kind: 'import_unreadable', message: 'not a Word file' }
        const body = new TextDecoder().decode(Uint8Array.from(atob(String(a.contentBase64)), (c) => c.charCodeAt(0)))
        const d = { id: next++, project_id: Number(a.projectId), title: String(a.fileName).replace(/\.md$/, ''), body, revision: 0, archived: false, deleted_at: null }
        docs.push(d)
        return meta(d)
      }
      case 'version_before_ai': {
        // Kept from the stored text: the autosave must have stored the current text first.
        const d = docs.find((d) => d.id === a.documentId)!
        versions.push({ documentId: d.id, body: d.body, generationId: Number(a.generationId) })
        return { id: versions.length, document_id: d.id, kind: 'before_ai', name: null, generation_id: a.generationId, restored_from: null, chars: 0, created_at: now }
      }
      case 'workspace_on_close':
      case 'workspace_close_ready':
        return null
      case 'document_get':
        return meta(doc())
      case 'export_pick_folder':
        return pickedFolder
      case 'document_export': {
        const d = doc()
        if (a.folder === '/data/inkstone') throw { kind: 'export_folder_in_app_data', message: 'inside' }
        return `${String(a.folder)}/${d.title}.${String(a.format)}`
      }
      case 'document_trash': {
        const d = doc()
        d.deleted_at = now
        return meta(d)
      }
      case 'document_save': {
        const d = doc()
        if (d.revision !== a.baseRevision) throw { kind: 'document_conflict', message: 'stale' }
        d.body = String(a.body)
        d.revision += 1
        return { id: d.id, revision: d.revision, updated_at: now }
      }
    }
    throw { kind: 'unknown_command', message: cmd }
  })
  return { projects, docs, calls, versions, notes }
}

afterEach(() => {
  pickedFolder = null
  aiAnswer = { pieces: ['春眠', '不知晓'], status: 'succeeded' }
  clearMocks()
  localStorage.clear()
  document.body.innerHTML = ''
})

describe('workspace', { timeout: 30_000 }, () => {
  it('gives a first visit a project and a document, open in the editor', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-heading"]')?.textContent).toBe('未命名'))
    expect(ws.projects.map((p) => p.name)).toEqual(['我的文稿'])
    expect(document.querySelector('[data-testid="ws-project-name"]')?.textContent).toBe('我的文稿')
    expect(document.querySelector('[data-testid="ws-editor"] .cm-content')).not.toBeNull()
    expect(document.querySelector('[data-testid="ws-words"]')?.textContent).toBe('0 字')
    expect(document.querySelector('[data-testid="ws-save-state"]')?.getAttribute('data-state')).toBe('saved')
    wrapper.unmount()
  })

  it('a second visit opens the last document and creates nothing', async () => {
    const ws = fakeWorkspace()
    let app = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-heading"]')).not.toBeNull())
    app.wrapper.unmount()
    ws.docs[0].body = '春眠不觉晓，处处闻啼鸟。'
    app = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-words"]')?.textContent).toBe('10 字'))
    expect(ws.calls.filter(([c]) => c === 'project_create')).toHaveLength(1)
    expect(document.querySelector('[data-testid="ws-editor"] .cm-content')?.textContent).toBe('春眠不觉晓，处处闻啼鸟。')
    app.wrapper.unmount()
  })

  it('typing is autosaved on the revision the last save returned, and signing out flushes it', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-editor"] .cm-content')).not.toBeNull())
    const content = document.querySelector('[data-testid="ws-editor"] .cm-content') as HTMLElement
    // CodeMirror's view is reachable from its DOM; type as an input method would commit.
    const { EditorView } = await import('@codemirror/view')
    const view = EditorView.findFromDOM(content)!
    view.dispatch({ changes: { from: 0, insert: '床前明月光' }, userEvent: 'input.type' })
    await flushPendingSaves()
    expect(ws.docs[0].body).toBe('床前明月光')
    view.dispatch({ changes: { from: view.state.doc.length, insert: '，疑是地上霜' }, userEvent: 'input.type' })
    await vi.waitFor(() => expect(ws.docs[0].body).toBe('床前明月光，疑是地上霜'), { timeout: 3000 })
    expect(ws.calls.filter(([c]) => c === 'document_save').map(([, a]) => a.baseRevision)).toEqual([0, 1])
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-words"]')?.textContent).toBe('10 字'))
    wrapper.unmount()
  })

  it('a project of 40 documents keeps no closed menu in the page; the one opened shows its commands', async () => {
    const ws = fakeWorkspace()
    ws.projects.push({ id: 1000, name: '长篇', archived: false, deleted_at: null })
    for (let i = 0; i < 40; i++) {
      ws.docs.push({ id: 2000 + i, project_id: 1000, title: `第${i + 1}章`, body: '', revision: 0, archived: false, deleted_at: null })
    }
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelectorAll('[data-testid="ws-doc"]')).toHaveLength(40))
    // Element Plus's default keeps 43 closed menus here: one per document, the project's and
    // the AI's two (1,304 elements in the page against 359; issue 18).
    expect(document.querySelectorAll('.el-dropdown-menu')).toHaveLength(0)
    ;(document.querySelector('[data-testid="ws-doc-menu"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelectorAll('[data-testid="ws-doc-delete"]')).toHaveLength(1))
    expect(document.querySelectorAll('.el-dropdown-menu')).toHaveLength(1)
    wrapper.unmount()
  })

  it('deleting asks first; cancelled, nothing moves to the trash', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc"]')).not.toBeNull())
    ;(document.querySelector('[data-testid="ws-doc-menu"]') as HTMLElement).click()
    await flushPromises()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-delete"]')).not.toBeNull())
    ;(document.querySelector('[data-testid="ws-doc-delete"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('.ws-confirm-dialog')).not.toBeNull())
    expect(document.querySelector('.ws-confirm-dialog')?.textContent).toContain('30 天内可以恢复')
    ;(document.querySelector('.ws-confirm-dialog .el-button:not(.el-button--primary)') as HTMLElement).click()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 50))
    expect(ws.calls.filter(([c]) => c === 'document_trash')).toEqual([])
    expect(ws.docs[0].deleted_at).toBeNull()
    wrapper.unmount()
  })

  it('AI polish: the selection goes to document_ai, the preview shows a diff, accepting is one undo step', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-editor"] .cm-content')).not.toBeNull())
    const { EditorView } = await import('@codemirror/view')
    const { undo } = await import('@codemirror/commands')
    const view = EditorView.findFromDOM(document.querySelector('[data-testid="ws-editor"] .cm-content') as HTMLElement)!
    view.dispatch({ changes: { from: 0, insert: '开头。春眠不觉晓。结尾' }, userEvent: 'input.type' })
    view.dispatch({ selection: { anchor: 3, head: 8 } })
    ;(document.querySelector('[data-testid="ws-ai-polish"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-diff"]')).not.toBeNull())
    const sent = ws.calls.find(([c]) => c === 'document_ai')![1].request as Record<string, unknown>
    expect(sent).toMatchObject({ action: { kind: 'polish' }, text: '春眠不觉晓', from: 3, to: 8, regenerated_from: null })
    expect(document.querySelector('[data-testid="ws-ai-diff"] .doc-ai__del')?.textContent).toBe('觉')
    expect(document.querySelector('[data-testid="ws-ai-diff"] .doc-ai__ins')?.textContent).toBe('知')
    ;(document.querySelector('[data-testid="ws-ai-accept"]') as HTMLElement).click()
    await vi.waitFor(() => expect(view.state.doc.toString()).toBe('开头。春眠不知晓。结尾'))
    // The text before the change was kept as a version first.
    expect(ws.versions).toEqual([{ documentId: ws.docs[0].id, body: '开头。春眠不觉晓。结尾', generationId: 77 }])
    expect(document.querySelector('[data-testid="ws-ai-preview"]')).toBeNull()
    undo(view)
    expect(view.state.doc.toString()).toBe('开头。春眠不觉晓。结尾')
    wrapper.unmount()
  })

  it('AI continue inserts at the cursor; a failed run offers no accept and says it was refunded', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-editor"] .cm-content')).not.toBeNull())
    const { EditorView } = await import('@codemirror/view')
    const view = EditorView.findFromDOM(document.querySelector('[data-testid="ws-editor"] .cm-content') as HTMLElement)!
    view.dispatch({ changes: { from: 0, insert: '第一句。' }, selection: { anchor: 4 }, userEvent: 'input.type' })
    aiAnswer = { pieces: ['第二句。'], status: 'succeeded' }
    ;(document.querySelector('[data-testid="ws-ai-continue"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-text"]')?.textContent).toBe('第二句。'))
    expect(ws.calls.find(([c]) => c === 'document_ai')![1].request).toMatchObject({ action: { kind: 'continue' }, text: '第一句。', from: 4, to: 4 })
    ;(document.querySelector('[data-testid="ws-ai-accept"]') as HTMLElement).click()
    await vi.waitFor(() => expect(view.state.doc.toString()).toBe('第一句。第二句。'))
    aiAnswer = { pieces: [], status: 'failed', refunded: true }
    ;(document.querySelector('[data-testid="ws-ai-continue"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-failure"]')?.textContent).toContain('积分已退回'))
    expect((document.querySelector('[data-testid="ws-ai-accept"]') as HTMLButtonElement).disabled).toBe(true)
    ;(document.querySelector('[data-testid="ws-ai-reject"]') as HTMLElement).click()
    await flushPromises()
    expect(view.state.doc.toString()).toBe('第一句。第二句。')
    wrapper.unmount()
  })

  it('exports into the folder the writer picks; cancelling the picker exports nothing', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc"]')).not.toBeNull())
    const exportMd = async () => {
      ;(document.querySelector('[data-testid="ws-doc-menu"]') as HTMLElement).click()
      await flushPromises()
      await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-export-md"]')).not.toBeNull())
      ;(document.querySelector('[data-testid="ws-doc-export-md"]') as HTMLElement).click()
      await flushPromises()
    }
    // Cancelled: the picker was asked (in the writer's language), nothing was exported.
    pickedFolder = null
    await exportMd()
    await vi.waitFor(() => expect(ws.calls.filter(([c]) => c === 'export_pick_folder')).toHaveLength(1))
    expect(ws.calls.find(([c]) => c === 'export_pick_folder')![1]).toEqual({ title: '选择导出到的文件夹' })
    await new Promise((r) => setTimeout(r, 50))
    expect(ws.calls.filter(([c]) => c === 'document_export')).toEqual([])
    // Picked: the export goes there and the writer is told where.
    pickedFolder = '/home/writer/稿子'
    await exportMd()
    await vi.waitFor(() => expect(ws.calls.filter(([c]) => c === 'document_export')).toHaveLength(1))
    expect(ws.calls.find(([c]) => c === 'document_export')![1]).toMatchObject({ format: 'md', folder: '/home/writer/稿子' })
    await vi.waitFor(() => expect(document.body.textContent).toContain('已导出到：/home/writer/稿子/未命名.md'))
    // A folder Rust refuses: the reason in the writer's language.
    pickedFolder = '/data/inkstone'
    await exportMd()
    await vi.waitFor(() => expect(document.body.textContent).toContain('不能导出到墨砚自己的数据文件夹里'))
    wrapper.unmount()
  })

  it('imports a picked file into the project and opens it; a bad file is refused in the writer language', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-heading"]')).not.toBeNull())
    const input = document.querySelector('[data-testid="ws-import-file"]') as HTMLInputElement
    const pick = (file: File) => {
      Object.defineProperty(input, 'files', { value: [file], configurable: true })
      input.dispatchEvent(new Event('change'))
    }
    pick(new File(['# 春\n春眠不觉晓'], '草稿.md', { type: 'text/markdown' }))
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-doc-heading"]')?.textContent).toBe('草稿'))
    expect(ws.calls.find(([c]) => c === 'document_import')![1]).toMatchObject({ projectId: ws.projects[0].id, fileName: '草稿.md' })
    expect(document.querySelector('[data-testid="ws-words"]')?.textContent).toBe('6 字')
    pick(new File(['not really'], '假的.docx'))
    await vi.waitFor(() => expect(document.body.textContent).toContain('这个文件读不出来'))
    expect(ws.docs).toHaveLength(2)
    wrapper.unmount()
  })

  it('project notes: written in the drawer, attached to a run with their tokens shown; too much is refused politely', async () => {
    const ws = fakeWorkspace()
    const { wrapper } = await mountApp('/workspace')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-editor"] .cm-content')).not.toBeNull())
    expect(document.querySelector('[data-testid="ws-ai-attached"]')?.textContent?.trim()).toBe('未附加资料')
    ;(document.querySelector('[data-testid="ws-notes-open"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-notes-empty"]')).not.toBeNull())
    // Element Plus puts the test id on the input itself, not on its wrapper.
    const type = (selector: string, value: string) => {
      const el = document.querySelector(selector) as HTMLInputElement
      el.value = value
      el.dispatchEvent(new Event('input'))
    }
    ;(document.querySelector('[data-testid="ws-note-add"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-note-editor"]')).not.toBeNull())
    type('input[data-testid="ws-note-name-input"]', '黛玉')
    type('textarea[data-testid="ws-note-body"]', '多愁善感')
    ;(document.querySelector('[data-testid="ws-note-save"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-note-name"]')?.textContent).toBe('黛玉'))
    expect(ws.calls.find(([c]) => c === 'note_create')![1]).toMatchObject({ projectId: ws.projects[0].id, kind: 'character', name: '黛玉', body: '多愁善感' })
    ;(document.querySelector('[data-testid="ws-note-attach"] input') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-attached"]')?.textContent?.trim()).toBe('已附加 1 条资料，约 4 tokens'))

    const { EditorView } = await import('@codemirror/view')
    const view = EditorView.findFromDOM(document.querySelector('[data-testid="ws-editor"] .cm-content') as HTMLElement)!
    view.dispatch({ changes: { from: 0, insert: '春眠不觉晓' }, selection: { anchor: 0, head: 5 }, userEvent: 'input.type' })
    ;(document.querySelector('[data-testid="ws-ai-polish"]') as HTMLElement).click()
    await vi.waitFor(() => expect(ws.calls.some(([c]) => c === 'document_ai')).toBe(true))
    expect(ws.calls.find(([c]) => c === 'document_ai')![1].request).toMatchObject({ notes: [ws.notes[0].id] })
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-run-notes"]')?.textContent?.trim()).toBe('附加的资料：黛玉'))
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-reject"]')).not.toBeNull())
    ;(document.querySelector('[data-testid="ws-ai-reject"]') as HTMLElement).click()
    await flushPromises()

    // A note too long for the model: the run is refused in the writer's language.
    ;(document.querySelector('[data-testid="ws-note-edit"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-note-editor"]')).not.toBeNull())
    type('textarea[data-testid="ws-note-body"]', '愁'.repeat(2000))
    ;(document.querySelector('[data-testid="ws-note-save"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-attached"]')?.textContent).toContain('约 2000 tokens'))
    view.dispatch({ selection: { anchor: 0, head: 5 } })
    ;(document.querySelector('[data-testid="ws-ai-polish"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="ws-ai-preview"]')?.textContent).toContain('超出了模型一次能读的长度'))
    expect(document.querySelector('[data-testid="ws-ai-preview"]')?.textContent).toContain('没有扣积分')

    // The outline by AI becomes an outline note, opened for editing.
    ;(document.querySelector('[data-testid="ws-note-outline"]') as HTMLElement).click()
    await vi.waitFor(() => expect(ws.notes.find((n) => n.kind === 'outline')).toBeDefined())
    expect(ws.calls.find(([c]) => c === 'outline_generate')![1]).toMatchObject({ documentId: ws.docs[0].id, notes: [ws.notes[0].id] })
    await vi.waitFor(() => expect((document.querySelector('textarea[data-testid="ws-note-body"]') as HTMLTextAreaElement).value).toBe('- 开端'))
    wrapper.unmount()
  })
})
