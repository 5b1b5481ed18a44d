// The nonce Tauri put on index.html's <style id="style-nonce"> for this load. The CSP allows
// styles only from files and from elements carrying that nonce, so a library that writes its
// own <style> (CodeMirror's themes) needs it: without it WebKit drops the sheet and the
// editor runs without its base styles (no scroll container, no pre-wrap lines).
// '' when there is none (the dev server, unit tests): the library then mounts as before.
export function styleNonce(doc: Document = document): string {
  const carrier = doc.getElementById('style-nonce')
  return carrier instanceof HTMLStyleElement ? carrier.nonce || carrier.getAttribute('nonce') || '' : ''
}
