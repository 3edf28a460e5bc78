import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// Preact through esbuild's own JSX transform: no framework plugin needed.
// Bundles go to `_app/` (the node serves `/_app/*`; `/assets/*` belongs to the asset cache).
//
// Five pages, one package: the dashboard (`index.html`, also the desktop app's window),
// the shop (`shop.html`, served at `/shop/`), the counter (`/counter/`), the pickup
// board (`/pickup/`) and the receipt page (`/r/<receipt id>`). Asset URLs are absolute
// (base `/`), so each page works at any of its paths.

const OUT_DIR = 'dist';
const APP_DIR = '_app';

/**
 * The bundles `shop.html` loads: the files it names, and every chunk they import in
 * turn. Only these are precached, so a phone never downloads the dashboard's code.
 */
function shopFiles(): Set<string> {
  const found = new Set<string>();
  const html = readFileSync(join(OUT_DIR, 'shop.html'), 'utf8');
  const queue = [...html.matchAll(/["']\/(_app\/[^"']+\.(?:js|css))["']/g)].map((m) => m[1]);
  while (queue.length) {
    const file = queue.pop()!;
    // Not every quoted "./x.js" is a file: the price engine's glue names its imports
    // object "./boothcloud_pricing_bg.js" (wasm-bindgen's module namespace).
    if (found.has(file) || !existsSync(join(OUT_DIR, file))) continue;
    found.add(file);
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(join(OUT_DIR, file), 'utf8');
    for (const m of code.matchAll(/["'](\.\/[\w.-]+\.(?:js|css))["']/g)) queue.push(posix.join(APP_DIR, m[1]));
    for (const m of code.matchAll(/["']\/(_app\/[\w.-]+\.(?:js|css))["']/g)) queue.push(m[1]);
  }
  if (![...found].some((f) => f.endsWith('.js'))) throw new Error('shop.html loads no script from _app/: the shop cannot be precached');
  return found;
}

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: OUT_DIR,
    assetsDir: APP_DIR,
    target: 'es2022',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: 'index.html',
        shop: 'shop.html',
        counter: 'counter.html',
        pickup: 'pickup.html',
        receipt: 'receipt.html',
      },
    },
  },
  plugins: [
    // The shop's service worker, `/shop-sw.js` (one file: the Workbox runtime inlined),
    // registered by shop/service-worker.ts for `/shop/` over HTTPS. After one visit the
    // shop reloads with the network cut: its page and bundles are precached; the
    // catalogue and product photos are kept as they are fetched (on the very first
    // visit the page fetches them again once the worker took over). Quotes, orders,
    // receipts and the pickup board are never cached (they are live, or not GETs).
    // An enrolled kiosk's price engine: its JS glue is a chunk of the shop (precached,
    // a few KB); its `.wasm` is kept the first time a kiosk loads it (CacheFirst: the
    // name changes with its content), so a phone never downloads it and a kiosk
    // reloaded with the network cut still prices.
    VitePWA({
      strategies: 'generateSW',
      filename: 'shop-sw.js',
      scope: '/shop/',
      manifest: false, // The node serves `/shop/manifest.webmanifest`, made from the event.
      injectRegister: false,
      includeManifestIcons: false,
      workbox: {
        inlineWorkboxRuntime: true,
        sourcemap: false,
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        globDirectory: OUT_DIR,
        globPatterns: ['shop.html', `${APP_DIR}/*.{js,css}`, 'shop-icon-*.png'],
        // Absolute URLs, as the node serves them; the hashed bundles need no revision.
        modifyURLPrefix: { '': '/' },
        dontCacheBustURLsMatching: /^\/_app\//,
        manifestTransforms: [
          async (entries) => {
            const mine = shopFiles();
            const manifest = entries.filter((e) => {
              const path = e.url.replace(/^\//, '');
              return !path.startsWith(`${APP_DIR}/`) || mine.has(path);
            });
            return { manifest, warnings: [] };
          },
        ],
        navigateFallback: '/shop.html',
        navigateFallbackAllowlist: [/^\/shop\//],
        runtimeCaching: [
          {
            urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname === '/api/v1/catalogue',
            handler: 'StaleWhileRevalidate',
            options: { cacheName: 'shop-catalogue', cacheableResponse: { statuses: [200] } },
          },
          {
            // Literal paths: Workbox copies this function into the worker, without its scope.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && /^\/_app\/[\w.-]+\.wasm$/.test(url.pathname),
            handler: 'CacheFirst',
            options: {
              cacheName: 'shop-engine',
              cacheableResponse: { statuses: [200] },
              expiration: { maxEntries: 2, purgeOnQuotaError: false },
            },
          },
          {
            // Pictures only (by name: the page's first-visit warm-up fetches them with
            // `fetch`); the asset cache's videos are too big to keep.
            urlPattern: ({ url, sameOrigin }) => sameOrigin && /^\/assets\/.+\.(?:jpe?g|png|webp|avif|gif|svg)$/i.test(url.pathname),
            handler: 'StaleWhileRevalidate',
            options: {
              cacheName: 'shop-photos',
              cacheableResponse: { statuses: [200] },
              expiration: { maxEntries: 200, purgeOnQuotaError: true },
            },
          },
        ],
      },
    }),
  ],
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
