// The platform-free detector core that the Node detector and the browser detector share: from 8-bit
// RGB/RGBA pixels of a known size to faces in those pixels. Letterbox (pure TypeScript by default; Node
// may pass its sharp-based letterboxRgb) -> x/127.5-1 into a reused Float32Array -> backend -> decode
// with the preset's anchors + weighted NMS (./decode.ts) -> back through the letterbox (./face.ts).
// Calls are guarded: dispose() waits for calls already started and refuses later ones.
// Nothing here imports Node built-ins or an image library.
import { generateAnchors } from '../anchors/ssd-anchors-calculator.js';
import type { ImageBatch, RawOutputs } from '../backends/backend.js';
import { InputImageError, InvalidOptionError, ToolkitError } from '../errors.js';
import { toModelBatch } from '../image/normalize.js';
import type { RgbImage } from '../image/normalize.js';
import type { Preset } from '../presets/types.js';
import { decodeImage, type DecodeOptions } from './decode.js';
import { facesFromDetections, type Face } from './face.js';
import type { LetterboxTransform } from './letterbox-geometry.js';
import { checkPixelImage, letterboxPixels, toRgb, type PixelImage } from './letterbox-pixels.js';
import { NMS_FLAVOURS, type NmsFlavour } from './non-max-suppression.js';

export type { PixelImage } from './letterbox-pixels.js';

/** What the core needs of a runtime: one NHWC float32 batch in, the two raw outputs out. */
export interface CoreBackend {
  run(batch: ImageBatch): Promise<RawOutputs>;
  dispose(): Promise<void>;
}

/** Fits RGB pixels into the model input; sync or async (Node's sharp-based letterboxRgb is async). */
export type Letterboxer = (
  image: RgbImage,
  width: number,
  height: number,
) => { image: RgbImage; transform: LetterboxTransform } | Promise<{ image: RgbImage; transform: LetterboxTransform }>;

export interface DecodeSettings {
  /** Score threshold; default the preset's decode.minScoreThresh. */
  readonly minScore?: number;
  /** NMS IoU threshold; default the preset's (0.3). */
  readonly iouThreshold?: number;
  /** Weighted NMS flavour; default the preset's ('mediapipe' for MediaPipe's models, 'blend' for the seed's). */
  readonly nms?: NmsFlavour;
  /** At most this many faces per image. */
  readonly maxFaces?: number;
}

export interface DetectorCoreOptions extends DecodeSettings {
  readonly preset: Preset;
  readonly backend: CoreBackend;
  /** Default: letterboxPixels (pure TypeScript, ./letterbox-pixels.ts). */
  readonly letterbox?: Letterboxer;
}

export type ResolvedDecodeOptions = Required<Pick<DecodeOptions, 'minScore' | 'iouThreshold' | 'nms'>> & Pick<DecodeOptions, 'maxFaces'>;

/** One image ready for the backend. */
export interface PreparedImage {
  readonly label: string;
  /** Size of the image the faces are reported in. */
  readonly width: number;
  readonly height: number;
  readonly model: RgbImage;
  readonly transform: LetterboxTransform;
}

export interface DetectorCore {
  readonly preset: Preset;
  readonly decodeOptions: ResolvedDecodeOptions;
  /** Validate and letterbox one image; `flipHorizontal` mirrors it first (mirrored webcams). */
  prepare(pixels: PixelImage, label: string, options?: { flipHorizontal?: boolean }): Promise<PreparedImage>;
  /** One backend call for all prepared images; faces per image, in that image's pixels. */
  infer(prepared: readonly PreparedImage[]): Promise<Face[][]>;
  /** Run `work` as a detector call: refused after dispose(), awaited by dispose(). */
  guarded<T>(work: () => Promise<T>): Promise<T>;
  /** Waits for calls already started, then disposes the backend; idempotent. */
  dispose(): Promise<void>;
}

/** INVALID_OPTION for option values no detector can use (the same checks on every platform). */
export function checkDecodeSettings(opts: DecodeSettings, where = 'createDetector'): void {
  const bad = (option: string, msg: string): never => {
    throw new InvalidOptionError(option, `${where}: ${option} ${msg}`);
  };
  const inUnitRange = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  if (opts.minScore !== undefined && !inUnitRange(opts.minScore)) bad('minScore', `must be a number in [0, 1], got ${String(opts.minScore)}`);
  if (opts.iouThreshold !== undefined && !inUnitRange(opts.iouThreshold)) bad('iouThreshold', `must be a number in [0, 1], got ${String(opts.iouThreshold)}`);
  if (opts.nms !== undefined && !NMS_FLAVOURS.includes(opts.nms)) bad('nms', `must be one of ${NMS_FLAVOURS.join(', ')}, got ${String(opts.nms)}`);
  if (opts.maxFaces !== undefined && !(Number.isInteger(opts.maxFaces) && opts.maxFaces > 0)) bad('maxFaces', `must be a positive integer, got ${String(opts.maxFaces)}`);
}

export function createDetectorCore(opts: DetectorCoreOptions): DetectorCore {
  checkDecodeSettings(opts);
  const { preset, backend } = opts;
  const letterbox = opts.letterbox ?? letterboxPixels;
  const anchors = generateAnchors(preset.anchors);
  const decodeOptions: ResolvedDecodeOptions = {
    minScore: opts.minScore ?? preset.decode.minScoreThresh,
    iouThreshold: opts.iouThreshold ?? preset.nms.minSuppressionThreshold,
    nms: opts.nms ?? preset.nms.flavour,
    maxFaces: opts.maxFaces,
  };
  const w = preset.inputWidth, h = preset.inputHeight, plane = w * h * 3;
  let disposed = false;
  let disposing: Promise<void> | null = null;
  const inFlight = new Set<Promise<unknown>>();
  // Input buffers are reused between runs; each is lent to one run at a time, so concurrent calls are safe.
  const freeBuffers: Float32Array[] = [];

  return {
    preset,
    decodeOptions,
    async prepare(pixels, label, options = {}) {
      checkPixelImage(pixels, label);
      const rgb = toRgb(pixels, options.flipHorizontal ?? false);
      const { image, transform } = await letterbox(rgb, w, h);
      return { label, width: pixels.width, height: pixels.height, model: image, transform };
    },
    async infer(prepared) {
      if (prepared.length === 0) throw new InputImageError('BATCH_EMPTY', 'empty batch: at least one image is needed');
      const size = prepared.length * plane;
      const lent = freeBuffers.findIndex((b) => b.length === size);
      const batch = toModelBatch(
        prepared.map((p) => p.model),
        lent >= 0 ? freeBuffers.splice(lent, 1)[0] : undefined,
      );
      let raw: RawOutputs;
      try {
        raw = await backend.run(batch);
      } finally {
        if (freeBuffers.length < 4) freeBuffers.push(batch.data);
      }
      return prepared.map((p, n) => facesFromDetections(decodeImage(raw, anchors, preset, n, decodeOptions), p.transform));
    },
    guarded(work) {
      if (disposed) return Promise.reject(new ToolkitError('DETECTOR_DISPOSED', 'detector was disposed'));
      const p = work();
      inFlight.add(p);
      const forget = () => inFlight.delete(p);
      p.then(forget, forget);
      return p;
    },
    dispose() {
      disposed = true;
      disposing ??= Promise.allSettled([...inFlight]).then(() => backend.dispose());
      return disposing;
    },
  };
}
