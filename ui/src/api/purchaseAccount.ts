// Typed wrappers of src-tauri/src/commands/purchase_account.rs and the purchase account
// commands of shop.rs (issue 14).
import { call } from './core'
export { accountSetCredentials, accountSignIn } from './flows'

/** crates/shop `AccountStatus`: what the settings page shows about the purchase account. */
export interface AccountStatus {
  /** Null before the first purchase or sign-in. */
  account_id: string | null
  /** This computer holds a token for the account. */
  signed_in: boolean
  /** The payment server answered just now (else name and purchases are unknown). */
  reachable: boolean
  /** The server refused the token: signed out everywhere from another computer. */
  token_refused: boolean
  login_name: string | null
  has_credentials: boolean
  purchases: number
}

/** crates/core/src/claims.rs `PurchaseElsewhere`: a credit package another computer credited. */
export interface PurchaseElsewhere {
  order_no: string
  profile_id: number
  sku: string
  credits: number
  bonus_credits: number
  amount_fen: number
  provider: string
  paid_at: string
  claimed_at: string
}

export const purchaseAccountStatus = () => call<AccountStatus>('purchase_account_status')
/** Every token of the account stops working, this computer's included. */
export const purchaseAccountSignOutEverywhere = () => call<void>('purchase_account_sign_out_everywhere')
/** Kept on this computer: works offline. */
export const purchasesElsewhere = () => call<PurchaseElsewhere[]>('purchases_elsewhere')
