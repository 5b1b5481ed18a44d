// Typed wrappers of the commands in src-tauri/src/commands/{session,credits,studio,ai,shop}.rs.
import { Channel, convertFileSrc } from '@tauri-apps/api/core'
import { call } from './core'
import type { Tool } from '../i18n/tools.generated'

export interface Profile { id: number; username: string; is_admin: boolean; server_account_id: string | null; created_at: string }
export interface SessionInfo { profile: Profile | null; demo: boolean; has_profiles: boolean; media_base?: string | null }
/** crates/core/src/profiles.rs `DeletedProfile`. */
export interface DeletedProfile { profile_id: number; username: string; files: string[]; new_owner: number | null }
export interface Balance { profile_id: number; credits: number; is_member: boolean; member_until: string | null }
export type TxKind = 'RECHARGE' | 'CONSUME' | 'REFUND' | 'BONUS' | 'EXPIRE'
export type TxReason = 'generation' | 'refund_failed' | 'refund_interrupted' | 'refund_stopped' | 'refund' | 'purchase' | 'purchase_bonus' | 'demo_start' | 'bonus_expired' | 'purchase_refunded'
export interface PackageRef { sku: string; credits: number; bonus_credits: number }
export interface Transaction {
  id: number; profile_id: number; kind: TxKind; delta: number; balance_after: number; description: string; reason: TxReason | null
  tool: string | null; order_no: string | null; package: PackageRef | null; generation_id: number | null; refund_of: number | null; created_at: string
}
export interface TxFilter { kinds: TxKind[]; from: string | null; to: string | null; text: string | null }
export interface PageRequest { limit: number; before_id: number | null }
export interface TxPage { items: Transaction[]; next_before_id: number | null }
export interface CreditPackage { sku: string; credits: number; bonus_credits: number; price_fen: number; bonus_valid_days?: number | null }
export interface MembershipPlan { sku: string; plan: string; days: number; price_fen: number; original_price_fen: number }
export interface CachedCatalog { catalog: { credit_packages: CreditPackage[]; membership_plans: MembershipPlan[] }; fetched_at: string | null }
export interface MembershipStatus { is_member: boolean; member_until: string | null; days_left: number }
export type GenerationStatus = 'running' | 'succeeded' | 'failed' | 'stopped' | 'interrupted'
/** A file the writer gave a generation (the picture a vision run was about): the app's copy. */
export interface InputFile { path: string; name: string }
export interface Generation {
  id: number; profile_id: number; tool: Tool; model: string; prompt: string; params: unknown; status: GenerationStatus
  output_text: string; files: string[]; inputs: InputFile[]; usage: { input_tokens: number | null; output_tokens: number | null }; cost: number
  refunded: boolean; error_kind: string | null; error_message: string | null; created_at: string; finished_at: string | null
}
export interface HistoryItem {
  id: number; tool: Tool; model: string; status: GenerationStatus; prompt: string; output: string
  file_count: number; cost: number; refunded: boolean; created_at: string
}
export interface HistoryFilter { tools: string[]; statuses: GenerationStatus[]; from: string | null; to: string | null; text: string | null }
export interface HistoryPage { items: HistoryItem[]; next_before_id: number | null }
export type Update =
  | { type: 'started'; generation_id: number; charged: number; balance_after: number; member: boolean }
  | { type: 'text'; text: string }
  | { type: 'progress'; percent: number; note: string }
  | { type: 'finished'; generation: Generation }
export interface KeyStatus { configured: boolean; hint: string | null; demo_model: boolean }
export type ModelProvider = 'dashscope' | 'openai'
export type ModelKind = 'text' | 'vision' | 'image' | 'video'
export interface ModelConfig {
  id: number; name: string; provider: ModelProvider; model_id: string; kind: ModelKind; base_url: string | null
  params: Record<string, unknown>; is_active: boolean; builtin: boolean
}
/** What the model form sends (crates/core/src/models.rs `ModelInput`). */
export interface ModelInput {
  name: string; provider: ModelProvider; model_id: string; kind: ModelKind; base_url: string | null; params: Record<string, unknown>
}
export interface KindTotal { kind: TxKind; count: number; credits: number }
export interface DailyTotal { day: string; kind: TxKind; count: number; credits: number }
/** crates/core/src/ledger.rs `Statistics`. */
export interface CreditStatistics { totals: KindTotal[]; daily: DailyTotal[] }
export interface PlanTotal { plan: string; orders: number; revenue_fen: number }
/** crates/core/src/purchases.rs `MembershipStatistics`. */
export interface MembershipStatistics { active_members: number; orders: number; revenue_fen: number; by_plan: PlanTotal[] }
export interface Order {
  order_no: string; profile_id: number; kind: string; sku: string; provider: string; amount_fen: number; qr_payload: string
  status: 'pending' | 'paid' | 'expired' | 'closed'; expires_at: string; created_at: string; applied: boolean
}
export interface OrderWithQr { order: Order; qr_svg: string; sandbox: boolean }
/** `check_failed`: pending, and asking the payment provider failed just now (still waiting). */
/** `elsewhere`: paid, and another computer of the purchase account credited it (at `claimed_at`). */
export interface OrderState { state: 'applied' | 'ended' | 'pending' | 'elsewhere'; order: Order; check_failed?: boolean; claimed_at?: string | null }
/** What restoring did: receipts applied, credit packages credited on another computer (listed, not credited), and each that could not be (by error kind). */
export interface Restored { applied: number; elsewhere: number; failures: { order_no: string; kind: string }[] }
/** `providers`: what the endpoint offers (`sandbox`, `wechat`, `alipay`); null when it could not be asked. */
export interface PaymentInfo { server_url: string | null; sandbox: boolean; providers: string[] | null }

/** `remember`: "keep me signed in on this computer" (the secret stays in the OS keychain). */
export const login = (username: string, password: string, remember: boolean) => call<Profile>('login', { username, password, remember })
/** The first profile on this computer is its owner. */
export const registerProfile = (username: string, password: string, remember: boolean) =>
  call<Profile>('register_profile', { username, password, remember })
export const changePassword = (current: string, next: string) => call<void>('change_password', { current, new: next })
/** Writes the signed-in profile's history, ledger and files under the exports folder; returns the folder. */
export const profileExport = () => call<string>('profile_export')
export const deleteProfile = (password: string, confirmation: string) => call<DeletedProfile>('delete_profile', { password, confirmation })
export const logout = () => call<void>('logout')
export const sessionInfo = () => call<SessionInfo>('session_info')
export const creditBalance = () => call<Balance>('credit_balance')
export const creditTransactions = (filter: TxFilter, page: PageRequest) => call<TxPage>('credit_transactions', { filter, page })
export const creditPrices = () => call<CachedCatalog>('credit_prices')
export const membershipStatus = () => call<MembershipStatus>('membership_status')
export const membershipPreview = (days: number) => call<string>('membership_preview', { days })
/** The owner of this computer only with `allProfiles` (else `owner_only`); the range defaults to the last 30 days. */
export const creditStatistics = (range: { from: string | null; to: string | null }, allProfiles: boolean) =>
  call<CreditStatistics>('credit_statistics', { from: range.from, to: range.to, allProfiles })
/** Admins only (else `invalid_argument`). */
export const membershipStatistics = () => call<MembershipStatistics>('membership_statistics')

function channel(onUpdate: (u: Update) => void): Channel<Update> {
  const ch = new Channel<Update>()
  ch.onmessage = onUpdate
  return ch
}

export const generateWriting = (
  input: { tool: Tool; input: string; params: Record<string, unknown>; regenerated_from?: number | null },
  onUpdate: (u: Update) => void,
) => call<Generation>('generate_writing', { input, onEvent: channel(onUpdate) })
/** Image understanding: the image travels as base64 bytes (a webview file input has no path). */
export const generateVision = (
  input: { input: string; params: Record<string, unknown> },
  image: { base64: string; fileName: string },
  onUpdate: (u: Update) => void,
) =>
  call<Generation>('generate_vision', {
    input: { tool: 'vision', ...input },
    imageBase64: image.base64,
    fileName: image.fileName,
    onEvent: channel(onUpdate),
  })
export const generateSlides = (topic: string, slides: number, language: string, accent: string, onUpdate: (u: Update) => void) =>
  call<Generation>('generate_slides', { topic, slides, language, accent, onEvent: channel(onUpdate) })
export const generateMedia = (kind: 'image' | 'video', prompt: string, params: Record<string, unknown>, onUpdate: (u: Update) => void) =>
  call<Generation>('generate_media', { kind, prompt, params, onEvent: channel(onUpdate) })
export const creditOrders = () => call<Order[]>('credit_orders')
export const membershipOrders = () => call<Order[]>('membership_orders')
export const cancelGeneration = (generationId: number) => call<boolean>('cancel_generation', { generationId })
export const historyList = (filter: HistoryFilter, page: PageRequest) => call<HistoryPage>('history_list', { filter, page })
export const historyGet = (id: number) => call<Generation>('history_get', { id })
export const historyDelete = (id: number) => call<void>('history_delete', { id })
export const historyExport = (id: number, format: 'md' | 'txt') => call<string>('history_export', { id, format })
/** Writes the export under `<data dir>/exports/` (a folder when the run made files); returns the path. */
export const historyExportTo = (id: number, format: 'md' | 'txt') => call<string>('history_export_to', { id, format })
/**
 * A generated file (`output`) or a file the writer gave (`input`) of a generation, as a URL of the
 * app's `inkfile:` protocol: Rust serves it in byte ranges, only to the profile that made it.
 */
export function generationFileUrl(
  generationId: number,
  which: 'output' | 'input',
  index: number,
  media: 'video' | 'other' = 'other',
): string {
  const address = `g/${generationId}/${which === 'output' ? 'f' : 'i'}/${index}`
  // WebKitGTK gives a custom scheme's media URL to GStreamer, which cannot read it: videos come
  // from Rust's loopback listener instead (same files, same checks; see src-tauri/src/media.rs).
  if (media === 'video' && mediaBase) return `${mediaBase}/${address}`
  return convertFileSrc(address, 'inkfile')
}

let mediaBase: string | null = null
/** Set from `session_info` at start: where videos are read from. */
export function setMediaBase(base: string | null | undefined) {
  mediaBase = base ?? null
}
export const aiKeyStatus = () => call<KeyStatus>('ai_key_status')
export const aiSetKey = (key: string) => call<KeyStatus>('ai_set_key', { key })
export const aiDeleteKey = () => call<KeyStatus>('ai_delete_key')
export const aiTestConnection = () => call<string>('ai_test_connection')
export const aiModels = () => call<ModelConfig[]>('ai_models')
export const aiModelActivate = (id: number) => call<ModelConfig>('ai_model_activate', { id })
/** `apiKey`: an OpenAI-compatible model's own key, stored in the keychain by Rust (never read back). */
export const aiModelAdd = (model: ModelInput, apiKey?: string) =>
  call<ModelConfig>('ai_model_add', apiKey ? { model, apiKey } : { model })
export const aiModelUpdate = (id: number, model: ModelInput, apiKey?: string) =>
  call<ModelConfig>('ai_model_update', apiKey ? { id, model, apiKey } : { id, model })
export const aiModelHasKey = (id: number) => call<boolean>('ai_model_has_key', { id })
export const aiModelDelete = (id: number) => call<void>('ai_model_delete', { id })
export const orderCreate = (sku: string, provider: string) => call<OrderWithQr>('order_create', { sku, provider })
export const orderWait = (orderNo: string) => call<OrderState>('order_wait', { orderNo })
export const orderCheck = (orderNo: string) => call<OrderState>('order_check', { orderNo })
export const orderCancel = (orderNo: string) => call<OrderState>('order_cancel', { orderNo })
export const restorePurchases = () => call<Restored>('restore_purchases')
export const paymentInfo = () => call<PaymentInfo>('payment_info')

/** A picked file as plain base64 (no `data:` prefix), for commands that take bytes. */
export async function fileToBase64(file: Blob): Promise<string> {
  // FileReader rather than Blob.arrayBuffer(): every webview and jsdom have it.
  const buffer = await new Promise<ArrayBuffer>((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result as ArrayBuffer)
    reader.onerror = () => reject(reader.error ?? new Error('cannot read the file'))
    reader.readAsArrayBuffer(file)
  })
  const bytes = new Uint8Array(buffer)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** 1234 fen → "12.34". */
export function yuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}
/** Gives the purchase account a name and password; resolves to the one-time recovery code. */
export const accountSetCredentials = (loginName: string, password: string) =>
  call<string>('account_set_credentials', { loginName, password })
/** Signs the profile in to its purchase account; resolves to the account id. */
export const accountSignIn = (how: { loginName: string; password: string } | { recoveryCode: string }) =>
  call<string>('account_sign_in', how)
