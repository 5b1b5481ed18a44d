import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'
import type { Generation, Update } from '../api/flows'
import { mountApp } from '../test/mountApp'
import { useAccountStore } from '../stores/account'

function generation(status: Generation['status'], errorKind: string | null): Generation {
  return {
    id: 42, profile_id: 1, tool: 'ppt', model: 'qwen-plus', prompt: '春天', params: {}, status, output_text: '', files: [], inputs: [],
    usage: { input_tokens: null, output_tokens: null }, cost: 10, refunded: true, error_kind: errorKind,
    error_message: errorKind ? 'the task failed (X): raw english' : null, created_at: '2026-11-29T10:00:00Z', finished_at: '2026-11-29T10:00:01Z',
  }
}

function mockBackend(end: (finish: (g: Generation) => void) => void) {
  const calls: Array<[string, Record<string, unknown>]> = []
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>
    calls.push([cmd, { ...a }])
    switch (cmd) {
      case 'session_info':
        return { profile: { id: 1, username: 'w', is_admin: false, server_account_id: null, created_at: '2026-01-01T00:00:00Z' }, demo: true }
      case 'credit_balance':
        return { profile_id: 1, credits: 100, is_member: false, member_until: null }
      case 'cancel_generation':
        return true
      case 'generate_slides': {
        const send = (u: Update) => (a.onEvent as Channel<Update>).onmessage(u)
        send({ type: 'started', generation_id: 42, charged: 10, balance_after: 90, member: false })
        return new Promise((resolve) => end(resolve))
      }
    }
    return null
  })
  return calls
}

afterEach(() => {
  clearMocks()
  document.body.innerHTML = ''
})

describe('slides page', { timeout: 30_000 }, () => {
  it('writes the deck in the UI language, can stop, and shows a stopped run', async () => {
    let finish: (g: Generation) => void = () => undefined
    const calls = mockBackend((f) => (finish = f))
    const again = await mountApp('/writing')
    await useAccountStore().load()
    // The writer switched the UI to English; the slides page then opens in English.
    again.i18n.global.locale.value = 'en'
    await again.router.push('/ppt')
    await flushPromises()
    await again.wrapper.find('input[data-testid="ppt-topic"], [data-testid="ppt-topic"] input').setValue('Spring')
    await again.wrapper.find('[data-testid="ppt-generate"]').trigger('click')
    await flushPromises()
    const slides = calls.find(([c]) => c === 'generate_slides')
    expect(slides?.[1].language).toBe('en')
    const stop = again.wrapper.find('[data-testid="ppt-stop"]')
    expect(stop.exists()).toBe(true)
    await stop.trigger('click')
    await flushPromises()
    expect(calls.find(([c]) => c === 'cancel_generation')?.[1]).toEqual({ generationId: 42 })
    finish(generation('stopped', null))
    await flushPromises()
    expect(again.wrapper.find('[data-testid="ppt-status"]').text()).toContain('Stopped')
  })

  it('shows a failed run in the writer language, not the raw message', async () => {
    mockBackend((f) => setTimeout(() => f(generation('failed', 'task_failed')), 0))
    const { wrapper } = await mountApp('/ppt')
    await useAccountStore().load()
    await flushPromises()
    await wrapper.find('input[data-testid="ppt-topic"], [data-testid="ppt-topic"] input').setValue('春天')
    await wrapper.find('[data-testid="ppt-generate"]').trigger('click')
    await new Promise((r) => setTimeout(r, 10))
    await flushPromises()
    const status = wrapper.find('[data-testid="ppt-status"]').text()
    expect(status).toContain('失败')
    expect(status).toContain('生成任务失败')
    expect(status).not.toContain('raw english')
  })
})
