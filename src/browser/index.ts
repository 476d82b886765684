// blazeface-toolkit in the browser: createDetector() on tfjs (webgl, wasm, cpu, webgpu), onnxruntime-web
// (wasm, webgl, webgpu) or the official TFLite runtime, with artifacts fetched by URL and checked against
// the manifest's sha256 before use. The pipeline after the pixels is the shared core (src/detect/core.ts):
// letterbox, normalization, decode with anchors, weighted NMS, mapping back to the image.
import { BackendUnavailableError } from '../errors.js';
import { checkDecodeSettings, createDetectorCore, type DecodeSettings, type ResolvedDecodeOptions } from '../detect/core.js';
import type { Face } from '../detect/face.js';
import type { TilingOption } from '../detect/tiling.js';
import { getPreset } from '../presets/index.js';
import type { Preset, PresetName } from '../presets/types.js';
import { openArtifacts } from './artifacts.js';
import { getBrowserBackendFactory, type BrowserBackend, type BrowserBackendName, type WasmPaths } from './backends/index.js';
import { browserInputLabel, browserPixels, type BrowserImageInput } from './pixels.js';

export { ArtifactIntegrityError, BackendUnavailableError, InputImageError, ToolkitError } from '../errors.js';
export { Face, KEYPOINT_NAMES, type Box, type KeypointName, type Point } from '../detect/face.js';
export { BROWSER_BACKEND_NAMES, type BrowserBackendName, type WasmPaths } from './backends/index.js';
export type { BrowserImageInput, BrowserRawImage } from './pixels.js';
export type { PresetName } from '../presets/types.js';

export interface BrowserDetectorOptions extends DecodeSettings {
  /** Default 'short_range'. */
  readonly preset?: PresetName | Preset;
  /** Default 'onnxruntime-web-wasm' ('onnxruntime-web' is accepted for it). */
  readonly backend?: BrowserBackendName | 'onnxruntime-web';
  /** URL of the artifacts folder holding manifest.json (the package's artifacts/, served by you). */
  readonly artifactsUrl: string;
  /** URL of the original .tflite, for the tflite backend (checked against the manifest's source sha256). */
  readonly modelUrl?: string;
  /** URL folders serving each runtime's WebAssembly files (see README: "Serving the wasm files"). */
  readonly wasmPaths?: WasmPaths;
  /** Mirror every image left-right before detecting (a mirrored webcam preview); faces are then in mirrored coordinates. */
  readonly flipHorizontal?: boolean;
  /** Also detect in tiles of the image, for small faces in large images (see the README's "Tiling"); default off. */
  readonly tiling?: TilingOption;
}

export interface BrowserDetector {
  readonly preset: Preset;
  readonly backendName: BrowserBackendName;
  readonly backend: BrowserBackend;
  readonly decodeOptions: ResolvedDecodeOptions;
  /** Faces in one image, in its pixels; InputImageError naming the input when it cannot be used. */
  detect(image: BrowserImageInput, options?: { flipHorizontal?: boolean }): Promise<Face[]>;
  /** Waits for calls already started, then frees the runtime; later calls throw DETECTOR_DISPOSED. */
  dispose(): Promise<void>;
}

export async function createDetector(opts: BrowserDetectorOptions): Promise<BrowserDetector> {
  if (typeof opts?.artifactsUrl !== 'string' || opts.artifactsUrl === '') {
    throw new RangeError('createDetector: artifactsUrl (the URL of the served artifacts/ folder, holding manifest.json) is required');
  }
  checkDecodeSettings(opts);
  const preset = typeof opts.preset === 'object' ? opts.preset : getPreset(opts.preset ?? 'short_range');
  const factory = getBrowserBackendFactory(opts.backend ?? 'onnxruntime-web-wasm');
  const availability = await factory.availability();
  if (!availability.available) {
    throw new BackendUnavailableError('BACKEND_UNAVAILABLE', `backend ${factory.name} is unavailable in this browser: ${availability.reason}`);
  }
  const artifacts = await openArtifacts(opts.artifactsUrl, preset.name);
  const backend = await factory.load({ preset, artifacts, modelUrl: opts.modelUrl, wasmPaths: opts.wasmPaths ?? {} });
  const core = createDetectorCore({ ...opts, preset, backend });
  return {
    preset,
    backendName: factory.name,
    backend,
    decodeOptions: core.decodeOptions,
    detect(image, options = {}) {
      return core.guarded(async () => {
        const label = browserInputLabel(image);
        const pixels = browserPixels(image, label);
        const prepared = await core.prepare(pixels, label, { flipHorizontal: options.flipHorizontal ?? opts.flipHorizontal });
        return (await core.infer([prepared]))[0]!;
      });
    },
    dispose: () => core.dispose(),
  };
}
