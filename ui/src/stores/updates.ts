// An update being checked or installed, kept for the whole session: the settings page builds
// its sections only while their tab is shown (issue 18), and a writer who leaves the About
// tab during a download must find its progress when they come back, not a second Install
// button that would start another download into the same folder.
import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { updateCheck, updateInstall, updateStatus, type InstallPlan, type Offer } from '../api/updates'

export const useUpdatesStore = defineStore('updates', () => {
  const offer = ref<Offer | null>(null)
  const checked = ref(false)
  const busy = ref(false)
  const received = ref(0)
  const total = ref<number | null>(null)
  const plan = ref<InstallPlan | null>(null)
  /** The last check's or install's failure, as thrown (the page words it). */
  const error = ref<unknown>(null)

  const percent = computed(() => (total.value ? Math.min(100, Math.round((received.value / total.value) * 100)) : 0))

  /** What the automatic check found; nothing found keeps what a check by hand found. */
  async function load() {
    if (busy.value || plan.value) return
    const found = await updateStatus().catch(() => null)
    if (found || !checked.value) offer.value = found
  }

  async function check() {
    if (busy.value) return
    busy.value = true
    error.value = null
    try {
      offer.value = await updateCheck()
      checked.value = true
    } catch (e) {
      error.value = e
    } finally {
      busy.value = false
    }
  }

  async function install() {
    if (busy.value) return
    busy.value = true
    error.value = null
    received.value = 0
    total.value = null
    try {
      plan.value = await updateInstall((p) => {
        received.value = p.received
        total.value = p.total
      })
      if (plan.value === null) offer.value = null
    } catch (e) {
      error.value = e
    } finally {
      busy.value = false
    }
  }

  return { offer, checked, busy, received, total, plan, error, percent, load, check, install }
})
