// Letterboxing without any image library, for the platform-free detector core (browsers): RGB or RGBA
// bytes in, the model input as packed RGB out, on exactly the geometry of ./letterbox-geometry.ts.
//  - same size: used as is (alpha dropped);
//  - enlarging: the Node path's own bilinear (enlargeBilinear), so both give identical bytes;
//  - shrinking: separable triangle (linear) filter widened by the shrink factor, centred on the same
//    pixel-centre mapping x_s = (x_d + 0.5) * w / round(w*s) - 0.5. That antialiases like sharp's
//    linear reduce; the values differ from sharp's in the last level or so, the positions do not.
import { InputImageError } from '../errors.js';
import type { RgbImage } from '../image/pixels.js';
import { computeLetterbox, enlargeBilinear, type LetterboxTransform } from './letterbox-geometry.js';

/** Packed 8-bit pixels, row-major, 3 (RGB) or 4 (RGBA) channels. */
export interface PixelImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/** Checks a PixelImage's size and length; throws InputImageError naming `label`. */
export function checkPixelImage(image: PixelImage, label: string): void {
  const fail = (code: string, msg: string): never => {
    throw new InputImageError(code, `${label}: ${msg}`, { file: label });
  };
  const { data, width, height, channels } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) fail('IMAGE_RAW_TYPE', 'pixel data must be a Uint8Array or Uint8ClampedArray');
  if (channels !== 3 && channels !== 4) fail('IMAGE_CHANNELS', `channels must be 3 or 4, got ${String(channels)}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    fail('IMAGE_SIZE', `image size must be positive integers, got ${String(width)}x${String(height)}`);
  }
  if (data.length !== width * height * channels) {
    fail('IMAGE_RAW_LENGTH', `pixel data holds ${data.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}

/** Packed RGB bytes of `image`, mirrored left-right when `flip`; returns the input's own bytes when nothing changes. */
export function toRgb(image: PixelImage, flip = false): RgbImage {
  const { data, width, height, channels } = image;
  if (channels === 3 && !flip) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { data: bytes, width, height };
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + (flip ? width - 1 - x : x)) * channels;
      const d = (y * width + x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { data: out, width, height };
}

/** Filter taps of one axis when shrinking n source pixels to m: indices (clamped) and normalized weights. */
function shrinkTaps(n: number, m: number): { start: Int32Array; count: Int32Array; index: Int32Array; weight: Float64Array } {
  const radius = Math.max(1, n / m);
  const maxTaps = Math.ceil(2 * radius) + 1;
  const start = new Int32Array(m), count = new Int32Array(m);
  const index = new Int32Array(m * maxTaps), weight = new Float64Array(m * maxTaps);
  let k = 0;
  for (let i = 0; i < m; i++) {
    const centre = (i + 0.5) * (n / m) - 0.5;
    start[i] = k;
    let total = 0;
    for (let j = Math.ceil(centre - radius); j <= Math.floor(centre + radius); j++) {
      const w = 1 - Math.abs(j - centre) / radius;
      if (w <= 0) continue;
      index[k] = Math.min(n - 1, Math.max(0, j));
      weight[k] = w;
      total += w;
      k++;
    }
    count[i] = k - start[i]!;
    for (let t = start[i]!; t < k; t++) weight[t]! /= total;
  }
  return { start, count, index, weight };
}

/** Shrink into the transform's resized area of a black target canvas (both axes shrink or stay). */
function shrinkTriangle(image: RgbImage, t: LetterboxTransform): Uint8Array {
  const { width: w, height: h, data: src } = image;
  const rw = t.resizedWidth, rh = t.resizedHeight;
  const out = new Uint8Array(t.targetWidth * t.targetHeight * 3);
  const xt = shrinkTaps(w, rw), yt = shrinkTaps(h, rh);
  const rows = new Float64Array(h * rw * 3);
  for (let y = 0; y < h; y++) {
    const srow = y * w * 3, drow = y * rw * 3;
    for (let x = 0; x < rw; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = xt.start[x]!, end = k + xt.count[x]!; k < end; k++) {
        const p = srow + xt.index[k]! * 3, wt = xt.weight[k]!;
        r += src[p]! * wt;
        g += src[p + 1]! * wt;
        b += src[p + 2]! * wt;
      }
      const d = drow + x * 3;
      rows[d] = r;
      rows[d + 1] = g;
      rows[d + 2] = b;
    }
  }
  for (let y = 0; y < rh; y++) {
    const d = ((t.padTop + y) * t.targetWidth + t.padLeft) * 3;
    for (let i = 0; i < rw * 3; i++) {
      let v = 0;
      for (let k = yt.start[y]!, end = k + yt.count[y]!; k < end; k++) v += rows[yt.index[k]! * rw * 3 + i]! * yt.weight[k]!;
      out[d + i] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}

/** Letterbox RGB bytes to the model input (synchronous, no image library). */
export function letterboxPixels(image: RgbImage, targetWidth: number, targetHeight: number): { image: RgbImage; transform: LetterboxTransform } {
  const transform = computeLetterbox(image.width, image.height, targetWidth, targetHeight);
  if (transform.identity) return { image, transform };
  const grows = transform.resizedWidth > image.width || transform.resizedHeight > image.height;
  const data = grows ? enlargeBilinear(image, transform) : shrinkTriangle(image, transform);
  return { image: { data, width: targetWidth, height: targetHeight }, transform };
}
