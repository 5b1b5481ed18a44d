// Typed wrappers of src-tauri/src/commands/updates.rs: signed updates.
import { Channel } from '@tauri-apps/api/core'
import { call } from './core'

export interface Offer {
  version: string
  notes: string
  pub_date: string | null
  url: string
  signature: string
}

export interface Progress {
  received: number
  total: number | null
}

export type InstallPlan =
  | { kind: 'restart'; version: string }
  | { kind: 'run_command'; version: string; command: string }
  | { kind: 'open_installer'; version: string; path: string }

/** What the automatic check found (start and daily), if anything. */
export const updateStatus = () => call<Offer | null>('update_status')
/** Asks the update endpoint now. */
export const updateCheck = () => call<Offer | null>('update_check')
/** Downloads, verifies the signature and installs where the bundle allows; `null`: nothing newer. */
export function updateInstall(onProgress: (p: Progress) => void): Promise<InstallPlan | null> {
  const channel = new Channel<Progress>()
  channel.onmessage = onProgress
  return call<InstallPlan | null>('update_install', { onProgress: channel })
}
