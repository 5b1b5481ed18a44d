import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockConvertFileSrc, mockIPC } from '@tauri-apps/api/mocks'
import { mountApp } from '../test/mountApp'
import type { Generation } from '../api/flows'

const FILES = ['/data/files/5/image-1.png', '/data/files/5/gone.png', '/data/files/5/clip.mp4']
const IMAGE = { id: 5, tool: 'image', model: 'wanx', status: 'succeeded', prompt: '一只猫', output: '', file_count: 3, cost: 10, refunded: false, created_at: '2026-03-01T00:00:00Z' }

const VISION: Partial<Generation> = {
  tool: 'vision', model: 'qwen-vl-plus', prompt: '图里有什么？', output_text: '一只猫坐在窗台上。', files: [],
  inputs: [{ path: '/data/files/inputs/0a1b.png', name: '窗外.png' }],
}

let answer: Partial<Generation> = {}

function generation(): Generation {
  return {
    id: 5, profile_id: 1, tool: 'image', model: 'wanx', prompt: '一只猫', params: {}, status: 'succeeded', output_text: '', files: FILES,
    inputs: [], usage: { input_tokens: null, output_tokens: null }, cost: 10, refunded: false, error_kind: null, error_message: null,
    created_at: '2026-03-01T00:00:00Z', finished_at: null, ...answer,
  }
}

let calls: Array<[string, Record<string, unknown>]> = []

function mockBackend(exportAnswer: () => unknown) {
  calls = []
  mockConvertFileSrc('linux')
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>
    calls.push([cmd, { ...a }])
    switch (cmd) {
      case 'history_list':
        return { items: [IMAGE], next_before_id: null }
      case 'history_get':
        return generation()
      case 'history_export_to':
        return exportAnswer()
      case 'workspace_search':
        return a.query === '春眠'
          ? [{ id: 9, project_id: 1, title: '第一章', excerpt: '春眠不觉晓', updated_at: '2026-03-01T00:00:00Z' }]
          : []
      case 'history_delete':
        return null
    }
    throw { kind: 'unknown_command', message: cmd }
  })
}

afterEach(() => {
  answer = {}
  clearMocks()
  document.body.innerHTML = ''
})

async function openFirst() {
  const app = await mountApp('/history')
  await vi.waitFor(() => expect(document.querySelector('[data-testid="history-table"] tbody tr')).not.toBeNull())
  ;(document.querySelector('[data-testid="history-table"] tbody tr') as HTMLElement).click()
  await flushPromises()
  await vi.waitFor(() => expect(document.querySelector('[data-testid="history-prompt"]')).not.toBeNull())
  return app
}

describe('history drawer', { timeout: 30_000 }, () => {
  it('shows generated images and video through the inkfile protocol, by generation and index', async () => {
    mockBackend(() => '/data/exports/x')
    const { wrapper } = await openFirst()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="history-image"]')).not.toBeNull())
    const images = [...document.querySelectorAll('[data-testid="history-image"]')].map((e) => e.getAttribute('src'))
    expect(images).toEqual(['inkfile://localhost/g%2F5%2Ff%2F0', 'inkfile://localhost/g%2F5%2Ff%2F1'])
    expect(document.querySelector('[data-testid="history-video"]')?.getAttribute('src')).toBe('inkfile://localhost/g%2F5%2Ff%2F2')
    // No file travels over IPC.
    expect(calls.filter(([c]) => c === 'generated_file')).toEqual([])
    // A file the protocol refuses (moved, deleted) is said to be missing.
    document.querySelectorAll('[data-testid="history-image"]')[1].dispatchEvent(new Event('error'))
    await flushPromises()
    expect(document.querySelector('[data-testid="history-file-missing"]')?.textContent).toContain('文件无法读取')
    wrapper.unmount()
  })

  it('shows the question and the picture a vision run was about, under the writer file name', async () => {
    answer = VISION
    mockBackend(() => '')
    const { wrapper } = await openFirst()
    expect(document.querySelector('[data-testid="history-prompt"]')?.textContent).toBe('图里有什么？')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="history-input-image"]')).not.toBeNull())
    const img = document.querySelector('[data-testid="history-input-image"]')
    expect(img?.getAttribute('src')).toBe('inkfile://localhost/g%2F5%2Fi%2F0')
    expect(img?.getAttribute('alt')).toBe('窗外.png')
    expect(document.querySelector('[data-testid="history-input"] figcaption')?.textContent).toBe('窗外.png')
    expect(document.querySelector('[data-testid="history-files"]')).toBeNull()
    wrapper.unmount()
  })

  it('says so when the kept picture cannot be read', async () => {
    answer = { ...VISION, inputs: [{ path: FILES[1], name: '窗外.png' }] }
    mockBackend(() => '')
    const { wrapper } = await openFirst()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="history-input-image"]')).not.toBeNull())
    document.querySelector('[data-testid="history-input-image"]')!.dispatchEvent(new Event('error'))
    await flushPromises()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="history-input-missing"]')).not.toBeNull())
    expect(document.querySelector('[data-testid="history-input-image"]')).toBeNull()
    wrapper.unmount()
  })

  it('exports to a file and shows the path written', async () => {
    mockBackend(() => '/data/exports/inkstone-image-5-20260301-000000')
    const { wrapper } = await openFirst()
    ;(document.querySelector('[data-testid="history-export-md"]') as HTMLElement).click()
    await flushPromises()
    expect(calls.filter(([c]) => c === 'history_export_to').map(([, a]) => a)).toEqual([{ id: 5, format: 'md' }])
    expect(document.querySelector('[data-testid="history-exported"]')?.textContent).toContain(
      '已导出到：/data/exports/inkstone-image-5-20260301-000000',
    )
    wrapper.unmount()
  })

  it('shows a failed export in the writer language', async () => {
    mockBackend(() => {
      throw { kind: 'export_failed', message: 'the export failed: cannot write to the exports folder' }
    })
    const { wrapper } = await openFirst()
    ;(document.querySelector('[data-testid="history-export-txt"]') as HTMLElement).click()
    await flushPromises()
    const shown = document.querySelector('[data-testid="history-export-error"]')?.textContent ?? ''
    expect(shown).toContain('导出失败')
    expect(shown).not.toContain('cannot write')
    wrapper.unmount()
  })
})

describe('history filters', { timeout: 30_000 }, () => {
  it('sends a picked date range as whole days, the end day included', async () => {
    mockBackend(() => '')
    const { wrapper } = await mountApp('/history')
    await flushPromises()
    // The picker is mounted by the first click on its stand-in (components/DateRange.vue).
    expect(wrapper.findAllComponents({ name: 'ElDatePicker' })).toHaveLength(0)
    await wrapper.find('[data-stand-in=date-range]').trigger('click')
    await flushPromises()
    const pickers = wrapper.findAllComponents({ name: 'ElDatePicker' })
    expect(pickers).toHaveLength(1)
    const picker = pickers[0]
    const start = new Date(2026, 2, 1)
    const end = new Date(2026, 2, 3)
    picker.vm.$emit('update:modelValue', [start, end])
    picker.vm.$emit('change', [start, end])
    await flushPromises()
    const filter = calls.filter(([c]) => c === 'history_list').map(([, a]) => a.filter as Record<string, unknown>).pop()
    expect(filter?.from).toBe(start.toISOString())
    expect(filter?.to).toBe(new Date(2026, 2, 4).toISOString())
    wrapper.unmount()
  })
})

describe('history search', { timeout: 30_000 }, () => {
  it('also finds workspace documents, each a link to the document', async () => {
    mockBackend(() => '')
    const { wrapper, router } = await mountApp('/history')
    await flushPromises()
    expect(document.querySelector('[data-testid="history-documents"]')).toBeNull()
    await vi.waitFor(() => expect(document.querySelector('input[data-testid="history-search"], [data-testid="history-search"] input')).not.toBeNull())
    const input = document.querySelector('input[data-testid="history-search"], [data-testid="history-search"] input') as HTMLInputElement
    input.value = '春眠'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(document.querySelector('[data-testid="history-search-button"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('[data-testid="history-document"]')).not.toBeNull())
    expect(calls.filter(([c]) => c === 'workspace_search').map(([, a]) => a.query)).toEqual(['春眠'])
    expect(document.querySelector('[data-testid="history-document"]')?.textContent).toContain('第一章')
    await wrapper.find('[data-testid="history-document"] button').trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/workspace'))
    expect(router.currentRoute.value.query.doc).toBe('9')
    wrapper.unmount()
  })
})

describe('deleting from history', { timeout: 30_000 }, () => {
  it('asks first; cancelling deletes nothing, confirming deletes', async () => {
    mockBackend(() => null)
    await openFirst()
    const deleted = () => calls.filter(([c]) => c === 'history_delete').length
    ;(document.querySelector('[data-testid="history-delete"]') as HTMLElement).click()
    await vi.waitFor(() => expect(document.querySelector('.el-message-box')).not.toBeNull())
    expect(document.querySelector('.el-message-box')?.textContent).toContain('无法恢复')
    expect(deleted()).toBe(0)
    // The newest box (a closed one may still be fading out).
    const buttons = () => {
      const boxes = document.querySelectorAll('.el-message-box')
      return [...(boxes[boxes.length - 1]?.querySelectorAll('.el-message-box__btns button') ?? [])] as HTMLElement[]
    }
    buttons().find((b) => b.textContent?.includes('取消'))!.click()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 50))
    expect(deleted()).toBe(0)
    await new Promise((r) => setTimeout(r, 400))
    ;(document.querySelector('[data-testid="history-delete"]') as HTMLElement).click()
    await vi.waitFor(() => expect(buttons().length).toBeGreaterThan(0))
    await vi.waitFor(() => expect(buttons().find((b) => b.textContent?.includes('删除'))).toBeTruthy())
    buttons().find((b) => b.textContent?.includes('删除'))!.click()
    await vi.waitFor(() => expect(deleted()).toBe(1))
  })
})
