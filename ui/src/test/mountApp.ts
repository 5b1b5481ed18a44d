// Mounts the whole app (router, Pinia, i18n, Element Plus) the way main.ts does, at `path`.
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import App from '../App.vue'
import { createAppRouter } from '../router'
import { createAppI18n } from '../i18n'
import { useSettingsStore } from '../stores/settings'

export async function mountApp(path = '/writing') {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createAppRouter()
  const i18n = createAppI18n(useSettingsStore(pinia).locale)
  await router.push(path)
  await router.isReady()
  const wrapper = mount(App, {
    attachTo: document.body,
    global: { plugins: [pinia, router, i18n, ElementPlus] },
  })
  await flushPromises()
  return { wrapper, router, pinia, i18n }
}
