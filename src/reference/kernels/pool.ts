// MAX_POOL_2D as TFLite's reference kernel: the window is clipped to the input, so padded cells are
// ignored (never compared as zeros), then the fused activation clamps.
import type { MaxPool2DOp } from '../../ir/graph.js';
import { applyActivation, expectRank, type F64Tensor } from '../tensor.js';
import { window1D } from './padding.js';

/** The attributes the pool kernel reads, as the IR's MAX_POOL_2D record carries them. */
export type PoolParams = Pick<MaxPool2DOp, 'padding' | 'strideH' | 'strideW' | 'filterH' | 'filterW' | 'activation'>;

export function maxPool2d(x: F64Tensor, p: PoolParams): F64Tensor {
  expectRank(x, 4, 'MAX_POOL_2D input');
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const wy = window1D(h, p.filterH, p.strideH, 1, p.padding);
  const wx = window1D(w, p.filterW, p.strideW, 1, p.padding);
  const oh = wy.out;
  const ow = wx.out;
  const out = new Float64Array(n * oh * ow * c).fill(-Infinity);
  const xd = x.data;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * p.strideH - wy.before;
      const ky0 = Math.max(0, -iy0);
      const ky1 = Math.min(p.filterH, h - iy0);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * p.strideW - wx.before;
        const kx0 = Math.max(0, -ix0);
        const kx1 = Math.min(p.filterW, w - ix0);
        const ob = ((b * oh + oy) * ow + ox) * c;
        for (let ky = ky0; ky < ky1; ky++) {
          for (let kx = kx0; kx < kx1; kx++) {
            const xb = ((b * h + iy0 + ky) * w + ix0 + kx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xd[xb + ch]!;
              if (v > out[ob + ch]!) out[ob + ch] = v;
            }
          }
        }
      }
    }
  }
  applyActivation(out, p.activation);
  return { shape: [n, oh, ow, c], data: out };
}
