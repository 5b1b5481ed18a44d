import type { MessageSchema } from './zh-CN'

const en: MessageSchema = {
  app: {
    name: 'Inkstone',
    tagline: 'AI writing studio',
  },
  nav: {
    writing: 'Writing',
    image: 'Image',
    video: 'Video',
    ppt: 'Slides',
    history: 'History',
    recharge: 'Buy credits',
    membership: 'Membership',
    transactions: 'Transactions',
    settings: 'Settings',
  },
  header: {
    toggleTheme: 'Toggle dark mode',
  },
  placeholder: {
    comingSoon: 'This feature is being built.',
  },
  settings: {
    title: 'Settings',
    language: 'Language',
    theme: 'Theme',
    themeLight: 'Light',
    themeDark: 'Dark',
    about: 'About',
    version: 'Version',
    versionUnknown: 'unknown',
  },
  errors: {
    ipc: 'Cannot reach the app core: {message}',
    database: 'The local database failed; please try again.',
    unknown: 'Something went wrong: {message}',
  },
}

export default en
