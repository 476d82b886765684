// Runs the official TFLite WebAssembly runtime of @tensorflow/tfjs-tflite under Node.
//
// The package is written for browsers. Its Node bundle (dist/tf-tflite.node.js) loads the
// Emscripten build through a loader that assumes a Web Worker:
//   1. on import it starts loading the module at once (`EmscriptenModuleLoader.getInstance("", ...)
//      .load(true)`), resolving the script name against `self.location.href`;
//   2. it picks `tflite_web_api_cc[_simd][_threaded].js` from feature tests, calls the global
//      `importScripts(url)` and then `self.tflite_web_api_ModuleFactory({locateFile, ...})`;
//   3. the Emscripten glue (worker flavour) reads `self.location.href` and fetches the .wasm with `fetch`.
// Without `self` step 1 rejects unhandled (Node then exits), so the shim must be in place BEFORE
// the package is imported, and until that first load has finished.
//
// What the shim provides, and why each piece:
//   - global `self`: a small plain object (NOT globalThis) holding `location` (the wasm folder as a
//     file: URL, so step 1 resolves `tflite_web_api_cc*.js` inside node_modules/.../wasm/) and the
//     `tflite_web_api_ModuleFactory` that importScripts defines (the loader reads it from `self`).
//   - global `importScripts(url)`: reads the glue script from the package's wasm/ folder and runs it
//     inside a function whose `self`, `importScripts` and `fetch` are the shim's own; the glue's
//     globals stay local to that function. Node passes the feature tests for threads
//     (SharedArrayBuffer, MessageChannel), but has no Web Worker for Emscripten's pthreads, so a
//     request for a `*_threaded.js` build is served the same build without threads
//     (`tflite_web_api_cc_simd.js`, or `tflite_web_api_cc.js` when SIMD is unsupported).
//   - `fetch` for the glue only (a parameter, the global fetch is untouched): serves file: URLs
//     inside the wasm folder, as a Response with content type application/wasm so
//     WebAssembly.instantiateStreaming accepts it.
// Both globals are installed only while the runtime loads for the first time (loads are
// serialized) and removed afterwards; once loaded, the module needs neither. The package itself
// leaves `tfweb`, `_tfGlobals` and `_tfengine` on globalThis (tfjs-core's shared engine; harmless).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { installedPackageVersion } from '../version.js';
import type { TFLiteWebModelRunner, TFLiteWebModelRunnerOptions } from '@tensorflow/tfjs-tflite';

const require = createRequire(import.meta.url);

/** Name the loader uses: `${tfliteWebApiName}_ModuleFactory` with tfliteWebApiName = 'tflite_web_api'. */
const FACTORY_NAME = 'tflite_web_api_ModuleFactory';

export function tflitePackageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
}

export function tfliteWasmDir(): string {
  return path.join(tflitePackageDir(), 'wasm');
}

export function tflitePackageVersion(): string {
  return installedPackageVersion('@tensorflow/tfjs-tflite') ?? 'unknown';
}

/** The files the shim actually served (for reports). */
export interface TfliteShimInfo {
  /** The glue script the loader asked for, and the one served. */
  requestedScript?: string;
  script?: string;
  wasm?: string;
}

const info: TfliteShimInfo = {};

export function tfliteShimInfo(): Readonly<TfliteShimInfo> {
  return { ...info };
}

/** A file: URL (or absolute path) inside the wasm folder, as a path; anything else is refused. */
function wasmFolderPath(url: string): string {
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  const dir = tfliteWasmDir();
  const resolved = path.resolve(file);
  if (path.dirname(resolved) !== dir) {
    throw new Error(`tflite node shim: only files in ${dir} are served, not ${url}`);
  }
  return resolved;
}

async function fetchLocal(input: string | URL | { url: string }): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const file = wasmFolderPath(url);
  const bytes = await readFile(file);
  if (file.endsWith('.wasm')) info.wasm = path.basename(file);
  return new Response(bytes, { headers: { 'Content-Type': file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream' } });
}

interface ShimSelf {
  location: { href: string; origin: string };
  [FACTORY_NAME]?: unknown;
}

function makeImportScripts(self: ShimSelf): (...urls: string[]) => void {
  const importScripts = (...urls: string[]): void => {
    for (const url of urls) {
      const requested = wasmFolderPath(url);
      const file = requested.replace(/_threaded\.js$/, '.js');
      info.requestedScript = path.basename(requested);
      info.script = path.basename(file);
      const code = readFileSync(file, 'utf8');
      // `exports`, `module`, `define` are shadowed so the glue's UMD tail cannot export anywhere.
      const wrapper = vm.runInThisContext(
        `(function (self, importScripts, fetch, exports, module, define) {\n${code}\nreturn typeof ${FACTORY_NAME} === 'undefined' ? undefined : ${FACTORY_NAME};\n})`,
        { filename: file },
      ) as (...args: unknown[]) => unknown;
      const factory = wrapper(self, importScripts, fetchLocal, undefined, undefined, undefined);
      if (typeof factory !== 'function') throw new Error(`tflite node shim: ${file} did not define ${FACTORY_NAME}`);
      self[FACTORY_NAME] = factory;
    }
  };
  return importScripts;
}

/** Install `self` and `importScripts` (only where absent); returns the function that removes them. */
function installGlobals(): () => void {
  const g = globalThis as Record<string, unknown>;
  const shimSelf: ShimSelf = {
    location: { href: `${pathToFileURL(tfliteWasmDir()).href}/`, origin: 'file://' },
  };
  const installed: string[] = [];
  for (const [key, value] of [
    ['self', shimSelf],
    ['importScripts', makeImportScripts(shimSelf)],
  ] as const) {
    if (key in g) {
      throw new Error(
        `tflite node shim: globalThis.${key} already exists; the TFLite web runtime would treat this process as a browser/worker`,
      );
    }
    g[key] = value;
    installed.push(key);
  }
  return () => {
    for (const key of installed) delete g[key];
  };
}

type TfliteModule = typeof import('@tensorflow/tfjs-tflite');

let loaded = false;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Create a model runner (TFLite Interpreter in WebAssembly) for the .tflite bytes.
 * The first call installs the shim, imports the package, waits for the module and removes the shim.
 */
export function createTfliteRunner(bytes: Uint8Array, options: TFLiteWebModelRunnerOptions): Promise<TFLiteWebModelRunner> {
  const run = queue.then(async () => {
    const restore = loaded ? () => {} : installGlobals();
    try {
      const mod: TfliteModule = await import('@tensorflow/tfjs-tflite');
      // Copy: the runtime wants an ArrayBuffer of exactly the model bytes.
      const model = await mod.loadTFLiteModel(bytes.slice().buffer, options);
      loaded = true;
      // TFLiteModel.predict needs tfjs-core tensors and a registered tfjs backend; the runner it wraps
      // (what loadTFLiteModel created) reads and writes the interpreter's buffers directly.
      const runner = (model as unknown as { modelRunner?: TFLiteWebModelRunner }).modelRunner;
      if (!runner || typeof runner.infer !== 'function' || typeof runner.getInputs !== 'function') {
        throw new Error('tflite node shim: TFLiteModel no longer exposes its model runner (tfjs-tflite version changed?)');
      }
      return runner;
    } finally {
      restore();
    }
  });
  queue = run.catch(() => undefined);
  return run;
}
