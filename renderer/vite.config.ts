import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { pdfjsData } from '../scripts/vite-pdfjs-data.js';

// The config runs in Node but lives in renderer/ (browser-only imports): no node:url, a plain URL path.
const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

// Paths the daemon answers itself: the service worker must never answer them with the app shell.
const daemonPaths = [/^\/api\//, /^\/whip\//, /^\/whep\//, /^\/catalog\//, /^\/files\//, /^\/recordings\/files\//, /^\/metrics/, /^\/ws\//];

export default defineConfig({
  root,
  base: '/',
  // Components are typed render functions (.ts), so tsc checks them and no template compiler ships.
  define: { __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
  plugins: [
    pdfjsData(),
    VitePWA({
      // Registered from our own bundle (workbox-window): no inline registration script under the CSP.
      injectRegister: false,
      registerType: 'autoUpdate',
      manifest: false,
      workbox: {
        globPatterns: ['**/*.{js,mjs,css,html,svg,woff2}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: daemonPaths,
        // The pdf.js worker is large; the library must open PDFs with the daemon just restarted.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Vite would inline small assets as data: URLs; keep every asset a file so the CSP stays simple.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
  },
});
