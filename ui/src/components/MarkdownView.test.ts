import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MarkdownView from './MarkdownView.vue'

describe('MarkdownView', () => {
  it('renders Markdown', () => {
    const w = mount(MarkdownView, { props: { source: '# 春天\n\n**桃花**' } })
    expect(w.find('h1').text()).toBe('春天')
    expect(w.find('strong').text()).toBe('桃花')
  })

  it('shows raw HTML from a model as text and runs nothing', () => {
    ;(window as unknown as { pwned?: boolean }).pwned = false
    const evil = '<img src=x onerror="window.pwned=true"> <script>window.pwned=true</script> [x](javascript:window.pwned=true)'
    const w = mount(MarkdownView, { props: { source: evil }, attachTo: document.body })
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('script').exists()).toBe(false)
    expect(w.element.querySelectorAll('[onerror]').length).toBe(0)
    expect(w.find('a[href^="javascript"]').exists()).toBe(false)
    expect(w.text()).toContain('<img src=x onerror=')
    expect((window as unknown as { pwned?: boolean }).pwned).toBe(false)
    w.unmount()
  })
})
