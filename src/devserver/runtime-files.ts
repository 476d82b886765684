// Where the browser runtimes' WebAssembly files live in node_modules, and the URL folders the demo and
// the browser verifier serve them under (the same layout README's "Serving the wasm files" describes).
import { createRequire } from 'node:module';
import path from 'node:path';
import type { WasmPaths } from '../browser/backends/types.js';

const require = createRequire(import.meta.url);

/** Folder of a file inside an installed package (some packages do not export their package.json). */
function resolvedDir(spec: string): string {
  return path.dirname(require.resolve(spec));
}

/** URL prefix -> folder, for startStaticServer's mounts. */
export function runtimeMounts(): Record<string, string> {
  return {
    '/wasm/tfjs/': resolvedDir('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'),
    '/wasm/ort/': resolvedDir('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
    '/wasm/tflite/': path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm'),
  };
}

/** wasmPaths for createDetector, given the server's base URL. */
export function runtimeWasmPaths(baseUrl: string): WasmPaths {
  return { tfjs: `${baseUrl}/wasm/tfjs/`, ort: `${baseUrl}/wasm/ort/`, tflite: `${baseUrl}/wasm/tflite/` };
}
