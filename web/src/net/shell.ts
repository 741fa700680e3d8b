//! The service worker that keeps the app shell, so the board still opens while the server is away.

let registered = false;

/**
 * Registers the service worker (`public/sw.js`), once per page. Browsers allow it on https and on
 * localhost; elsewhere the page simply needs the server. Called once a board is shown: it
 * matters only to a page that has a board to show offline.
 */
export function keepShellOffline(): void {
  if (registered || !import.meta.env.PROD || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  registered = true;
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}
