import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

// During `npm run dev`, the API and the socket go to a running warroom server.
const target = process.env.WARROOM_URL ?? "http://127.0.0.1:8080";

/**
 * Names in index.html, as `<link rel="prefetch">`, every built script and style sheet the page
 * does not load at once (the lazy chunks: the card view). The service worker keeps the files
 * index.html names, so it keeps these too and the card view opens offline; the browser fetches
 * them when idle, so the first opening does not wait for the network.
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
          .filter((file) => /^assets\/.*\.(js|css)$/.test(file) && !named.has(file))
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

/** The page's first script (`src/early.ts`), an entry of its own so it is small and runs first. */
const FIRST_SCRIPT = "early";

/**
 * Names the first script in index.html before the app's, `async` so it runs as soon as it has
 * arrived (the app's waits for the whole document): a first visit asks for its board while the
 * app's script still loads.
 */
function firstScript(): Plugin {
  return {
    name: "warroom-first-script",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find((c) => c.type === "chunk" && c.name === FIRST_SCRIPT);
        if (!chunk) return;
        return [
          {
            tag: "script",
            attrs: { type: "module", async: true, crossorigin: "", src: `/${chunk.fileName}` },
            injectTo: "head" as const,
          },
        ];
      },
    },
  };
}

/** Text files smaller than this gain too little from compression to be worth a header. */
const COMPRESS_FROM = 1024;
const TEXT = /\.(html|js|mjs|css|svg|json|webmanifest|txt)$/;

/**
 * Writes a brotli (`.br`) and a gzip (`.gz`) copy beside every built text file of 1 KiB or more,
 * at the strongest settings: the server embeds them and sends the one the browser accepts
 * (brotli first), so it never compresses at run time and a first load gets the smallest bytes.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "warroom-precompress",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const built = readdirSync(outDir, { recursive: true, withFileTypes: true });
      for (const file of built.filter((f) => f.isFile() && TEXT.test(f.name))) {
        const path = join(file.parentPath, file.name);
        const data = readFileSync(path);
        if (data.length < COMPRESS_FROM) continue;
        const params = { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length };
        writeFileSync(`${path}.br`, brotliCompressSync(data, { params }));
        writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), firstScript(), prefetchLazyChunks(), precompress()],
  build: {
    rolldownOptions: {
      input: {
        index: resolve(import.meta.dirname, "index.html"),
        [FIRST_SCRIPT]: resolve(import.meta.dirname, "src/early.ts"),
      },
    },
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
