import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// The Django app answering API calls and sign-in during `npm run dev` alone.
const django = 'http://127.0.0.1:8000'

// Django serves the build from /static/ (frontend/dist is in STATICFILES_DIRS) and
// reads dist/.vite/manifest.json to find the hashed files. During development
// Django loads the scripts from this dev server when VITE_DEV_SERVER_URL is set.
export default defineConfig({
  plugins: [react()],
  base: '/static/',
  build: {
    manifest: true,
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    port: 5173,
    strictPort: true,
    // Absolute asset URLs, since the page itself is served by Django.
    origin: 'http://localhost:5173',
    // Lets `npm run dev` alone (http://localhost:5173/static/) reach the crm
    // module's API and the sign-in pages; sign in through /accounts/login/ there.
    proxy: {
      '/crm': django,
      '/accounts': django,
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    // One jsdom for all test files; src/test-setup.ts resets it between tests.
    isolate: false,
  },
})
