import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'

type Workspace = typeof import('./workspace')

let seen: string[]
let channel: Channel<string> | null
let refuse: boolean

beforeEach(() => {
  // The close guard lives in the module: each test starts from a fresh page load.
  vi.resetModules()
  seen = []
  channel = null
  refuse = false
  mockIPC((cmd, args) => {
    seen.push(cmd)
    if (cmd === 'workspace_on_close') {
      if (refuse) throw new Error('no window')
      channel = (args as { onClose: Channel<string> }).onClose
    }
    return null
  })
})
afterEach(() => clearMocks())

const load = (): Promise<Workspace> => import('./workspace')
const closeWindow = () => channel?.onmessage('flush')

/** A workspace page opened (its close guard registered) and left, with a handler to watch. */
async function visitAndLeave({ workspaceOnClose }: Workspace) {
  const handler = vi.fn()
  const visit = workspaceOnClose(handler)
  await visit.registered
  visit.stop()
  return handler
}

describe('workspaceOnClose', () => {
  it('registers one channel for every visit and tells only the open page', async () => {
    const workspace = await load()
    const first = await visitAndLeave(workspace)
    const { workspaceOnClose } = workspace
    const second = vi.fn()
    const visit2 = workspaceOnClose(second)
    await visit2.registered
    closeWindow()
    expect(seen.filter((c) => c === 'workspace_on_close')).toHaveLength(1)
    expect(first).not.toHaveBeenCalled()
    expect(second).toHaveBeenCalledOnce()
  })

  it('lets the window close at once when no workspace is open', async () => {
    const left = await visitAndLeave(await load())
    closeWindow()
    await vi.waitFor(() => expect(seen).toContain('workspace_close_ready'))
    expect(left).not.toHaveBeenCalled()
  })

  it("a page that stops late does not unset the next page's handler", async () => {
    const { workspaceOnClose } = await load()
    const old = workspaceOnClose(vi.fn())
    const current = vi.fn()
    await workspaceOnClose(current).registered
    old.stop()
    closeWindow()
    expect(current).toHaveBeenCalledOnce()
  })

  it('registers again after a refused registration', async () => {
    const { workspaceOnClose } = await load()
    refuse = true
    await expect(workspaceOnClose(vi.fn()).registered).rejects.toBeTruthy()
    refuse = false
    const page = vi.fn()
    await workspaceOnClose(page).registered
    closeWindow()
    expect(seen.filter((c) => c === 'workspace_on_close')).toHaveLength(2)
    expect(page).toHaveBeenCalledOnce()
  })
})
