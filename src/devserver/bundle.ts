// esbuild settings shared by the browser build (scripts/build-browser.ts), the demo and the browser
// verifier: ESM for browsers, onnxruntime-web's "extern wasm" build (its glue .mjs and .wasm are then
// loaded from wasmPaths.ort instead of being inlined), and no Node built-ins (esbuild fails on them).
import type { BuildOptions } from 'esbuild';

export const BROWSER_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  conditions: ['onnxruntime-web-use-extern-wasm'],
  logLevel: 'silent',
  legalComments: 'none',
};

/** Bundle one entry into memory; returns the JS text. */
export async function bundleToString(entry: string, extra: BuildOptions = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({ ...BROWSER_BUILD_OPTIONS, ...extra, entryPoints: [entry], write: false, outdir: 'out', splitting: false });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  if (!js) throw new Error(`esbuild produced no JavaScript for ${entry}`);
  return js.text;
}
