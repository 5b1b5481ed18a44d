import { afterEach, describe, expect, it } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import {
  aiModelAdd,
  aiModelDelete,
  aiModelUpdate,
  creditStatistics,
  fileToBase64,
  generateVision,
  historyExportTo,
  membershipStatistics,
  type ModelInput,
} from './flows'

afterEach(() => clearMocks())

function record() {
  const seen: Array<[string, Record<string, unknown>]> = []
  mockIPC((cmd, args) => {
    seen.push([cmd, { ...(args as Record<string, unknown>) }])
    return null
  })
  return seen
}

describe('typed wrappers', () => {
  it('send model add / update / delete with the argument names Rust expects', async () => {
    const seen = record()
    const model: ModelInput = { name: 'Local', provider: 'openai', model_id: 'qwen2.5:7b', kind: 'text', base_url: 'http://127.0.0.1:11434/v1', params: {} }
    await aiModelAdd(model)
    await aiModelUpdate(5, model)
    await aiModelDelete(5)
    expect(seen).toEqual([
      ['ai_model_add', { model }],
      ['ai_model_update', { id: 5, model }],
      ['ai_model_delete', { id: 5 }],
    ])
  })

  it('asks for every profile in the admin statistics', async () => {
    const seen = record()
    await creditStatistics({ from: null, to: null }, true)
    await membershipStatistics()
    expect(seen).toEqual([
      ['credit_statistics', { from: null, to: null, allProfiles: true }],
      ['membership_statistics', {}],
    ])
  })

  it('exports a generation to a file by id and format', async () => {
    const seen = record()
    await historyExportTo(3, 'md')
    expect(seen).toEqual([['history_export_to', { id: 3, format: 'md' }]])
  })

  it('sends the vision image as base64 and its file name, with the vision tool', async () => {
    const seen = record()
    await generateVision({ input: '这是什么？', params: {} }, { base64: 'iVBORw0KGgo=', fileName: 'a.png' }, () => undefined)
    const [cmd, args] = seen[0]
    expect(cmd).toBe('generate_vision')
    expect(args.imageBase64).toBe('iVBORw0KGgo=')
    expect(args.fileName).toBe('a.png')
    expect(args.input).toEqual({ tool: 'vision', input: '这是什么？', params: {} })
    expect(args).not.toHaveProperty('imagePath')
  })
})

describe('fileToBase64', () => {
  it('encodes every byte value, across chunk boundaries, without a data: prefix', async () => {
    const bytes = new Uint8Array(0x8000 * 2 + 17)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256
    const encoded = await fileToBase64(new Blob([bytes]))
    expect(encoded.startsWith('data:')).toBe(false)
    expect(encoded).toBe(Buffer.from(bytes).toString('base64'))
  })

  it('encodes an empty file as an empty string', async () => {
    expect(await fileToBase64(new Blob([]))).toBe('')
  })
})
