// Image I/O with sharp: decode untrusted raster images to RGB bytes (EXIF orientation applied) and normalize for the model.
import { readIccSummary } from './icc.js';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { InputImageError, InvalidOptionError } from '../errors.js';
import { readRegularFile } from '../util/fs.js';
import { RASTER_FORMATS, sniffImageFormat, type RasterFormat } from './format.js';

export type { RgbImage } from './normalize.js';
export { toModelBatch } from './normalize.js';
import type { RgbImage } from './normalize.js';

/** Default bound on width x height of an encoded image, checked from its header before decoding. */
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;
/** Bytes per pixel of the largest raw raster a legitimate file holds (16-bit RGBA, uncompressed): bounds the file size read. */
const MAX_FILE_BYTES_PER_PIXEL = 8;

export interface DecodeRgbOptions {
  /** Refuse images whose header says width x height is above this (default DEFAULT_MAX_INPUT_PIXELS). */
  readonly maxInputPixels?: number;
  /**
   * 'apply' (default): EXIF orientation applied, pixels as displayed. 'defer': pixels as stored, and the
   * orientation returned, so a caller that shrinks the image can rotate the small result instead of
   * holding a second full-size copy.
   */
  readonly orientation?: 'apply' | 'defer';
  /** Skip the colour-profile pass when it is the identity: no profile, or an sRGB one (identical pixels, faster decoding). */
  readonly fast?: boolean;
}

/** Decoded pixels plus the EXIF orientation (1..8) still to apply; always 1 unless orientation: 'defer'. */
export interface DecodedRgb extends RgbImage {
  readonly orientation: number;
}

const ACCEPTED = 'PNG, JPEG, WebP, AVIF, TIFF, GIF (first frame)';

export function checkMaxInputPixels(max: number, where = 'maxInputPixels'): void {
  if (!(Number.isSafeInteger(max) && max > 0)) throw new InvalidOptionError('maxInputPixels', `${where} must be a positive integer, got ${max}`);
}

async function encodedBytes(input: string | Uint8Array, label: string, maxPixels: number): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  const codes = { NOT_FOUND: 'INPUT_NOT_FOUND', NOT_A_FILE: 'INPUT_NOT_A_FILE', TOO_LARGE: 'INPUT_TOO_LARGE', UNREADABLE: 'INPUT_UNREADABLE' } as const;
  return readRegularFile(input, maxPixels * MAX_FILE_BYTES_PER_PIXEL + 1024 * 1024, (kind, message, cause) => {
    throw new InputImageError(codes[kind], `${label}: ${message}`, { file: label, cause });
  });
}

/** An encoded image that passed every check before decoding: its bytes, header and the sharp options to decode it with. */
interface CheckedEncoded {
  readonly bytes: Uint8Array;
  readonly meta: Metadata;
  readonly sharpOptions: SharpOptions;
  readonly fail: (code: string, message: string, cause?: unknown) => never;
}

/**
 * Hostile input is refused before the decoder sees it: a path must be a regular file (a FIFO is never
 * opened for reading), the format is sniffed from the bytes and must be a raster format (no SVG/PDF,
 * which render other files), and width x height from the header must be within maxInputPixels.
 * `fast`: skip the colour-profile pass when it would not change the pixels (iccChangesPixels).
 */
async function checkEncoded(input: string | Uint8Array, label: string, maxInputPixels: number | undefined, fast: boolean): Promise<CheckedEncoded> {
  const maxPixels = maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  checkMaxInputPixels(maxPixels);
  const fail = (code: string, message: string, cause?: unknown): never => {
    throw new InputImageError(code, `${label}: ${message}`, { file: label, cause });
  };
  const bytes = await encodedBytes(input, label, maxPixels);
  if (bytes.byteLength === 0) fail('IMAGE_EMPTY', 'empty image data');
  const sniffed = sniffImageFormat(bytes);
  if (!sniffed.accepted) fail('INPUT_FORMAT_UNSUPPORTED', `${sniffed.format} is not an accepted image format (accepted: ${ACCEPTED})`);
  const format = sniffed.format as RasterFormat;
  // sharp's own pixel limit is a second bound, in case a header lies to metadata() but not to the loader.
  const base = { failOn: 'error', limitInputPixels: maxPixels } as const;
  return decodeErrors(fail, maxPixels, async () => {
    // Header only, no pixels: unbounded here so the error below can say the image's size.
    const meta = await sharp(bytes, { ...base, limitInputPixels: false }).metadata();
    // Second line of defence: the loader sharp picked must be the format the bytes were sniffed as.
    if (meta.format !== RASTER_FORMATS[format] || (format === 'avif' && meta.compression !== 'av1')) {
      fail('INPUT_FORMAT_UNSUPPORTED', `looks like ${format.toUpperCase()} but decodes as ${meta.format}${meta.compression ? ` (${meta.compression})` : ''}; accepted: ${ACCEPTED}`);
    }
    const { width = 0, height = 0 } = meta;
    if (width * height > maxPixels) {
      fail('INPUT_TOO_LARGE', `image is ${width}x${height} (${(width * height / 1e6).toFixed(1)} megapixels), above the limit of ${maxPixels / 1e6} megapixels (maxInputPixels / --max-pixels)`);
    }
    return { bytes, meta, sharpOptions: fast && !iccChangesPixels(meta) ? { ...base, ignoreIcc: true } : base, fail };
  });
}

/**
 * Whether the embedded colour profile would change the decoded 8-bit sRGB pixels. No profile, or an RGB
 * profile that describes itself as sRGB (what cameras, phones and editors embed by default), converts to
 * sRGB as the identity: skipping it gave bit-identical pixels and 3-4x faster decoding of the seed photos
 * (test/detect-fast-preprocess.test.ts). Any other profile (Display P3, Adobe RGB, CMYK, or one that
 * does not parse) is applied.
 */
function iccChangesPixels(meta: Metadata): boolean {
  if (!meta.hasProfile || !meta.icc) return false;
  try {
    const profile = readIccSummary(meta.icc);
    return !(profile.colorSpace === 'RGB' && /^srgb\b/i.test(profile.description ?? ''));
  } catch {
    return true;
  }
}

/** Runs a sharp step, turning its errors into IMAGE_DECODE / INPUT_TOO_LARGE naming the input. */
async function decodeErrors<T>(fail: CheckedEncoded['fail'], maxPixels: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof InputImageError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(reason)) fail('INPUT_TOO_LARGE', `image is above the limit of ${maxPixels / 1e6} megapixels (${reason})`, err);
    return fail('IMAGE_DECODE', `cannot decode image (${reason})`, err);
  }
}

async function rawRgb(pipeline: Sharp, fail: CheckedEncoded['fail']): Promise<RgbImage> {
  const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) fail('IMAGE_CHANNELS', `expected 3 channels after decoding, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

function storedOrientation(meta: Metadata): number {
  return meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
}

/**
 * Decode an encoded raster image (path or bytes) to 8-bit RGB; `label` names the input in errors.
 * Every hostile-input check of checkEncoded runs first.
 */
export async function decodeRgb(
  input: string | Uint8Array,
  label = typeof input === 'string' ? input : '<buffer>',
  options: DecodeRgbOptions = {},
): Promise<DecodedRgb> {
  const { bytes, meta, sharpOptions, fail } = await checkEncoded(input, label, options.maxInputPixels, options.fast ?? false);
  const defer = options.orientation === 'defer';
  return decodeErrors(fail, sharpOptions.limitInputPixels as number, async () => {
    let pipeline = sharp(bytes, sharpOptions);
    if (!defer) pipeline = pipeline.rotate();
    const rgb = await rawRgb(pipeline, fail);
    return { ...rgb, orientation: defer ? storedOrientation(meta) : 1 };
  });
}

/** What decodeShrunkRgb gives: the shrunk image, or (no shrink wanted) the whole image decoded and oriented. */
export interface ShrunkRgb {
  readonly shrunk: boolean;
  /** Shrunk: displayed (oriented). Not shrunk: as stored, `orientation` still to apply. */
  readonly image: RgbImage;
  readonly orientation: number;
  readonly displayedWidth: number;
  readonly displayedHeight: number;
}

/**
 * The fast path: decode, orient and shrink in one sharp pipeline, straight to the size `target` picks
 * from the displayed (EXIF-oriented) size in the header. JPEG and WebP then decode at a fraction of
 * their size (shrink-on-load), and the colour-profile pass is skipped when it is the identity (no profile, or sRGB). When
 * `target` returns null (nothing to shrink) the whole image is decoded as stored instead. The image
 * returned has the size sharp actually produced; callers check it against their geometry.
 */
export async function decodeShrunkRgb(
  input: string | Uint8Array,
  label: string,
  target: (displayedWidth: number, displayedHeight: number) => { width: number; height: number } | null,
  options: Pick<DecodeRgbOptions, 'maxInputPixels'> = {},
): Promise<ShrunkRgb> {
  const { bytes, meta, sharpOptions, fail } = await checkEncoded(input, label, options.maxInputPixels, true);
  const { width = 0, height = 0 } = meta;
  const swap = orientationSwapsAxes(storedOrientation(meta));
  const displayedWidth = swap ? height : width, displayedHeight = swap ? width : height;
  // JPEG/WebP shrink-on-load by k keeps floor(w / k) pixels: the last w mod k stored columns (rows) are
  // dropped and the rest stretched over the output, which moves content by up to 0.26 model pixels
  // (measured on a 1999x1333 JPEG). Sizes that are multiples of 8 (every k divides them) fuse; other
  // sizes take the decode-then-resize route, whose geometry is exact.
  const remainder = (meta.format === 'jpeg' || meta.format === 'webp') && (width % 8 !== 0 || height % 8 !== 0);
  const size = displayedWidth > 0 && displayedHeight > 0 && !remainder ? target(displayedWidth, displayedHeight) : null;
  return decodeErrors(fail, sharpOptions.limitInputPixels as number, async () => {
    // Not fused: the stored pixels and their orientation, for the caller's exact route.
    if (!size) return { shrunk: false, image: await rawRgb(sharp(bytes, sharpOptions), fail), orientation: storedOrientation(meta), displayedWidth, displayedHeight };
    // The exact path's kernel and centre-aligned mapping (../detect/letterbox.ts), in the same pipeline as
    // the decode. fastShrinkOnLoad: false leaves sharp at least a 2x reduce after the JPEG's DCT scaling,
    // which kept scores within 0.007 of the exact path (0.0125 with the default).
    const pipeline = sharp(bytes, sharpOptions).rotate().resize(size.width, size.height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    return { shrunk: true, image: await rawRgb(pipeline, fail), orientation: 1, displayedWidth, displayedHeight };
  });
}

/** Whether an EXIF orientation swaps width and height (5..8 rotate by 90 degrees). */
export function orientationSwapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/**
 * Apply an EXIF orientation (1..8) to stored pixels, giving the pixels as displayed; the same result as
 * sharp's rotate() on the encoded image (test/hostile-input.test.ts checks all eight).
 */
export function orientRgb(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data: src } = image;
  const swap = orientationSwapsAxes(orientation);
  const W = swap ? h : w, H = swap ? w : h;
  const out = new Uint8Array(W * H * 3);
  // Stored pixel (sx, sy) for display pixel (x, y).
  const at: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * w + (w - 1 - x),
    3: (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x),
    4: (x: number, y: number) => (h - 1 - y) * w + x,
    5: (x: number, y: number) => x * w + y,
    6: (x: number, y: number) => (h - 1 - x) * w + y,
    7: (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y),
    8: (x: number, y: number) => x * w + (w - 1 - y),
  }[orientation] ?? ((): never => {
    throw new RangeError(`EXIF orientation must be 1..8, got ${orientation}`);
  });
  for (let y = 0, d = 0; y < H; y++) {
    for (let x = 0; x < W; x++, d += 3) {
      const s = at(x, y) * 3;
      out[d] = src[s]!;
      out[d + 1] = src[s + 1]!;
      out[d + 2] = src[s + 2]!;
    }
  }
  return { data: out, width: W, height: H };
}

/** Resize RGB pixels to exactly width x height (bilinear, no aspect preservation); used for 192x192 test inputs. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

