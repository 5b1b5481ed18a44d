// Commands of src-tauri/src/commands/app.rs.
import { call } from './core'

/** The app's version (the `inkstone-app` crate version), read from Rust. */
export function appVersion(): Promise<string> {
  return call<string>('app_version')
}
