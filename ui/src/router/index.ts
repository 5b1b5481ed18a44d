import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'
// In the main script, not a chunk of its own: it is the first screen whenever no profile is
// kept signed in, and its components and styles (a few of Element Plus's) then parse with the
// main script instead of after the start-up questions (issue 18).
import LoginView from '../views/LoginView.vue'

/**
 * One entry per navigation item; `key` names both the route and its `nav.*` label.
 * `needsProfile` items are shown only to a signed-in profile (statistics: the owner of this
 * computer sees every profile's, everyone else their own).
 */
export const NAV_ITEMS = [
  { key: 'writing', path: '/writing', icon: 'EditPen' },
  { key: 'workspace', path: '/workspace', icon: 'Document' },
  { key: 'image', path: '/image', icon: 'Picture' },
  { key: 'video', path: '/video', icon: 'VideoCamera' },
  { key: 'ppt', path: '/ppt', icon: 'Monitor' },
  { key: 'history', path: '/history', icon: 'Clock' },
  { key: 'recharge', path: '/recharge', icon: 'Coin' },
  { key: 'membership', path: '/membership', icon: 'Medal' },
  { key: 'transactions', path: '/transactions', icon: 'Tickets' },
  { key: 'stats', path: '/stats', icon: 'DataAnalysis', needsProfile: true },
  { key: 'settings', path: '/settings', icon: 'Setting' },
] as const

export type NavKey = (typeof NAV_ITEMS)[number]['key']

const children: RouteRecordRaw[] = [
  { path: '', redirect: '/writing' },
  { path: 'writing', name: 'writing', component: () => import('../views/WritingView.vue') },
  { path: 'workspace', name: 'workspace', component: () => import('../views/workspace/WorkspaceView.vue') },
  { path: 'image', name: 'image', component: () => import('../views/ImageView.vue') },
  { path: 'video', name: 'video', component: () => import('../views/VideoView.vue') },
  { path: 'ppt', name: 'ppt', component: () => import('../views/PptView.vue') },
  { path: 'history', name: 'history', component: () => import('../views/HistoryView.vue') },
  { path: 'recharge', name: 'recharge', component: () => import('../views/RechargeView.vue') },
  { path: 'membership', name: 'membership', component: () => import('../views/MembershipView.vue') },
  {
    path: 'transactions',
    name: 'transactions',
    component: () => import('../views/TransactionsView.vue'),
  },
  { path: 'stats', name: 'stats', component: () => import('../views/StatsView.vue') },
  { path: 'settings', name: 'settings', component: () => import('../views/SettingsView.vue') },
]

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: LoginView },
  // The database is not well (issue 19): the only page until the writer has chosen.
  { path: '/trouble', name: 'trouble', component: () => import('../views/TroubleView.vue') },
  // Loaded when first needed, like every page: the login page paints without it (issue 18).
  { path: '/', component: () => import('../layouts/MainLayout.vue'), children },
  { path: '/:pathMatch(.*)*', redirect: '/writing' },
]

// Hash history: the app is served from a custom protocol with no server-side fallback.
export interface AppRouterOptions {
  requireLogin?: () => Promise<boolean>
  trouble?: boolean
  /**
   * Awaited before entering any page but the login page: main.ts loads the rest of Element
   * Plus there, which the login page does without so that it paints sooner (issue 18).
   */
  beforeAppPage?: () => Promise<unknown>
}

export function createAppRouter(options: AppRouterOptions = {}) {
  const router = createRouter({ history: createWebHashHistory(), routes })
  // With the database not well every page is the trouble page, and the trouble page is never
  // shown without trouble.
  router.beforeEach((to) => {
    if (options.trouble) return to.name === 'trouble' ? true : { name: 'trouble' }
    return to.name === 'trouble' ? { path: '/' } : true
  })
  if (options.requireLogin && !options.trouble) {
    const needsLogin = options.requireLogin
    // Every page but the login page needs a signed-in profile.
    router.beforeEach(async (to) => (to.name !== 'login' && (await needsLogin()) ? { name: 'login' } : true))
  }
  // Last, so that it runs only for the page actually entered (after the redirects above).
  const beforeAppPage = options.beforeAppPage
  if (beforeAppPage) {
    router.beforeEach(async (to) => {
      if (to.name !== 'login') await beforeAppPage()
      return true
    })
  }
  return router
}
