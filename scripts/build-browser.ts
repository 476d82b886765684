// npm run build:browser: src/browser/index.ts as one minified ESM file, dist/browser/blazeface-browser.js.
// The runtimes (tfjs, onnxruntime-web, tfjs-tflite) stay external: your bundler resolves them once, so
// tfjs-core is not duplicated, and only the runtimes you use are loaded (each backend imports its own
// package on first use). Their .wasm files are never bundled; serve them (README: "Serving the wasm files").
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { BROWSER_BUILD_OPTIONS } from '../src/devserver/bundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BROWSER_EXTERNALS = ['@tensorflow/*', 'onnxruntime-web', 'onnxruntime-web/*'];

export async function buildBrowser(outDir = path.join(ROOT, 'dist', 'browser')): Promise<{ file: string; bytes: number }> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, 'blazeface-browser.js');
  const result = await esbuild.build({
    ...BROWSER_BUILD_OPTIONS,
    entryPoints: [path.join(ROOT, 'src', 'browser', 'index.ts')],
    outfile: file,
    external: BROWSER_EXTERNALS,
    minify: true,
    sourcemap: true,
    metafile: true,
  });
  await writeFile(path.join(outDir, 'blazeface-browser.meta.json'), JSON.stringify(result.metafile));
  return { file, bytes: (await stat(file)).size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes } = await buildBrowser();
  console.log(`${path.relative(ROOT, file)}: ${(bytes / 1024).toFixed(1)} KiB minified (runtimes external, no wasm)`);
}
