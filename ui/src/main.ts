import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import 'element-plus/theme-chalk/dark/css-vars.css'
import './styles/base.css'
import App from './App.vue'
import { createAppRouter } from './router'
import { createAppI18n } from './i18n'
import { useSettingsStore } from './stores/settings'

declare global {
  interface Window {
    /** CSP violations seen since start; the E2E suite asserts this stays empty. */
    __inkstoneCspViolations: string[]
  }
}

window.__inkstoneCspViolations = []
document.addEventListener('securitypolicyviolation', (event) => {
  window.__inkstoneCspViolations.push(`${event.violatedDirective} ${event.blockedURI}`)
})

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const i18n = createAppI18n(useSettingsStore(pinia).locale)
app.use(i18n)
app.use(createAppRouter())
app.use(ElementPlus)
app.mount('#app')
