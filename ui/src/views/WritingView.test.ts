import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'
import type { Generation, Update } from '../api/flows'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0xff, 0x00])

function generation(tool: Generation['tool'], text: string): Generation {
  return {
    id: 42, profile_id: 1, tool, model: 'qwen-plus', prompt: 'p', params: {}, status: 'succeeded', output_text: text, files: [],
    inputs: [],
    usage: { input_tokens: 1, output_tokens: 2 }, cost: 10, refunded: false, error_kind: null, error_message: null,
    created_at: '2026-03-01T00:00:00Z', finished_at: '2026-03-01T00:00:01Z',
  }
}

interface Backend {
  calls: Array<[string, Record<string, unknown>]>
  /** Ends the running generation. */
  finish: () => void
  /** Credits `credit_balance` answers with. */
  stored: { credits: number; is_member: boolean }
}

function mockBackend(run: (cmd: string, send: (u: Update) => void) => unknown = () => undefined): Backend {
  const backend: Backend = { calls: [], finish: () => undefined, stored: { credits: 100, is_member: false } }
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>
    backend.calls.push([cmd, { ...a }])
    switch (cmd) {
      case 'session_info':
        return { profile: { id: 1, username: 'test_user', is_admin: false, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }, demo: true }
      case 'credit_balance':
        return { profile_id: 1, ...backend.stored, member_until: null }
      case 'generate_writing':
      case 'generate_vision': {
        const send = (u: Update) => (a.onEvent as Channel<Update>).onmessage(u)
        const custom = run(cmd, send)
        if (custom !== undefined) return custom
        send({ type: 'started', generation_id: 42, charged: 10, balance_after: 90, member: false })
        send({ type: 'text', text: '第一段' })
        return new Promise((resolve) => {
          backend.finish = () => resolve(generation(cmd === 'generate_vision' ? 'vision' : 'article', '第一段'))
        })
      }
    }
    throw { kind: 'unknown_command', message: cmd }
  })
  return backend
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

async function signedIn() {
  const app = await mountApp('/writing')
  await useAccountStore().load()
  await flushPromises()
  return app
}

const balanceShown = (w: VueWrapper) => w.find('[data-testid="balance-value"]').text()

async function typePrompt(w: VueWrapper, text: string) {
  await w.find('[data-testid="prompt"]').setValue(text)
}

async function chooseTool(w: VueWrapper, tool: string) {
  const select = w.findAllComponents({ name: 'ElSelect' }).find((c) => c.attributes('data-testid') === 'tool-select' || c.find('[data-testid="tool-select"]').exists())
  if (!select) throw new Error('no tool select')
  select.vm.$emit('update:modelValue', tool)
  await flushPromises()
}

async function pickFile(w: VueWrapper, file: File) {
  const input = w.find('[data-testid="vision-file"]').element as HTMLInputElement
  Object.defineProperty(input, 'files', { value: [file], configurable: true })
  input.dispatchEvent(new Event('change'))
  await flushPromises()
}

describe('writing: the choices', { timeout: 30_000 }, () => {
  it('keeps no closed select\'s options in the page, and shows them when opened', async () => {
    mockBackend()
    const { wrapper } = await signedIn()
    expect(document.querySelectorAll('.el-select-dropdown').length).toBe(0)
    // Closed, a select still shows its choice by label, not by value.
    expect(wrapper.find('[data-testid="tool-select"] .el-select__placeholder').text()).toBe('AI写作')
    await chooseTool(wrapper, 'outline')
    expect(wrapper.find('[data-testid="tool-select"] .el-select__placeholder').text()).toBe('大纲')
    await wrapper.find('[data-testid="tool-select"] .el-select__wrapper').trigger('click')
    await flushPromises()
    const open = document.querySelectorAll('.el-select-dropdown')
    expect(open.length).toBe(1)
    expect(open[0].querySelectorAll('.el-select-dropdown__item').length).toBeGreaterThan(1)
  })
})

describe('writing: live balance', { timeout: 30_000 }, () => {
  it('shows balance_after from the started update while the text is still streaming', async () => {
    const backend = mockBackend()
    const { wrapper } = await signedIn()
    expect(balanceShown(wrapper)).toBe('100')
    await typePrompt(wrapper, '写一首关于秋天的诗')
    await wrapper.find('[data-testid="generate"]').trigger('click')
    await flushPromises()
    // Still running, and no refresh has happened: the header already shows 90.
    expect(wrapper.find('[data-testid="stop"]').exists()).toBe(true)
    expect(backend.calls.filter(([c]) => c === 'credit_balance')).toHaveLength(1)
    expect(balanceShown(wrapper)).toBe('90')
    backend.stored.credits = 90
    backend.finish()
    await flushPromises()
    expect(balanceShown(wrapper)).toBe('90')
    wrapper.unmount()
  })

  it('shows the member badge at once when started says member', async () => {
    const backend = mockBackend((_, send) => {
      send({ type: 'started', generation_id: 7, charged: 0, balance_after: 100, member: true })
      return new Promise(() => undefined)
    })
    const { wrapper } = await signedIn()
    expect(wrapper.find('[data-testid="member-badge"]').text()).toBe('非会员')
    await typePrompt(wrapper, 'x')
    await wrapper.find('[data-testid="generate"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="member-badge"]').text()).toBe('会员')
    expect(backend.calls.filter(([c]) => c === 'credit_balance')).toHaveLength(1)
    wrapper.unmount()
  })
})

describe('writing: image understanding', { timeout: 30_000 }, () => {
  it('sends the picked image as base64 with its file name to generate_vision', async () => {
    const backend = mockBackend()
    const { wrapper } = await signedIn()
    await chooseTool(wrapper, 'vision')
    expect(wrapper.find('[data-testid="vision-section"]').exists()).toBe(true)
    await typePrompt(wrapper, '描述这张图片')
    // No image yet: cannot ask.
    expect(wrapper.find('[data-testid="generate"]').attributes('disabled')).toBeDefined()
    await pickFile(wrapper, new File([PNG], '猫.png', { type: 'image/png' }))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="vision-preview"]').exists()).toBe(true))
    const expected = Buffer.from(PNG).toString('base64')
    expect(wrapper.find('[data-testid="vision-preview"]').attributes('src')).toBe(`data:image/png;base64,${expected}`)
    await wrapper.find('[data-testid="generate"]').trigger('click')
    await flushPromises()
    const sent = backend.calls.filter(([c]) => c === 'generate_vision').map(([, a]) => a)
    expect(sent).toHaveLength(1)
    expect(sent[0].imageBase64).toBe(expected)
    expect(sent[0].fileName).toBe('猫.png')
    expect(sent[0].input).toMatchObject({ tool: 'vision', input: '描述这张图片' })
    expect(backend.calls.some(([c]) => c === 'generate_writing')).toBe(false)
    backend.finish()
    await flushPromises()
    expect(wrapper.find('[data-testid="output"]').text()).toContain('第一段')
    wrapper.unmount()
  })

  it('refuses a file that is not an image, or too large, before calling Rust', async () => {
    const backend = mockBackend()
    const { wrapper } = await signedIn()
    await chooseTool(wrapper, 'vision')
    await pickFile(wrapper, new File(['%PDF-1.7'], 'a.pdf', { type: 'application/pdf' }))
    expect(wrapper.find('[data-testid="vision-error"]').text()).toContain('不是支持的图片格式')
    const big = new File([PNG], 'big.png', { type: 'image/png' })
    Object.defineProperty(big, 'size', { value: 10 * 1024 * 1024 + 1 })
    await pickFile(wrapper, big)
    expect(wrapper.find('[data-testid="vision-error"]').text()).toContain('图片超过 10 MB')
    expect(wrapper.find('[data-testid="vision-preview"]').exists()).toBe(false)
    expect(backend.calls.some(([c]) => c === 'generate_vision')).toBe(false)
    wrapper.unmount()
  })

  it('shows Rust refusing the image by its kind, in the writer language', async () => {
    mockBackend((cmd) => {
      if (cmd === 'generate_vision') return Promise.reject({ kind: 'invalid_input', message: 'Invalid image: not a PNG, JPEG, WebP, GIF or BMP image' })
      return undefined
    })
    const { wrapper } = await signedIn()
    await chooseTool(wrapper, 'vision')
    await typePrompt(wrapper, '这是什么')
    await pickFile(wrapper, new File([PNG], 'x.png', { type: 'image/png' }))
    await vi.waitFor(() => expect(wrapper.find('[data-testid="vision-preview"]').exists()).toBe(true))
    await wrapper.find('[data-testid="generate"]').trigger('click')
    await flushPromises()
    const shown = wrapper.find('[data-testid="generation-error"]').text()
    expect(shown).toContain('图片无法使用')
    expect(shown).not.toContain('Invalid image')
    wrapper.unmount()
  })
})

describe('not enough credits', { timeout: 30_000 }, () => {
  afterEach(() => clearMocks())

  for (const [page, button, field] of [
    ['/writing', '[data-testid=generate]', '[data-testid=prompt]'],
    ['/image', '[data-testid=media-generate]', '[data-testid=media-prompt]'],
    ['/ppt', '[data-testid=ppt-generate]', '[data-testid=ppt-topic]'],
  ] as const) {
    it(`${page} says how many credits are missing, from the error's own field, and offers recharge`, async () => {
      // Every tool is refused the same way by Rust (the charge comes first, in one place).
      mockIPC((cmd) => {
        if (cmd === 'session_info')
          return { profile: { id: 1, username: 'test_user', is_admin: false, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }, demo: true }
        if (cmd === 'credit_balance') return { profile_id: 1, credits: 3, is_member: false, member_until: null }
        if (cmd.startsWith('generate_')) throw { kind: 'insufficient_credits', message: 'not enough credits', missing: 7 }
        // What the recharge page asks for once the button took the writer there.
        if (cmd === 'credit_prices') return { catalog: { credit_packages: [], membership_plans: [] }, fetched_at: null }
        if (cmd === 'payment_info') return { server_url: null, sandbox: true, providers: ['sandbox'] }
        return null
      })
      const { wrapper, router } = await mountApp(page)
      await wrapper.find(field).setValue('春天')
      await wrapper.find(button).trigger('click')
      await flushPromises()
      const alert = wrapper.find('[data-testid=insufficient]')
      expect(alert.exists()).toBe(true)
      expect(alert.text()).toContain('还差 7 积分')
      await wrapper.find('[data-testid=go-recharge]').trigger('click')
      // The recharge page is loaded lazily: the first visit takes a moment.
      await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/recharge'), { timeout: 5000 })
      wrapper.unmount()
    })
  }
})
