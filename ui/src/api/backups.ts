// Typed wrappers of src-tauri/src/commands/backups.rs: daily backups, back up now, restore
// (the app restarts on the backup), and the page shown when the database is not well.
import { call } from './core'
import type { Locale } from '../i18n'

export interface BackupEntry {
  name: string
  path: string
  /** RFC 3339: the day a daily backup stands for, or when "back up now" wrote it. */
  taken_at: string
  bytes: number
}

export interface BackupCheck {
  schema_version: number
  profiles: number
  generations: number
}

export type TroubleKind = 'corrupt' | 'locked' | 'read_only' | 'upgrade_failed' | 'newer' | 'unreadable'

export interface TroubleView {
  kind: TroubleKind
  latest_backup: BackupEntry | null
  upgrade_copy: string | null
  data_dir: string
  locale: Locale
}

export type TroubleAction = 'retry' | 'restore_latest' | 'start_fresh'

export type StartNotice =
  | { kind: 'restored'; kept: string }
  | { kind: 'restore_refused'; reason: string }
  | { kind: 'upgrade_copied'; version: string; folder: string }

export const backupsList = () => call<BackupEntry[]>('backups_list')
export const backupNow = (folder: string) => call<BackupEntry>('backup_now', { folder })
/** Checks `file`; on success the app restarts a moment later and opens on the backup. */
export const backupRestore = (file: string) => call<BackupCheck>('backup_restore', { file })
/** What start-up did, once. */
export const startNotices = () => call<StartNotice[]>('start_notices')
/** `null` when the database opened; otherwise why not. */
export const dataTrouble = () => call<TroubleView | null>('data_trouble')
/** Returns the trouble that remains, or `null` when the app now runs. */
export const dataTroubleResolve = (action: TroubleAction) =>
  call<TroubleView | null>('data_trouble_resolve', { action })

export interface ExportReport {
  path: string
  generations: number
  files: number
}

export interface ImportReport {
  imported: number
  /** Already in this profile's history. */
  skipped: number
  files: number
}

/** One zip: every generation as Markdown, the generated files, the transactions as CSV. */
export const exportEverything = (folder: string) => call<ExportReport>('export_everything', { folder })
/** Takes history back from an export; never credits or memberships. */
export const importEverything = (file: string) => call<ImportReport>('import_everything', { file })
