// What start-up did with the writer's data (a backup restored, a copy taken before an
// upgrade), said once as a notification in the writer's language.
import { ElNotification } from 'element-plus'
import { startNotices, type StartNotice } from '../../api/backups'

type T = (key: string, values?: Record<string, unknown>) => string

export function noticeText(t: T, notice: StartNotice): string {
  switch (notice.kind) {
    case 'restored':
      // An empty data folder had nothing to keep aside.
      return notice.kept ? t('backups.notices.restored', { kept: notice.kept }) : t('backups.notices.restoredFresh')
    case 'restore_refused':
      return t('backups.notices.restore_refused')
    case 'upgrade_copied':
      return t('backups.notices.upgrade_copied', { version: notice.version, folder: notice.folder })
  }
}

export async function showStartNotices(t: T): Promise<void> {
  const notices = await startNotices().catch(() => [] as StartNotice[])
  for (const notice of notices) {
    ElNotification({
      title: t('backups.title'),
      message: noticeText(t, notice),
      type: notice.kind === 'restore_refused' ? 'warning' : 'success',
      duration: 0,
      customClass: `start-notice start-notice--${notice.kind}`,
    })
  }
}
