// Builds the console app (src/client) into dist/ui, served by the handler under /ui/: no CDN,
// no inline script (the CSP forbids it), hashed file names.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/client',
  base: '/ui/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    // the polyfill would be an inline script; every browser the console supports has modulepreload
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
