import { defineConfig } from 'vite';

// Preact through esbuild's own JSX transform: no framework plugin needed.
// Bundles go to `_app/` (the node serves `/_app/*`; `/assets/*` belongs to the asset cache).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', assetsDir: '_app', target: 'es2022', emptyOutDir: true },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
