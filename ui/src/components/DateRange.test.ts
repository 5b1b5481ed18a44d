import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import DateRange from './DateRange.vue'

const PANEL = '.el-picker-panel'

function render(props: Record<string, unknown> = {}) {
  return mount(DateRange, { props, attachTo: document.body, global: { plugins: [ElementPlus] } })
}

describe('DateRange', () => {
  it('keeps no picker panel in the page until it is used', async () => {
    const w = render({ modelValue: null })
    await flushPromises()
    expect(w.find('[data-stand-in=date-range]').exists()).toBe(true)
    expect(document.querySelector(PANEL)).toBeNull()
    expect(w.find('input').attributes('placeholder')).toBe('Start Date  -  End Date')
    w.unmount()
  })

  it('mounts the real picker and opens it on the first click', async () => {
    const w = render({ modelValue: null, startPlaceholder: 'from', endPlaceholder: 'to' })
    expect(w.find('input').attributes('placeholder')).toBe('from  -  to')
    await w.find('input').trigger('click')
    await flushPromises()
    expect(w.find('[data-stand-in=date-range]').exists()).toBe(false)
    const inputs = w.findAll('input')
    expect(inputs.map((i) => i.attributes('placeholder'))).toEqual(['from', 'to'])
    expect(document.querySelector(PANEL)).not.toBeNull()
    w.unmount()
  })

  it('passes a chosen range and its change through', async () => {
    const w = render({ modelValue: null })
    // Reached with the keyboard: focus alone wakes it.
    ;(w.find('input').element as HTMLInputElement).focus()
    await flushPromises()
    const range: [Date, Date] = [new Date(2026, 0, 1), new Date(2026, 0, 31)]
    w.findComponent({ name: 'ElDatePicker' }).vm.$emit('update:modelValue', range)
    w.findComponent({ name: 'ElDatePicker' }).vm.$emit('change', range)
    expect(w.element.contains(document.activeElement)).toBe(true)
    expect(w.emitted('update:modelValue')?.[0]).toEqual([range])
    expect(w.emitted('change')?.[0]).toEqual([range])
    w.unmount()
  })

  it('shows the real picker once a range is set from outside', async () => {
    const w = render({ modelValue: null })
    await w.setProps({ modelValue: [new Date(2026, 0, 1), new Date(2026, 0, 31)] })
    expect(w.find('[data-stand-in=date-range]').exists()).toBe(false)
    expect(w.findComponent({ name: 'ElDatePicker' }).exists()).toBe(true)
    w.unmount()
  })

  it('shows the real picker at once when a range is already chosen', () => {
    const w = render({ modelValue: [new Date(2026, 0, 1), new Date(2026, 0, 31)] })
    expect(w.find('[data-stand-in=date-range]').exists()).toBe(false)
    expect(w.findComponent({ name: 'ElDatePicker' }).exists()).toBe(true)
    w.unmount()
  })
})
