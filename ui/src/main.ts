import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Only the components in use, with their own styles (see elementPlus.ts).
import { elementPlus } from './elementPlus'
import './elementPlusStyles'
import 'element-plus/theme-chalk/dark/css-vars.css'
import './styles/base.css'
import App from './App.vue'
import { createAppRouter } from './router'
import { createAppI18n } from './i18n'
import { useSettingsStore } from './stores/settings'
import { useAccountStore } from './stores/account'
import { dataTrouble } from './api/backups'
import { askAtStart } from './startup'
import { showStartNotices } from './views/settings/startNotices'

declare global {
  interface Window {
    /** CSP violations seen since start; the E2E suite asserts this stays empty. */
    __inkstoneCspViolations: string[]
    /** Uncaught errors since start; the E2E suite prints and asserts on them. */
    __inkstoneErrors: string[]
  }
}

window.__inkstoneCspViolations = []
window.__inkstoneErrors = []
window.addEventListener('error', (e) => window.__inkstoneErrors.push(String(e.error ?? e.message)))
window.addEventListener('unhandledrejection', (e) => window.__inkstoneErrors.push(String(e.reason?.message ?? e.reason)))
document.addEventListener('securitypolicyviolation', (event) => {
  window.__inkstoneCspViolations.push(`${event.violatedDirective} ${event.blockedURI}`)
})

async function bootstrap() {
  const app = createApp(App)
  app.config.errorHandler = (err, _instance, info) => {
    window.__inkstoneErrors.push(`${String(err)} (${info})`)
    console.error(err)
  }
  const pinia = createPinia()
  app.use(pinia)
  const settings = useSettingsStore(pinia)
  const account = useAccountStore(pinia)
  // The three start-up questions at once. A database that is not well: only the trouble page,
  // in the language of the settings file. Otherwise the first paint is in the writer's
  // language (defaults if Rust cannot answer) and the account is known before routing.
  const trouble = await askAtStart({
    trouble: dataTrouble,
    settings: () => settings.load(),
    account: () => account.load(),
  })
  if (trouble) settings.setLocale(trouble.locale)
  const i18n = createAppI18n(settings.locale)
  app.use(i18n)
  app.use(
    createAppRouter({
      requireLogin: async () => {
        if (!account.loaded) await account.load().catch(() => undefined)
        return account.profile === null
      },
      trouble: trouble !== null,
    }),
  )
  app.use(elementPlus)
  app.mount('#app')
  // What start-up did (a restore, a copy before an upgrade), said once.
  if (!trouble) void showStartNotices(i18n.global.t)
}

void bootstrap()
