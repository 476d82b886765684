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
import { computeLetterbox, modelToImageNormalized, type LetterboxTransform } from './letterbox-geometry.js';
import { checkPixelImage, letterboxPixels, toRgb, type PixelImage } from './letterbox-pixels.js';
import { NMS_FLAVOURS, weightedNonMaxSuppression, type NmsFlavour } from './non-max-suppression.js';
import { tensorsToDetections, type Detections } from './tensors-to-detections.js';
import { checkTiling, cutByTile, planTiles, tileGridFor, type Tile, type TilingOption } from './tiling.js';

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
  /** Also run tiles of the full-resolution image (./tiling.ts); default off. */
  readonly tiling?: TilingOption;
}

/** One tile of a prepared image: its crop and that crop letterboxed to the model input. */
export interface TileView {
  readonly tile: Tile;
  readonly model: RgbImage;
  readonly transform: LetterboxTransform;
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
  /** With tiling: the tiles, run in the same batch as the whole-image view (model, transform). */
  readonly tiles?: readonly TileView[];
}

export interface DetectorCore {
  readonly preset: Preset;
  readonly decodeOptions: ResolvedDecodeOptions;
  /** Validate and letterbox one image; `flipHorizontal` mirrors it first (mirrored webcams). */
  prepare(pixels: PixelImage, label: string, options?: { flipHorizontal?: boolean }): Promise<PreparedImage>;
  /** The same from packed RGB already validated (Node's decoded images); tiles too when tiling is on. */
  prepareRgb(rgb: RgbImage, label: string): Promise<PreparedImage>;
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

/** A crop of packed RGB pixels, copied (the letterboxers take whole images). */
function cropRgb(image: RgbImage, tile: Tile): RgbImage {
  const out = new Uint8Array(tile.width * tile.height * 3);
  const row = tile.width * 3;
  for (let y = 0; y < tile.height; y++) {
    const src = ((tile.top + y) * image.width + tile.left) * 3;
    out.set(image.data.subarray(src, src + row), y * row);
  }
  return { data: out, width: tile.width, height: tile.height };
}

/**
 * One view's candidates (score-filtered, before NMS) with every coordinate normalized over the whole
 * image. A tile drops the candidates cut by one of its inner edges (cutByTile); a face inside two
 * overlapping tiles is found by both and merged by the NMS that follows.
 */
function candidatesInImage(raw: RawOutputs, index: number, anchors: Float64Array, preset: Preset, minScore: number, p: PreparedImage, view: { transform: LetterboxTransform; tile?: Tile }): Detections {
  const found = tensorsToDetections(raw, anchors, preset.decode, { batchIndex: index, minScoreThresh: minScore });
  const { stride, values } = found;
  const tile = view.tile;
  const out = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < found.count; i++) {
    const row = values.subarray(i * stride, (i + 1) * stride);
    const dst = out.subarray(count * stride, (count + 1) * stride);
    // Points are (y, x) for the box corners, then (x, y) per keypoint.
    const put = (xAt: number, yAt: number) => {
      const n = modelToImageNormalized(view.transform, row[xAt]!, row[yAt]!);
      dst[xAt] = tile ? (tile.left + n.x * tile.width) / p.width : n.x;
      dst[yAt] = tile ? (tile.top + n.y * tile.height) / p.height : n.y;
    };
    put(1, 0);
    put(3, 2);
    for (let k = 4; k + 1 < stride - 1; k += 2) put(k, k + 1);
    dst[stride - 1] = row[stride - 1]!;
    if (tile && cutByTile(tile, p.width, p.height, dst[1]! * p.width, dst[0]! * p.height, dst[3]! * p.width, dst[2]! * p.height)) continue;
    count++;
  }
  return { count, stride, values: out.subarray(0, count * stride) };
}

function concatDetections(parts: readonly Detections[], stride: number): Detections {
  const count = parts.reduce((n, d) => n + d.count, 0);
  const values = new Float64Array(count * stride);
  let at = 0;
  for (const d of parts) {
    values.set(d.values.subarray(0, d.count * stride), at);
    at += d.count * stride;
  }
  return { count, stride, values };
}

export function createDetectorCore(opts: DetectorCoreOptions): DetectorCore {
  checkDecodeSettings(opts);
  checkTiling(opts.tiling);
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

  async function prepareRgb(rgb: RgbImage, label: string): Promise<PreparedImage> {
    const { image, transform } = await letterbox(rgb, w, h);
    const prepared = { label, width: rgb.width, height: rgb.height, model: image, transform };
    if (opts.tiling === undefined) return prepared;
    const tiles: TileView[] = [];
    for (const tile of planTiles(rgb.width, rgb.height, tileGridFor(opts.tiling, rgb.width, rgb.height, preset))) {
      const fitted = await letterbox(cropRgb(rgb, tile), w, h);
      tiles.push({ tile, model: fitted.image, transform: fitted.transform });
    }
    return tiles.length > 0 ? { ...prepared, tiles } : prepared;
  }

  /** Faces of a tiled image: every view's candidates in image coordinates, merged by one weighted NMS. */
  function tiledFaces(raw: RawOutputs, first: number, p: PreparedImage): Face[] {
    const views = [{ transform: p.transform }, ...p.tiles!];
    const parts = views.map((view, k) => candidatesInImage(raw, first + k, anchors, preset, decodeOptions.minScore, p, view));
    const stride = parts[0]!.stride;
    const merged = weightedNonMaxSuppression(concatDetections(parts, stride), {
      iouThreshold: decodeOptions.iouThreshold,
      flavour: decodeOptions.nms,
      maxDetections: decodeOptions.maxFaces,
    });
    // Already normalized over the image: an identity transform maps them to its pixels.
    return facesFromDetections(merged, computeLetterbox(p.width, p.height, p.width, p.height));
  }

  return {
    preset,
    decodeOptions,
    async prepare(pixels, label, options = {}) {
      checkPixelImage(pixels, label);
      return prepareRgb(toRgb(pixels, options.flipHorizontal ?? false), label);
    },
    prepareRgb,
    async infer(prepared) {
      if (prepared.length === 0) throw new InputImageError('BATCH_EMPTY', 'empty batch: at least one image is needed');
      const models = prepared.flatMap((p) => [p.model, ...(p.tiles ?? []).map((t) => t.model)]);
      const size = models.length * plane;
      const lent = freeBuffers.findIndex((b) => b.length === size);
      const batch = toModelBatch(models, lent >= 0 ? freeBuffers.splice(lent, 1)[0] : undefined);
      let raw: RawOutputs;
      try {
        raw = await backend.run(batch);
      } finally {
        if (freeBuffers.length < 4) freeBuffers.push(batch.data);
      }
      let index = 0;
      return prepared.map((p) => {
        const first = index;
        index += 1 + (p.tiles?.length ?? 0);
        return p.tiles ? tiledFaces(raw, first, p) : facesFromDetections(decodeImage(raw, anchors, preset, first, decodeOptions), p.transform);
      });
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
