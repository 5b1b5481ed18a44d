import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { createAppI18n } from '../i18n'
import AiSettings from './AiSettings.vue'
import type { ModelConfig } from '../api/flows'

const BUILTIN: ModelConfig = {
  id: 1, name: '通义千问 Plus', provider: 'dashscope', model_id: 'qwen-plus', kind: 'text', base_url: null,
  params: {}, is_active: true, builtin: true,
}
const MINE: ModelConfig = {
  id: 9, name: 'Local', provider: 'openai', model_id: 'qwen2.5:7b', kind: 'text', base_url: 'http://127.0.0.1:11434/v1',
  params: { temperature: 0.5 }, is_active: false, builtin: false,
}

let calls: Array<[string, Record<string, unknown>]>
let refuse: Record<string, { kind: string; message: string }>

beforeEach(() => {
  calls = []
  refuse = {}
  mockIPC((cmd, args) => {
    calls.push([cmd, { ...(args as Record<string, unknown>) }])
    if (refuse[cmd]) throw refuse[cmd]
    switch (cmd) {
      case 'ai_key_status':
        return { configured: false, hint: null, demo_model: true }
      case 'ai_models':
        return [BUILTIN, MINE]
      case 'ai_model_add':
      case 'ai_model_update':
        return { ...MINE, ...(args as { model: object }).model }
      case 'ai_model_delete':
        return null
    }
    throw { kind: 'unknown_command', message: cmd }
  })
})
afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

async function mountSettings(locale: 'zh-CN' | 'en' = 'zh-CN') {
  const pinia = createPinia()
  setActivePinia(pinia)
  const wrapper = mount(AiSettings, {
    attachTo: document.body,
    global: { plugins: [pinia, createAppI18n(locale), ElementPlus] },
  })
  await flushPromises()
  return wrapper
}

/** Dialogs are teleported to <body>: look there. */
function $(testid: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
  if (!el) throw new Error(`no [data-testid="${testid}"]`)
  return el
}
async function type(testid: string, value: string) {
  const root = $(testid)
  const input = root.matches('input, textarea') ? (root as HTMLInputElement) : root.querySelector<HTMLInputElement>('input, textarea')!
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}
async function click(testid: string) {
  const root = $(testid)
  ;(root.querySelector<HTMLElement>('input') ?? root).click()
  await flushPromises()
}
const sent = (cmd: string) => calls.filter(([c]) => c === cmd).map(([, a]) => a)

describe('model management', { timeout: 30_000 }, () => {
  it('adds a model through ai_model_add and reloads the list', async () => {
    const wrapper = await mountSettings()
    await click('model-add')
    await type('model-name', ' 本地模型 ')
    await click('model-provider-openai')
    await type('model-id', 'qwen2.5:14b')
    await type('model-base-url', 'http://127.0.0.1:11434/v1')
    await type('model-params', '{"temperature": 0.7}')
    const before = sent('ai_models').length
    await click('model-save')
    await vi.waitFor(() => expect(sent('ai_model_add')).toHaveLength(1))
    expect(sent('ai_model_add')[0]).toEqual({
      model: {
        name: '本地模型',
        provider: 'openai',
        model_id: 'qwen2.5:14b',
        kind: 'text',
        base_url: 'http://127.0.0.1:11434/v1',
        params: { temperature: 0.7 },
      },
    })
    await flushPromises()
    expect(sent('ai_models').length).toBe(before + 1)
    expect(sent('ai_model_update')).toHaveLength(0)
    wrapper.unmount()
  })

  it('sends an OpenAI-compatible model its own key and refuses plain http to another machine', async () => {
    const wrapper = await mountSettings()
    await click('model-add')
    await type('model-name', '远程模型')
    await click('model-provider-openai')
    await type('model-id', 'gpt-writer')
    await type('model-base-url', 'http://api.example.com/v1')
    await type('model-api-key', ' sk-own-key ')
    await click('model-save')
    await flushPromises()
    expect(sent('ai_model_add')).toHaveLength(0)
    await vi.waitFor(() => expect(document.body.textContent).toContain('必须使用 https://'))
    await type('model-base-url', 'https://api.example.com/v1')
    await click('model-save')
    await vi.waitFor(() => expect(sent('ai_model_add')).toHaveLength(1))
    expect(sent('ai_model_add')[0]).toEqual({
      model: { name: '远程模型', provider: 'openai', model_id: 'gpt-writer', kind: 'text', base_url: 'https://api.example.com/v1', params: {} },
      apiKey: 'sk-own-key',
    })
    wrapper.unmount()
  })

  it('validates the form before calling Rust', async () => {
    const wrapper = await mountSettings()
    await click('model-add')
    // Empty name and model id.
    await click('model-save')
    await flushPromises()
    expect(sent('ai_model_add')).toHaveLength(0)
    // Element Plus shows a field's error after a short debounce.
    await vi.waitFor(() => expect(document.body.textContent).toContain('必填'))
    // OpenAI-compatible without an endpoint; a model id with a space; params not an object.
    await type('model-name', 'x')
    await click('model-provider-openai')
    await type('model-id', 'qwen plus')
    await type('model-params', '[1, 2]')
    await click('model-save')
    await flushPromises()
    expect(sent('ai_model_add')).toHaveLength(0)
    await vi.waitFor(() => expect(document.body.textContent).toContain('OpenAI 兼容接口需要填写接口地址'))
    const text = document.body.textContent ?? ''
    expect(text).toContain('模型 ID 不能包含空格')
    expect(text).toContain('参数必须是 JSON 对象')
    wrapper.unmount()
  })

  it('edits a model through ai_model_update with its id', async () => {
    const wrapper = await mountSettings()
    await click(`model-edit-${MINE.id}`)
    expect(($('model-name') as HTMLInputElement).value).toBe('Local')
    await type('model-name', 'Local 2')
    await click('model-save')
    await vi.waitFor(() => expect(sent('ai_model_update')).toHaveLength(1))
    expect(sent('ai_model_update')[0]).toEqual({
      id: MINE.id,
      model: { name: 'Local 2', provider: 'openai', model_id: 'qwen2.5:7b', kind: 'text', base_url: 'http://127.0.0.1:11434/v1', params: { temperature: 0.5 } },
    })
    expect(sent('ai_model_add')).toHaveLength(0)
    wrapper.unmount()
  })

  it('shows core refusing a duplicate in the writer language, not the English message', async () => {
    refuse.ai_model_add = { kind: 'invalid_input', message: 'invalid model_id: this model is already configured' }
    const wrapper = await mountSettings()
    await click('model-add')
    await type('model-name', 'dup')
    await type('model-id', 'qwen-plus')
    await click('model-save')
    await vi.waitFor(() => expect(document.querySelector('[data-testid="model-form-error"]')).not.toBeNull())
    const shown = $('model-form-error').textContent ?? ''
    expect(shown).toContain('模型配置未通过检查')
    expect(shown).not.toContain('already configured')
    wrapper.unmount()
  })

  it('deletes after confirming, through ai_model_delete', async () => {
    const wrapper = await mountSettings()
    await click(`model-delete-${MINE.id}`)
    expect(sent('ai_model_delete')).toHaveLength(0)
    await click('model-delete-confirm')
    expect(sent('ai_model_delete')).toEqual([{ id: MINE.id }])
    expect($('model-message').textContent).toContain('模型已删除')
    wrapper.unmount()
  })

  it('shows the typed refusal when core keeps a built-in model', async () => {
    refuse.ai_model_delete = { kind: 'invalid_input', message: 'invalid model: built-in models cannot be deleted' }
    const wrapper = await mountSettings('en')
    await click(`model-delete-${BUILTIN.id}`)
    await click('model-delete-confirm')
    expect(sent('ai_model_delete')).toEqual([{ id: BUILTIN.id }])
    const shown = $('model-error').textContent ?? ''
    expect(shown).toContain('This model cannot be deleted: built-in models and the model in use stay.')
    expect(shown).not.toContain('invalid model')
    wrapper.unmount()
  })

  it('falls back to the generic text of another kind', async () => {
    refuse.ai_model_delete = { kind: 'database', message: 'disk I/O error at /home/x/inkstone.db' }
    const wrapper = await mountSettings()
    await click(`model-delete-${MINE.id}`)
    await click('model-delete-confirm')
    const shown = $('model-error').textContent ?? ''
    expect(shown).toContain('本地数据库出错')
    expect(shown).not.toContain('disk I/O')
    wrapper.unmount()
  })
})
