// What the detector accepts as an image, and its conversion to 8-bit RGB with typed errors naming the input.
import { InputImageError } from '../errors.js';
import { decodeRgb, type RgbImage } from '../image/pixels.js';

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
}

/** A file path, PNG/JPEG bytes, or raw pixels. */
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

/** Decode or validate any accepted input into packed 8-bit RGB (EXIF orientation applied for encoded images). */
export async function loadInputImage(input: ImageInput, label = inputLabel(input)): Promise<RgbImage> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const rgb = await decodeRgb(input, label);
    if (rgb.width <= 0 || rgb.height <= 0) {
      throw new InputImageError('IMAGE_SIZE', `${label}: image is ${rgb.width}x${rgb.height}`, { file: label });
    }
    return rgb;
  }
  if (isRawImage(input)) return rawToRgb(input, label);
  throw new InputImageError('IMAGE_INPUT_TYPE', `${label}: expected a file path, PNG/JPEG bytes or {data, width, height}`, { file: label });
}
