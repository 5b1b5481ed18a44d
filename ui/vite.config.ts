import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Tauri loads the built files from ui/dist (frontendDist) and, in `tauri dev`, this dev server.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: '127.0.0.1',
  },
  build: {
    // WebKitGTK 2.40+ / WKWebView (Safari 16) / WebView2 all understand ES2021.
    target: ['es2021', 'safari16'],
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    // Vitest's default is one worker less than the CPUs: on a 2-core machine, one file at a
    // time. At least two: there the suite took 41-47 s instead of 58-66 s, back to back.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
})
