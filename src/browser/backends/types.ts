// Browser backends: one NHWC float32 batch in, the model's two raw outputs out (the same contract as
// src/backends/backend.ts), loaded from artifacts fetched by URL and checked against the manifest.
import type { Availability, Backend, ImageBatch } from '../../backends/backend.js';
import { InputImageError, ToolkitError } from '../../errors.js';
import type { Preset } from '../../presets/types.js';
import type { ArtifactSource } from '../artifacts.js';

export type BrowserBackendName =
  | 'tfjs-webgl'
  | 'tfjs-wasm'
  | 'tfjs-cpu'
  | 'tfjs-webgpu'
  | 'onnxruntime-web-wasm'
  | 'onnxruntime-web-webgl'
  | 'onnxruntime-web-webgpu'
  | 'tflite';

export const BROWSER_BACKEND_NAMES: readonly BrowserBackendName[] = [
  'tfjs-webgl',
  'tfjs-wasm',
  'tfjs-cpu',
  'tfjs-webgpu',
  'onnxruntime-web-wasm',
  'onnxruntime-web-webgl',
  'onnxruntime-web-webgpu',
  'tflite',
];

/** Where each runtime's WebAssembly files are served (URL prefixes ending in '/'). */
export interface WasmPaths {
  /** Folder holding tfjs-backend-wasm*.wasm (node_modules/@tensorflow/tfjs-backend-wasm/dist/). */
  readonly tfjs?: string;
  /** Folder holding ort-wasm-simd-threaded*.{mjs,wasm} (node_modules/onnxruntime-web/dist/). */
  readonly ort?: string;
  /** Folder holding tflite_web_api_cc*.{js,wasm} (node_modules/@tensorflow/tfjs-tflite/wasm/). */
  readonly tflite?: string;
}

export interface BrowserLoadContext {
  readonly preset: Preset;
  /** Verified artifacts (manifest-checked). */
  readonly artifacts: ArtifactSource;
  /** URL of the original .tflite (the tflite backend runs it). */
  readonly modelUrl?: string;
  readonly wasmPaths: WasmPaths;
}

/** A Node Backend's contract (version, notes, run, dispose), named by browser backend; `artifact` is the URL it runs. */
export interface BrowserBackend extends Omit<Backend, 'name'> {
  readonly name: BrowserBackendName;
}

export interface BrowserBackendFactory {
  readonly name: BrowserBackendName;
  /** Which file it runs, as in src/backends (the .tflite or a converted artifact). */
  readonly runs: 'tflite' | 'model.onnx' | 'tfjs/model.json';
  /** Whether this browser offers the runtime (e.g. WebGPU), with the reason when it does not. */
  availability(): Promise<Availability>;
  load(ctx: BrowserLoadContext): Promise<BrowserBackend>;
}

/** [N, H, W, 3] of the preset with N >= 1 and N*H*W*3 values; returns N (typed BATCH_SHAPE error otherwise). */
export function checkBrowserBatch(preset: Preset, batch: ImageBatch, where: string): number {
  const s = batch.shape;
  const n = s[0];
  const fits =
    s.length === 4 && Number.isInteger(n) && n >= 1 && s[1] === preset.inputHeight && s[2] === preset.inputWidth && s[3] === 3 &&
    batch.data.length === n * preset.inputHeight * preset.inputWidth * 3;
  if (!fits) {
    throw new InputImageError(
      'BATCH_SHAPE',
      `${where}: batch [${s.join(',')}] (${batch.data.length} values) does not fit ${preset.name}'s input [N,${preset.inputHeight},${preset.inputWidth},3]`,
    );
  }
  return n;
}

/** The output shape every backend must give for `n` images of `preset`. */
export function outputDims(preset: Preset): { numAnchors: number; numCoords: number } {
  return { numAnchors: preset.decode.numBoxes, numCoords: preset.decode.numCoords };
}

/** A wasm path that must be set (typed WASM_PATH_REQUIRED error naming the option otherwise). */
export function requireWasmPath(paths: WasmPaths, key: keyof WasmPaths, backend: string): string {
  const p = paths[key];
  if (!p) {
    throw new ToolkitError('WASM_PATH_REQUIRED', `${backend}: set wasmPaths.${key} to the URL folder serving its WebAssembly files`);
  }
  return p.endsWith('/') ? p : `${p}/`;
}
