import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import ElementPlus from 'element-plus'
import MarkdownView from './MarkdownView.vue'
import { createAppI18n } from '../i18n'

function render(source: string) {
  return mount(MarkdownView, { props: { source }, attachTo: document.body, global: { plugins: [createAppI18n('zh-CN'), ElementPlus] } })
}

afterEach(() => clearMocks())

describe('MarkdownView', () => {
  it('renders Markdown', () => {
    const w = render('# 春天\n\n**桃花**')
    expect(w.find('h1').text()).toBe('春天')
    expect(w.find('strong').text()).toBe('桃花')
    w.unmount()
  })

  it('shows raw HTML from a model as text and runs nothing', () => {
    ;(window as unknown as { pwned?: boolean }).pwned = false
    const evil = '<img src=x onerror="window.pwned=true"> <script>window.pwned=true</script> [x](javascript:window.pwned=true)'
    const w = render(evil)
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
    expect(w.element.querySelectorAll('[onerror]').length).toBe(0)
    expect(w.find('a[href^="javascript"]').exists()).toBe(false)
    expect(w.text()).toContain('<img src=x onerror=')
    expect((window as unknown as { pwned?: boolean }).pwned).toBe(false)
    w.unmount()
  })

  it('opens a web link only after the writer confirms, through Rust, never in the window', async () => {
    const calls: Array<[string, unknown]> = []
    mockIPC((cmd, args) => {
      calls.push([cmd, args])
      return null
    })
    const before = window.location.href
    const w = render('参考 [墨砚](https://example.com/inkstone-demo)')
    await w.find('a').trigger('click')
    expect(window.location.href).toBe(before)
    expect(w.find('[data-testid="link-url"]').text()).toBe('https://example.com/inkstone-demo')
    expect(calls).toEqual([])
    // Cancel: nothing opens.
    await w.find('[data-testid="link-cancel"]').trigger('click')
    expect(w.find('[data-testid="link-confirm"]').exists()).toBe(false)
    expect(calls).toEqual([])
    // Confirm: Rust opens it.
    await w.find('a').trigger('click')
    await w.find('[data-testid="link-open"]').trigger('click')
    await flushPromises()
    expect(calls).toEqual([['open_link', { url: 'https://example.com/inkstone-demo' }]])
    expect(window.location.href).toBe(before)
    w.unmount()
  })

  it('offers nothing for a link that is not a web link', async () => {
    mockIPC(() => null)
    const w = render('[本地](file:///etc/passwd) [页](#/settings)')
    for (const a of w.findAll('a')) await a.trigger('click')
    expect(w.find('[data-testid="link-confirm"]').exists()).toBe(false)
    w.unmount()
  })

  it('while streaming, shows the growing answer part by part at most every 50 ms, then whole', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    try {
      const text = '# 春天\n\n桃花开了。\n\n- 一\n- 二\n\n[链接](https://example.com)'
      const w = mount(MarkdownView, {
        props: { source: text.slice(0, 1), streaming: true },
        global: { plugins: [createAppI18n('zh-CN'), ElementPlus] },
      })
      const whole = (s: string) => render(s).find('[data-testid=markdown]').html()
      for (let i = 2; i <= text.length; i++) {
        await w.setProps({ source: text.slice(0, i) })
        vi.advanceTimersByTime(10)
      }
      vi.advanceTimersByTime(50)
      await w.vm.$nextTick()
      expect(w.findAll('.markdown__part').length).toBeGreaterThan(2)
      expect(w.find('h1').text()).toBe('春天')
      expect(w.findAll('li').map((li) => li.text())).toEqual(['一', '二'])
      expect(w.find('a').attributes('href')).toBe('https://example.com')
      // After a quiet spell new text shows at once; more right after waits for 50 ms after it.
      vi.advanceTimersByTime(100)
      await w.setProps({ source: text + '\n\n更多' })
      expect(w.text()).toContain('更多')
      await w.setProps({ source: text + '\n\n更多文字' })
      expect(w.text()).not.toContain('更多文字')
      vi.advanceTimersByTime(49)
      await w.vm.$nextTick()
      expect(w.text()).not.toContain('更多文字')
      vi.advanceTimersByTime(1)
      await w.vm.$nextTick()
      expect(w.text()).toContain('更多文字')
      await w.setProps({ source: text, streaming: false })
      expect(w.findAll('.markdown__part').length).toBe(1)
      expect(w.find('[data-testid=markdown]').html()).toBe(whole(text))
      w.unmount()
    } finally {
      vi.useRealTimers()
    }
  })

  it('says why when the link cannot be opened', async () => {
    mockIPC(() => {
      throw { kind: 'open_failed', message: 'no browser' }
    })
    const w = render('<https://example.com/x>')
    await w.find('a').trigger('click')
    await w.find('[data-testid="link-open"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="link-error"]').text()).toContain('浏览器')
    w.unmount()
  })
})
