import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run dev` proxies the API (and its runtime config) to a running `framefleet up`.
// changeOrigin: the local server answers only to its own Host (DNS-rebinding protection).
const api = { target: process.env.FRAMEFLEET_API ?? 'http://127.0.0.1:8000', changeOrigin: true }

export default defineConfig({
  // Relative asset URLs: dist/ works from any folder of any static host (routes are #hashes).
  base: './',
  plugins: [react(), tailwindcss()],
  server: {
    proxy: { '/jobs': api, '/health': api, '/config.json': api },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    // Two pages: the app, and embed.html (a bare player for an <iframe> on any site).
    rolldownOptions: { input: { main: 'index.html', embed: 'embed.html' } },
    // Shaka Player (~700 kB, 240 kB gzipped) is its own chunk, loaded only when a stream plays.
    chunkSizeWarningLimit: 800,
  },
})
