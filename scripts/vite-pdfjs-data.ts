// Vite build plugin: ships pdf.js's CMaps and standard-font data with the renderer, so Chinese PDFs that
// do not embed their fonts (common in textbooks) still draw, with no request leaving the box.
// Lives outside renderer/ because it reads files in Node at build time.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

export const PDFJS_DATA_BASE = '/pdfjs/';

export function pdfjsData(): Plugin {
  const pkg = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  return {
    name: 'box-pdfjs-data',
    apply: 'build',
    generateBundle() {
      for (const sub of ['cmaps', 'standard_fonts']) {
        for (const file of readdirSync(join(pkg, sub))) {
          this.emitFile({ type: 'asset', fileName: `pdfjs/${sub}/${file}`, source: readFileSync(join(pkg, sub, file)) });
        }
      }
    },
  };
}
