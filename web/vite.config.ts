import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";

// During `npm run dev`, the API and the socket go to a running warroom server.
const target = process.env.WARROOM_URL ?? "http://127.0.0.1:8080";

/**
 * Names in index.html, as `<link rel="prefetch">`, every built file the page does not load at
 * once (the lazy chunks: the card view). The service worker keeps the files index.html names, so
 * it keeps these too and the card view opens offline; the browser fetches them when idle, so the
 * first opening does not wait for the network.
 */
function prefetchLazyChunks(): Plugin {
  return {
    name: "warroom-prefetch-lazy-chunks",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html, ctx) {
        if (!ctx.bundle) return;
        const named = new Set(Array.from(html.matchAll(/(?:src|href)="\/([^"]+)"/g), (m) => m[1]));
        return Object.keys(ctx.bundle)
          .filter((file) => file.startsWith("assets/") && !named.has(file))
          .sort()
          .map((file) => ({
            tag: "link",
            // Module scripts are fetched in CORS mode; the prefetch must match to be reused.
            attrs: { rel: "prefetch", href: `/${file}`, crossorigin: "" },
            injectTo: "head" as const,
          }));
      },
    },
  };
}

export default defineConfig({
  plugins: [react(), prefetchLazyChunks()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": { target },
      "/socket.io": { target, ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
