// The face detector: images in, faces in image pixels out, on any backend of the registry.
// Pipeline per image: decode/validate -> letterbox to the model input -> x/127.5-1 -> backend ->
// decode + weighted NMS (./decode.ts, shared with the verifier) -> map back through the letterbox.
import type { Backend, BackendFactory, BackendName, ModelSource } from '../backends/backend.js';
import { getBackendFactory, resolveBackendName } from '../backends/index.js';
import { BackendUnavailableError, InputImageError } from '../errors.js';
import { checkMaxInputPixels } from '../image/pixels.js';
import { loadModelSource } from '../model-source.js';
import { getPreset } from '../presets/index.js';
import type { Preset, PresetName } from '../presets/types.js';
import { checkDecodeSettings, createDetectorCore, type PreparedImage, type ResolvedDecodeOptions } from './core.js';
import type { Face } from './face.js';
import { checkPreprocess, inputLabel, loadInputImage, loadModelInput, type ImageInput, type Preprocess } from './input.js';
import { letterboxRgb } from './letterbox.js';
import type { NmsFlavour } from './non-max-suppression.js';
import { checkTiling, type TilingOption } from './tiling.js';

export interface DetectorOptions {
  /** Preset name or record; default 'short_range' (MediaPipe Tasks' default face detector). */
  readonly preset?: PresetName | Preset;
  /**
   * Backend name, or 'auto' (the default): onnxruntime-node when installed, else onnxruntime-web, else
   * the reference interpreter (slower). `detector.backend.name` says which one runs.
   */
  readonly backend?: BackendName | 'auto';
  /** Score threshold; default the preset's decode.minScoreThresh. */
  readonly minScore?: number;
  /** NMS IoU threshold; default the preset's (0.3). */
  readonly iouThreshold?: number;
  /** Weighted NMS flavour; default the preset's: 'mediapipe' for MediaPipe's models, 'blend' for the seed's. */
  readonly nms?: NmsFlavour;
  /** At most this many faces per image (the highest scores; faces always come sorted by score, descending). */
  readonly maxFaces?: number;
  /** The .tflite to use (required for the user presets front/back). */
  readonly modelFile?: string;
  /** Root of the converted artifacts (default the package's artifacts/). */
  readonly artifactsRoot?: string;
  /**
   * Check the artifacts against artifacts/manifest.json when loading. Default: true, except for the
   * backends that read only the .tflite (reference, tflite), which then work before `convert` has run.
   */
  readonly verifyArtifacts?: boolean;
  /** Use this factory instead of looking `backend` up in the registry (tests, benchmarks). */
  readonly backendFactory?: BackendFactory;
  /** Use this model source instead of loading one (shares a loaded graph between detectors). */
  readonly source?: ModelSource;
  /** Refuse encoded images whose header says more pixels than this (INPUT_TOO_LARGE); default 100 megapixels. */
  readonly maxInputPixels?: number;
  /**
   * 'fast' (default): encoded images are decoded, oriented and shrunk in one sharp pipeline
   * (shrink-on-load), with no colour-profile pass when it is the identity (no profile or sRGB). 'exact': decoded at full
   * size, then letterboxed. Both give the same faces (test/detect-fast-preprocess.test.ts).
   */
  readonly preprocess?: Preprocess;
  /**
   * Also detect in tiles of the full-resolution image, for faces too small for the whole-image view:
   * 'auto' (grid from the image size and the model) or { rows, cols, overlap? }. Default off. Each tile
   * is one more model input in the batch, and the image is decoded at full size.
   */
  readonly tiling?: TilingOption;
}

/** The result for one image of a batch: its faces, or the error that image raised. */
export type BatchEntry =
  | { readonly ok: true; readonly input: string; readonly width: number; readonly height: number; readonly faces: Face[] }
  | { readonly ok: false; readonly input: string; readonly error: Error };

export interface Detector {
  readonly preset: Preset;
  readonly backend: Backend;
  /** The resolved decode options (threshold, IoU, NMS flavour, max faces). */
  readonly decodeOptions: ResolvedDecodeOptions;
  /** Faces in one image; throws InputImageError naming the input when it cannot be used. */
  detect(image: ImageInput): Promise<Face[]>;
  /** One backend call for all usable images; a bad image yields an error entry, the others still return. */
  detectBatch(images: readonly ImageInput[]): Promise<BatchEntry[]>;
  dispose(): Promise<void>;
}

function checkOptions(opts: DetectorOptions): void {
  checkDecodeSettings(opts);
  if (opts.maxInputPixels !== undefined) checkMaxInputPixels(opts.maxInputPixels, 'createDetector: maxInputPixels');
  checkPreprocess(opts.preprocess);
  checkTiling(opts.tiling);
}

export async function createDetector(opts: DetectorOptions = {}): Promise<Detector> {
  checkOptions(opts);
  const preset = typeof opts.preset === 'object' ? opts.preset : getPreset(opts.preset ?? 'short_range');
  const factory = opts.backendFactory ?? (await getBackendFactory(resolveBackendName(opts.backend ?? 'auto')));
  const availability = await factory.availability();
  if (!availability.available) {
    if (availability.missingPackages?.length) throw new BackendUnavailableError('BACKEND_NOT_INSTALLED', availability.reason);
    throw new BackendUnavailableError('BACKEND_UNAVAILABLE', `backend ${factory.name} is unavailable: ${availability.reason}`);
  }
  const source =
    opts.source ??
    (await loadModelSource(preset, {
      modelFile: opts.modelFile,
      artifactsRoot: opts.artifactsRoot,
      verifyArtifacts: opts.verifyArtifacts ?? factory.runs !== 'tflite',
    }));
  const backend = await factory.load(source);
  // Everything after the pixels (letterboxed batch, run, decode, NMS, mapping back, dispose guard) is
  // the platform-free core the browser detector shares; Node adds file/sharp decoding in front of it.
  const { minScore, iouThreshold, nms, maxFaces, tiling } = opts;
  const core = createDetectorCore({ preset, backend, minScore, iouThreshold, nms, maxFaces, tiling, letterbox: letterboxRgb });
  const { guarded, infer } = core;
  const inputOptions = { maxInputPixels: opts.maxInputPixels, preprocess: opts.preprocess };

  async function prepare(input: ImageInput, label: string): Promise<PreparedImage> {
    // Tiles are crops of the full-resolution pixels, so a tiled image is decoded whole (no shrink-on-load).
    if (tiling !== undefined) return core.prepareRgb(await loadInputImage(input, label, inputOptions), label);
    const loaded = await loadModelInput(input, label, preset.inputWidth, preset.inputHeight, inputOptions);
    return { label, ...loaded };
  }

  return {
    preset,
    backend,
    decodeOptions: core.decodeOptions,
    detect(image) {
      return guarded(async () => {
        const prepared = await prepare(image, inputLabel(image));
        return (await infer([prepared]))[0]!;
      });
    },
    detectBatch(images) {
      return guarded(async () => {
        const settled = await Promise.allSettled(images.map((img, i) => prepare(img, inputLabel(img, i))));
        const good: PreparedImage[] = [];
        for (const s of settled) if (s.status === 'fulfilled') good.push(s.value);
        const faces = good.length > 0 ? await infer(good) : [];
        let g = 0;
        return settled.map((s, i): BatchEntry => {
          if (s.status === 'fulfilled') {
            const p = s.value;
            return { ok: true, input: p.label, width: p.width, height: p.height, faces: faces[g++]! };
          }
          const label = inputLabel(images[i]!, i);
          const error =
            s.reason instanceof Error
              ? s.reason
              : new InputImageError('IMAGE_INPUT', `${label}: ${String(s.reason)}`, { file: label });
          return { ok: false, input: label, error };
        });
      });
    },
    dispose: () => core.dispose(),
  };
}
