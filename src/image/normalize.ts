// The seed's normalization (x / 127.5 - 1 into an NHWC float32 batch), platform-free: the Node detector,
// the browser detector (through ./../detect/core.ts) and the verifier all fill their batches here.
import type { ImageBatch } from '../ir/batch.js';
import { InputImageError } from '../errors.js';

/** Packed 8-bit RGB pixels, row-major. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** x / 127.5 - 1 for each byte value, rounded to float32 once (the same values the arithmetic gives). */
const NORMALIZED = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 127.5 - 1;
  return table;
})();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Normalize one image into `dst`. Reading four bytes per load and looking them up in a table is about
 * twice as fast as the per-byte arithmetic; it needs 4-byte-aligned source bytes on a little-endian host,
 * otherwise the plain loop runs. Both give identical float32 values.
 */
function normalizeInto(src: Uint8Array, dst: Float32Array): void {
  if (LITTLE_ENDIAN && src.byteOffset % 4 === 0 && dst.length % 4 === 0) {
    const words = new Uint32Array(src.buffer, src.byteOffset, dst.length / 4);
    for (let w = 0, i = 0; w < words.length; w++, i += 4) {
      const x = words[w]!;
      dst[i] = NORMALIZED[x & 255]!;
      dst[i + 1] = NORMALIZED[(x >>> 8) & 255]!;
      dst[i + 2] = NORMALIZED[(x >>> 16) & 255]!;
      dst[i + 3] = NORMALIZED[x >>> 24]!;
    }
    return;
  }
  for (let i = 0; i < dst.length; i++) dst[i] = NORMALIZED[src[i]!]!;
}

/**
 * The seed's normalization: RGB uint8 -> x / 127.5 - 1, stacked into one NHWC float32 batch.
 * `into`, when it has exactly the batch's length, is filled instead of allocating (the detector reuses buffers).
 */
export function toModelBatch(images: readonly RgbImage[], into?: Float32Array): ImageBatch {
  if (images.length === 0) throw new InputImageError('BATCH_EMPTY', 'empty batch: at least one image is needed');
  const { width, height } = images[0]!;
  const plane = width * height * 3;
  const data = into && into.length === images.length * plane ? into : new Float32Array(images.length * plane);
  for (let n = 0; n < images.length; n++) {
    const img = images[n]!;
    if (img.width !== width || img.height !== height || img.data.length < plane) {
      throw new InputImageError(
        'BATCH_SIZE_MISMATCH',
        `batch image ${n} is ${img.width}x${img.height} (${img.data.length} bytes), expected ${width}x${height}x3`,
      );
    }
    normalizeInto(img.data, data.subarray(n * plane, (n + 1) * plane));
  }
  return { data, shape: [images.length, height, width, 3] };
}
