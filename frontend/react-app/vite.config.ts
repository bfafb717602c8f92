/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev`: the Vite dev server on :5173 proxies the API (CAIRN_API, default :8000).
const api = process.env.CAIRN_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: { host: "127.0.0.1", proxy: { "/api": api } },
  // The libraries every page shares are one long-cached bundle; each page is its own (App.tsx).
  build: {
    outDir: "dist", sourcemap: false,
    rollupOptions: { output: { manualChunks: { react: ["react", "react-dom", "react-router-dom"], mantine: ["@mantine/core", "@mantine/hooks"], query: ["@tanstack/react-query", "openapi-fetch"] } } },
  },
  test: { globals: true, environment: "jsdom", setupFiles: ["./src/test/setup.ts"], include: ["src/**/*.test.tsx", "src/**/*.test.ts"] },
});
