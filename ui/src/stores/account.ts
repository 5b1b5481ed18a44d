// The signed-in profile and its balance, refreshed after anything that moves credits.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import {
  creditBalance,
  deleteProfile as apiDeleteProfile,
  login as apiLogin,
  logout as apiLogout,
  registerProfile,
  sessionInfo,
  setMediaBase,
  type Balance,
  type Profile,
} from '../api/flows'
import { flushPendingSaves } from '../composables/pendingSaves'

export const useAccountStore = defineStore('account', () => {
  const profile = ref<Profile | null>(null)
  const demo = ref(false)
  // False on a fresh data folder: the sign-in page is the welcome page.
  const hasProfiles = ref(true)
  const balance = ref<Balance | null>(null)
  const loaded = ref(false)

  async function load() {
    const info = await sessionInfo()
    setMediaBase(info.media_base)
    profile.value = info.profile
    demo.value = info.demo
    hasProfiles.value = info.has_profiles
    loaded.value = true
    if (profile.value) await refresh()
  }

  async function refresh() {
    balance.value = profile.value ? await creditBalance() : null
  }

  /** The balance a running generation reported (`started`: balance_after, member), shown at once. */
  function setBalance(credits: number, isMember: boolean) {
    if (balance.value) {
      balance.value = { ...balance.value, credits, is_member: isMember }
    } else if (profile.value) {
      balance.value = { profile_id: profile.value.id, credits, is_member: isMember, member_until: null }
    }
  }

  async function login(username: string, password: string, remember: boolean) {
    profile.value = await apiLogin(username, password, remember)
    await refresh()
  }

  async function register(username: string, password: string, remember: boolean) {
    profile.value = await registerProfile(username, password, remember)
    hasProfiles.value = true
    await refresh()
  }

  async function deleteProfile(password: string, confirmation: string) {
    await apiDeleteProfile(password, confirmation)
    profile.value = null
    balance.value = null
    // Another profile may remain; the sign-in page asks Rust again.
    const info = await sessionInfo()
    hasProfiles.value = info.has_profiles
  }

  async function logout() {
    // The workspace's unsaved text is stored under this profile before it signs out.
    await flushPendingSaves()
    await apiLogout()
    profile.value = null
    balance.value = null
  }

  return { profile, demo, hasProfiles, balance, loaded, load, refresh, setBalance, login, register, deleteProfile, logout }
})
