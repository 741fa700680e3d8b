// warroom's service worker: keeps the app shell (index.html and its hashed assets) so the
// dashboard still opens, from its IndexedDB copy of the board, while the server is away.
// The API and Socket.IO are never touched: live data always comes from the server.

const CACHE = "warroom-shell-v1";

function assetsIn(html) {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

/** Stores the page and its assets, dropping assets no longer referenced by it. */
async function remember(html) {
  const cache = await caches.open(CACHE);
  const wanted = new Set(assetsIn(html));
  await cache.put("/", new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }));
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/assets/") && !wanted.has(path)) await cache.delete(request);
  }
  const missing = [];
  for (const path of wanted) if (!(await cache.match(path, { ignoreVary: true }))) missing.push(path);
  await cache.addAll(missing);
}

self.addEventListener("install", (event) => {
  self.skipWaiting();
  event.waitUntil(
    fetch("/", { cache: "no-store" })
      .then((res) => (res.ok ? res.text() : null))
      .then((html) => html && remember(html))
      .catch(() => {}),
  );
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/")) return;

  if (request.mode === "navigate") {
    // Network first, so a new release is picked up at once; the saved shell only when offline.
    event.respondWith(
      fetch(request)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            event.waitUntil(
              copy
                .text()
                .then(remember)
                .catch(() => {}),
            );
          }
          return res;
        })
        .catch(async () => (await caches.match("/", { ignoreVary: true })) ?? Response.error()),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    // Hashed file names never change content: the cache is always right.
    // ignoreVary: the server varies on Origin (CORS), and a module script's request carries one
    // that the cached copy's request did not.
    event.respondWith(caches.match(request, { ignoreVary: true }).then((hit) => hit ?? fetch(request)));
  }
});
