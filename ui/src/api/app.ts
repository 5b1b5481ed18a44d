// Commands of src-tauri/src/commands/app.rs.
import { call } from './core'

/** The app's version (the `inkstone-app` crate version), read from Rust. */
export function appVersion(): Promise<string> {
  return call<string>('app_version')
}

/** Opens a web link in the system browser (Rust checks it is http(s)); ask the writer first. */
export function openLink(url: string): Promise<void> {
  return call<void>('open_link', { url })
}
