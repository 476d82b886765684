// RESIZE_BILINEAR as TFLite's reference kernel (kernels/internal/reference/resize_bilinear.h):
//   scale = in/out, or (in-1)/(out-1) with align_corners (when out > 1);
//   src = (dst + 0.5) * scale - 0.5 with half_pixel_centers, else dst * scale;
//   lo = max(floor(src), 0), hi = min(ceil(src), in-1), weights (1 - (src-lo)) and (src-lo).
// With half_pixel_centers src can be negative: lo = hi = 0 and the two weights still sum to 1.
import { expectRank, ReferenceShapeError, type F64Tensor } from '../tensor.js';

interface Taps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  /** src - lo: the weight of `hi`. */
  readonly frac: Float64Array;
}

export function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Taps {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = halfPixelCenters ? (d + 0.5) * scale - 0.5 : d * scale;
    const l = Math.max(Math.floor(src), 0);
    lo[d] = l;
    hi[d] = Math.min(Math.ceil(src), inSize - 1);
    frac[d] = src - l;
  }
  return { lo, hi, frac };
}

export function resizeBilinear(
  x: F64Tensor,
  size: readonly [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): F64Tensor {
  expectRank(x, 4, 'RESIZE_BILINEAR input');
  if (alignCorners && halfPixelCenters) {
    throw new ReferenceShapeError('RESIZE_BILINEAR: align_corners and half_pixel_centers cannot both be set');
  }
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = size;
  const ty = bilinearTaps(h, oh, alignCorners, halfPixelCenters);
  const tx = bilinearTaps(w, ow, alignCorners, halfPixelCenters);
  const out = new Float64Array(n * oh * ow * c);
  const xd = x.data;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const fy = ty.frac[oy]!;
      const r0 = (b * h + ty.lo[oy]!) * w;
      const r1 = (b * h + ty.hi[oy]!) * w;
      for (let ox = 0; ox < ow; ox++) {
        const fx = tx.frac[ox]!;
        const w00 = (1 - fy) * (1 - fx);
        const w10 = fy * (1 - fx);
        const w01 = (1 - fy) * fx;
        const w11 = fy * fx;
        const p00 = (r0 + tx.lo[ox]!) * c;
        const p10 = (r1 + tx.lo[ox]!) * c;
        const p01 = (r0 + tx.hi[ox]!) * c;
        const p11 = (r1 + tx.hi[ox]!) * c;
        const ob = ((b * oh + oy) * ow + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          out[ob + ch] = xd[p00 + ch]! * w00 + xd[p10 + ch]! * w10 + xd[p01 + ch]! * w01 + xd[p11 + ch]! * w11;
        }
      }
    }
  }
  return { shape: [n, oh, ow, c], data: out };
}
