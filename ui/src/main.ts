import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Element Plus (elementPlus.ts, elementPlusStyles.ts) is not in this script: the first screen,
// the login page, brings its own few components, and the rest is loaded before any other page
// is entered, or once the login page has painted (issue 18: the main script was 779 KB, parsed
// before anything could paint).
import 'element-plus/theme-chalk/dark/css-vars.css'
import './styles/base.css'
import App from './App.vue'
import { createAppRouter } from './router'
import { createAppI18n } from './i18n'
import { useSettingsStore } from './stores/settings'
import { useAccountStore } from './stores/account'
import { dataTrouble } from './api/backups'
import { afterPaint, askAtStart, loadOnce, showLoadFailure } from './startup'
import { releaseOnPageChange, watchIdle } from './idleRelease'

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
  const loadElementPlus = loadOnce(async () => {
    const [{ elementPlus }] = await Promise.all([import('./elementPlus'), import('./elementPlusStyles')])
    app.use(elementPlus)
  })
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
  const router = createAppRouter({
    requireLogin: async () => {
      if (!account.loaded) await account.load().catch(() => undefined)
      return account.profile === null
    },
    trouble: trouble !== null,
    beforeAppPage: loadElementPlus,
  })
  // A page refused because what it needs did not load: said to the writer, not only logged.
  router.onError((e: unknown) => {
    window.__inkstoneErrors.push(String(e))
    showLoadFailure(i18n.global.t('app.loadFailed'))
  })
  app.use(router)
  app.mount('#app')
  // Memory back once the writer has been away a while, or has left a page (issue 18; Linux,
  // with the extension).
  releaseOnPageChange(router, watchIdle())
  afterPaint(() => {
    void loadElementPlus()
      .then(async () => {
        // What start-up did (a restore, a copy before an upgrade), said once (a notification:
        // it needs Element Plus's styles).
        if (trouble) return
        const { showStartNotices } = await import('./views/settings/startNotices')
        await showStartNotices(i18n.global.t)
      })
      .catch((e: unknown) => window.__inkstoneErrors.push(String(e)))
  })
}

void bootstrap()
