import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// During `npm run dev`, the API and the socket go to a running warroom server.
const target = process.env.WARROOM_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
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
