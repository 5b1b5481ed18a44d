import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../i18n'
import { noticeText } from './startNotices'

describe('start notices', () => {
  it('say what start-up did with the data, in both languages', () => {
    const zh = createAppI18n('zh-CN').global.t
    const en = createAppI18n('en').global.t
    expect(noticeText(zh, { kind: 'restored', kept: '/d/backups/aside/x-before-restore' })).toBe(
      '已恢复备份。恢复前的数据另存在：/d/backups/aside/x-before-restore',
    )
    expect(noticeText(en, { kind: 'restored', kept: '' })).toBe('The backup was restored.')
    expect(noticeText(en, { kind: 'restore_refused', reason: 'backup_damaged' })).toContain('failed its checks')
    expect(noticeText(zh, { kind: 'upgrade_copied', version: '0.2.0', folder: '/d/backups/before-0.2.0' })).toContain(
      '升级到 0.2.0 之前',
    )
  })
})
