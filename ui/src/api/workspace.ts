// The writing workspace (issue 17): typed wrappers over src-tauri/src/commands/workspace.rs.
import { Channel } from '@tauri-apps/api/core'
import { call } from './core'
import type { Generation, Update } from './flows'

export interface Project {
  id: number
  name: string
  archived: boolean
  /** Set while it is in the trash. */
  deleted_at: string | null
  created_at: string
  updated_at: string
}

export interface DocumentMeta {
  id: number
  project_id: number
  title: string
  revision: number
  /** Length of the text in characters. */
  chars: number
  archived: boolean
  deleted_at: string | null
  created_at: string
  updated_at: string
}

export interface WorkspaceDocument extends DocumentMeta {
  body: string
}

export interface ProjectNode extends Project {
  documents: DocumentMeta[]
}

export interface Tree {
  projects: ProjectNode[]
  trash: { projects: ProjectNode[]; documents: DocumentMeta[]; keep_days: number }
}

export interface Saved {
  id: number
  revision: number
  updated_at: string
}

export const workspaceTree = () => call<Tree>('workspace_tree')
export const projectCreate = (name: string) => call<Project>('project_create', { name })
export const projectRename = (id: number, name: string) => call<Project>('project_rename', { id, name })
export const projectArchive = (id: number, archived: boolean) => call<Project>('project_archive', { id, archived })
export const projectTrash = (id: number) => call<Project>('project_trash', { id })
export const projectRestore = (id: number) => call<Project>('project_restore', { id })
export const documentCreate = (projectId: number, title: string) =>
  call<WorkspaceDocument>('document_create', { projectId, title })
export const documentGet = (id: number) => call<WorkspaceDocument>('document_get', { id })
export const documentRename = (id: number, title: string) => call<DocumentMeta>('document_rename', { id, title })
export const documentMove = (id: number, projectId: number) => call<DocumentMeta>('document_move', { id, projectId })
export const documentArchive = (id: number, archived: boolean) =>
  call<DocumentMeta>('document_archive', { id, archived })
export const documentTrash = (id: number) => call<DocumentMeta>('document_trash', { id })
export const documentRestore = (id: number) => call<DocumentMeta>('document_restore', { id })
/** The autosave: stored only if `baseRevision` is still the stored revision (else `document_conflict`). */
export const documentSave = (id: number, body: string, baseRevision: number) =>
  call<Saved>('document_save', { id, body, baseRevision })

/** What to run when the window closes: the open workspace's save, or nothing once it is left. */
let closeHandler: (() => void) | null = null
let closeChannel: Promise<void> | null = null

/**
 * Calls `onClose` when the writer closes the window; the close waits (up to 2 s) for
 * `workspaceCloseReady`. `stop()` when the page is left. One channel serves every visit: a
 * channel per visit left the shell holding the last page's closure (and its document's text)
 * until the next visit.
 */
export function workspaceOnClose(onClose: () => void): { registered: Promise<void>; stop: () => void } {
  closeHandler = onClose
  if (!closeChannel) {
    const ch = new Channel<string>()
    ch.onmessage = () => {
      if (closeHandler) closeHandler()
      else void workspaceCloseReady().catch(() => undefined)
    }
    closeChannel = call<void>('workspace_on_close', { onClose: ch }).catch((error: unknown) => {
      closeChannel = null
      throw error
    })
  }
  return {
    registered: closeChannel,
    stop: () => {
      if (closeHandler === onClose) closeHandler = null
    },
  }
}
export const workspaceCloseReady = () => call<void>('workspace_close_ready')

/** What the AI does to the text (crates/core/src/document_ai.rs `Action`). */
export type DocAction =
  | { kind: 'continue' }
  | { kind: 'polish' }
  | { kind: 'expand' }
  | { kind: 'shorten' }
  | { kind: 'tone'; tone: string }
  | { kind: 'translate'; language: string }
  | { kind: 'instruct'; instruction: string }

export interface DocAiRequest {
  document_id: number
  action: DocAction
  /** The selection (a rewrite) or the text before the cursor (continue). */
  text: string
  /** Editor offsets of the selection, or from == to at the cursor. */
  from: number
  to: number
  /** "Retry": the run this one replaces (charged again). */
  regenerated_from: number | null
  /** Project notes attached to the run (they go into its system message). */
  notes?: number[]
}

/** A charged generation on the document through the one runner; stop it with `cancelGeneration`. */
export function documentAi(request: DocAiRequest, onUpdate: (u: Update) => void) {
  const ch = new Channel<Update>()
  ch.onmessage = onUpdate
  return call<Generation>('document_ai', { request, onEvent: ch })
}

/** A project's note, its memory (crates/core/src/notes.rs). */
export type NoteKind = 'character' | 'place' | 'outline' | 'style'
export const NOTE_KINDS: NoteKind[] = ['outline', 'character', 'place', 'style']

export interface Note {
  id: number
  project_id: number
  kind: NoteKind
  name: string
  body: string
  /** The core's estimate of the note's tokens in a run (Han ~1 each, other text ~4 chars each). */
  tokens: number
  created_at: string
  updated_at: string
}

export interface OutlineRun {
  generation: Generation
  /** The outline note the answer became; null when the run failed or was stopped. */
  note: Note | null
}

export const noteList = (projectId: number) => call<Note[]>('note_list', { projectId })
export const noteCreate = (projectId: number, kind: NoteKind, name: string, body: string) =>
  call<Note>('note_create', { projectId, kind, name, body })
export const noteUpdate = (id: number, name: string, body: string) => call<Note>('note_update', { id, name, body })
export const noteDelete = (id: number) => call<null>('note_delete', { id })

/** An outline of the document by AI: a charged run whose answer becomes an outline note. */
export function outlineGenerate(documentId: number, notes: number[], onUpdate: (u: Update) => void) {
  const ch = new Channel<Update>()
  ch.onmessage = onUpdate
  return call<OutlineRun>('outline_generate', { documentId, notes, onEvent: ch })
}

/** A version of a document (crates/core/src/versions.rs). */
export interface VersionMeta {
  id: number
  document_id: number
  kind: 'manual' | 'auto' | 'before_ai' | 'before_restore' | 'restored'
  name: string | null
  generation_id: number | null
  restored_from: number | null
  chars: number
  created_at: string
}
export interface Version extends VersionMeta {
  body: string
}

export const versionList = (documentId: number) => call<VersionMeta[]>('version_list', { documentId })
export const versionGet = (id: number) => call<Version>('version_get', { id })
/** A named version of the stored text (flush the autosave first). */
export const versionCreate = (documentId: number, name: string) => call<VersionMeta>('version_create', { documentId, name })
/** The version kept before an AI answer is accepted. */
export const versionBeforeAi = (documentId: number, generationId: number) =>
  call<VersionMeta>('version_before_ai', { documentId, generationId })
/** Restores a version; the replaced text is kept as a version first. */
export const versionRestore = (documentId: number, versionId: number, baseRevision: number) =>
  call<WorkspaceDocument>('version_restore', { documentId, versionId, baseRevision })

export type ExportFormat = 'docx' | 'md' | 'txt'
/** A new document from a .docx, .md or .txt file's bytes (base64; the webview has no paths). */
export const documentImport = (projectId: number, fileName: string, contentBase64: string) =>
  call<WorkspaceDocument>('document_import', { projectId, fileName, contentBase64 })
/**
 * Asks the writer for a folder with the system's folder picker (opened by Rust); resolves
 * with its path, or null when they cancel.
 */
export const exportPickFolder = (title: string) => call<string | null>('export_pick_folder', { title })
/**
 * Writes the document into `folder` (one the writer picked; Rust checks it) or, when null,
 * under the app's exports folder; resolves with the file written.
 */
export const documentExport = (id: number, format: ExportFormat, folder: string | null = null) =>
  call<string>('document_export', { id, format, folder })
/** Writes every document of the project into a new folder inside `folder`; resolves with it. */
export const projectExport = (id: number, format: ExportFormat, folder: string | null = null) =>
  call<string>('project_export', { id, format, folder })

/** A document history search found. */
export interface FoundDocument {
  id: number
  project_id: number
  title: string
  excerpt: string
  updated_at: string
}
/** The live documents holding every term of `query` (the history search's index, Chinese-aware). */
export const workspaceSearch = (query: string) => call<FoundDocument[]>('workspace_search', { query })
