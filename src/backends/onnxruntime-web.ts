// Backend: onnxruntime-web's WebAssembly build, run under Node on one thread. The .wasm binary is read
// from the installed package and handed to the runtime, so nothing is fetched from the network.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendUnavailableError } from '../errors.js';
import { installedPackageVersion } from '../version.js';
import type { Availability, Backend, BackendFactory, ModelSource } from './backend.js';
import { createOrtBackend, type OrtModule } from './onnxruntime-common.js';

const PACKAGE = 'onnxruntime-web';
/** The plain SIMD build (no JSEP/WebGPU); the "threaded" name is historical, numThreads = 1 spawns no worker. */
const WASM_FILE = 'ort-wasm-simd-threaded.wasm';

interface OrtWebEnv {
  readonly env: { wasm: { numThreads?: number; proxy?: boolean; wasmBinary?: Uint8Array; wasmPaths?: unknown } };
}

function distDir(): string {
  // The package's main entry (dist/ort.node.min.js) sits beside the .wasm files.
  return path.dirname(createRequire(import.meta.url).resolve(PACKAGE));
}

export const onnxruntimeWebBackend: BackendFactory = {
  name: 'onnxruntime-web',
  runs: 'model.onnx',

  async availability(): Promise<Availability> {
    try {
      distDir();
      return { available: true };
    } catch {
      return { available: false, reason: `npm package ${PACKAGE} is not installed` };
    }
  },

  async load(source: ModelSource): Promise<Backend> {
    const wasmPath = path.join(distDir(), WASM_FILE);
    let wasmBinary: Uint8Array;
    try {
      wasmBinary = new Uint8Array(await readFile(wasmPath));
    } catch (err) {
      throw new BackendUnavailableError('ORT_WEB_WASM', `${wasmPath}: cannot read onnxruntime-web's WebAssembly binary`, { file: wasmPath, cause: err });
    }
    const ort = (await import(PACKAGE)) as unknown as OrtModule & OrtWebEnv;
    // Process-wide settings, identical for every load: single thread, no worker proxy, local binary.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = wasmBinary;
    return createOrtBackend({
      name: 'onnxruntime-web',
      version: `${PACKAGE} ${installedPackageVersion(PACKAGE) ?? 'unknown'}`,
      ort,
      source,
      sessionOptions: { executionProviders: ['wasm'] },
      notes: [`WebAssembly (${WASM_FILE}) under Node, 1 thread`],
    });
  },
};
