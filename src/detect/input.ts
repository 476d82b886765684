// What the detector accepts as an image, and its conversion to 8-bit RGB with typed errors naming the input.
import { InputImageError } from '../errors.js';
import { InvalidOptionError } from '../errors.js';
import { decodeRgb, decodeShrunkRgb, orientationSwapsAxes, orientRgb, resizeRgb, type RgbImage } from '../image/pixels.js';
import { computeLetterbox, letterboxRgb, type LetterboxTransform } from './letterbox.js';

/**
 * Raw pixels, row-major, packed RGB or RGBA (alpha is dropped, as decodeRgb does).
 * Float32Array holds values in [0, 255] (rounded to 8 bits); NaN, infinities and out-of-range values are rejected.
 */
export interface RawImage {
  readonly data: Uint8Array | Uint8ClampedArray | Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels?: 3 | 4;
  /** Name used in errors and results; defaults to '<raw WxH>'. */
  readonly label?: string;
  /**
   * EXIF orientation (1..8) of the pixels as stored, default 1: faces are then reported in the displayed
   * (turned) image, as for an encoded photo, without the caller making a turned copy.
   */
  readonly orientation?: number;
}

/** A file path, encoded image bytes (PNG, JPEG, WebP, AVIF, TIFF, GIF), or raw pixels. */
export type ImageInput = string | Uint8Array | RawImage;

function isRawImage(input: ImageInput): input is RawImage {
  return typeof input === 'object' && !(input instanceof Uint8Array) && input !== null && 'data' in input;
}

/** The name of an input in errors and results; `index` distinguishes unnamed inputs of a batch. */
export function inputLabel(input: ImageInput, index?: number): string {
  const suffix = index === undefined ? '' : ` #${index}`;
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `<buffer${suffix}>`;
  if (isRawImage(input)) return input.label ?? `<raw ${input.width}x${input.height}${suffix}>`;
  return `<input${suffix}>`;
}

function rawToRgb(raw: RawImage, label: string): RgbImage {
  const fail = (code: string, msg: string): never => {
    throw new InputImageError(code, `${label}: ${msg}`, { file: label });
  };
  const { data, width, height } = raw;
  const channels = raw.channels ?? 3;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Float32Array)) {
    fail('IMAGE_RAW_TYPE', 'raw pixel data must be a Uint8Array, Uint8ClampedArray or Float32Array');
  }
  if (channels !== 3 && channels !== 4) fail('IMAGE_CHANNELS', `channels must be 3 or 4, got ${String(channels)}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    fail('IMAGE_SIZE', `image size must be positive integers, got ${String(width)}x${String(height)}`);
  }
  if (data.length !== width * height * channels) {
    fail('IMAGE_RAW_LENGTH', `raw data holds ${data.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
  // Packed 8-bit RGB is used as is (read only), not copied: a caller's full-size frame is not doubled.
  if (channels === 3 && !(data instanceof Float32Array)) return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  const out = new Uint8Array(width * height * 3);
  const isFloat = data instanceof Float32Array;
  for (let p = 0, q = 0; q < out.length; p += channels, q += 3) {
    for (let c = 0; c < 3; c++) {
      const v = data[p + c]!;
      if (isFloat && !(v >= 0 && v <= 255)) {
        // NaN fails both comparisons, so it lands here too.
        fail(Number.isNaN(v) ? 'IMAGE_NAN' : 'IMAGE_RANGE', `pixel ${p / channels} channel ${c} is ${v}; float pixels must be finite values in [0, 255]`);
      }
      out[q + c] = isFloat ? Math.round(v) : v;
    }
  }
  return { data: out, width, height };
}

/**
 * How encoded images are brought to the model input. 'fast' (default): one sharp pipeline decodes,
 * orients and shrinks (shrink-on-load for JPEG/WebP), and skips the colour-profile pass when it is the
 * identity (no profile, or sRGB). 'exact': decode at full size, then letterbox (the reference the fast path is tested against).
 * Raw pixels and images not larger than the model input take the same route either way.
 */
export type Preprocess = 'exact' | 'fast';
export const PREPROCESS_MODES: readonly Preprocess[] = ['exact', 'fast'];

export interface InputOptions {
  /** Refuse encoded images above this many pixels (width x height from the header); default 100 megapixels. */
  readonly maxInputPixels?: number;
  /** Default 'fast'. */
  readonly preprocess?: Preprocess;
}

export function checkPreprocess(value: unknown, where = 'createDetector'): void {
  if (value !== undefined && !PREPROCESS_MODES.includes(value as Preprocess)) {
    throw new InvalidOptionError('preprocess', `${where}: preprocess must be one of ${PREPROCESS_MODES.join(', ')}, got ${String(value)}`);
  }
}

function badInputType(label: string): never {
  throw new InputImageError('IMAGE_INPUT_TYPE', `${label}: expected a file path, encoded image bytes or {data, width, height}`, { file: label });
}

function rawOrientation(raw: RawImage, label: string): number {
  const o = raw.orientation ?? 1;
  if (!(Number.isInteger(o) && o >= 1 && o <= 8)) {
    throw new InputImageError('IMAGE_ORIENTATION', `${label}: orientation must be an EXIF orientation 1..8, got ${String(raw.orientation)}`, { file: label });
  }
  return o;
}

function checkDecoded(rgb: RgbImage, label: string): void {
  if (rgb.width <= 0 || rgb.height <= 0) {
    throw new InputImageError('IMAGE_SIZE', `${label}: image is ${rgb.width}x${rgb.height}`, { file: label });
  }
}

/** Decode or validate any accepted input into packed 8-bit RGB (EXIF orientation applied for encoded images). */
export async function loadInputImage(input: ImageInput, label = inputLabel(input), options: InputOptions = {}): Promise<RgbImage> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const rgb = await decodeRgb(input, label, { maxInputPixels: options.maxInputPixels, fast: (options.preprocess ?? 'fast') === 'fast' });
    checkDecoded(rgb, label);
    return rgb;
  }
  if (isRawImage(input)) return orientRgb(rawToRgb(input, label), rawOrientation(input, label));
  return badInputType(label);
}

/** An input letterboxed to the model size, with its displayed size and the letterbox geometry. */
export interface ModelInput {
  readonly width: number;
  readonly height: number;
  readonly model: RgbImage;
  readonly transform: LetterboxTransform;
}

/** The shrunk image copied into the black target canvas at the transform's offset. */
function padToTarget(image: RgbImage, t: LetterboxTransform): RgbImage {
  const out = new Uint8Array(t.targetWidth * t.targetHeight * 3);
  const row = image.width * 3;
  for (let y = 0; y < image.height; y++) {
    out.set(image.data.subarray(y * row, (y + 1) * row), ((t.padTop + y) * t.targetWidth + t.padLeft) * 3);
  }
  return { data: out, width: t.targetWidth, height: t.targetHeight };
}

/**
 * Load any accepted input and letterbox it to targetWidth x targetHeight. Only one full-size copy of an
 * encoded image is ever held: an EXIF-rotated photo is shrunk as stored and the small result rotated,
 * instead of rotating the full-size pixels into a second buffer first.
 */
export async function loadModelInput(
  input: ImageInput,
  label: string,
  targetWidth: number,
  targetHeight: number,
  options: InputOptions = {},
): Promise<ModelInput> {
  let rgb: RgbImage;
  let orientation = 1;
  const encoded = typeof input === 'string' || input instanceof Uint8Array;
  if (encoded && (options.preprocess ?? 'fast') === 'fast') return fastModelInput(input, label, targetWidth, targetHeight, options);
  if (encoded) {
    const decoded = await decodeRgb(input, label, { maxInputPixels: options.maxInputPixels, orientation: 'defer' });
    checkDecoded(decoded, label);
    ({ orientation } = decoded);
    rgb = decoded;
  } else if (isRawImage(input)) {
    rgb = rawToRgb(input, label);
    orientation = rawOrientation(input, label);
  } else {
    return badInputType(label);
  }
  return fitToModel(rgb, orientation, targetWidth, targetHeight);
}

/** Stored pixels + their orientation, letterboxed (shrunk as stored and then turned, when that is possible). */
async function fitToModel(rgb: RgbImage, orientation: number, targetWidth: number, targetHeight: number): Promise<ModelInput> {
  const swap = orientationSwapsAxes(orientation);
  const width = swap ? rgb.height : rgb.width;
  const height = swap ? rgb.width : rgb.height;
  const transform = computeLetterbox(width, height, targetWidth, targetHeight);
  if (orientation !== 1 && shrinks(transform, width, height)) {
    // Resampling commutes with flips and 90-degree turns (the kernel is symmetric and centre-aligned).
    const small = await resizeRgb(rgb, swap ? transform.resizedHeight : transform.resizedWidth, swap ? transform.resizedWidth : transform.resizedHeight);
    return { width, height, model: padToTarget(orientRgb(small, orientation), transform), transform };
  }
  const { image } = await letterboxRgb(orientRgb(rgb, orientation), targetWidth, targetHeight);
  return { width, height, model: image, transform };
}

/** Whether letterboxing to `t` shrinks (or keeps) both sides: the case sharp resizes. */
function shrinks(t: LetterboxTransform, width: number, height: number): boolean {
  return !t.identity && t.resizedWidth <= width && t.resizedHeight <= height;
}

/**
 * The fast path for encoded images (see Preprocess). The transform describes what the pipeline
 * produced: the letterbox geometry is recomputed around the size sharp actually returned (the same as
 * computeLetterbox's unless sharp rounded differently), so boxes map back through exactly that scale.
 */
async function fastModelInput(input: string | Uint8Array, label: string, targetWidth: number, targetHeight: number, options: InputOptions): Promise<ModelInput> {
  const result = await decodeShrunkRgb(
    input,
    label,
    (w, h) => {
      const t = computeLetterbox(w, h, targetWidth, targetHeight);
      return shrinks(t, w, h) ? { width: t.resizedWidth, height: t.resizedHeight } : null;
    },
    { maxInputPixels: options.maxInputPixels },
  );
  const { image, displayedWidth: width, displayedHeight: height } = result;
  checkDecoded(image, label);
  if (!result.shrunk) return fitToModel(image, result.orientation, targetWidth, targetHeight);
  if (image.width > targetWidth || image.height > targetHeight) {
    throw new InputImageError('IMAGE_SIZE', `${label}: the resize produced ${image.width}x${image.height}, larger than the model input ${targetWidth}x${targetHeight}`, { file: label });
  }
  const transform: LetterboxTransform = {
    sourceWidth: width,
    sourceHeight: height,
    targetWidth,
    targetHeight,
    resizedWidth: image.width,
    resizedHeight: image.height,
    padLeft: Math.floor((targetWidth - image.width) / 2),
    padTop: Math.floor((targetHeight - image.height) / 2),
    identity: false,
  };
  return { width, height, model: padToTarget(image, transform), transform };
}
