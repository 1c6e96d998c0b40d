// Vite builds the console (renderer/) into dist/renderer; Vitest reads the same file.
// Vite's root is renderer/, so the test section points Vitest back at the repository root.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const repoRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  // Electron loads the console from a custom protocol, the server from "/": relative URLs work in both.
  base: './',
  // No @vitejs/plugin-react: Vite's own transformer compiles TSX with React's automatic runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: false,
    // One bundle for an offline console (no code splitting needed): two languages of text make it ~550 kB.
    chunkSizeWarningLimit: 800,
  },
  test: {
    root: repoRoot,
    dir: repoRoot,
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 30000,
  },
});
