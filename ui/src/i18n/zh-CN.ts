// Chinese is the source language: every other locale must have exactly these keys.
const zhCN = {
  app: {
    name: '墨砚',
    tagline: 'AI 写作工作室',
  },
  nav: {
    writing: '写作',
    image: '图片',
    video: '视频',
    ppt: 'PPT',
    history: '历史',
    recharge: '积分充值',
    membership: '会员',
    transactions: '交易记录',
    settings: '设置',
  },
  header: {
    toggleTheme: '切换深色模式',
  },
  placeholder: {
    comingSoon: '此功能正在建设中。',
  },
  settings: {
    title: '设置',
    language: '界面语言',
    theme: '主题',
    themeLight: '浅色',
    themeDark: '深色',
    about: '关于',
    version: '版本',
    versionUnknown: '未知',
  },
  errors: {
    ipc: '无法与应用核心通信：{message}',
    database: '本地数据库出错，请重试。',
    unknown: '出错了：{message}',
  },
}

export default zhCN
export type MessageSchema = typeof zhCN
