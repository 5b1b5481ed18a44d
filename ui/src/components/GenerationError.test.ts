import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import GenerationError from './GenerationError.vue'
import { AppError } from '../api/core'
import { createAppRouter } from '../router'
import { createAppI18n } from '../i18n'

afterEach(() => {
  document.body.innerHTML = ''
})

async function show(error: unknown) {
  const router = createAppRouter()
  await router.push('/writing')
  const wrapper = mount(GenerationError, {
    props: { error },
    attachTo: document.body,
    global: { plugins: [createPinia(), router, createAppI18n('zh-CN'), ElementPlus] },
  })
  await flushPromises()
  return { wrapper, router }
}

describe('GenerationError', () => {
  it.each(['no_api_key', 'invalid_api_key'])('%s leads to the settings tab where keys are kept', async (kind) => {
    const { wrapper, router } = await show(new AppError(kind, ''))
    expect(wrapper.find('[data-testid="generation-error"]').text()).toContain('设置 › 密钥与模型')
    await wrapper.find('[data-testid="go-key-settings"]').trigger('click')
    // The settings page is a chunk of its own: wait for the navigation to settle.
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/settings'))
    expect(router.currentRoute.value.query.tab).toBe('ai')
    wrapper.unmount()
  })

  it('offers no key settings for other errors', async () => {
    const { wrapper } = await show(new AppError('network', ''))
    expect(wrapper.find('[data-testid="generation-error"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="go-key-settings"]').exists()).toBe(false)
    wrapper.unmount()
  })
})
