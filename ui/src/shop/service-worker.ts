// The shop's service worker (`/shop-sw.js`, made by vite-plugin-pwa at build time:
// vite.config.ts says what it keeps). Registered for `/shop/` only, and only where a
// browser allows service workers at all: over HTTPS. A phone on the booth's plain-HTTP
// port gets none, by design; it needs the booth to answer anyway.
//
// On the first visit the page loaded the catalogue and its photos before the worker
// existed, so the worker has not kept them; when it takes over, `warm` fetches them
// again through it, and the next load works with the network cut.

export function registerShopWorker(warm: () => Promise<void>): void {
  if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
  const firstVisit = !navigator.serviceWorker.controller;
  if (firstVisit) {
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      () => {
        void warm().catch(() => undefined);
      },
      { once: true },
    );
  }
  // After the page's own loading, so the worker's precache does not compete with it.
  const register = () => void navigator.serviceWorker.register('/shop-sw.js', { scope: '/shop/' }).catch(() => undefined);
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
